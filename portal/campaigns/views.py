"""Campaign pages: staff open, follow, close and reopen campaigns; a body's secretary answers her tasks."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from portal.campaigns import definitions, services
from portal.campaigns.forms import CloseForm, DocumentForm, OpenCampaignForm, ReopenForm
from portal.campaigns.models import Campaign, CampaignAnswer
from portal.common import exports
from portal.common.auth import staff_required
from portal.common.clock import paris_today
from portal.common.files import content_disposition
from portal.common.forms import options
from portal.common.i18n import gettext as _
from portal.common.labels import translated
from portal.common.outcomes import attempt
from portal.extensions import db
from portal.registry.kinds import label as kind_label

bp = Blueprint("campaigns", __name__, url_prefix="/campagnes")
MISSING_SHOWN = 200  # rows of the missing bodies on the page; the CSV has them all


@bp.app_template_filter("day_fr")
def _day_fr(value):
    return services.day_fr(value) if value else "—"


def _open_form(formdata=None) -> OpenCampaignForm:
    kinds = definitions.all_definitions()
    form = OpenCampaignForm(formdata=formdata)
    form.kind.choices = options((d.code, d.label) for d in kinds)
    scope = list(dict.fromkeys(k for d in kinds for k in d.scope_kinds))
    form.scope_kinds.choices = options((k, kind_label(k)) for k in scope)
    if formdata is None:
        form.year.data = paris_today().year + 1
        form.scope_kinds.data = list(kinds[0].scope_kinds) if kinds else []
    return form


@bp.route("/", methods=["GET", "POST"])
@staff_required
def index():
    form = _open_form(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        data = services.OpenInput(
            kind=form.kind.data,
            year=form.year.data,
            deadline=form.deadline.data,
            message=form.message.data or "",
            scope_kinds=tuple(form.scope_kinds.data),
        )
        campaign = attempt(lambda: services.open_campaign(data, current_user), form)
        if campaign:
            flash(_("La campagne « %(title)s » est ouverte.", title=campaign.value.title), "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("campaigns/index.html", form=form, campaigns=services.list_campaigns()), status


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or definitions.get(campaign.kind) is None:
        abort(404)
    return campaign


@bp.route("/<int:campaign_id>")
@staff_required
def show(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    progress, missing = services.progress(campaign)
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        definition=definitions.get(campaign.kind),
        progress=progress,
        missing=missing[:MISSING_SHOWN],
        missing_total=len(missing),
        schedule=services.rules.schedule(services.reminders(), campaign.opened_on, campaign.deadline),
        close_form=CloseForm(),
        kind_label=kind_label,
    )


@bp.route("/<int:campaign_id>/manquants.csv")
@staff_required
def missing_csv(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    _progress, missing = services.progress(campaign)
    filename = f"campagne-{campaign.id}-sans-reponse"
    return exports.response("csv", filename, translated(services.MISSING_HEADER), services.missing_csv_rows(missing))


@bp.route("/<int:campaign_id>/cloture", methods=["POST"])
@staff_required
def close(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if CloseForm().validate_on_submit() and attempt(lambda: services.close(campaign, current_user)):
        flash(_("La campagne « %(title)s » est close.", title=campaign.title), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/reouverture", methods=["GET", "POST"])
@staff_required
def reopen(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if campaign.is_open:
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    form = ReopenForm()
    if request.method == "GET" and campaign.deadline >= paris_today():
        form.deadline.data = campaign.deadline
    if form.validate_on_submit() and attempt(lambda: services.reopen(campaign, form.deadline.data, current_user), form):
        flash(_("La campagne « %(title)s » est rouverte.", title=campaign.title), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template("campaigns/reopen.html", campaign=campaign, form=form), status


# A body's task ------------------------------------------------------------------------------------------------


def _render_task(task, status=200, *, step_forms=None):
    """The task page: each step with its state, and its form (a step's own, or a document to upload)."""
    definition = definitions.get(task.campaign.kind)
    step_forms = step_forms or {}
    for step in definition.steps:
        if step.code not in step_forms:
            if step.kind == definitions.StepKind.FORM:
                step_forms[step.code] = step.handler.build(task)
            else:
                step_forms[step.code] = DocumentForm(prefix=step.code)
    return (
        render_template(
            "campaigns/task.html",
            task=task,
            campaign=task.campaign,
            definition=definition,
            steps=services.step_states(task),
            step_forms=step_forms,
            answers=services.answers(task),
        ),
        status,
    )


@bp.route("/<int:campaign_id>/taches/<int:task_id>")
@login_required
def task(campaign_id: int, task_id: int):
    return _render_task(services.get_task_or_404(current_user, campaign_id, task_id))


@bp.route("/<int:campaign_id>/taches/<int:task_id>/etapes/<step_code>", methods=["POST"])
@login_required
def answer(campaign_id: int, task_id: int, step_code: str):
    """Answer one step: its form (the headcount declaration) or its document."""
    task = services.get_task_or_404(current_user, campaign_id, task_id)
    definition = definitions.get(task.campaign.kind)
    step = next((s for s in definition.steps if s.code == step_code), None)
    if step is None:
        abort(404)
    if step.kind == definitions.StepKind.FORM:
        form, rows = step.handler.build(task, request.form)
        if not task.campaign.is_open:
            form.form_errors.append(_("La campagne est close : elle n'attend plus de réponse."))
        elif step.handler.validate(form, rows) and attempt(lambda: step.handler.save(task, rows, current_user), form):
            flash(_("Votre réponse « %(step)s » est enregistrée.", step=step.label), "success")
            return redirect(url_for("campaigns.task", campaign_id=campaign_id, task_id=task.id))
        return _render_task(task, 422, step_forms={step.code: (form, rows)})
    form = DocumentForm(prefix=step.code)
    if not task.campaign.is_open:
        form.form_errors.append(_("La campagne est close : elle n'attend plus de réponse."))
    elif form.validate_on_submit():
        upload = form.file.data
        if attempt(lambda: services.add_document(task, step.code, upload.filename, upload.stream, current_user), form):
            flash(_("Le document « %(step)s » est enregistré.", step=step.label), "success")
            return redirect(url_for("campaigns.task", campaign_id=campaign_id, task_id=task.id))
    return _render_task(task, 422, step_forms={step.code: form})


@bp.route("/<int:campaign_id>/taches/<int:task_id>/documents/<int:answer_id>")
@login_required
def document(campaign_id: int, task_id: int, answer_id: int):
    task = services.get_task_or_404(current_user, campaign_id, task_id)
    found = db.session.get(CampaignAnswer, answer_id)
    if found is None or found.task_id != task.id or not found.stored_name:
        abort(404)
    path = services.document_path(found)
    if not path.is_file():
        current_app.logger.warning("Campagnes : document %s absent du disque", found.id)
        abort(404)
    response = send_file(path, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(found.filename)
    return response
