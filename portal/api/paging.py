"""Pages of the API lists: the portal's pagination helpers, the envelope's numbers and the link to the next page."""

from __future__ import annotations

from math import ceil

from flask import request, url_for

from portal.api.schemas import PageQuery
from portal.common.pagination import Page, paginate, paginate_ids_first


def ids_first(statement, entity, query: PageQuery, *options, count_key: tuple | None = None) -> Page:
    """A page of ``statement`` (ordered with the id last, so stable). Past the last page: no items (the web
    pages show the last page instead; an API client walking ``next`` must not see it twice)."""
    page = paginate_ids_first(statement, entity, query.page, query.per_page, *options, count_key=count_key)
    if page.page != query.page:
        return Page(items=[], page=query.page, per_page=query.per_page, total=page.total)
    return page


def past_the_end(page: Page, query: PageQuery) -> Page:
    """``page`` as the API shows it: no items when the query asked for a page past the last one."""
    if page.page != query.page:
        return Page(items=[], page=query.page, per_page=query.per_page, total=page.total)
    return page


def rows(statement, query: PageQuery) -> Page:
    """A page of ``statement`` with its eager loads (one COUNT and one SELECT); empty past the last page."""
    page = paginate(statement, query.page, query.per_page)
    if page.page != query.page:
        return Page(items=[], page=query.page, per_page=query.per_page, total=page.total)
    return page


def of_list(items: list, query: PageQuery) -> Page:
    """A page of a list already in memory (conventions: tens to hundreds per CDG)."""
    start = (query.page - 1) * query.per_page
    return Page(items=items[start : start + query.per_page], page=query.page, per_page=query.per_page, total=len(items))


def envelope(page: Page) -> dict:
    """``page``, ``per_page``, ``total`` and ``next``: the link to the next page, with the same filters."""
    last = max(1, ceil(page.total / page.per_page))
    following = None
    if page.page < last:
        args = {**request.args.to_dict(), "page": page.page + 1, "per_page": page.per_page}
        following = url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)
    return {"page": page.page, "per_page": page.per_page, "total": page.total, "next": following}
