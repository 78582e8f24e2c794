"""The staff home page's work queue: counts by kind, filters by kind and by agent, the items oldest first, a link
to act on each; agents take items in hand, hand them back, and mark dealt with those no page of the portal ends."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from portal.common import page_cache
from portal.common.auth import staff_required
from portal.common.clock import utcnow
from portal.common.i18n import gettext as _
from portal.common.outcomes import attempt
from portal.common.pagination import Page
from portal.common.urls import safe_next, urls_for
from portal.workqueue import rules, services

PER_PAGE = 50
# Where the kept HTML of the queue takes the reader's CSRF token (no text of the database holds a NUL character).
CSRF_SLOT = "\x00csrf-token\x00"

bp = Blueprint("workqueue", __name__, url_prefix="/a-traiter")


def queue_context() -> dict:
    """What the staff dashboard shows of the queue, from the query arguments ``type``, ``agent``, ``ordre`` and
    ``page``."""
    now = utcnow()
    agents = services.agents()
    kind = request.args.get("type", "")
    if kind not in {k.value for k in rules.Kind}:
        kind = ""
    agent = request.args.get("agent", "")
    if agent not in {f.value for f in rules.AgentFilter} and not (agent.isdigit() and int(agent) in agents):
        agent = ""
    newest_first = request.args.get("ordre") == "recent"
    page_arg = request.args.get("page", "1")
    number = int(page_arg) if page_arg.isdigit() and len(page_arg) < 7 else 1
    queue = services.queue_page(
        kind=kind,
        agent=agent,
        me=current_user.id,
        newest_first=newest_first,
        number=number,
        per_page=PER_PAGE,
        now=now,
    )
    last = max(1, ceil(queue.total / PER_PAGE))
    page = Page(items=queue.items, page=min(max(1, number), last), per_page=PER_PAGE, total=queue.total)
    counts = queue.counts
    links = urls_for((item.endpoint, item.url_values) for item in queue.items)
    # Each row with its link, its age in days and who handles it: looked up here, not by the template, row by row.
    rows = [
        (item, link, rules.age_in_days(item.since, now), queue.holders.get((item.kind.value, item.object_id)))
        for item, link in zip(queue.items, links, strict=True)
    ]
    return {
        "queue_page": page,
        "queue_rows": rows,
        "queue_counts": counts,
        "queue_total": sum(counts.values()),
        "queue_kind": kind,
        "queue_agent": agent,
        "queue_agents": agents,
        "queue_newest_first": newest_first,
        "queue_resolvable": rules.RESOLVABLE_KINDS,
        "kind_labels": rules.KIND_LABELS,
        # One item's name by kind, translated once for the page's fifty rows.
        "kind_names": {k: rules.KIND_LABELS[k][0] for k in rules.Kind},
        "kinds": rules.Kind,
    }


@dataclass(frozen=True)
class QueueSection:
    html: Markup
    counts: dict[rules.Kind, int]  # items by kind in the whole queue (the home's cards show three of them)


def queue_section() -> QueueSection:
    """The queue's section of the staff home, rendered, and its counts: kept per agent and address for
    WORK_QUEUE_CACHE_SECONDS (page_cache.cached_for: others' changes show within that delay, the agent's own at
    once) — counting, sorting and describing thousands of items is most of the page's cost. The CSRF token of the
    forms is put in at each request, so that a kept section never carries another request's token."""

    def render() -> tuple[str, dict]:
        context = queue_context()
        return render_template("workqueue/_queue.html", **context, queue_csrf=CSRF_SLOT), context["queue_counts"]

    html, counts = page_cache.cached_for(
        "work-queue-section", str(current_user.id), render, seconds=current_app.config["WORK_QUEUE_CACHE_SECONDS"]
    )
    # Output of an autoescaped template; the token is URL-safe text.
    return QueueSection(Markup(html.replace(CSRF_SLOT, generate_csrf())), counts)  # noqa: S704


def _item_from_form() -> tuple[rules.Kind, int] | None:
    kind, object_id = request.form.get("kind", ""), request.form.get("object_id", "")
    if kind not in {k.value for k in rules.Kind} or not object_id.isdigit() or len(object_id) > 12:
        return None
    return rules.Kind(kind), int(object_id)


def _act(action, done_message) -> object:
    item = _item_from_form()
    back = safe_next(request.form.get("next"))
    if item is None:
        flash(_("Élément inconnu : la page était peut-être ancienne, rechargez-la."), "error")
        return redirect(back)
    outcome = attempt(lambda: action(*item, current_user))
    if outcome:
        flash(done_message(outcome.value), "success")
    return redirect(back)


@bp.route("/prendre", methods=["POST"])
@staff_required
def claim():
    def message(previous):
        if previous is not None:
            return _("Vous vous occupez de cet élément, à la place de %(name)s.", name=previous.full_name)
        return _("Vous vous occupez de cet élément.")

    return _act(services.claim, message)


@bp.route("/liberer", methods=["POST"])
@staff_required
def release():
    return _act(services.release, lambda _result: _("L'élément n'est plus attribué."))


@bp.route("/traite", methods=["POST"])
@staff_required
def resolve():
    return _act(services.resolve, lambda _result: _("L'élément est marqué comme traité et quitte la liste."))
