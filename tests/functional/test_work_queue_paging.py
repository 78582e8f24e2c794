"""The work queue is counted, sorted and paged by the database over the union of every source (issue 17): each page,
whatever its number, holds the items the whole queue sorted in Python would put there, for every filter, and costs
a fixed number of statements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.common import versions
from portal.common.clock import paris_today, utcnow
from portal.extensions import db
from portal.subscriptions.models import Subscription
from portal.workqueue import rules, services
from portal.workqueue.rules import Kind
from tests import factories
from tests.functional.test_work_queue import _seed_one_of_each, _text

PER_PAGE = 7


@pytest.fixture
def mixed_queue(app):
    """Items of every kind whose ages interleave across sources, with ties: an access request and a failed email
    waiting since the same instant, two deadlines of one convention on the same day (same kind, id and since),
    two more of another convention on different days; some items taken in hand by two agents."""
    me = factories.user("staff", email="agent@cdg47.fr")
    colleague = factories.user("staff", email="collegue@cdg47.fr")
    _seed_one_of_each()
    now = utcnow()
    service_id = db.session.scalars(select(Subscription.service_id)).first()
    for n in range(12):
        at = now - timedelta(days=40 - 3 * n, hours=n)
        factories.OutboxEmailFactory(failed=True, created_at=at)
        if n % 2:
            factories.AccessRequestFactory(created_at=at)  # the same instant as an email
        if n % 3 == 0:
            body = factories.collectivite(f"Sérignac {n}")
            db.session.add(Subscription(collectivite_id=body.id, service_id=service_id, requested_at=at))
    today = paris_today()
    factories.ConventionFactory(end_date=today + timedelta(days=20), tacit_renewal=True, notice_months=0)
    factories.ConventionFactory(end_date=today + timedelta(days=75), tacit_renewal=True, notice_months=2)
    db.session.commit()
    items = services.collect()
    for n, item in enumerate(sorted(items, key=lambda i: (i.kind.value, i.object_id))):
        if item.kind not in (Kind.CONVENTION_DEADLINE, Kind.SESSION_BELOW_MINIMUM) and n % 3:
            services.claim(item.kind, item.object_id, me if n % 3 == 1 else colleague)
    db.session.commit()
    return {"me": me, "colleague": colleague}


def _expected(kind: str, agent: str, me: int, newest_first: bool) -> list[rules.WorkItem]:
    """The reference: every item collected, filtered and sorted in Python by the queue's pure rules."""
    items = [i for i in services.collect() if not kind or i.kind == kind]
    items = rules.filter_by_agent(items, services.claims(), agent, me)
    return rules.order_items(items, newest_first=newest_first)


def _all_pages(**filters) -> tuple[list[rules.WorkItem], set[int], list[dict]]:
    first = services.queue_page(number=1, per_page=PER_PAGE, **filters)
    pages = [first] + [
        services.queue_page(number=n, per_page=PER_PAGE, **filters) for n in range(2, -(-first.total // PER_PAGE) + 1)
    ]
    return [i for p in pages for i in p.items], {p.total for p in pages}, [p.counts for p in pages]


def test_every_page_holds_what_the_whole_queue_sorted_in_python_puts_there(mixed_queue):
    me = mixed_queue["me"].id
    every = services.collect()
    assert {i.kind for i in every} == set(Kind)
    assert [i for i in every if i.kind == Kind.CONVENTION_DEADLINE and i.title.startswith("Préavis")]
    agents = ["", "moi", "personne", str(mixed_queue["colleague"].id)]
    checked = 0
    for kind in ["", *Kind]:
        for agent in agents:
            for newest_first in (False, True):
                expected = _expected(kind, agent, me, newest_first)
                items, totals, counts = _all_pages(kind=kind, agent=agent, me=me, newest_first=newest_first)
                assert items == expected, (kind, agent, newest_first)
                # Same titles too (two deadlines of one convention differ only by theirs).
                assert [i.title for i in items] == [i.title for i in expected]
                assert totals == {len(expected)}
                # The counts by kind are those of the whole queue, whatever the filters.
                assert all(c == rules.counts_by_kind(every) for c in counts)
                checked += len(expected)
    assert checked > 200


def test_each_page_shows_who_handles_its_items(mixed_queue):
    me = mixed_queue["me"].id
    claims = services.claims()
    for number in (1, 3, 5):
        page = services.queue_page(me=me, number=number, per_page=PER_PAGE)
        keys = [(i.kind.value, i.object_id) for i in page.items]
        assert page.holders == {key: claims[key] for key in keys if key in claims}
    assert any(services.queue_page(me=me, number=n, per_page=PER_PAGE).holders for n in (1, 2, 3))


def test_a_page_costs_four_statements_and_one_per_kind_of_area_on_it(mixed_queue, count_queries):
    """The conventions and the sessions below their minimum (computed in Python), the counts, the page's keys, then
    the rows of each SQL kind on the page; a deep page, filtered or not, costs the same as the first. A page that
    gains a statement fails here."""
    me = mixed_queue["me"].id
    for filters in ({}, {"agent": "personne"}, {"kind": "courriel-echec"}, {"newest_first": True}):
        for number in (1, 4, 99):
            with count_queries() as statements:
                page = services.queue_page(me=me, number=number, per_page=PER_PAGE, **filters)
            sql_kinds = {i.kind for i in page.items} - {Kind.CONVENTION_DEADLINE, Kind.SESSION_BELOW_MINIMUM}
            assert len(statements) == 4 + len(sql_kinds), (filters, number, statements)
            # The database cuts the page: the page's keys are read with LIMIT and OFFSET, not the items before it.
            assert sum("LIMIT" in s and "OFFSET" in s for s in statements) == 1


def test_the_staff_home_costs_the_same_statements_on_its_first_and_last_page(
    client, auth, app, count_queries, monkeypatch
):
    # The registry's version token read less than a second ago, whatever the speed of the machine.
    monkeypatch.setattr(versions, "TOKEN_TTL_SECONDS", 3600.0)
    factories.collectivite("Sérignac-sur-Garonne")  # the registry has a version: its counts by status are kept
    factories.user("staff", email="agent@cdg47.fr")
    now = utcnow()
    db.session.add_all(
        factories.OutboxEmailFactory.build(failed=True, created_at=now - timedelta(days=60, minutes=n))
        for n in range(130)
    )
    db.session.commit()
    auth.login("agent@cdg47.fr")
    client.get("/tableau-de-bord")
    counted = {}
    for url in ("/tableau-de-bord", "/tableau-de-bord?page=3"):
        with count_queries() as statements:
            page = _text(client.get(url))
        assert "À traiter : 130 éléments" in page and "Courriel non remis à" in page
        assert "130 courriels en échec." in page and "1 collectivités et établissements publics." in page
        counted[url] = len(statements)
    # The user, the agents, the two computed sources, the counts, the page's keys and the failed emails of the page.
    # The cards' figures are the queue's counts and the registry's counts by status, kept under its version token.
    assert counted == {"/tableau-de-bord": 7, "/tableau-de-bord?page=3": 7}
