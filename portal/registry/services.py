"""Queries on the registry: the filtered, sorted, paginated list, and a body's page."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from types import SimpleNamespace

from sqlalchemy import Row, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from portal.accounts.models import MUNICIPAL_FUNCTIONS, Mandate, Person, Role, User, secretary_collectivite
from portal.common import cdg, versions
from portal.common.pagination import Page, RowsQuery, paginate_rows, rows_query
from portal.common.text import normalise
from portal.common.titles import function_title, role_title
from portal.extensions import db
from portal.registry.kinds import EPCI_KINDS, KindFacts
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


@dataclass(frozen=True)
class RelatedBody:
    """The EPCI or the commune of attachment of a collectivité, as its page names it."""

    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class BodySheet(KindFacts):
    """A collectivité as its page reads it, without building ORM objects (the page changes nothing): the columns it
    shows, with its EPCI and commune of attachment; read like a :class:`Collectivite` by the page and body_facts."""

    id: int
    kind: str
    name: str
    insee_code: str | None
    siren: str | None
    population: int | None
    postal_codes: str | None
    affiliation_status: str | None
    epci: RelatedBody | None
    parent: RelatedBody | None


_SHEET_EPCI = aliased(Collectivite)
_SHEET_PARENT = aliased(Collectivite)


@functools.cache
def _sheet_statement():
    """:func:`body_sheet`'s statement, built once per process (building it costs more than running it)."""
    return (
        select(
            Collectivite.id,
            Collectivite.kind,
            Collectivite.name,
            Collectivite.insee_code,
            Collectivite.siren,
            Collectivite.population,
            Collectivite.postal_codes,
            Collectivite.affiliation_status,
            _SHEET_EPCI.id.label("epci_id"),
            _SHEET_EPCI.name.label("epci_name"),
            _SHEET_EPCI.kind.label("epci_kind"),
            _SHEET_PARENT.id.label("parent_id"),
            _SHEET_PARENT.name.label("parent_name"),
            _SHEET_PARENT.kind.label("parent_kind"),
        )
        .outerjoin(_SHEET_EPCI, _SHEET_EPCI.id == Collectivite.epci_id)
        .outerjoin(_SHEET_PARENT, _SHEET_PARENT.id == Collectivite.parent_id)
        .where(Collectivite.id == bindparam("collectivite_id"))
    )


def body_sheet(user, collectivite_id: int) -> BodySheet | None:
    """The collectivité ``collectivite_id`` if ``user`` may see it, with its EPCI and commune, in one statement."""
    statement = visible_collectivites(user, _sheet_statement())
    row = db.session.execute(statement, {"collectivite_id": collectivite_id}).first()
    if row is None:
        return None
    return BodySheet(
        id=row.id,
        kind=row.kind,
        name=row.name,
        insee_code=row.insee_code,
        siren=row.siren,
        population=row.population,
        postal_codes=row.postal_codes,
        affiliation_status=row.affiliation_status,
        epci=RelatedBody(row.epci_id, row.epci_name, row.epci_kind) if row.epci_id is not None else None,
        parent=RelatedBody(row.parent_id, row.parent_name, row.parent_kind) if row.parent_id is not None else None,
    )


def members(collectivite: Collectivite) -> list[Row]:
    """Communes of an EPCI, or CCAS and caisse des écoles of a commune: rows of id and name, by name."""
    column = Collectivite.epci_id if collectivite.is_epci else Collectivite.parent_id
    return list(
        db.session.execute(
            select(Collectivite.id, Collectivite.name)
            .where(column == collectivite.id)
            .order_by(Collectivite.name_normalised)
        )
    )


@dataclass(frozen=True)
class AttachedUser:
    """An account attached to a collectivité, as its page lists it."""

    full_name: str
    email: str
    role_label: str
    function_label: str | None  # of his current municipal mandate, if he has one


@functools.cache
def _attached_users_statement():
    """The secretaries attached to the collectivité and the accounts of its sitting élus, with the sex of their
    person and their current municipal mandate (``User.mandate``'s condition), by role and name. Built once per
    process."""
    collectivite_id = bindparam("collectivite_id")
    secretaries = select(secretary_collectivite.c.user_id).where(
        secretary_collectivite.c.collectivite_id == collectivite_id
    )
    elus = (
        select(User.id)
        .join(Mandate, Mandate.person_id == User.person_id)
        .where(Mandate.collectivite_id == collectivite_id, Mandate.end_date.is_(None))
    )
    current = aliased(Mandate)
    return (
        select(User.id, User.full_name, User.email, User.role, Person.sex, current.function, current.rank)
        .outerjoin(Person, Person.id == User.person_id)
        .outerjoin(
            current,
            and_(
                current.person_id == User.person_id,
                current.end_date.is_(None),
                current.function.in_([f.value for f in MUNICIPAL_FUNCTIONS]),
            ),
        )
        .where(or_(User.id.in_(secretaries), User.id.in_(elus)))
        .order_by(User.role, User.full_name)
    )


def attached_users(collectivite_id: int) -> list[AttachedUser]:
    users: dict[int, AttachedUser] = {}
    for row in db.session.execute(_attached_users_statement(), {"collectivite_id": collectivite_id}):
        if row.id in users:  # a person holds one current municipal mandate: a second row would repeat him
            continue
        users[row.id] = AttachedUser(
            full_name=row.full_name,
            email=row.email,
            role_label=role_title(row.role, row.sex),
            function_label=function_title(row.function, row.sex, row.rank) if row.function is not None else None,
        )
    return list(users.values())


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
