"""The work queue: what waits for the CDG's staff, from every area (:mod:`portal.workqueue.sources`), paged and
filtered by the database; and who on the staff handles which item (claims).

Nothing of the queue is stored: it is what the areas hold right now, so an item leaves it the moment someone acts.
Only claims are rows: "agent X handles it", and "dealt with" for the items no page of the portal ends.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from math import ceil

from sqlalchemy import Integer, String, and_, asc, bindparam, case, cast, desc, func, literal, select, union_all

from portal.accounts.models import User
from portal.common.auth import Role
from portal.common.clock import utcnow
from portal.common.database import UTCDateTime, plain_rows
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.extensions import db
from portal.workqueue.models import WorkClaim
from portal.workqueue.rules import RESOLVABLE_KINDS, AgentFilter, Kind, WorkItem
from portal.workqueue.sources import COMPUTED_SOURCES, SQL_SOURCES, clock


@dataclass(frozen=True)
class QueuePage:
    items: list[WorkItem]
    total: int  # items that pass the filters
    counts: dict[Kind, int]  # by kind, in the whole queue (the filters' choices)
    holders: dict[tuple[str, int], int]  # (kind, object id) → the agent handling it, for the page's items


def collect(now: datetime | None = None) -> list[WorkItem]:
    """Every item waiting for staff, one query per kind (the daily digest reads them all)."""
    now = now or utcnow()
    items: list[WorkItem] = []
    for source in SQL_SOURCES.values():
        items.extend(source.items(now))
    for computed in COMPUTED_SOURCES.values():
        items.extend(computed(now))
    return items


# The counting and page statements kept per process, one per set of filters and kinds of computed items.
STATEMENTS_KEPT = 128
# The bound parameters of the page's statement (and of the agent filter).
PAGE_LIMIT, PAGE_OFFSET, AGENT_ID = "page_limit", "page_offset", "agent_id"


def _computed_key(n: int, kind: Kind):
    """The n-th computed item's key as a row of literals, its id and since bound parameters."""
    return select(
        cast(literal(kind.value), String(40)).label("kind"),
        bindparam(f"computed_id_{n}", type_=Integer).label("object_id"),
        bindparam(f"computed_since_{n}", type_=UTCDateTime).label("since"),
    )


def _keys(kinds, computed: tuple[Kind, ...]):
    """(kind, object id, since) of the items of ``kinds``, as one subquery: the SQL sources' keys and the computed
    items' keys (``computed``: the kind of each, their values bound by :func:`_computed_params`) in a single UNION
    ALL, so that the database counts, sorts and pages them together. None when no source can give any."""
    selects = [SQL_SOURCES[k].keys for k in kinds if k in SQL_SOURCES]
    selects += [_computed_key(n, k) for n, k in enumerate(computed) if k in kinds]
    if not selects:
        return None
    return (union_all(*selects) if len(selects) > 1 else selects[0]).subquery()


def _computed_params(computed: list[WorkItem]) -> dict:
    params = {}
    for n, item in enumerate(computed):
        params[f"computed_id_{n}"], params[f"computed_since_{n}"] = item.object_id, item.since
    return params


def _with_holder(keys):
    """``keys`` joined to their open claim (if any): the agent who handles each item."""
    on = and_(WorkClaim.kind == keys.c.kind, WorkClaim.object_id == keys.c.object_id, WorkClaim.resolved_at.is_(None))
    return keys.outerjoin(WorkClaim, on)


def _agent_filter(agent: str) -> str:
    """The shape of the agent filter: none, nobody, or one agent (:data:`AGENT_ID`)."""
    return agent if agent in ("", AgentFilter.NOBODY) else AGENT_ID


def _handled_by(agent_filter: str):
    """The condition on the joined claim for the agent filter (None: no filter)."""
    if not agent_filter:
        return None
    if agent_filter == AgentFilter.NOBODY:
        return WorkClaim.id.is_(None)
    return WorkClaim.agent_id == bindparam(AGENT_ID, type_=Integer)


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _counting(agent_filter: str, computed: tuple[Kind, ...]):
    """(kind, items, items that pass the agent filter) of the whole queue, built once per process."""
    every_key = _keys(tuple(Kind), computed)
    handled = _handled_by(agent_filter)
    if handled is None:
        return select(every_key.c.kind, func.count(), func.count()).group_by(every_key.c.kind)
    return (
        select(every_key.c.kind, func.count(), func.count(case((handled, 1))))
        .select_from(_with_holder(every_key))
        .group_by(every_key.c.kind)
    )


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _paged(kind: str, agent_filter: str, newest_first: bool, computed: tuple[Kind, ...]):
    """The page's keys with their holders, sorted, LIMIT and OFFSET bound, built once per process."""
    keys = _keys((Kind(kind),) if kind else tuple(Kind), computed)
    direction = desc if newest_first else asc
    paged = (
        select(keys.c.kind, keys.c.object_id, keys.c.since, WorkClaim.agent_id)
        .select_from(_with_holder(keys))
        .order_by(direction(keys.c.since), direction(keys.c.kind), direction(keys.c.object_id))
        .limit(bindparam(PAGE_LIMIT, type_=Integer))
        .offset(bindparam(PAGE_OFFSET, type_=Integer))
    )
    handled = _handled_by(agent_filter)
    return paged if handled is None else paged.where(handled)


