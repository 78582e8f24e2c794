"""Convention pages: the list with its filters, the timeline, a convention's page, staff forms (terms, parties and
signatories, axes, actions, meetings, termination), documents and their withdrawal."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from portal.audit import services as audit
from portal.audit.labels import action_label
from portal.common import exports
from portal.common.auth import staff_required
from portal.common.clock import paris_today
from portal.common.confirm import CONFIRMED, confirmation_page, confirmed
from portal.common.files import content_disposition
from portal.common.forms import PortalForm, options
from portal.common.i18n import gettext as _
from portal.common.labels import translated
from portal.common.outcomes import attempt
from portal.conventions import exports as convention_exports
from portal.conventions import rules, services
from portal.conventions.forms import (
    ActionForm,
    AxisEditForm,
    ConventionForm,
    ConventionTermsForm,
    DocumentForm,
    FilterForm,
    MeetingForm,
    NewAxisForm,
    PartiesForm,
    PartnerForm,
    TerminateForm,
    WithdrawDocumentForm,
)
from portal.conventions.models import ACTION_STATUS_LABELS, Axis, AxisAction, ConventionDocument
from portal.extensions import db

bp = Blueprint("conventions", __name__, url_prefix="/conventions")


def _reader_required() -> None:
    """Staff and secretaries read conventions; elected officials have no access to this area."""
    if not (current_user.is_staff or current_user.is_secretary):
        abort(403)


def _convention_or_404(convention_id: int):
    found = services.get_visible(current_user, convention_id)
    if found is None:
        abort(404)
    return found


def _filters_from_request() -> tuple[FilterForm, services.Filters, bool]:
    """The list's filters from the query string: the page and its exports read them the same way."""
    form = FilterForm(request.args)
    form.partenaire.choices = options(
        [("", _("Tous"))] + [(p.id, p.name) for p in services.partners_of_visible(current_user)]
    )
    form.type.choices = options([("", _("Tous"))] + [(k.value, label) for k, label in rules.KIND_LABELS.items()])
    form.etat.choices = options([("", _("Tous"))] + [(s.value, label) for s, label in rules.STATE_LABELS.items()])
    valid = form.validate()
    filters = services.Filters()
    if valid:
        filters = services.Filters(
            q=form.q.data or None,
            partner_id=form.partenaire.data,
            kind=form.type.data or None,
            state=form.etat.data or None,
            expiring_within=form.echeance.data,
        )
    return form, filters, valid


@bp.route("/")
@login_required
def index():
    _reader_required()
    form, filters, valid = _filters_from_request()
    found = services.search(current_user, filters)
    return render_template("conventions/index.html", form=form, rows=found), (200 if valid else 422)


