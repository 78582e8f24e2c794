"""One élu's rights as documents for his file (PDF, CSV), for the élu, his collectivité's secretaries and staff:
the access of his page and of his attestations (:func:`portal.training.visibility.can_act_for`)."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask_login import current_user, login_required

from portal.accounts.models import Mandate
from portal.common import exports
from portal.common.clock import paris_today
from portal.common.files import content_disposition
from portal.common.labels import translated
from portal.extensions import db
from portal.training import rights, rights_export, visibility

bp = Blueprint("training_rights", __name__, url_prefix="/formations")


def _rights_or_404(mandate_id: int) -> rights.Rights:
    mandate = db.session.get(Mandate, mandate_id)
    if mandate is None or not visibility.can_act_for(current_user, mandate):
        abort(404)
    return rights.rights_for(mandate)


@bp.get("/elus/<int:mandate_id>/droits.pdf")
@login_required
def rights_pdf(mandate_id: int):
    rights, today = _rights_or_404(mandate_id), paris_today()
    data = rights_export.pdf(rights, today)
    disposition = content_disposition(rights_export.filename(rights, today, "pdf"))
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": disposition})


@bp.get("/elus/<int:mandate_id>/droits.csv")
@login_required
def rights_csv(mandate_id: int):
    rights, today = _rights_or_404(mandate_id), paris_today()
    name = rights_export.filename(rights, today, "csv").removesuffix(".csv")
    return exports.response("csv", name, translated(rights_export.HEADER), rights_export.csv_rows(rights, today))
