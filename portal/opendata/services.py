"""The affiliated bodies, as a CDG publishes them: public identifiers and kind of affiliation, nothing personal.

"Affiliated" is the status in force recorded on each body (``Collectivite.affiliation_status``, the one the
registry list filters on): *obligatoire* or *volontaire*. The CDG's départements (``CDG_DEPARTEMENTS``)
bound the list; a national federation (no département set) publishes every affiliated body.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from sqlalchemy import Select, func, select

from portal.affiliation.rules import AFFILIATED, status_label
from portal.common import cdg
from portal.extensions import db
from portal.registry.kinds import label
from portal.registry.models import Collectivite

FIELDS = ("code_insee", "siren", "nom", "type", "type_libelle", "departement", "affiliation")
HEADER = ("Code INSEE", "SIREN", "Nom", "Type", "Libellé du type", "Département", "Affiliation")
BATCH = 2000


def _scope(statement: Select) -> Select:
    statement = statement.where(Collectivite.affiliation_status.in_([s.value for s in AFFILIATED]))
    departements = cdg.departements()
    if departements:
        statement = statement.where(Collectivite.departement_code.in_(departements))
    return statement


def counts() -> dict[str, int]:
    """Affiliated bodies by kind of affiliation."""
    statement = _scope(select(Collectivite.affiliation_status, func.count())).group_by(Collectivite.affiliation_status)
    return dict(db.session.execute(statement).all())


def records() -> Iterator[dict]:
    """One plain record per affiliated body, sorted by name then id, read ``BATCH`` rows at a time."""
    statement = _scope(
        select(
            Collectivite.insee_code,
            Collectivite.siren,
            Collectivite.name,
            Collectivite.kind,
            Collectivite.departement_code,
            Collectivite.affiliation_status,
        )
    ).order_by(Collectivite.name_normalised, Collectivite.id)
    kind_label = cache(label)  # a few kinds, translated once for the whole file rather than on each row
    for insee, siren, name, kind, departement, status in db.session.execute(
        statement.execution_options(yield_per=BATCH)
    ):
        yield {
            "code_insee": insee,
            "siren": siren,
            "nom": name,
            "type": kind,
            "type_libelle": kind_label(kind),
            "departement": departement,
            "affiliation": status,
        }


def status_labels() -> dict[str, str]:
    return {s.value: status_label(s) for s in AFFILIATED}
