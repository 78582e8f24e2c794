"""Forms of the bulk import of secretaries: the upload (dry run), then its confirmation."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp

from portal.common.forms import PortalForm
from portal.common.i18n import lazy_gettext as _l


class AccountImportUploadForm(PortalForm):
    file = FileField(
        _l("Fichier des secrétaires"),
        validators=[FileRequired(_l("Choisissez le fichier des secrétaires à importer."))],
        description=_l(
            "Classeur XLSX ou fichier CSV (séparé par des points-virgules ou des virgules), une ligne par personne."
        ),
    )
    submit = SubmitField(_l("Simuler l'import"))


class AccountImportConfirmForm(PortalForm):
    token = HiddenField(validators=[InputRequired(), Length(max=64), Regexp(r"^[A-Za-z0-9_-]{20,64}$")])
    # The fingerprint of the dry run shown: the import must still do exactly that.
    digest = HiddenField(validators=[InputRequired(), Length(max=64), Regexp(r"^[0-9a-f]{64}$")])
    filename = HiddenField(validators=[Length(max=255)])
    submit = SubmitField(_l("Confirmer l'import"))
