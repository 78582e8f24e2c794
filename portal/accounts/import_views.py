"""Staff pages of the bulk import of secretaries: upload and dry run, confirmation, the job's progress."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from portal.accounts import bulk_import
from portal.accounts import import_rules as rules
from portal.accounts.import_forms import AccountImportConfirmForm, AccountImportUploadForm
from portal.accounts.import_models import AccountImport
from portal.common import cdg
from portal.common.auth import staff_required
from portal.common.errors import render_error
from portal.common.files import clean_upload_name
from portal.common.i18n import gettext as _
from portal.extensions import db

bp = Blueprint("account_import", __name__, url_prefix="/comptes/import")

# A dry run not confirmed within a day is forgotten: its file is removed at the next upload.
_KEEP_SECONDS = 24 * 3600


def _upload_dir() -> Path:
    return Path(current_app.instance_path) / "account-imports"


def _saved(token: str) -> Path:
    return _upload_dir() / f"{token}.upload"


def _forget_old_uploads() -> None:
    limit = time.time() - _KEEP_SECONDS
    for path in _upload_dir().glob("*.upload"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _departements() -> list[str]:
    return cdg.departements()


def _upload_page(form, status: int = 200):
    return render_template("accounts/import.html", form=form, jobs=bulk_import.recent_jobs()), status


def _preview_page(preview, token: str, filename: str, *, changed: bool = False):
    confirm = AccountImportConfirmForm(token=token, digest=preview.digest, filename=filename)
    return render_template(
        "accounts/import_preview.html",
        preview=preview,
        counts=preview.counts,
        confirm=confirm,
        filename=filename,
        labels=rules.PLANNED_LABELS,
        changed=changed,
    )


@bp.route("", methods=["GET", "POST"])
@staff_required
def upload():
    form = AccountImportUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422 if form.is_submitted() else 200)
    filename = clean_upload_name(form.file.data.filename) or "fichier"
    try:
        data = form.file.data.stream.read(bulk_import.max_upload_bytes() + 1)
        preview = bulk_import.preview(rules.read_table(data, max_bytes=bulk_import.max_upload_bytes()), _departements())
    except rules.ImportFileError as exc:
        db.session.rollback()
        form.file.errors.append(str(exc))
        return _upload_page(form, 422)
    db.session.rollback()  # a dry run writes nothing
    token = bulk_import.new_upload_token()
    _upload_dir().mkdir(parents=True, exist_ok=True)
    _forget_old_uploads()
    _saved(token).write_bytes(data)
    return _preview_page(preview, token, filename)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    if not (current_user.is_authenticated and current_user.is_staff):
        return render_error(413)
    form = AccountImportUploadForm(formdata=None)
    megabytes = current_app.config["IMPORT_MAX_UPLOAD_MB"]
    form.file.errors = [
        _(
            "Le fichier dépasse la taille maximale de %(mb)s Mo ; rien n'a été enregistré. Colonnes attendues : "
            "%(columns)s.",
            mb=megabytes,
            columns=rules.expected_columns_text(),
        )
    ]
    return _upload_page(form, 413)


@bp.route("/confirmer", methods=["POST"])
@staff_required
def confirm():
    form = AccountImportConfirmForm()
    path = _saved(form.token.data) if form.validate_on_submit() else None
    if path is None or not path.is_file():
        flash(_("Cette simulation n'est plus disponible : déposez à nouveau le fichier."), "error")
        return redirect(url_for("account_import.upload"))
    filename = clean_upload_name(form.filename.data) or "fichier"
    try:
        table = rules.read_table(path.read_bytes(), max_bytes=bulk_import.max_upload_bytes())
        job = bulk_import.start_import(
            table,
            filename=filename,
            upload_token=form.token.data,
            expected_digest=form.digest.data,
            departements=_departements(),
            actor=current_user,
        )
    except bulk_import.PlanChanged as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _preview_page(exc.preview, form.token.data, filename, changed=True), 409
    except rules.ImportFileError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("account_import.upload"))
    db.session.commit()
    path.unlink(missing_ok=True)
    flash(_("Import confirmé : il se poursuit ci-dessous, les invitations partent au fil de l'eau."), "success")
    return redirect(url_for("account_import.job", import_id=job.id))


def _job_or_404(import_id: int) -> AccountImport:
    job = db.session.get(AccountImport, import_id)
    if job is None:
        abort(404)
    return job


@bp.route("/<int:import_id>")
@staff_required
def job(import_id: int):
    job = _job_or_404(import_id)
    counts = bulk_import.result_counts(job.id)
    return render_template(
        "accounts/import_job.html",
        job=job,
        counts=counts,
        summary=rules.summary_text(counts),
        progress=rules.progress_text(job.done, job.total),
        labels=rules.OUTCOME_LABELS,
    )


@bp.route("/<int:import_id>/etat")
@staff_required
def state(import_id: int):
    """The job's progress for the page's script (the page refreshes itself without it)."""
    job = _job_or_404(import_id)
    return jsonify(
        status=job.status,
        status_label=job.status_label,
        done=job.done,
        total=job.total,
        percent=job.percent,
        finished=job.finished,
        text=rules.progress_text(job.done, job.total),
    )
