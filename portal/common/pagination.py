"""Pagination of a select: one COUNT and one page query, whatever the page size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil

from sqlalchemy import Integer, Select, bindparam, func, select

from portal.common import versions
from portal.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def paginate(statement: Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    page = max(1, page)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    last_page = max(1, ceil(total / per_page))
    page = min(page, last_page)
    result = db.session.execute(statement.limit(per_page).offset((page - 1) * per_page))
    items = list(result.scalars().unique()) if scalars else list(result)
    return Page(items=items, page=page, per_page=per_page, total=total)


def ids_page(statement: Select, entity, page: int, per_page: int, *, count_key: tuple | None = None) -> Page:
    """A page of the primary keys of ``statement`` (an index-only scan, even deep in the list) and its total.

    With ``count_key`` (what identifies the filtered set: the caller's visibility and the filters), the total is
    taken from the registry's count cache while the registry's version token is unchanged (no COUNT over the
    whole country)."""
    ids_statement = statement.with_only_columns(entity.id)
    count_statement = select(func.count()).select_from(ids_statement.order_by(None).subquery())
    total, page = _total_and_page(count_statement, page, per_page, count_key)
    ids = list(db.session.scalars(ids_statement.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=ids, page=page, per_page=per_page, total=total)


# The bound parameters of a page's LIMIT and OFFSET in a :class:`RowsQuery`.
PAGE_LIMIT, PAGE_OFFSET = "page_limit", "page_offset"


@dataclass(frozen=True)
class RowsQuery:
    """The statements of a list of plain rows, reusable from one request to the next: the COUNT of the filtered
    set, and the page's rows whose LIMIT and OFFSET are bound parameters. A list built once per set of filters
    skips building its select and SQLAlchemy's cache key on each request (a statement is immutable and keeps its
    cache key)."""

    count: Select
    rows: Select


def rows_query(statement: Select, entity, rows: Callable) -> RowsQuery:
    """:class:`RowsQuery` of ``statement`` (filtered and ordered): ``rows(ids)`` is the select of the columns shown,
    joined to ``ids`` (the subquery of the page's primary keys, an index-only scan even deep in the list) and in
    ``statement``'s order."""
    ids_statement = statement.with_only_columns(entity.id)
    page_ids = (
        ids_statement.limit(bindparam(PAGE_LIMIT, type_=Integer))
        .offset(bindparam(PAGE_OFFSET, type_=Integer))
        .subquery()
    )
    return RowsQuery(
        count=select(func.count()).select_from(ids_statement.order_by(None).subquery()), rows=rows(page_ids)
    )


def paginate_rows(query: RowsQuery, page: int, per_page: int, *, count_key: tuple | None = None) -> Page:
    """A page of plain rows (no ORM objects) in one statement, plus the COUNT unless ``count_key`` finds it in the
    count cache (:func:`ids_page`)."""
    total, page = _total_and_page(query.count, page, per_page, count_key)
    items = []
    if total:
        items = list(db.session.execute(query.rows, {PAGE_LIMIT: per_page, PAGE_OFFSET: (page - 1) * per_page}))
    return Page(items=items, page=page, per_page=per_page, total=total)


def _total_and_page(count_statement: Select, page: int, per_page: int, count_key: tuple | None) -> tuple[int, int]:
    """The total (``count_statement``'s, or the count cache's when ``count_key`` is given) and ``page`` brought
    within the pages."""
    total = None
    if count_key is not None:
        token = versions.current(versions.REGISTRY)
        total = versions.counts.get(count_key, token)
    if total is None:
        total = db.session.scalar(count_statement) or 0
        if count_key is not None:
            versions.counts.put(count_key, token, total)
    last_page = max(1, ceil(total / per_page))
    return total, min(max(1, page), last_page)


def paginate_ids_first(
    statement: Select, entity, page: int, per_page: int, *options, count_key: tuple | None = None
) -> Page:
    """Paginate on the primary keys first (:func:`ids_page`), then load the page's rows with their ``options``
    (eager loads): three queries whatever the page and its size (two when the count is cached)."""
    found = ids_page(statement, entity, page, per_page, count_key=count_key)
    rows = {}
    if found.items:
        rows = {
            row.id: row
            for row in db.session.scalars(select(entity).options(*options).where(entity.id.in_(found.items)))
        }
    return Page(
        items=[rows[i] for i in found.items if i in rows], page=found.page, per_page=per_page, total=found.total
    )
