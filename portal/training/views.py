"""Training pages: sessions and registration (élus, secretaries), rights and budgets, staff administration."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload

from portal.accounts.models import Mandate, Person
from portal.common import cdg, exports
from portal.common.auth import staff_required
from portal.common.clock import PARIS, paris_today, utcnow
from portal.common.errors import DomainError
from portal.common.files import content_disposition
from portal.common.forms import options, show_domain_error
from portal.common.inputs import parse_year, strip_control_characters
from portal.common.pagination import paginate
from portal.common.routing import MAX_ID
from portal.common.text import normalise
from portal.extensions import db
from portal.registry.models import Collectivite
from portal.registry.visibility import get_managed_collectivite_or_404
from portal.training import budget as training_budget
from portal.training import exports as training_exports
from portal.training import services
from portal.training.documents import attestation_pdf, sign_in_sheet_pdf
from portal.training.forms import (
    ActionForm,
    AttendanceForm,
    BodyForm,
    BudgetForm,
    CancelSessionForm,
    RegistrationForm,
    SessionForm,
    TrainingForm,
)
from portal.training.models import Registration, Training, TrainingBody, TrainingSession
from portal.training.rules import Status

bp = Blueprint("training", __name__, url_prefix="/formations")
commune_bp = Blueprint("training_commune", __name__)


def to_utc(value: datetime | None) -> datetime | None:
    """A time typed in Paris (the form's naive datetime) as a UTC instant."""
    return None if value is None else value.replace(tzinfo=PARIS).astimezone(UTC)


def to_paris(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(PARIS).replace(tzinfo=None)


def _session_or_404(session_id: int) -> TrainingSession:
    """Staff see every session; others the published ones, and a cancelled one only if it concerned them."""
    return services.visible_session(current_user, session_id) or abort(404)


def _registration_or_404(registration_id: int) -> Registration:
    visible = services.registrations_visible_to(current_user).where(Registration.id == registration_id)
    return db.session.scalar(visible) or abort(404)


# Sessions, registration -------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    past = request.args.get("periode") == "passees"
    now = utcnow()
    statement = select(TrainingSession).options(joinedload(TrainingSession.training))
    statement = (
        statement.where(TrainingSession.starts_at < now).order_by(TrainingSession.starts_at.desc())
        if past
        else statement.where(TrainingSession.starts_at >= now).order_by(TrainingSession.starts_at)
    )
    if not current_user.is_staff:
        statement = statement.where(TrainingSession.published.is_(True), TrainingSession.cancelled_at.is_(None))
    page = paginate(statement.order_by(TrainingSession.id), request.args.get("page", 1, type=int), 25)
    counts = services.rosters([s.id for s in page.items])
    mine = {}
    if current_user.is_elu and current_user.mandate is not None:
        mine = {
            r.session_id: r
            for r in db.session.scalars(
                select(Registration).where(
                    Registration.mandate_id.in_(select(Mandate.id).where(Mandate.person_id == current_user.person_id)),
                    Registration.session_id.in_([s.id for s in page.items]),
                    Registration.status != Status.CANCELLED,
                )
            )
        }
    return render_template(
        "training/index.html", page=page, counts=counts, mine=mine, past=past, now=now, export_year=paris_today().year
    )


STAFF_SEARCH_LIMIT = 200


def _staff_search() -> str:
    return strip_control_characters(request.args.get("elus_de") or "").strip()[:100]


def _registration_form(session: TrainingSession) -> RegistrationForm | None:
    # mandates_for joins the person and his account, if any: load them with the mandate (one query for the list).
    statement = services.mandates_for(current_user).options(
        contains_eager(Mandate.person), contains_eager(Mandate.user)
    )
    if current_user.is_staff:
        # Staff may register any élu of the country: never a list of them all, but the élu posted, or those
        # of the communes matching a search by name or INSEE code.
        if request.method == "POST":
            statement = statement.where(Mandate.id == request.form.get("mandate_id", type=int))
        elif _staff_search():
            search = _staff_search()
            statement = (
                statement.join(Mandate.collectivite)
                .where(
                    or_(
                        Collectivite.insee_code == search,
                        Collectivite.name_normalised.contains(normalise(search), autoescape=True),
                    )
                )
                .limit(STAFF_SEARCH_LIMIT)
            )
        else:
            return None
    mandates = list(db.session.scalars(statement.order_by(Person.family_name, Person.given_name, Mandate.id)))
    if not mandates:
        return None
    form = RegistrationForm()
    form.mandate_id.choices = options(
        [(m.id, f"{m.person.full_name} — {m.function_label}, {m.collectivite.name}") for m in mandates]
    )
    if current_user.is_elu and request.method == "GET":
        form.mandate_id.data = mandates[0].id
    form.mandates = {m.id: m for m in mandates}  # the élus this user may register, already loaded
    return form


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
@login_required
def session(session_id: int):
    training_session = _session_or_404(session_id)
    form = _registration_form(training_session)
    if form is None and request.method == "POST":
        flash(_("Aucun élu ne peut être inscrit depuis votre compte : choisissez un élu dans la liste."), "error")
        return redirect(url_for("training.session", session_id=session_id))
    if form is not None and form.validate_on_submit():
        mandate = form.mandates.get(form.mandate_id.data)
        if mandate is None:
            abort(404)
        try:
            registration = services.register(training_session, mandate, current_user, form.registration_input())
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            registered = registration.status == Status.REGISTERED  # read before the commit expires the row
            db.session.commit()
            if registered:
                flash(_("Inscription confirmée : une invitation pour l'agenda est envoyée par courriel."), "success")
            else:
                flash(_("Session complète : inscription en liste d'attente."), "info")
            return redirect(url_for("training.session", session_id=session_id))
    return _render_session(training_session, form, 422 if form is not None and form.errors else 200)


def _render_session(training_session: TrainingSession, form, status: int = 200):
    visible = (
        services.registrations_visible_to(current_user)
        .where(Registration.session_id == training_session.id, Registration.status != Status.CANCELLED)
        .options(joinedload(Registration.mandate).joinedload(Mandate.user))
        .order_by(Registration.waiting_since, Registration.id)
    )
    registrations = list(db.session.scalars(visible))
    now = utcnow()
    closed = services.rules.registration_closed_reason(
        now=now,
        starts_at=training_session.starts_at,
        deadline=training_session.registration_deadline,
        published=training_session.published,
        cancelled=training_session.cancelled_at is not None,
    )
    return (
        render_template(
            "training/session.html",
            session=training_session,
            training=training_session.training,
            roster=services.roster(training_session.id),
            registrations=registrations,
            positions=services.waiting_positions(training_session),
            form=form if closed is None else None,
            closed=closed,
            staff_search=_staff_search() if current_user.is_staff else None,
            action_form=ActionForm(),
            now=now,
        ),
        status,
    )


def _registration_action(registration_id: int, action):
    registration = _registration_or_404(registration_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("Le formulaire a expiré : rechargez la page et recommencez."), "error")
    else:
        try:
            message = action(registration, form)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(message, "success")
    # Only a path of this site (never another host, even written //host or /\host): no open redirect.
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or urlsplit(target).netloc:
        target = url_for("training.session", session_id=registration.session_id)
    return redirect(target)


@bp.get("/inscriptions/<int:registration_id>/attestation.pdf")
@login_required
def attestation(registration_id: int):
    """The attestation of attendance, for the élu, his collectivité's secretaries and staff (404 for anyone else,
    and before the élu was recorded present)."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or not services.can_act_for(current_user, registration.mandate):
        abort(404)
    if registration.status != Status.PRESENT:
        abort(404)
    filename, mimetype, data = attestation_pdf(registration)
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": content_disposition(filename)})


@bp.route("/inscriptions/<int:registration_id>/annuler", methods=["POST"])
@login_required
def cancel(registration_id: int):
    def action(registration, form):
        services.cancel(registration, current_user, form.reason.data or "")
        return _("Inscription annulée.")

    return _registration_action(registration_id, action)


@bp.route("/inscriptions/<int:registration_id>/accepter", methods=["POST"])
@login_required
def accept(registration_id: int):
    def action(registration, form):
        services.accept_offer(registration, current_user)
        return _("Place confirmée : une invitation pour l'agenda est envoyée par courriel.")

    return _registration_action(registration_id, action)


@bp.route("/inscriptions/<int:registration_id>/decliner", methods=["POST"])
@login_required
def decline(registration_id: int):
    def action(registration, form):
        services.cancel(registration, current_user, _("Place proposée déclinée"))
        return _("Place déclinée : elle est proposée à la personne suivante.")

    return _registration_action(registration_id, action)


# Rights of an élu -------------------------------------------------------------------------------


@bp.route("/mes-formations")
@login_required
def mine():
    if current_user.mandate is None:
        abort(404)
    return redirect(url_for("training.elu", mandate_id=current_user.mandate.id))


@bp.route("/elus/<int:mandate_id>")
@login_required
def elu(mandate_id: int):
    mandate = db.session.get(Mandate, mandate_id)
    if mandate is None or not services.can_act_for(current_user, mandate):
        abort(404)
    rights = services.rights_for(mandate)
    positions = {
        r.id: services.waiting_positions(r.session).get(r.id)
        for r in rights.registrations
        if r.status == Status.WAITING
    }
    return render_template(
        "training/elu.html", mandate=mandate, rights=rights, positions=positions, action_form=ActionForm()
    )


# A commune's trainings and budget ---------------------------------------------------------------


def _year_arg() -> int:
    """``annee`` of the query string: this year when absent, 404 when it is not a year of the portal's range."""
    raw = request.args.get("annee", "").strip()
    if not raw:
        return paris_today().year
    return parse_year(raw) or abort(404)


@commune_bp.route("/collectivites/<int:collectivite_id>/formations", methods=["GET", "POST"])
@login_required
def commune(collectivite_id: int):
    body = get_managed_collectivite_or_404(current_user, collectivite_id)
    year = _year_arg()
    form = BudgetForm(year=year)
    if form.validate_on_submit():
        try:
            services.save_budget(
                body,
                form.year.data,
                form.amount.data,
                form.max_indemnities.data,
                form.deliberation_ref.data,
                current_user,
            )
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Budget de formation enregistré."), "success")
            return redirect(url_for("training_commune.commune", collectivite_id=body.id, annee=form.year.data))
    summary = services.commune_year(body, year)
    if request.method == "GET" and summary.budget is not None:
        form.amount.data = summary.budget.amount
        form.max_indemnities.data = summary.budget.max_indemnities
        form.deliberation_ref.data = summary.budget.deliberation_ref
    status = 422 if form.errors else 200
    budget = training_budget.commune_budget(body.id, year)
    page = render_template("training/commune.html", body=body, summary=summary, form=form, year=year, budget=budget)
    return page, status


@commune_bp.route("/collectivites/<int:collectivite_id>/formations/<year:year>.<any(csv, xlsx):fmt>")
@login_required
def commune_export(collectivite_id: int, year: int, fmt: str):
    """The table of the year's trainings annexed to the compte administratif (CGCT L2123-12)."""
    body = get_managed_collectivite_or_404(current_user, collectivite_id)
    rows = training_exports.commune_year(body.id, year)
    return exports.response(
        fmt, f"formations-elus-{body.insee_code or body.id}-{year}", training_exports.COMMUNE_HEADER, rows
    )


# Staff: bodies, trainings, sessions -------------------------------------------------------------


@bp.route("/catalogue", methods=["GET", "POST"])
@staff_required
def catalogue():
    return render_template(
        "training/catalogue.html",
        trainings=services.trainings(),
        bodies=services.bodies(),
        today=paris_today(),
    )


def _edit(form, save, template: str, redirect_to, **context):
    if form.validate_on_submit():
        try:
            save()
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Modifications enregistrées."), "success")
            return redirect(redirect_to())
    return render_template(template, form=form, **context), 422 if form.errors else 200


@bp.route("/organismes/nouveau", methods=["GET", "POST"], defaults={"body_id": None})
@bp.route("/organismes/<int:body_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_body(body_id: int | None):
    body = db.session.get(TrainingBody, body_id) if body_id else None
    if body_id and body is None:
        abort(404)
    form = BodyForm(obj=body)

    def save():
        services.save_body(
            services.BodyInput(
                name=form.name.data,
                agrement_number=form.agrement_number.data,
                agrement_from=form.agrement_from.data,
                agrement_until=form.agrement_until.data,
                contact_email=form.contact_email.data,
            ),
            current_user,
            body,
        )

    return _edit(form, save, "training/edit_body.html", lambda: url_for("training.catalogue"), body=body)


@bp.route("/catalogue/nouvelle", methods=["GET", "POST"], defaults={"training_id": None})
@bp.route("/catalogue/<int:training_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_training(training_id: int | None):
    training = db.session.get(Training, training_id) if training_id else None
    if training_id and training is None:
        abort(404)
    form = TrainingForm(obj=training)
    form.body_id.choices = options(
        [("", _("Choisir un organisme"))] + [(b.id, f"{b.name} ({b.agrement_number})") for b in services.bodies()]
    )

    def save():
        services.save_training(
            services.TrainingInput(
                title=form.title.data,
                body_id=form.body_id.data,
                duration_hours=form.duration_hours.data,
                cost_per_participant=form.cost_per_participant.data,
                objectives=form.objectives.data or "",
                programme=form.programme.data or "",
                active=form.active.data,
            ),
            current_user,
            training,
        )

    return _edit(form, save, "training/edit_training.html", lambda: url_for("training.catalogue"), training=training)


def _session_input(form: SessionForm) -> services.SessionInput:
    return services.SessionInput(
        training_id=form.training_id.data,
        starts_at=to_utc(form.starts_at.data),
        ends_at=to_utc(form.ends_at.data),
        registration_deadline=to_utc(form.registration_deadline.data),
        capacity=form.capacity.data,
        place=form.place.data,
        remote_url=form.remote_url.data,
        quota_per_collectivite=form.quota_per_collectivite.data,
        published=form.published.data,
        prioritise_untrained=form.prioritise_untrained.data,
    )


def _session_form(training_session: TrainingSession | None) -> SessionForm:
    form = SessionForm(obj=training_session)
    if request.method == "GET" and training_session is not None:
        form.starts_at.data = to_paris(training_session.starts_at)
        form.ends_at.data = to_paris(training_session.ends_at)
        form.registration_deadline.data = to_paris(training_session.registration_deadline)
    form.training_id.choices = options(
        [("", _("Choisir une formation"))] + [(t.id, t.title) for t in services.trainings(active_only=True)]
    )
    return form


@bp.route("/sessions/nouvelle", methods=["GET", "POST"])
@staff_required
def new_session():
    form = _session_form(None)
    if request.method == "GET" and request.args.get("formation", type=int):
        form.training_id.data = request.args.get("formation", type=int)
    created = {}

    def save():
        created["session"] = services.create_session(_session_input(form), current_user)

    return _edit(
        form,
        save,
        "training/edit_session.html",
        lambda: url_for("training.session", session_id=created["session"].id),
        training_session=None,
    )


@bp.route("/sessions/<int:session_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_session(session_id: int):
    training_session = db.session.get(TrainingSession, session_id) or abort(404)
    form = _session_form(training_session)

    def save():
        services.update_session(training_session, _session_input(form), current_user)

    return _edit(
        form,
        save,
        "training/edit_session.html",
        lambda: url_for("training.session", session_id=session_id),
        training_session=training_session,
        cancel_form=CancelSessionForm(),
    )


@bp.route("/sessions/<int:session_id>/annuler", methods=["POST"])
@staff_required
def cancel_session(session_id: int):
    training_session = db.session.get(TrainingSession, session_id) or abort(404)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            count = services.cancel_session(training_session, current_user, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Session annulée ; %(num)d participant prévenu.",
                    "Session annulée ; %(num)d participants prévenus.",
                    count,
                ),
                "success",
            )
    else:
        flash(_("Indiquez le motif de l'annulation."), "error")
    return redirect(url_for("training.session", session_id=session_id))


@bp.route("/sessions/<int:session_id>/emargement", methods=["GET", "POST"])
@staff_required
def attendance(session_id: int):
    training_session = db.session.get(TrainingSession, session_id) or abort(404)
    form = AttendanceForm()
    if form.validate_on_submit():
        present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
        try:
            services.mark_attendance(training_session, present, current_user)
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Émargement enregistré ; les attestations sont envoyées aux présents."), "success")
            return redirect(url_for("training.attendance", session_id=session_id))
    registrations = _attendees(training_session)
    return render_template(
        "training/attendance.html",
        session=training_session,
        training=training_session.training,
        registrations=registrations,
        form=form,
        started=training_session.starts_at <= utcnow(),
    ), (422 if form.form_errors else 200)


def _attendees(training_session: TrainingSession) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .join(Registration.mandate)
            .join(Mandate.person)
            .where(
                Registration.session_id == training_session.id,
                Registration.status.in_([Status.REGISTERED, Status.PRESENT, Status.ABSENT]),
            )
            .options(contains_eager(Registration.mandate).contains_eager(Mandate.person))
            .order_by(Person.family_name, Person.given_name, Registration.id)
        )
    )


@bp.route("/sessions/<int:session_id>/emargement.pdf")
@staff_required
def attendance_pdf(session_id: int):
    training_session = db.session.get(TrainingSession, session_id) or abort(404)
    data = sign_in_sheet_pdf(training_session, _attendees(training_session))
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": content_disposition(f"emargement-session-{session_id}.pdf", inline=True)},
    )


@bp.route("/sessions/<int:session_id>/participants.<any(csv, xlsx):fmt>")
@staff_required
def participants_export(session_id: int, fmt: str):
    """Everyone registered to the session (waiting list and cancellations included), streamed as CSV or XLSX."""
    training_session = db.session.get(TrainingSession, session_id) or abort(404)
    rows = training_exports.participants(training_session)
    return exports.response(fmt, f"participants-session-{session_id}", training_exports.PARTICIPANTS_HEADER, rows)


def _export_filters() -> training_exports.Filters:
    """The staff export's filters from the query string; a value that means nothing is a 400, not everything."""
    year = request.args.get("annee", "").strip()
    status = request.args.get("statut", "").strip()
    body = request.args.get("collectivite", "").strip()
    if year and parse_year(year) is None:
        abort(400)
    if status and status not in {s.value for s in Status}:
        abort(400)
    if body and not (body.isascii() and body.isdigit() and len(body) <= 10 and 1 <= int(body) <= MAX_ID):
        abort(400)
    return training_exports.Filters(
        year=int(year) if year else None, status=status or None, collectivite_id=int(body) if body else None
    )


@bp.route("/inscriptions.<any(csv, xlsx):fmt>")
@staff_required
def registrations_export(fmt: str):
    """Every registration (staff), filtered by ``annee`` (start of the session), ``statut`` and ``collectivite``."""
    filters = _export_filters()
    rows = training_exports.registrations(filters)
    name = "inscriptions-formations" + (f"-{filters.year}" if filters.year else "")
    return exports.response(fmt, name, training_exports.REGISTRATIONS_HEADER, rows, sheet="Inscriptions")


@bp.route("/communes-sans-elu-forme")
@staff_required
def untrained():
    statement = services.untrained_communes(cdg.departements())
    page = paginate(statement, request.args.get("page", 1, type=int), current_app.config["PORTAL_PAGE_SIZE"])
    return render_template("training/untrained.html", page=page)


@bp.app_template_filter("session_when")
def session_when(training_session: TrainingSession) -> str:
    """« 12/03/2027, de 09 h 00 à 17 h 00 » in Paris time."""
    return services.describe_when(training_session)


@bp.app_template_filter("hours_fr")
def hours_fr(value) -> str:
    return services.describe_hours(value)
