"""The staff home page's work queue: counts by kind, a filter, the items oldest first, a link to act on each."""

from __future__ import annotations

from math import ceil

from flask import request

from portal.common.clock import utcnow
from portal.common.pagination import Page
from portal.workqueue import rules, services

PER_PAGE = 50


def queue_context() -> dict:
    """What the staff dashboard shows of the queue, from the query arguments ``type``, ``ordre`` and ``page``."""
    now = utcnow()
    items = services.collect(now)
    counts = rules.counts_by_kind(items)
    kind = request.args.get("type", "")
    if kind in {k.value for k in rules.Kind}:
        items = [item for item in items if item.kind == kind]
    else:
        kind = ""
    newest_first = request.args.get("ordre") == "recent"
    items = rules.order_items(items, newest_first=newest_first)
    page_arg = request.args.get("page", "1")
    number = int(page_arg) if page_arg.isdigit() and len(page_arg) < 7 else 1
    number = min(max(1, number), max(1, ceil(len(items) / PER_PAGE)))
    page = Page(
        items=items[(number - 1) * PER_PAGE : number * PER_PAGE], page=number, per_page=PER_PAGE, total=len(items)
    )
    return {
        "queue_page": page,
        "queue_counts": counts,
        "queue_total": sum(counts.values()),
        "queue_kind": kind,
        "queue_newest_first": newest_first,
        "kind_labels": rules.KIND_LABELS,
        "kinds": rules.Kind,
        "now": now,
        "age_in_days": rules.age_in_days,
    }
