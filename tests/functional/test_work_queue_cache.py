"""The staff home's work queue is kept a few seconds per agent (WORK_QUEUE_CACHE_SECONDS, issue 16's speed target):
another person's change shows within that delay, the agent's own change at once, and a kept page carries the
reader's own CSRF token, never another request's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.access.models import AccessRequest
from portal.common import page_cache
from portal.config import ConfigurationError, build_config
from portal.extensions import db
from portal.notifications.models import OutboxEmail, OutboxState
from portal.workqueue import services
from portal.workqueue.rules import Kind
from tests import factories
from tests.conftest import csrf_from
from tests.functional.test_work_queue import _seed_one_of_each, _text


@pytest.fixture
def kept(app, monkeypatch):
    """The cache on, as in production (15 s), and a wall clock the test moves."""
    app.config["WORK_QUEUE_CACHE_SECONDS"] = 15
    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(page_cache, "wall_clock", lambda: clock["now"])
    return clock


def _new_access_request(name: str) -> None:
    db.session.add(
        AccessRequest(
            full_name=name,
            email=f"{name.split()[0].lower()}@mairie.fr",
            job_title="Secrétaire générale de mairie",
            collectivites_text="Pujols",
            state="pending",
        )
    )
    db.session.commit()


def test_the_queue_is_kept_and_someone_elses_change_shows_within_the_delay(client, auth, app, kept, count_queries):
    _seed_one_of_each()
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    kept["now"] += 1  # signing in is a change of his: pages made at that very instant are not served
    assert "À traiter : 9 éléments" in _text(client.get("/tableau-de-bord"))
    with count_queries() as statements:
        page = _text(client.get("/tableau-de-bord"))
    assert "À traiter : 9 éléments" in page
    # Neither the queue's sources nor the cards' counts are read again.
    assert not any("outbox_email" in s or "access_request" in s or "collectivite" in s for s in statements), statements

    _new_access_request("Odile Nouvelle")  # a secretary's request, made elsewhere
    kept["now"] += 14
    assert "Odile Nouvelle" not in _text(client.get("/tableau-de-bord"))
    kept["now"] += 1.5  # the delay has passed
    page = _text(client.get("/tableau-de-bord"))
    assert "Odile Nouvelle" in page and "À traiter : 10 éléments" in page
    assert "10 demandes d'accès à traiter" not in page and "2 demandes d'accès à traiter" in page  # the card too


def test_the_agents_own_action_shows_at_once_with_the_token_of_his_session(client, auth, app, kept):
    _seed_one_of_each()
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    kept["now"] += 1
    client.get("/tableau-de-bord")
    kept_page = client.get("/tableau-de-bord").get_data(as_text=True)  # served from the cache
    assert "\x00" not in kept_page
    subscription = next(i for i in services.collect() if i.kind == Kind.SUBSCRIPTION_REQUEST)
    kept["now"] += 1
    # The forms of the kept page carry a token this session accepts.
    taken = client.post(
        "/a-traiter/prendre",
        data={"kind": "demande-adhesion", "object_id": subscription.object_id, "csrf_token": csrf_from(kept_page)},
    )
    assert taken.status_code == 302
    kept["now"] += 1  # well within the 15 s: only the agent's own change makes the page be computed again
    page = _text(client.get("/tableau-de-bord"))
    assert "Vous vous occupez de cet élément." in page
    assert "Libérer : Demande d'adhésion" in page


def test_each_agent_has_his_own_kept_queue(app, kept):
    _seed_one_of_each()
    me = factories.user("staff", email="agent@cdg47.fr")
    factories.user("staff", email="collegue@cdg47.fr")
    db.session.commit()
    access = next(i for i in services.collect() if i.kind == Kind.ACCESS_REQUEST)
    services.claim(Kind.ACCESS_REQUEST, access.object_id, me)
    db.session.commit()
    pages = {}
    for email in ("agent@cdg47.fr", "collegue@cdg47.fr"):
        agent_client = app.test_client()
        login_page = agent_client.get("/connexion").get_data(as_text=True)
        agent_client.post(
            "/connexion",
            data={"email": email, "password": factories.TEST_PASSWORD, "csrf_token": csrf_from(login_page)},
        )
        kept["now"] += 1
        agent_client.get("/tableau-de-bord")
        pages[email] = _text(agent_client.get("/tableau-de-bord"))
    assert "Libérer : Demande d'accès de Sophie Martin 0" in pages["agent@cdg47.fr"]
    assert "Reprendre : Demande d'accès de Sophie Martin 0" in pages["collegue@cdg47.fr"]


def test_a_failed_email_recorded_by_a_worker_shows_once_the_delay_has_passed(client, auth, app, kept):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    kept["now"] += 1
    assert "Rien n'attend un agent du CDG pour l'instant." in _text(client.get("/tableau-de-bord"))
    db.session.add(
        OutboxEmail(
            message_id="<kept@test>",
            category="account",
            to_address="perdu@mairie.fr",
            template="invitation",
            context={},
            state=OutboxState.FAILED,
        )
    )
    db.session.commit()
    assert db.session.scalar(select(OutboxEmail.id)) is not None
    assert "Courriel non remis" not in _text(client.get("/tableau-de-bord"))
    kept["now"] += 15
    assert "Courriel non remis à perdu@mairie.fr" in _text(client.get("/tableau-de-bord"))


def test_the_delay_is_configured_in_seconds_and_zero_keeps_nothing():
    assert build_config("/tmp", {"PORTAL_ENV": "demo"})["WORK_QUEUE_CACHE_SECONDS"] == 15
    assert build_config("/tmp", {"PORTAL_ENV": "testing"})["WORK_QUEUE_CACHE_SECONDS"] == 0
    off = build_config("/tmp", {"PORTAL_ENV": "demo", "WORK_QUEUE_CACHE_SECONDS": "0"})
    assert off["WORK_QUEUE_CACHE_SECONDS"] == 0
    with pytest.raises(ConfigurationError, match="WORK_QUEUE_CACHE_SECONDS"):
        build_config("/tmp", {"PORTAL_ENV": "demo", "WORK_QUEUE_CACHE_SECONDS": "-5"})
