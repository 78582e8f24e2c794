"""Pagination of a select: one COUNT and one page query, whatever the page size."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from sqlalchemy import Select, func, select

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


def paginate_ids_first(statement: Select, entity, page: int, per_page: int, *options) -> Page:
    """Paginate on the primary keys first (an index-only scan, even deep in the list), then load the page's rows
    with their ``options`` (eager loads): three queries whatever the page and its size."""
    ids_statement = statement.with_only_columns(entity.id)
    total = db.session.scalar(select(func.count()).select_from(ids_statement.order_by(None).subquery())) or 0
    last_page = max(1, ceil(total / per_page))
    page = min(max(1, page), last_page)
    ids = list(db.session.scalars(ids_statement.limit(per_page).offset((page - 1) * per_page)))
    rows = {}
    if ids:
        rows = {row.id: row for row in db.session.scalars(select(entity).options(*options).where(entity.id.in_(ids)))}
    return Page(items=[rows[i] for i in ids if i in rows], page=page, per_page=per_page, total=total)
