"""The sessions as élus and secretaries see them: the list, a session's page and registering to it, cancelling,
accepting or declining an offered seat, and the attestation of attendance.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_
from sqlalchemy.orm import contains_eager, joinedload

from portal.accounts.models import Mandate, Person, User
from portal.common.clock import paris_today, utcnow
from portal.common.files import content_disposition
from portal.common.forms import options
from portal.common.i18n import gettext as _
from portal.common.inputs import strip_control_characters
from portal.common.outcomes import attempt
from portal.common.pagination import paginate
from portal.common.text import normalise
from portal.extensions import db
from portal.registry.models import Collectivite
from portal.training import registrations as training_registrations
from portal.training import roster as training_roster
from portal.training import rules, visibility
from portal.training.documents import attestation_pdf
from portal.training.forms import (
    ActionForm,
    RegistrationForm,
)
from portal.training.models import Registration, TrainingSession
from portal.training.rules import Status
from portal.training.views.blueprints import bp

# Sessions, registration -------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    past = request.args.get("periode") == "passees"
    now = utcnow()
    statement = visibility.sessions_visible_to(current_user).options(joinedload(TrainingSession.training))
    statement = (
        statement.where(TrainingSession.starts_at < now).order_by(TrainingSession.starts_at.desc())
        if past
        else statement.where(TrainingSession.starts_at >= now).order_by(TrainingSession.starts_at)
    )
    page = paginate(statement.order_by(TrainingSession.id), request.args.get("page", 1, type=int), 25)
    counts = training_roster.rosters([s.id for s in page.items])
    mine = {}
    if current_user.is_elu and current_user.mandate is not None:
        mine = {
            r.session_id: r
            for r in db.session.scalars(
                visibility.registrations_visible_to(current_user).where(
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


@functools.cache
def _mandate_loading() -> tuple:
    """mandates_for joins the person and his account, if any: load them with the mandate (one query for the list).
    The account's person is the mandate's, already loaded: not joined a second time. Built once per process."""
    return contains_eager(Mandate.person), contains_eager(Mandate.user).lazyload(User.person)


def _registration_form(session: TrainingSession) -> RegistrationForm | None:
    statement = visibility.mandates_for(current_user).options(*_mandate_loading())
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
    training_session = visibility.get_visible_session_or_404(current_user, session_id)
    form = _registration_form(training_session)
    if form is None and request.method == "POST":
        flash(_("Aucun élu ne peut être inscrit depuis votre compte : choisissez un élu dans la liste."), "error")
        return redirect(url_for("training.session", session_id=session_id))
    if form is not None and form.validate_on_submit():
        mandate = form.mandates.get(form.mandate_id.data)
        if mandate is None:
            abort(404)

        def register() -> bool:
            registration = training_registrations.register(
                training_session, mandate, current_user, form.registration_input()
            )
            return registration.status == Status.REGISTERED  # read before the commit expires the row

        registered = attempt(register, form)
        if registered:
            if registered.value:
                flash(_("Inscription confirmée : une invitation pour l'agenda est envoyée par courriel."), "success")
            else:
                flash(_("Session complète : inscription en liste d'attente."), "info")
            return redirect(url_for("training.session", session_id=session_id))
    return _render_session(training_session, form, 422 if form is not None and form.errors else 200)


def _render_session(training_session: TrainingSession, form, status: int = 200):
    visible = (
        visibility.registrations_visible_to(current_user)
        .where(Registration.session_id == training_session.id, Registration.status != Status.CANCELLED)
        .options(joinedload(Registration.mandate).joinedload(Mandate.user))
        .order_by(Registration.waiting_since, Registration.id)
    )
    registrations = list(db.session.scalars(visible))
    now = utcnow()
    closed = rules.registration_closed_reason(
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
            roster=training_roster.roster(training_session.id),
            registrations=registrations,
            positions=training_roster.waiting_positions(training_session),
            form=form if closed is None else None,
            closed=closed,
            staff_search=_staff_search() if current_user.is_staff else None,
            action_form=ActionForm(),
            now=now,
        ),
        status,
    )


def _registration_action(registration_id: int, action):
    registration = visibility.get_visible_registration_or_404(current_user, registration_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("Le formulaire a expiré : rechargez la page et recommencez."), "error")
    else:
        done = attempt(lambda: action(registration, form))
        if done:
            flash(done.value, "success")
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
    if registration is None or not visibility.can_act_for(current_user, registration.mandate):
        abort(404)
    if registration.status != Status.PRESENT:
        abort(404)
    filename, mimetype, data = attestation_pdf(registration)
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": content_disposition(filename)})


@bp.route("/inscriptions/<int:registration_id>/annuler", methods=["POST"])
@login_required
def cancel(registration_id: int):
    def action(registration, form):
        training_registrations.cancel(registration, current_user, form.reason.data or "")
        return _("Inscription annulée.")

    return _registration_action(registration_id, action)


@bp.route("/inscriptions/<int:registration_id>/accepter", methods=["POST"])
@login_required
def accept(registration_id: int):
    def action(registration, form):
        training_registrations.accept_offer(registration, current_user)
        return _("Place confirmée : une invitation pour l'agenda est envoyée par courriel.")

    return _registration_action(registration_id, action)


@bp.route("/inscriptions/<int:registration_id>/decliner", methods=["POST"])
@login_required
def decline(registration_id: int):
    def action(registration, form):
        training_registrations.cancel(registration, current_user, _("Place proposée déclinée"))
        return _("Place déclinée : elle est proposée à la personne suivante.")

    return _registration_action(registration_id, action)
