"""A secretary's « à faire »: what the CDG expects from her for the collectivités she serves, one query per kind.

Requests where the CDG asked her for information, seats offered to her élus that must be confirmed, her élus'
sessions of the coming weeks (their convocations), subscriptions that end soon. Campaign tasks and the
headcount of the year are shown by their own parts of the dashboard.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from portal.catalogue.models import Service
from portal.common.clock import paris_today, utcnow
from portal.common.i18n import gettext as _
from portal.common.labels import N_, Labels
from portal.extensions import db
from portal.registry.models import Collectivite
from portal.subscriptions.models import Subscription
from portal.subscriptions.rules import State as SubscriptionState
from portal.training.models import Registration, TrainingSession
from portal.training.rules import Status as RegistrationStatus
from portal.workqueue.rules import WorkItem
from portal.workqueue.sources import registrations_described

COMING_SESSIONS = timedelta(days=30)
ENDING_SOON_DAYS = 90


class SecretaryKind(StrEnum):
    INFO_ASKED = "informations-demandees"
    OFFER_TO_CONFIRM = "place-a-confirmer"
    SESSION_COMING = "convocation"
    ENDING_SOON = "fin-adhesion"


INFO_ASKED, OFFER_TO_CONFIRM, SESSION_COMING, ENDING_SOON = SecretaryKind
LABELS = Labels(
    {
        INFO_ASKED: N_("Informations demandées par le CDG"),
        OFFER_TO_CONFIRM: N_("Place proposée à confirmer"),
        SESSION_COMING: N_("Formation à venir d'un élu"),
        ENDING_SOON: N_("Adhésion qui prend fin"),
    }
)


def _info_asked(ids: list[int], now: datetime) -> list[WorkItem]:
    rows = db.session.execute(
        select(Subscription.id, Subscription.updated_at, Service.name, Collectivite.name)
        .join(Service, Service.id == Subscription.service_id)
        .join(Collectivite, Collectivite.id == Subscription.collectivite_id)
        .where(Subscription.collectivite_id.in_(ids), Subscription.state == SubscriptionState.INFO_NEEDED)
    )
    return [
        WorkItem(
            INFO_ASKED,
            id_,
            _("Compléter la demande : %(service)s", service=service),
            since,
            "subscriptions.show",
            {"subscription_id": id_},
            body,
        )
        for id_, since, service, body in rows
    ]


def _registrations(ids: list[int], now: datetime) -> list[WorkItem]:
    rows = db.session.execute(
        registrations_described(
            Registration.id,
            Registration.status,
            Registration.offered_at,
            Registration.offer_expires_at,
            Registration.mandate_id,
            TrainingSession.starts_at,
        ).where(
            Registration.collectivite_id.in_(ids),
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.starts_at > now,
            (Registration.status == RegistrationStatus.OFFERED)
            | (
                (Registration.status == RegistrationStatus.REGISTERED)
                & (TrainingSession.starts_at <= now + COMING_SESSIONS)
            ),
        )
    )
    items = []
    for id_, status, offered_at, expires, mandate_id, starts, given, family, title, body in rows:
        name = f"{given} {family}"
        if status == RegistrationStatus.OFFERED:
            items.append(
                WorkItem(
                    OFFER_TO_CONFIRM,
                    id_,
                    f"{name} : {title}",
                    offered_at or now,
                    "training.elu",
                    {"mandate_id": mandate_id},
                    body,
                    due=expires,
                )
            )
        else:
            items.append(
                WorkItem(
                    SESSION_COMING,
                    id_,
                    f"{name} : {title}",
                    starts,
                    "training.elu",
                    {"mandate_id": mandate_id},
                    body,
                    due=starts,
                )
            )
    return items


def _ending_soon(ids: list[int], now: datetime) -> list[WorkItem]:
    today = paris_today()
    rows = db.session.execute(
        select(Subscription.id, Subscription.end_date, Service.name, Collectivite.name)
        .join(Service, Service.id == Subscription.service_id)
        .join(Collectivite, Collectivite.id == Subscription.collectivite_id)
        .where(
            Subscription.collectivite_id.in_(ids),
            Subscription.state == SubscriptionState.ACTIVE,
            Subscription.end_date.is_not(None),
            Subscription.end_date >= today,
            Subscription.end_date <= today + timedelta(days=ENDING_SOON_DAYS),
        )
    )
    return [
        WorkItem(
            ENDING_SOON,
            id_,
            _("Fin de l'adhésion : %(service)s", service=service),
            now,
            "subscriptions.show",
            {"subscription_id": id_},
            body,
            due=datetime.combine(end, datetime.min.time(), tzinfo=now.tzinfo),
        )
        for id_, end, service, body in rows
    ]


def todo_for(collectivite_ids: list[int], now: datetime | None = None) -> list[WorkItem]:
    """What waits for a secretary of ``collectivite_ids``, the most urgent (a deadline first) at the top."""
    if not collectivite_ids:
        return []
    now = now or utcnow()
    items = (
        _info_asked(collectivite_ids, now) + _registrations(collectivite_ids, now) + _ending_soon(collectivite_ids, now)
    )
    return sorted(items, key=lambda i: (i.due or datetime.max.replace(tzinfo=now.tzinfo), i.since, i.object_id))
