"""The work queue: what waits for the CDG's staff, from every area (:mod:`portal.workqueue.sources`), paged and
filtered by the database; and who on the staff handles which item (claims).

Nothing of the queue is stored: it is what the areas hold right now, so an item leaves it the moment someone acts.
Only claims are rows: "agent X handles it", and "dealt with" for the items no page of the portal ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil

from sqlalchemy import and_, asc, desc, func, select, union_all

from portal.accounts.models import User
from portal.common.auth import Role
from portal.common.clock import utcnow
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.extensions import db
from portal.workqueue import rules
from portal.workqueue.models import WorkClaim
from portal.workqueue.rules import RESOLVABLE_KINDS, AgentFilter, Kind, WorkItem
from portal.workqueue.sources import COMPUTED_SOURCES, SQL_SOURCES


@dataclass(frozen=True)
class QueuePage:
    items: list[WorkItem]
    total: int  # items that pass the filters
    counts: dict[Kind, int]  # by kind, in the whole queue (the filters' choices)


def collect(now: datetime | None = None) -> list[WorkItem]:
    """Every item waiting for staff, one query per kind (the daily digest reads them all)."""
    now = now or utcnow()
    items: list[WorkItem] = []
    for source in SQL_SOURCES.values():
        items.extend(source.items(now))
    for computed in COMPUTED_SOURCES.values():
        items.extend(computed(now))
    return items


def _claimed_by(keys, agent: str, me: int):
    """``keys`` (a subquery of kind, object id, since) restricted to the items handled by ``agent``."""
    if not agent:
        return select(keys)
    open_claims = WorkClaim.resolved_at.is_(None)
    on = and_(WorkClaim.kind == keys.c.kind, WorkClaim.object_id == keys.c.object_id, open_claims)
    if agent == AgentFilter.NOBODY:
        return select(keys).outerjoin(WorkClaim, on).where(WorkClaim.id.is_(None))
    wanted = me if agent == AgentFilter.MINE else int(agent)
    return select(keys).join(WorkClaim, on).where(WorkClaim.agent_id == wanted)


def queue_page(
    *,
    kind: str = "",
    agent: str = "",
    me: int,
    claims: dict[tuple[str, int], int],
    newest_first: bool = False,
    number: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> QueuePage:
    """One page of the queue, sorted and filtered by the database: the counts by kind (one query), the filtered
    total and the page's keys (two queries), then the rows of the page's items (one query per kind on the page),
    whatever the number of items waiting. ``number`` beyond the last page gives the last page."""
    now = now or utcnow()
    computed = [item for source in COMPUTED_SOURCES.values() for item in source(now)]
    key_selects = {k: source.keys(now) for k, source in SQL_SOURCES.items()}
    every_key = union_all(*key_selects.values()).subquery()
    counts = dict.fromkeys(Kind, 0)
    for found_kind, count in db.session.execute(select(every_key.c.kind, func.count()).group_by(every_key.c.kind)):
        counts[Kind(found_kind)] = count
    for item in computed:
        counts[item.kind] += 1

    sql_kinds = [k for k in SQL_SOURCES if not kind or k == kind]
    computed = [item for item in computed if not kind or item.kind == kind]
    computed = rules.filter_by_agent(computed, claims, agent, me)
    if not sql_kinds:
        keys = None
    elif len(sql_kinds) == len(key_selects):
        keys = every_key
    else:
        keys = union_all(*(key_selects[k] for k in sql_kinds)).subquery()
    filtered = _claimed_by(keys, agent, me).subquery() if keys is not None else None
    sql_total = db.session.scalar(select(func.count()).select_from(filtered)) if filtered is not None else 0
    total = sql_total + len(computed)
    last = max(1, ceil(total / per_page))
    number = min(max(1, number), last)
    wanted = number * per_page  # the page's rows are among the first ``wanted`` of each part, once merged
    page_keys: list[tuple[str, int, datetime]] = []
    if filtered is not None and sql_total:
        direction = desc if newest_first else asc
        page_keys = [
            tuple(row)
            for row in db.session.execute(
                select(filtered.c.kind, filtered.c.object_id, filtered.c.since)
                .order_by(direction(filtered.c.since), direction(filtered.c.kind), direction(filtered.c.object_id))
                .limit(wanted)
            )
        ]
    merged = sorted(
        [(since, found_kind, object_id, None) for found_kind, object_id, since in page_keys]
        + [(item.since, item.kind.value, item.object_id, item) for item in computed],
        key=lambda entry: (entry[0], entry[1], entry[2]),
        reverse=newest_first,
    )[(number - 1) * per_page : wanted]
    wanted_ids: dict[str, list[int]] = {}
    for _since, found_kind, object_id, item in merged:
        if item is None:
            wanted_ids.setdefault(found_kind, []).append(object_id)
    described = {
        (item.kind.value, item.object_id): item
        for found_kind, ids in wanted_ids.items()
        for item in SQL_SOURCES[Kind(found_kind)].items(now, ids)
    }
    items = [
        item if item is not None else described[(found_kind, object_id)]
        for _since, found_kind, object_id, item in merged
        if item is not None or (found_kind, object_id) in described
    ]
    return QueuePage(items=items, total=total, counts=counts)


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
    return dict(
        db.session.execute(
            select(User.id, User.full_name)
            .where(User.role == Role.STAFF, User.active.is_(True), User.is_service_account.is_(False))
            .order_by(User.full_name, User.id)
        ).all()
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
