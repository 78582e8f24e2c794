"""The conventions list as rows for the CSV and XLSX exports, with the filters of the page."""

from __future__ import annotations

from collections.abc import Iterator

from portal.common.labels import N_
from portal.conventions import services

HEADER = (
    N_("N°"),
    N_("Titre"),
    N_("Type"),
    N_("Partenaires"),
    N_("État"),
    N_("Signée le"),
    N_("Début"),
    N_("Fin de la période en cours"),
)


def rows(user, filters: services.Filters) -> Iterator[tuple]:
    """Conventions are tens to hundreds per CDG: ``services.search`` (which applies the renewal rules) is used as is."""
    for row in services.search(user, filters):
        convention = row.convention
        yield (
            convention.id,
            convention.title,
            convention.kind_label,
            ", ".join(p.partner.name for p in convention.parties),
            row.state_label,
            convention.signed_on,
            convention.start_date,
            row.term_end,
        )
