"""The CDG staff's pages: training bodies, trainings and sessions, the sign-in sheet, the exports and the
communes none of whose élus was trained.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from portal.accounts.models import Mandate, Person
from portal.common import cdg, exports
from portal.common.auth import staff_required
from portal.common.clock import PARIS, paris_today, utcnow
from portal.common.confirm import confirmation_page, confirmed
from portal.common.files import content_disposition
from portal.common.formatting import date_fr
from portal.common.forms import options
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.common.inputs import parse_year
from portal.common.labels import translated
from portal.common.outcomes import attempt
from portal.common.pagination import paginate
from portal.common.routing import MAX_ID
from portal.common.workdays import public_holidays_between
from portal.extensions import db
from portal.training import exports as training_exports
from portal.training import sessions as training_sessions
from portal.training.attendance import mark_attendance
from portal.training.documents import sign_in_sheet_pdf
from portal.training.forms import (
    AttendanceForm,
    BodyForm,
    CancelSessionForm,
    SessionForm,
    TrainingForm,
)
from portal.training.models import Registration, Training, TrainingBody, TrainingSession
from portal.training.rights import untrained_communes
from portal.training.rules import Status
from portal.training.views.blueprints import bp, session_when


def to_utc(value: datetime | None) -> datetime | None:
    """A time typed in Paris (the form's naive datetime) as a UTC instant."""
    return None if value is None else value.replace(tzinfo=PARIS).astimezone(UTC)


def to_paris(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(PARIS).replace(tzinfo=None)


# Staff: bodies, trainings, sessions -------------------------------------------------------------


@bp.route("/catalogue", methods=["GET", "POST"])
@staff_required
def catalogue():
    return render_template(
        "training/catalogue.html",
        trainings=training_sessions.trainings(),
        bodies=training_sessions.bodies(),
        today=paris_today(),
    )


def _edit(form, save, template: str, redirect_to, *, notices=None, **context):
    """``notices(saved)``: warnings to show once the change is saved (a session on a public holiday)."""
    saved = attempt(save, form) if form.validate_on_submit() else None
    if saved:
        flash(_("Modifications enregistrées."), "success")
        for notice in notices(saved.value) if notices else ():
            flash(notice, "warning")
        return redirect(redirect_to())
    return render_template(template, form=form, **context), 422 if form.errors else 200


@bp.route("/organismes/nouveau", methods=["GET", "POST"], defaults={"body_id": None})
@bp.route("/organismes/<int:body_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_body(body_id: int | None):
    body = db.get_or_404(TrainingBody, body_id) if body_id else None
    form = BodyForm(obj=body)

    def save():
        training_sessions.save_body(
            training_sessions.BodyInput(
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
    training = db.get_or_404(Training, training_id) if training_id else None
    form = TrainingForm(obj=training)
    form.body_id.choices = options(
        [("", _("Choisir un organisme"))]
        + [(b.id, f"{b.name} ({b.agrement_number})") for b in training_sessions.bodies()]
    )

    def save():
        training_sessions.save_training(
            training_sessions.TrainingInput(
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


def _session_input(form: SessionForm) -> training_sessions.SessionInput:
    return training_sessions.SessionInput(
        training_id=form.training_id.data,
        starts_at=to_utc(form.starts_at.data),
        ends_at=to_utc(form.ends_at.data),
        registration_deadline=to_utc(form.registration_deadline.data),
        capacity=form.capacity.data,
        place=form.place.data,
        remote_url=form.remote_url.data,
        quota_per_collectivite=form.quota_per_collectivite.data,
        minimum_participants=form.minimum_participants.data,
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
        [("", _("Choisir une formation"))] + [(t.id, t.title) for t in training_sessions.trainings(active_only=True)]
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
        created["session"] = training_sessions.create_session(_session_input(form), current_user)
        return created["session"]

    return _edit(
        form,
        save,
        "training/edit_session.html",
        lambda: url_for("training.session", session_id=created["session"].id),
        notices=_holiday_notices,
        training_session=None,
    )


def _holiday_notices(training_session: TrainingSession) -> list[str]:
    """Allowed (the council decides when its élus train), but said: a session on a public holiday is rarely meant."""
    first, last = to_paris(training_session.starts_at).date(), to_paris(training_session.ends_at).date()
    return [
        _("Attention : la session tombe le %(day)s, jour férié (%(name)s).", day=date_fr(day), name=name)
        for day, name in public_holidays_between(first, last)
    ]


@bp.route("/sessions/<int:session_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_session(session_id: int):
    training_session = db.get_or_404(TrainingSession, session_id)
    form = _session_form(training_session)

    def save():
        return training_sessions.update_session(training_session, _session_input(form), current_user)

    return _edit(
        form,
        save,
        "training/edit_session.html",
        lambda: url_for("training.session", session_id=session_id),
        notices=_holiday_notices,
        training_session=training_session,
        cancel_form=CancelSessionForm(),
    )


@bp.route("/sessions/<int:session_id>/annuler", methods=["POST"])
@staff_required
def cancel_session(session_id: int):
    training_session = db.get_or_404(TrainingSession, session_id)
    form = CancelSessionForm()
    if confirmed() and form.validate_on_submit():
        cancelled = attempt(
            lambda: training_sessions.cancel_session(training_session, current_user, form.reason.data), form
        )
        if cancelled:
            flash(
                ngettext(
                    "Session annulée ; %(num)d participant prévenu.",
                    "Session annulée ; %(num)d participants prévenus.",
                    cancelled.value,
                ),
                "success",
            )
            return redirect(url_for("training.session", session_id=session_id))
    return confirmation_page(
        form,
        title=_("Annuler la session du %(when)s ?", when=session_when(training_session)),
        warning=_(
            "Toutes les inscriptions sont annulées et chaque participant est prévenu par courriel, avec le motif."
        ),
        action_url=url_for("training.cancel_session", session_id=session_id),
        back_url=url_for("training.session", session_id=session_id),
        button=_("Confirmer l'annulation de la session"),
        status=422 if confirmed() else 200,
    )


@bp.route("/sessions/<int:session_id>/emargement", methods=["GET", "POST"])
@staff_required
def attendance(session_id: int):
    training_session = db.get_or_404(TrainingSession, session_id)
    form = AttendanceForm()
    if form.validate_on_submit():
        present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
        if attempt(lambda: mark_attendance(training_session, present, current_user), form):
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
    training_session = db.get_or_404(TrainingSession, session_id)
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
    training_session = db.get_or_404(TrainingSession, session_id)
    rows = training_exports.participants(training_session)
    return exports.response(
        fmt, f"participants-session-{session_id}", translated(training_exports.PARTICIPANTS_HEADER), rows
    )


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
    return exports.response(fmt, name, translated(training_exports.REGISTRATIONS_HEADER), rows, sheet=_("Inscriptions"))


@bp.route("/communes-sans-elu-forme")
@staff_required
def untrained():
    statement = untrained_communes(cdg.departements())
    page = paginate(statement, request.args.get("page", 1, type=int), current_app.config["PORTAL_PAGE_SIZE"])
    return render_template("training/untrained.html", page=page)
