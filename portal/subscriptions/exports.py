"""The subscriptions list as rows for the CSV and XLSX exports: the page's state filter, read in batches."""

from __future__ import annotations

from collections.abc import Iterator

from portal.common.labels import N_
from portal.extensions import db
from portal.subscriptions.services import visible_statement

HEADER = (
    N_("N°"),
    N_("Collectivité"),
    N_("Code INSEE / SIREN"),
    N_("Service"),
    N_("État"),
    N_("Demandée le"),
    N_("Début"),
    N_("Fin"),
)
BATCH = 500


def rows(user, state: str) -> Iterator[tuple]:
    statement = visible_statement(user, state).execution_options(yield_per=BATCH)
    for subscription in db.session.scalars(statement):
        body = subscription.collectivite
        yield (
            subscription.id,
            body.name,
            body.code,
            subscription.service.name,
            subscription.state_label,
            subscription.requested_at,
            subscription.start_date,
            subscription.end_date,
        )
