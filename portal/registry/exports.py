"""The registry list as rows for the CSV and XLSX exports: the same filters as the page, read in batches."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from sqlalchemy.orm import aliased

from portal.affiliation.rules import status_label
from portal.common.labels import N_
from portal.extensions import db
from portal.registry.kinds import label
from portal.registry.models import Collectivite
from portal.registry.services import ListFilters, filtered_statement

HEADER = (
    N_("Nom"),
    N_("Type"),
    N_("Code INSEE"),
    N_("SIREN"),
    N_("Département"),
    N_("Population"),
    N_("EPCI"),
    N_("Statut d'affiliation"),
)
BATCH = 2000


def rows(user, filters: ListFilters) -> Iterator[tuple]:
    """Plain tuples (no ORM objects kept), fetched ``BATCH`` at a time (a server-side cursor on PostgreSQL)."""
    epci = aliased(Collectivite)
    statement = (
        filtered_statement(user, filters)
        .outerjoin(epci, Collectivite.epci_id == epci.id)
        .with_only_columns(
            Collectivite.name,
            Collectivite.kind,
            Collectivite.insee_code,
            Collectivite.siren,
            Collectivite.departement_code,
            Collectivite.population,
            epci.name,
            Collectivite.affiliation_status,
        )
        .execution_options(yield_per=BATCH)
    )
    # A few kinds and statuses, translated once for the whole file rather than on each of its thousands of rows.
    kind_label, affiliation_label = cache(label), cache(status_label)
    for name, kind, insee, siren, departement, population, epci_name, status in db.session.execute(statement):
        yield (name, kind_label(kind), insee, siren, departement, population, epci_name, affiliation_label(status))
