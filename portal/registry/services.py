"""Queries on the registry: the filtered, sorted, paginated list, and a body's page."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from types import SimpleNamespace

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from portal.accounts.models import Mandate, Role, User, secretary_collectivite
from portal.common import cdg, versions
from portal.common.pagination import Page, RowsQuery, paginate_rows, rows_query
from portal.common.text import normalise
from portal.extensions import db
from portal.registry.kinds import EPCI_KINDS
from portal.registry.models import Collectivite, HeadcountDeclaration
from portal.registry.visibility import visible_collectivites

SORTS = {
    "nom": (Collectivite.name_normalised,),
    "code": (Collectivite.insee_code, Collectivite.siren),
    "population": (Collectivite.population,),
    "type": (Collectivite.kind, Collectivite.name_normalised),
    "statut": (Collectivite.affiliation_status, Collectivite.name_normalised),
}


@dataclass(frozen=True)
class ListFilters:
    q: str = ""
    kind: str = ""
    epci_id: int | None = None
    status: str = ""
    departement: str = ""
    sort: str = "nom"
    descending: bool = False
    page: int = 1


# The list's statements kept per set of filters for the CDG's staff, who all see the same registry: per process,
# the most recent ones (each a few kilobytes).
STAFF_QUERIES_KEPT = 256
# Any agent of the CDG, for what the visibility rules give every one of them.
_ANY_STAFF = SimpleNamespace(role=Role.STAFF)


def list_collectivites(user, filters: ListFilters, per_page: int) -> Page:
    """The page of the list as plain rows (:func:`summary_statement`'s columns): one statement for the page's ids
    and its rows, plus a COUNT unless the count cache has it, whatever the number of rows shown."""
    if user.role == Role.STAFF:
        query = _staff_rows_query(replace(filters, page=1))
    else:
        query = _rows_query(visible_collectivites(user), filters)
    return paginate_rows(query, filters.page, per_page, count_key=count_key(user, filters))


@functools.lru_cache(maxsize=STAFF_QUERIES_KEPT)
def _staff_rows_query(filters: ListFilters) -> RowsQuery:
    """The statements of the staff's list for ``filters`` (page aside), built once per process: what an agent sees
    does not depend on who he is (``visible_collectivites``), and the page is a bound parameter."""
    return _rows_query(visible_collectivites(_ANY_STAFF), filters)


def _rows_query(visible: Select, filters: ListFilters) -> RowsQuery:
    order = list_order(filters)
    return rows_query(
        _filtered(visible, filters),
        Collectivite,
        lambda ids: summary_statement().join(ids, ids.c.id == Collectivite.id).order_by(*order),
    )


def count_key(user, filters: ListFilters) -> tuple | None:
    """What identifies the filtered set, for the count cache: only for staff, who see every collectivité (a
    secretary's few rows are cheap to count, and her attachments are not part of the registry's version)."""
    if user.role != Role.STAFF:
        return None
    return ("collectivites", filters.q.strip(), filters.kind, filters.epci_id, filters.status, filters.departement)


def filtered_statement(user, filters: ListFilters):
    """The select of the collectivités ``user`` sees, filtered and sorted as ``filters`` say (ids last: stable)."""
    return _filtered(visible_collectivites(user), filters)


def _filtered(statement: Select, filters: ListFilters) -> Select:
    q = filters.q.strip()
    if q:
        compact = q.replace(" ", "")
        term = f"%{normalise(q)}%"
        conditions = [Collectivite.name_normalised.like(term)]
        if compact.isdigit() or (len(compact) == 5 and compact[:2].upper() in {"2A", "2B"}):
            conditions += [
                Collectivite.insee_code == compact.upper(),
                Collectivite.siren == compact,
                Collectivite.postal_codes.like(f"%{compact}%"),
            ]
        statement = statement.where(or_(*conditions))
    if filters.kind == "epci":
        statement = statement.where(Collectivite.kind.in_([k.value for k in EPCI_KINDS]))
    elif filters.kind:
        statement = statement.where(Collectivite.kind == filters.kind)
    if filters.epci_id:
        statement = statement.where(Collectivite.epci_id == filters.epci_id)
    if filters.departement:
        statement = statement.where(Collectivite.departement_code == filters.departement)
    if filters.status == "aucun":
        statement = statement.where(Collectivite.affiliation_status.is_(None))
    elif filters.status:
        statement = statement.where(Collectivite.affiliation_status == filters.status)
    return statement.order_by(*list_order(filters))


def list_order(filters: ListFilters) -> list:
    """The order of the list: the sort chosen, then the id (stable from one page to the next)."""
    columns = SORTS.get(filters.sort, SORTS["nom"])
    order = [c.desc().nulls_last() if filters.descending else c.asc().nulls_last() for c in columns]
    return [*order, Collectivite.id]


# The EPCI options of the list's filter, per process, under the registry's version token: (départements) ->
# (token, options). Any change to a collectivité replaces the token (portal.common.versions).
_epci_options: dict[tuple[str, ...], tuple[str, list[tuple[int, str]]]] = {}


def epci_choices(departements: list[str] | None = None) -> list[tuple[int, str]]:
    """The EPCI of the CDG's départements (``CDG_DEPARTEMENTS``; every EPCI when it is empty), for the filter.

    Read once per process and registry version (the same 30 to 1,300 options on every list page)."""
    if departements is None:
        departements = cdg.departements()
    key = tuple(departements)
    token = versions.current(versions.REGISTRY)
    cached = _epci_options.get(key)
    if token is not None and cached is not None and cached[0] == token:
        return cached[1]
    choices = _read_epci_choices(departements)
    if token is not None:
        _epci_options[key] = (token, choices)
    return choices


def _read_epci_choices(departements: list[str]) -> list[tuple[int, str]]:
    statement = select(Collectivite.id, Collectivite.name).where(Collectivite.kind.in_([k.value for k in EPCI_KINDS]))
    if departements:
        members = select(Collectivite.epci_id).where(Collectivite.departement_code.in_(departements))
        statement = statement.where(Collectivite.id.in_(members))
    return list(db.session.execute(statement.order_by(Collectivite.name_normalised)).all())


# The last count of the registry by affiliation status, with the version token it was read under.
_status_counts: dict[str, tuple[str, dict]] = {}


def counts_by_status() -> dict[str | None, int]:
    """Collectivités by affiliation status (None: not yet computed), for the staff home's card: a GROUP BY over
    the whole country (36,000 rows, 5 to 9 ms of PostgreSQL) read once per process and registry version."""
    token = versions.current(versions.REGISTRY)
    cached = _status_counts.get("by_status")
    if token is not None and cached is not None and cached[0] == token:
        return dict(cached[1])
    counts = dict(
        db.session.execute(
            select(Collectivite.affiliation_status, func.count()).group_by(Collectivite.affiliation_status)
        ).all()
    )
    if token is not None:
        _status_counts["by_status"] = (token, counts)
    return dict(counts)


def declarations(collectivite_id: int) -> list[HeadcountDeclaration]:
    return list(
        db.session.scalars(
            select(HeadcountDeclaration)
            .options(joinedload(HeadcountDeclaration.declared_by))
            .where(HeadcountDeclaration.collectivite_id == collectivite_id)
            .order_by(
                HeadcountDeclaration.year.desc(),
                HeadcountDeclaration.declared_at.desc(),
                HeadcountDeclaration.id.desc(),
            )
        )
    )


def members(collectivite: Collectivite) -> list[Collectivite]:
    """Communes of an EPCI, or CCAS and caisse des écoles of a commune."""
    column = Collectivite.epci_id if collectivite.is_epci else Collectivite.parent_id
    return list(
        db.session.scalars(select(Collectivite).where(column == collectivite.id).order_by(Collectivite.name_normalised))
    )


def attached_users(collectivite_id: int) -> list[User]:
    secretaries = select(secretary_collectivite.c.user_id).where(
        secretary_collectivite.c.collectivite_id == collectivite_id
    )
    elus = (
        select(User.id)
        .join(Mandate, Mandate.person_id == User.person_id)
        .where(Mandate.collectivite_id == collectivite_id, Mandate.end_date.is_(None))
    )
    return list(
        db.session.scalars(
            select(User).where(or_(User.id.in_(secretaries), User.id.in_(elus))).order_by(User.role, User.full_name)
        ).unique()
    )


def parent_alias():
    return aliased(Collectivite)


SUMMARY_EPCI = aliased(Collectivite)


def summary_statement():
    """The list columns of the collectivités as plain rows (no ORM objects: the lists build them by the thousand
    per second), the EPCI's id and name joined."""
    return select(
        Collectivite.id,
        Collectivite.name,
        Collectivite.kind,
        Collectivite.insee_code,
        Collectivite.siren,
        Collectivite.departement_code,
        Collectivite.population,
        Collectivite.affiliation_status,
        SUMMARY_EPCI.id.label("epci_id"),
        SUMMARY_EPCI.name.label("epci_name"),
    ).outerjoin(SUMMARY_EPCI, SUMMARY_EPCI.id == Collectivite.epci_id)
