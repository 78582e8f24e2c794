"""Staff page: import the élus of the CDG's départements from an RNE file, dry run first. A collectivité's council,
managed by its secretary or the CDG: addresses, invitations, rights, registrations on the élus' behalf."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.common import cdg
from portal.common.auth import staff_required
from portal.common.clock import paris_today, utcnow
from portal.common.forms import options
from portal.common.i18n import gettext as _
from portal.common.outcomes import attempt
from portal.common.titles import agree
from portal.extensions import db
from portal.notifications.services import person_recipients
from portal.people import services
from portal.people.forms import (
    ContactEmailForm,
    CouncilRegistrationForm,
    InviteForm,
    RneConfirmForm,
    RneUploadForm,
)
from portal.people.rules import CHANGE_LABELS, RneFileError
from portal.registry.models import Collectivite
from portal.registry.visibility import get_managed_collectivite_or_404, visible_collectivites
from portal.training import notices, visibility
from portal.training import registrations as training_registrations
from portal.training.models import TrainingSession
from portal.training.rights import rights_of_many
from portal.training.rights_rules import leave_days_ceiling
from portal.training.rules import Status

bp = Blueprint("people", __name__, url_prefix="/elus")


def _upload_dir() -> Path:
    return Path(current_app.instance_path) / "rne-imports"


def _departements() -> list[str]:
    return cdg.departements()


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


# A collectivité's council: its secretary (or the CDG) manages its élus ---------------------------------------------

councils_bp = Blueprint("councils", __name__)


def _member_or_404(collectivite_id: int, person_id: int):
    """The collectivité (staff, or one of the secretary's; 404 otherwise) and the current mandate of the person on
    its council (404 if he does not sit on it)."""
    body = get_managed_collectivite_or_404(current_user, collectivite_id)
    mandate = services.current_mandate(body.id, person_id)
    if mandate is None:
        abort(404)
    return body, mandate


def _open_sessions() -> list[TrainingSession]:
    """The sessions one can register to now: published, not cancelled, before their registration deadline."""
    now = utcnow()
    return list(
        db.session.scalars(
            visibility.sessions_visible_to(current_user)
            .where(
                TrainingSession.published.is_(True),
                TrainingSession.cancelled_at.is_(None),
                TrainingSession.starts_at > now,
                TrainingSession.registration_deadline >= now,
            )
            .order_by(TrainingSession.starts_at, TrainingSession.id)
        )
    )


def _registration_form() -> CouncilRegistrationForm:
    form = CouncilRegistrationForm()
    form.session_id.choices = options(
        [("", _("Choisir une session"))]
        + [(s.id, f"{s.training.title} — {notices.describe_when(s)}") for s in _open_sessions()]
    )
    return form


@councils_bp.route("/conseils")
@login_required
def councils():
    """A secretary's entry page: the councils of her collectivités (staff reach a council from its collectivité)."""
    if current_user.is_staff:
        return redirect(url_for("registry.index"))
    if not current_user.is_secretary:
        abort(404)
    bodies = list(db.session.scalars(visible_collectivites(current_user).order_by(Collectivite.name)))
    sizes = services.council_sizes([b.id for b in bodies])
    return render_template("people/councils.html", bodies=bodies, sizes=sizes)


@councils_bp.route("/collectivites/<int:collectivite_id>/elus")
@login_required
def council(collectivite_id: int):
    body = get_managed_collectivite_or_404(current_user, collectivite_id)
    return render_template(
        "people/council.html",
        body=body,
        members=services.council(body.id),
        invite_form=InviteForm(),
        leave_days=leave_days_ceiling(paris_today()),
    )


def _render_member(body, mandate, contact_form=None, registration_form=None, status: int = 200):
    person = mandate.person
    if contact_form is None:
        contact_form = ContactEmailForm(formdata=None, contact_email=person.contact_email)
    return (
        render_template(
            "people/member.html",
            body=body,
            mandate=mandate,
            person=person,
            user=person.user,
            recipients=person_recipients(person, body.id),
            rights=rights_of_many([mandate])[mandate.id],
            contact_form=contact_form,
            invite_form=InviteForm(),
            registration_form=registration_form or _registration_form(),
            leave_days=leave_days_ceiling(paris_today()),
        ),
        status,
    )


@councils_bp.route("/collectivites/<int:collectivite_id>/elus/<int:person_id>", methods=["GET", "POST"])
@login_required
def member(collectivite_id: int, person_id: int):
    """An élu of the council: his address (form), his account and invitation, his rights, a registration."""
    body, mandate = _member_or_404(collectivite_id, person_id)
    if request.method == "GET":
        return _render_member(body, mandate)
    form = ContactEmailForm()
    if form.validate_on_submit():
        changed = attempt(
            lambda: services.set_contact_email(mandate.person, form.contact_email.data, current_user), form
        )
        if changed:
            flash(_("Adresse enregistrée.") if changed.value else _("Adresse inchangée."), "success")
            return redirect(url_for("councils.member", collectivite_id=body.id, person_id=person_id))
    return _render_member(body, mandate, contact_form=form, status=422)


@councils_bp.route("/collectivites/<int:collectivite_id>/elus/<int:person_id>/invitation", methods=["POST"])
@login_required
def invite(collectivite_id: int, person_id: int):
    body, mandate = _member_or_404(collectivite_id, person_id)
    name = mandate.person.full_name
    if not InviteForm().validate_on_submit():
        flash(_("Le formulaire a expiré : rechargez la page et recommencez."), "error")
    else:
        invited = attempt(lambda: services.invite(mandate.person, current_user).email)
        if invited:
            flash(_("Invitation envoyée à %(name)s (%(email)s).", name=name, email=invited.value), "success")
    return redirect(url_for("councils.council", collectivite_id=body.id) + f"#elu-{person_id}")


@councils_bp.route("/collectivites/<int:collectivite_id>/elus/<int:person_id>/inscription", methods=["POST"])
@login_required
def register(collectivite_id: int, person_id: int):
    """Register the élu to a session on his behalf: the training services check rights and seats as when the élu
    registers himself."""
    body, mandate = _member_or_404(collectivite_id, person_id)
    form = _registration_form()
    if form.validate_on_submit():
        session = visibility.get_visible_session_or_404(current_user, form.session_id.data)

        def register_elu():
            registration = training_registrations.register(session, mandate, current_user, form.registration_input())
            # Read before the commit expires the rows.
            return registration.status == Status.REGISTERED, mandate.person.full_name, mandate.person.sex

        outcome = attempt(register_elu, form)
        if outcome:
            registered, name, sex = outcome.value
            if registered:
                flash(
                    _(
                        "%(name)s est %(registered)s à la session : sa convocation est envoyée.",
                        name=name,
                        registered=agree("inscrit", sex),
                    ),
                    "success",
                )
            else:
                flash(_("Session complète : %(name)s est en liste d'attente.", name=name), "info")
            return redirect(url_for("councils.member", collectivite_id=body.id, person_id=person_id))
    return _render_member(body, mandate, registration_form=form, status=422)