@bp.route("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    """The filtered list streamed as CSV or XLSX."""
    _reader_required()
    _form, filters, _valid = _filters_from_request()
    rows = convention_exports.rows(current_user, filters)
    return exports.response(fmt, "conventions", translated(convention_exports.HEADER), rows)


@bp.route("/chronologie")
@login_required
def timeline():
    _reader_required()
    found = sorted(
        services.search(current_user, services.Filters()),
        key=lambda r: (r.convention.start_date or r.convention.signed_on or date.max, r.convention.id),
    )
    years: dict = {}
    for row in found:
        day = row.convention.start_date or row.convention.signed_on
        years.setdefault(day.year if day else None, []).append(row)
    return render_template("conventions/timeline.html", years=years)


@bp.route("/<int:convention_id>")
@login_required
def show(convention_id: int):
    convention = _convention_or_404(convention_id)
    return _render_show(convention)


def _render_show(convention, status=200, **forms):
    action_form = forms.get("action_form") or ActionForm(prefix="action")
    action_form.axis_id.choices = options((a.id, f"{a.position}. {a.title}") for a in convention.axes)
    return render_template(
        "conventions/show.html",
        convention=convention,
        row=services.rows(convention, paris_today()),
        deadlines=rules.deadlines(convention.terms, paris_today()),
        visible_children=[c for c in convention.children if services.get_visible(current_user, c.id) is not None],
        parent_visible=convention.parent is not None and services.get_visible(current_user, convention.parent_id),
        action_form=action_form,
        axis_form=forms.get("axis_form") or NewAxisForm(prefix="axis"),
        meeting_form=forms.get("meeting_form") or MeetingForm(prefix="meeting"),
        document_form=forms.get("document_form") or DocumentForm(prefix="document"),
        terminate_form=forms.get("terminate_form") or TerminateForm(prefix="end"),
        max_mb=services.max_upload_bytes() // (1024 * 1024),
        deadline_labels=rules.DEADLINE_LABELS,
        action_statuses=ACTION_STATUS_LABELS,
        history=audit.history_of("Convention", convention.id) if current_user.is_staff else [],
        action_label=action_label,
    ), status


def _terms_input(form) -> services.ConventionInput:
    return services.ConventionInput(
        title=form.title.data,
        kind=form.kind.data,
        object=form.object.data,
        signed_on=form.signed_on.data,
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        duration_months=form.duration_months.data,
        tacit_renewal=form.tacit_renewal.data,
        renewal_months=form.renewal_months.data,
        notice_months=form.notice_months.data,
        deliberation_refs=form.deliberation_refs.data,
        follow_up=form.follow_up.data,
        parent_id=form.parent_id.data,
    )


def _party_inputs(form) -> list[services.PartyInput]:
    """The filled party rows of a form (a row without a partner is ignored)."""
    return [
        services.PartyInput(r.form.partner.data, r.form.representative.data, r.form.deliberation_ref.data)
        for r in form.parties
        if r.form.partner.data
    ]


def _signatory_inputs(form) -> list[services.SignatoryInput]:
    """The filled signatory rows of a form (a row without a name nor a role is ignored)."""
    return [
        services.SignatoryInput(r.form.name.data, r.form.role.data, r.form.partner.data)
        for r in form.signatories
        if r.form.name.data or r.form.role.data
    ]


@bp.route("/nouvelle", methods=["GET", "POST"])
@staff_required
def new():
    form = ConventionForm()
    form.set_choices(services.all_partners(), services.framework_candidates())
    if form.validate_on_submit():
        data = _terms_input(form)
        data.parties, data.signatories = _party_inputs(form), _signatory_inputs(form)
        data.axes = [
            services.AxisInput(r.form.title.data, r.form.description.data)
            for r in form.axes
            if r.form.title.data or r.form.description.data
        ]
        outcome = attempt(lambda: services.create_convention(data, current_user), form)
        if outcome:
            convention = outcome.value
            flash(_("La convention est enregistrée."), "success")
            return redirect(url_for("conventions.show", convention_id=convention.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("conventions/new.html", form=form), status


@bp.route("/<int:convention_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit(convention_id: int):
    convention = _convention_or_404(convention_id)
    form = ConventionTermsForm(obj=convention)
    form.set_parent_choices([c for c in services.framework_candidates() if c.id != convention.id])
    if request.method == "GET" and convention.duration_months:
        form.end_date.data = None  # the end was derived from the duration: show the duration only
    if form.validate_on_submit() and attempt(
        lambda: services.update_terms(convention, _terms_input(form), current_user), form
    ):
        flash(_("La convention est modifiée."), "success")
        return redirect(url_for("conventions.show", convention_id=convention.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("conventions/edit.html", form=form, convention=convention), status


@bp.route("/<int:convention_id>/parties", methods=["GET", "POST"])
@staff_required
def edit_parties(convention_id: int):
    """The parties and signatories, prefilled; removing a party is confirmed first, saying which signatories
    leave with it, and asks for its reason (kept in the audit log, shown in the convention's history)."""
    convention = _convention_or_404(convention_id)
    if request.method == "POST":
        form = PartiesForm()
    else:
        form = PartiesForm(data=_parties_data(convention))
        form.add_blank_rows()
    form.set_choices(services.all_partners())
    valid = form.validate_on_submit()
    # A confirmed removal whose only fault is its reason (too long) is asked again, like one without a reason.
    if valid or (confirmed() and set(form.errors) == {"reason"}):
        parties, signatories = _party_inputs(form), _signatory_inputs(form)
        preview = attempt(lambda: services.preview_parties(convention, parties, signatories), form)
        if preview and preview.value.removed and not (confirmed() and valid):
            return _confirm_parties_removal(convention, form, preview.value, status=422 if confirmed() else 200)
        if preview and attempt(
            lambda: services.update_parties(convention, parties, signatories, current_user, form.reason.data), form
        ):
            flash(_("Les parties et les signataires sont enregistrés."), "success")
            return redirect(url_for("conventions.show", convention_id=convention.id))
        if preview and form.reason.errors:  # the service refused a removal without its reason: asked again
            return _confirm_parties_removal(convention, form, preview.value, status=422)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("conventions/parties.html", form=form, convention=convention), status


def _parties_data(convention) -> dict:
    return {
        "parties": [
            {"partner": p.partner_id, "representative": p.representative, "deliberation_ref": p.deliberation_ref}
            for p in convention.parties
        ],
        "signatories": [
            {"name": s.name, "role": s.role, "partner": s.party.partner_id if s.party else None}
            for s in convention.signatories
        ],
    }


def _confirm_parties_removal(convention, form, change: services.PartiesChange, status: int = 200):
    """The confirmation page of an edit that removes parties, asking for the reason: the rows typed are posted
    again as they came."""
    warning = [_("Parties retirées de la convention : %(names)s.", names=", ".join(change.removed))]
    if change.dropped_signatories:
        warning.append(
            _("Leurs signataires sont retirés avec elles : %(names)s.", names=", ".join(change.dropped_signatories))
        )
    if change.hidden_from:
        warning.append(
            _("Les secrétaires de %(names)s ne verront plus cette convention.", names=", ".join(change.hidden_from))
        )
    url = url_for("conventions.edit_parties", convention_id=convention.id)
    form.reason.flags.required = True  # asked here only, and required here (the service refuses without it)
    return confirmation_page(
        form,
        title=_("Retirer des parties de la convention « %(title)s » ?", title=convention.title),
        warning=" ".join(warning),
        action_url=url,
        back_url=url_for("conventions.show", convention_id=convention.id),
        button=_("Confirmer le retrait"),
        fields=["reason"],
        hidden={k: v for k, v in request.form.items() if k not in ("csrf_token", CONFIRMED, "reason")},
        status=status,
    )


@bp.route("/<int:convention_id>/axes", methods=["POST"])
@staff_required
def add_axis(convention_id: int):
    convention = _convention_or_404(convention_id)
    form = NewAxisForm(prefix="axis")
    if form.validate_on_submit() and attempt(
        lambda: services.add_axis(convention, form.title.data, form.description.data, current_user), form
    ):
        flash(_("L'axe est ajouté."), "success")
        return redirect(url_for("conventions.show", convention_id=convention.id, _anchor="axes"))
    return _render_show(convention, 422, axis_form=form)


def _axis_or_404(convention, axis_id: int) -> Axis:
    axis = db.session.get(Axis, axis_id)
    if axis is None or axis.convention_id != convention.id:
        abort(404)
    return axis


@bp.route("/<int:convention_id>/axes/<int:axis_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_axis(convention_id: int, axis_id: int):
    """An axis's title and description; its removal, when it has no action, from the same page."""
    convention = _convention_or_404(convention_id)
    axis = _axis_or_404(convention, axis_id)
    form = AxisEditForm(obj=axis)
    if form.validate_on_submit() and attempt(
        lambda: services.update_axis(axis, form.title.data, form.description.data, current_user), form
    ):
        flash(_("L'axe est modifié."), "success")
        return redirect(url_for("conventions.show", convention_id=convention.id, _anchor="axes"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "conventions/axis.html",
        form=form,
        convention=convention,
        axis=axis,
        removal_problem=services.axis_removal_problem(axis),
        remove_form=PortalForm(),
    ), status


@bp.route("/<int:convention_id>/axes/<int:axis_id>/suppression", methods=["POST"])
@staff_required
def remove_axis(convention_id: int, axis_id: int):
    convention = _convention_or_404(convention_id)
    axis = _axis_or_404(convention, axis_id)
    form = PortalForm()
    if not form.validate_on_submit():
        abort(400)
    if confirmed() or services.axis_removal_problem(axis):
        if attempt(lambda: services.remove_axis(axis, current_user)):
            flash(_("L'axe est supprimé ; les axes suivants sont renumérotés."), "success")
            return redirect(url_for("conventions.show", convention_id=convention.id, _anchor="axes"))
        return redirect(url_for("conventions.edit_axis", convention_id=convention.id, axis_id=axis.id))
    return confirmation_page(
        form,
        title=_("Supprimer l'axe %(n)s « %(title)s » ?", n=axis.position, title=axis.title),
        warning=_("L'axe est supprimé de la convention ; les axes suivants sont renumérotés."),
        action_url=url_for("conventions.remove_axis", convention_id=convention.id, axis_id=axis.id),
        back_url=url_for("conventions.edit_axis", convention_id=convention.id, axis_id=axis.id),
        button=_("Confirmer la suppression"),
        fields=[],
    )


@bp.route("/<int:convention_id>/actions", methods=["POST"])
@staff_required
def add_action(convention_id: int):
    convention = _convention_or_404(convention_id)
    form = ActionForm(prefix="action")
    form.axis_id.choices = options((a.id, a.title) for a in convention.axes)
    if form.validate_on_submit():
        axis = db.session.get(Axis, form.axis_id.data)
        if axis is None or axis.convention_id != convention.id:
            abort(404)
        if attempt(
            lambda: services.add_action(
                axis, form.title.data, form.owner.data, form.due_date.data, form.status.data, current_user
            ),
            form,
        ):
            flash(_("L'action est ajoutée."), "success")
            return redirect(url_for("conventions.show", convention_id=convention.id, _anchor="axes"))
    return _render_show(convention, 422, action_form=form)


@bp.route("/<int:convention_id>/actions/<int:action_id>/etat", methods=["POST"])
@staff_required
def set_action_status(convention_id: int, action_id: int):
    convention = _convention_or_404(convention_id)
    action = db.session.get(AxisAction, action_id)
    if action is None or action.axis.convention_id != convention.id:
        abort(404)
    if not PortalForm().validate_on_submit():
        abort(400)
    if attempt(lambda: services.set_action_status(action, request.form.get("status", ""), current_user)):
        flash(_("L'état de l'action « %(title)s » est mis à jour.", title=action.title), "success")
    return redirect(url_for("conventions.show", convention_id=convention.id, _anchor="axes"))


@bp.route("/<int:convention_id>/reunions", methods=["POST"])
@staff_required
def add_meeting(convention_id: int):
    convention = _convention_or_404(convention_id)
    form = MeetingForm(prefix="meeting")
    if form.validate_on_submit() and attempt(
        lambda: services.add_meeting(convention, form.held_on.data, form.title.data, form.minutes.data, current_user),
        form,
    ):
        flash(_("La réunion est enregistrée."), "success")
        return redirect(url_for("conventions.show", convention_id=convention.id, _anchor="suivi"))
    return _render_show(convention, 422, meeting_form=form)


@bp.route("/<int:convention_id>/documents", methods=["POST"])
@staff_required
def upload(convention_id: int):
    convention = _convention_or_404(convention_id)
    form = DocumentForm(prefix="document")
    if form.validate_on_submit():
        upload_file = form.file.data
        if attempt(
            lambda: services.add_document(convention, upload_file.filename, upload_file.stream, current_user), form
        ):
            flash(_("Le document est joint à la convention."), "success")
            return redirect(url_for("conventions.show", convention_id=convention.id, _anchor="documents"))
    return _render_show(convention, 422, document_form=form)


@bp.route("/<int:convention_id>/documents/<int:document_id>")
@login_required
def document(convention_id: int, document_id: int):
    convention = _convention_or_404(convention_id)
    found = _document_or_404(convention, document_id)
    if found.withdrawn and not current_user.is_staff:
        abort(404)
    path = services.document_path(found)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=found.content_type)
    response.headers["Content-Disposition"] = content_disposition(found.filename)
    return response


def _document_or_404(convention, document_id: int) -> ConventionDocument:
    found = db.session.get(ConventionDocument, document_id)
    if found is None or found.convention_id != convention.id:
        abort(404)
    return found


@bp.route("/<int:convention_id>/documents/<int:document_id>/retrait", methods=["POST"])
@staff_required
def withdraw_document(convention_id: int, document_id: int):
    """A wrong document withdrawn, after a confirmation page that asks for the reason."""
    convention = _convention_or_404(convention_id)
    found = _document_or_404(convention, document_id)
    form = WithdrawDocumentForm(prefix="withdraw")
    if (
        confirmed()
        and form.validate_on_submit()
        and attempt(lambda: services.withdraw_document(found, form.reason.data, current_user), form)
    ):
        flash(_("Le document « %(name)s » est retiré.", name=found.filename), "success")
        return redirect(url_for("conventions.show", convention_id=convention.id, _anchor="documents"))
    return confirmation_page(
        form,
        title=_("Retirer le document « %(name)s » ?", name=found.filename),
        warning=_(
            "Le document n'est plus proposé sur la page de la convention ni téléchargeable par les secrétaires. "
            "Il reste conservé, avec le motif du retrait, dans la liste des documents retirés que voient les agents "
            "du CDG."
        ),
        action_url=url_for("conventions.withdraw_document", convention_id=convention.id, document_id=found.id),
        back_url=url_for("conventions.show", convention_id=convention.id, _anchor="documents"),
        button=_("Confirmer le retrait"),
        fields=["reason"],
        status=422 if confirmed() else 200,
    )


@bp.route("/<int:convention_id>/resiliation", methods=["POST"])
@staff_required
def terminate(convention_id: int):
    convention = _convention_or_404(convention_id)
    form = TerminateForm(prefix="end")
    if (
        confirmed()
        and form.validate_on_submit()
        and attempt(
            lambda: services.terminate(convention, form.terminated_on.data, current_user, form.reason.data), form
        )
    ):
        flash(_("La résiliation est enregistrée."), "success")
        return redirect(url_for("conventions.show", convention_id=convention.id))
    return confirmation_page(
        form,
        title=_("Résilier la convention « %(title)s » ?", title=convention.title),
        warning=_(
            "La convention cesse de produire ses effets à la date indiquée ; ses échéances ne sont plus suivies."
        ),
        action_url=url_for("conventions.terminate", convention_id=convention.id),
        back_url=url_for("conventions.show", convention_id=convention.id),
        button=_("Confirmer la résiliation"),
        fields=["terminated_on", "reason"],
        status=422 if confirmed() else 200,
    )


@bp.route("/partenaires", methods=["GET", "POST"])
@staff_required
def partners():
    form = PartnerForm()
    if form.validate_on_submit():
        data = services.PartnerInput(
            form.name.data, form.kind.data, form.representative_name.data, form.representative_role.data
        )
        if attempt(lambda: services.create_partner(data, current_user), form):
            flash(_("Le partenaire est ajouté."), "success")
            return redirect(url_for("conventions.partners"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("conventions/partners.html", form=form, partners=services.all_partners()), status
