"""What the élus are told about their trainings: the wording of dates, places and hours, notifications
(to the élu, with or without an account), calendar invitations and the reminders before a session.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.common.claims import claim_row
from portal.common.clock import PARIS, utcnow
from portal.common.formatting import date_fr, decimal_fr, period_fr, time_fr
from portal.common.i18n import gettext as _
from portal.common.titles import salutation
from portal.extensions import db
from portal.notifications.services import notify_person, person_recipients
from portal.training import calendar, rules
from portal.training.models import Registration, TrainingSession
from portal.training.rules import Status

CATEGORY = "training"


def local_time(value: datetime) -> str:
    """ "1er décembre 2026 à 9 h 30" in Paris time."""
    local = value.astimezone(PARIS)
    return _("%(date)s à %(time)s", date=date_fr(local.date()), time=time_fr(local.time()))


def describe_when(session: TrainingSession) -> str:
    """ "1er décembre 2026, 9 h – 17 h" in Paris time (:func:`period_fr`)."""
    return period_fr(session.starts_at.astimezone(PARIS), session.ends_at.astimezone(PARIS))


def describe_place(session: TrainingSession) -> str:
    if session.place and session.remote_url:
        return _("%(place)s (ou à distance : %(url)s)", place=session.place, url=session.remote_url)
    return session.place or _("à distance : %(url)s", url=session.remote_url)


def describe_hours(value: Decimal) -> str:
    return f"{decimal_fr(value)}\u00a0h"


def _link(registration: Registration) -> str:
    # A plain path: messages are also built by workers, outside any request.
    return f"/formations/sessions/{registration.session_id}"


def notify(registration: Registration, title: str, body: str, attachments=()) -> None:
    """Tell the élu, with or without an account: his account, else the contact address his secretary entered,
    else the secretaries of his collectivité (``notifications.notify_person``)."""
    mandate = registration.mandate
    person = mandate.person
    notify_person(
        person,
        collectivite_id=registration.collectivite_id,
        category=CATEGORY,
        title=_("%(title)s — %(training)s", title=title, training=registration.session.training.title),
        body=body,
        link=_link(registration),
        salutation=salutation(mandate.function, person.sex, person.full_name),
        description=f"{person.full_name}, {mandate.function_label} ({mandate.collectivite.name})",
        attachments=list(attachments),
    )


def invitation_for(registration: Registration) -> calendar.Invitation:
    session, person = registration.session, registration.mandate.person
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    training = session.training
    return calendar.Invitation(
        uid=f"{registration.uid}@{current_app.config['MAIL_MESSAGE_ID_DOMAIN']}",
        sequence=registration.ics_sequence,
        summary=_("Formation des élus : %(title)s", title=training.title),
        description=(
            _(
                "%(title)s (%(hours)s), par %(body)s (agrément n° %(agrement)s).",
                title=training.title,
                hours=describe_hours(training.duration_hours),
                body=training.body.name,
                agrement=training.body.agrement_number,
            )
            + f"\n{training.objectives}"
        ).strip(),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        location=describe_place(session),
        organizer_name=current_app.config["TRAINING_ORGANISER_NAME"],
        organizer_email=sender,
        attendee_name=person.full_name,
        # His own address, else the one his messages go to (his secretary's), else the organiser's.
        attendee_email=person_recipients(person, registration.collectivite_id).email or sender,
        url=current_app.config["PORTAL_BASE_URL"].rstrip("/") + _link(registration),
    )


def send_invitation(
    registration: Registration,
    method: str,
    now: datetime,
    *,
    updated: bool = False,
    title: str | None = None,
    body: str | None = None,
) -> None:
    session = registration.session
    data = calendar.build(invitation_for(registration), method=method, dtstamp=now)
    filename = "annulation.ics" if method == "CANCEL" else "invitation.ics"
    if method == "REQUEST":
        registration.invitation_sent = True
        title = title or (_("Session modifiée") if updated else _("Inscription confirmée"))
        values = {"title": session.training.title, "when": describe_when(session), "place": describe_place(session)}
        if updated:
            body = body or _(
                "La session a changé : « %(title)s », le %(when)s, %(place)s. L'invitation jointe s'ajoute à votre "
                "agenda.",
                **values,
            )
        else:
            body = body or _(
                "Votre inscription est confirmée : « %(title)s », le %(when)s, %(place)s. L'invitation jointe "
                "s'ajoute à votre agenda.",
                **values,
            )
    notify(registration, title, body, attachments=[(filename, calendar.content_type(method), data)])


def send_reminders(now: datetime | None = None) -> int:
    """Reminders 7 days and 1 day before a session, each sent once (recorded with the outbox row)."""
    now = now or utcnow()
    registrations = db.session.scalars(
        select(Registration)
        .join(TrainingSession)
        .options(joinedload(Registration.session))
        .where(
            Registration.status == Status.REGISTERED,
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.starts_at > now,
            TrainingSession.starts_at <= now + max(rules.REMINDERS.values()),
        )
    )
    sent = 0
    for registration in registrations:
        session = registration.session
        already = [code for code in registration.reminders_sent.split(",") if code]
        for code in rules.due_reminders(
            starts_at=session.starts_at,
            registered_at=registration.registered_at or registration.created_at,
            now=now,
            sent=already,
        ):
            when = _("dans une semaine") if code == "j7" else _("demain")
            sent_now = ",".join([*already, code])
            # A guarded UPDATE: a second run at the same time (two beats, a slow run) finds the flag changed.
            if not claim_row(
                Registration,
                Registration.id == registration.id,
                Registration.reminders_sent == registration.reminders_sent,
                reminders_sent=sent_now,
            ):
                continue
            set_committed_value(registration, "reminders_sent", sent_now)
            notify(
                registration,
                _("Rappel : formation %(when)s", when=when),
                _(
                    "« %(title)s » a lieu %(when)s, le %(date)s, %(place)s.",
                    title=session.training.title,
                    when=when,
                    date=describe_when(session),
                    place=describe_place(session),
                ),
            )
            sent += 1
    db.session.flush()
    return sent