def queue_page(
    *,
    kind: str = "",
    agent: str = "",
    me: int,
    newest_first: bool = False,
    number: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> QueuePage:
    """One page of the queue, counted, sorted and paged by the database over the UNION ALL of every source's keys
    (the computed items' keys among them): one statement counts by kind (and, with a filter, what passes it), one
    gives the page's keys with their holders (ORDER BY … LIMIT/OFFSET), then one reads the rows of each SQL kind on
    the page — whatever the number of items waiting and the page's number. ``number`` beyond the last page gives
    the last page. The statements are built once per process for each shape of filters."""
    now = now or utcnow()
    computed = [item for source in COMPUTED_SOURCES.values() for item in source(now)]
    computed_kinds = tuple(item.kind for item in computed)
    agent_filter = _agent_filter(agent)
    params = clock(now) | _computed_params(computed)
    if agent_filter == AGENT_ID:
        params[AGENT_ID] = me if agent == AgentFilter.MINE else int(agent)
    counts = dict.fromkeys(Kind, 0)
    passing = dict.fromkeys(Kind, 0)
    for found_kind, count, passed in plain_rows(_counting(agent_filter, computed_kinds), params):
        counts[Kind(found_kind)], passing[Kind(found_kind)] = count, passed
    total = sum(n for k, n in passing.items() if not kind or k == kind)

    last = max(1, ceil(total / per_page))
    number = min(max(1, number), last)
    rows = []
    if total:
        params[PAGE_LIMIT], params[PAGE_OFFSET] = per_page, (number - 1) * per_page
        rows = plain_rows(_paged(kind, agent_filter, newest_first, computed_kinds), params).all()

    wanted_ids: dict[str, list[int]] = {}
    for found_kind, object_id, _since, _holder in rows:
        if Kind(found_kind) in SQL_SOURCES:
            wanted_ids.setdefault(found_kind, []).append(object_id)
    described = {
        (item.kind.value, item.object_id): item
        for found_kind, ids in wanted_ids.items()
        for item in SQL_SOURCES[Kind(found_kind)].items(now, ids)
    }
    # A computed source may give two items of one object (a convention's notice and end): told apart by since.
    computed_by_key: dict[tuple, list[WorkItem]] = {}
    for item in computed:
        computed_by_key.setdefault((item.kind.value, item.object_id, item.since), []).append(item)
    items = []
    for found_kind, object_id, since, _holder in rows:
        if Kind(found_kind) in SQL_SOURCES:
            item = described.get((found_kind, object_id))  # None: it left the queue between the two statements
        else:
            same = computed_by_key.get((found_kind, object_id, since))
            item = same.pop(0) if same else None
        if item is not None:
            items.append(item)
    holders = {(found_kind, object_id): holder for found_kind, object_id, _since, holder in rows if holder is not None}
    return QueuePage(items=items, total=total, counts=counts, holders=holders)


def claims() -> dict[tuple[str, int], int]:
    """(kind, object id) → id of the agent handling it, for the items not dealt with. Claims of items that left
    the queue are kept (cheap) and simply match nothing."""
    return {
        (kind, object_id): agent_id
        for kind, object_id, agent_id in db.session.execute(
            select(WorkClaim.kind, WorkClaim.object_id, WorkClaim.agent_id).where(WorkClaim.resolved_at.is_(None))
        )
    }


def agents() -> dict[int, str]:
    """The CDG's active agents, by id, with the name people know them by: the filter's choices and the
    "handled by" column."""
    return dict(plain_rows(_active_agents()).all())


@functools.cache
def _active_agents():
    return (
        select(User.id, User.full_name)
        .where(User.role == Role.STAFF, User.active.is_(True), User.is_service_account.is_(False))
        .order_by(User.full_name, User.id)
    )


def _claim_of(kind: Kind, object_id: int) -> WorkClaim | None:
    return db.session.scalar(select(WorkClaim).where(WorkClaim.kind == kind, WorkClaim.object_id == object_id))


def _check_in_queue(kind: Kind, object_id: int, now: datetime) -> None:
    if kind in COMPUTED_SOURCES:
        waiting = any(item.object_id == object_id for item in COMPUTED_SOURCES[kind](now))
    else:
        waiting = bool(SQL_SOURCES[kind].items(now, [object_id]))
    if not waiting:
        raise DomainError(_("Cet élément n'est plus dans la liste à traiter : quelqu'un s'en est peut-être occupé."))


def claim(kind: Kind, object_id: int, agent, now: datetime | None = None) -> User | None:
    """``agent`` takes the item in hand; returns the agent who had it before (None if nobody)."""
    now = now or utcnow()
    _check_in_queue(kind, object_id, now)
    existing = _claim_of(kind, object_id)
    previous = existing.agent if existing is not None and existing.resolved_at is None else None
    if existing is None:
        existing = WorkClaim(kind=kind.value, object_id=object_id, agent_id=agent.id, claimed_at=now)
        db.session.add(existing)
    else:
        existing.agent_id, existing.claimed_at, existing.resolved_at = agent.id, now, None
    db.session.flush()
    return None if previous is None or previous.id == agent.id else previous


def release(kind: Kind, object_id: int, agent) -> None:
    existing = _claim_of(kind, object_id)
    if existing is None or existing.resolved_at is not None:
        raise DomainError(_("Personne ne s'occupe de cet élément."))
    db.session.delete(existing)
    db.session.flush()


def resolve(kind: Kind, object_id: int, agent, now: datetime | None = None) -> None:
    """Mark an item that no action of the portal ends as dealt with (it leaves the queue), by ``agent``."""
    now = now or utcnow()
    if kind not in RESOLVABLE_KINDS:
        raise DomainError(_("Cet élément quitte la liste de lui-même une fois traité dans sa page."))
    _check_in_queue(kind, object_id, now)
    existing = _claim_of(kind, object_id)
    if existing is None:
        existing = WorkClaim(kind=kind.value, object_id=object_id, agent_id=agent.id, claimed_at=now)
        db.session.add(existing)
    existing.agent_id, existing.resolved_at = agent.id, now
    db.session.flush()
