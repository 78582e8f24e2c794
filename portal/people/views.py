"""Staff page: import the élus of the CDG's départements from an RNE file, dry run first."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.common.auth import staff_required
from portal.extensions import db
from portal.people import services
from portal.people.forms import RneConfirmForm, RneUploadForm
from portal.people.rules import CHANGE_LABELS, RneFileError

bp = Blueprint("people", __name__, url_prefix="/elus")


def _upload_dir() -> Path:
    return Path(current_app.instance_path) / "rne-imports"


def _departements() -> list[str]:
    return current_app.config["CDG_DEPARTEMENTS"]


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def upload():
    form = RneUploadForm()
    if not form.validate_on_submit():
        return render_template("people/import.html", form=form), 422 if form.is_submitted() else 200
    token = secrets.token_urlsafe(24)
    _upload_dir().mkdir(parents=True, exist_ok=True)
    path = _upload_dir() / f"{token}.csv"
    form.file.data.save(path)
    try:
        report = services.import_rne(
            path,
            departements=_departements(),
            publication_date=form.publication_date.data,
            dry_run=True,
            keep_lines=True,
        )
    except RneFileError as exc:
        path.unlink(missing_ok=True)
        db.session.rollback()
        form.file.errors.append(str(exc))
        return render_template("people/import.html", form=form), 422
    db.session.rollback()
    confirm = RneConfirmForm(token=token, publication_date=form.publication_date.data)
    return render_template(
        "people/preview.html",
        report=report,
        confirm=confirm,
        labels=CHANGE_LABELS,
        publication_date=form.publication_date.data,
    )


@bp.route("/import/confirmer", methods=["POST"])
@staff_required
def confirm():
    form = RneConfirmForm()
    path = _upload_dir() / f"{form.token.data}.csv" if form.validate_on_submit() else None
    if path is None or not path.is_file():
        flash(_("Cette simulation n'est plus disponible : déposez à nouveau le fichier."), "error")
        return redirect(url_for("people.upload"))
    try:
        report = services.import_rne(
            path,
            departements=_departements(),
            publication_date=form.publication_date.data,
            actor=current_user,
        )
    except (RneFileError, ValueError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("people.upload"))
    db.session.commit()
    path.unlink(missing_ok=True)
    flash(_("Import terminé : %(summary)s", summary=report.summary()), "success")
    return redirect(url_for("people.upload"))
