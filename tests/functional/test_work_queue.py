"""The staff home page lists every item that waits for an agent, from every area, oldest first, with counts by
kind, a filter and a link to act; it costs the same number of queries for 3 items or 60."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.access.models import AccessRequest
from portal.catalogue.models import Service
from portal.common.clock import paris_today, utcnow
from portal.conventions.models import Convention
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from portal.notifications.models import OutboxEmail, OutboxState
from portal.subscriptions.models import Subscription
from portal.training import registrations
from portal.training.models import Registration, TrainingSession
from portal.workqueue import rules, services
from portal.workqueue.rules import Kind
from tests import factories

Y = factories.THIS_YEAR


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))))


def _seed_one_of_each(n: int = 0) -> dict:
    """One item of every kind (``n`` tells copies apart)."""
    now = utcnow()
    body = factories.collectivite(f"Pujols {n}")
    service = load_catalogue(Y)[0] if n == 0 else db.session.scalars(select(Service)).first()
    db.session.add(Subscription(collectivite_id=body.id, service_id=service.id, requested_at=now - timedelta(days=3)))
    factories.declare(body, Y - 1, 349, notify=False)
    factories.declare(body, Y, 350, notify=False)  # opens an affiliation decision
    db.session.add(
        AccessRequest(
            full_name=f"Sophie Martin {n}",
            email=f"sophie{n}@mairie.fr",
            job_title="Secrétaire de mairie",
            collectivites_text="Pujols",
            state="pending",
        )
    )
    db.session.add(
        OutboxEmail(
            message_id=f"<queue-{n}@test>",
            category="account",
            to_address=f"perdu{n}@mairie.fr",
            template="invitation",
            context={},
            state=OutboxState.FAILED,
        )
    )
    elu = factories.elu(body, email=f"elu{n}@mairie.fr")
    offered = factories.training_session()
    registration = registrations.register(offered, elu.mandate, elu)
    registration.status = "offered"
    registration.offered_at = now - timedelta(hours=20)
    registration.offer_expires_at = now + timedelta(hours=4)
    past = factories.training_session()
    db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == past.id)
        .values(starts_at=now - timedelta(days=2, hours=8), ends_at=now - timedelta(days=2))
    )
    today = paris_today()
    db.session.add(
        Convention(
            title=f"Convention de partenariat {n}",
            kind="partenariat",
            signed_on=today - timedelta(days=700),
            start_date=today - timedelta(days=700),
            end_date=today + timedelta(days=20),
        )
    )
    db.session.flush()
    return {"body": body, "registration": registration, "session": offered}


def test_every_kind_of_item_is_collected_with_a_link_oldest_first(app):
    _seed_one_of_each()
    db.session.commit()
    items = services.collect()
    counts = rules.counts_by_kind(items)
    assert counts == dict.fromkeys(Kind, 1)
    ordered = rules.order_items(items)
    assert [i.since for i in ordered] == sorted(i.since for i in items)
    offer = next(i for i in items if i.kind == Kind.EXPIRING_OFFER)
    assert offer.due is not None and "Place proposée à" in offer.title


def test_items_leave_the_queue_when_their_area_changes(app):
    seeded = _seed_one_of_each()
    db.session.commit()
    registration: Registration = seeded["registration"]
    registration.offer_expires_at = utcnow() + timedelta(hours=30)  # not within 24 h any more
    db.session.execute(update(AccessRequest).values(state="refused"))
    db.session.commit()
    counts = rules.counts_by_kind(services.collect())
    assert counts[Kind.EXPIRING_OFFER] == 0 and counts[Kind.ACCESS_REQUEST] == 0
    assert counts[Kind.AFFILIATION_DECISION] == 1


def test_the_staff_home_page_shows_counts_filters_and_links(client, auth, app):
    _seed_one_of_each()
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    page = _text(client.get("/tableau-de-bord"))
    assert "À traiter : 7 éléments" in page
    assert "Demandes d'adhésion à valider (1)" in page and "Émargements à saisir (1)" in page
    assert "Demande d'accès de Sophie Martin 0" in page and "Courriel non remis à perdu0@mairie.fr" in page
    assert "3 jours" in page  # the subscription request waits since three days
    raw = client.get("/tableau-de-bord?type=demande-acces").get_data(as_text=True)
    assert "Demande d&#39;accès de Sophie Martin 0" in raw or "Demande d'accès de Sophie Martin 0" in raw
    assert "Courriel non remis" not in raw
    assert re.search(r'href="/demandes-d-acces/\d+"', raw)
    # An unknown kind is ignored, not an error.
    assert client.get("/tableau-de-bord?type=inconnu&page=abc").status_code == 200


def test_the_queue_costs_the_same_number_of_queries_for_more_items(client, auth, app, count_queries):
    _seed_one_of_each()
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    with count_queries() as few:
        client.get("/tableau-de-bord")
    for n in range(1, 6):
        _seed_one_of_each(n)
    db.session.commit()
    with count_queries() as many:
        page = _text(client.get("/tableau-de-bord"))
    assert "À traiter : 42 éléments" in page
    assert len(many) == len(few), (len(few), len(many))


@pytest.mark.parametrize("role", ["secretary", "elu"])
def test_other_roles_never_see_the_queue(client, auth, app, role):
    seeded = _seed_one_of_each()
    if role == "secretary":
        user = factories.user("secretary", email="sec@mairie.fr", collectivites=[seeded["body"]])
    else:
        user = factories.elu(seeded["body"], email="autre-elu@mairie.fr")
    db.session.commit()
    auth.login(user.email)
    response = client.get("/tableau-de-bord", follow_redirects=True)
    assert "À traiter :" not in _text(response)


def test_age_counts_whole_days():
    now = utcnow()
    assert rules.age_in_days(now - timedelta(hours=23), now) == 0
    assert rules.age_in_days(now - timedelta(days=2, hours=1), now) == 2
    assert rules.age_in_days(now + timedelta(hours=1), now) == 0


def test_counts_list_every_kind_in_order_zero_included():
    assert list(rules.counts_by_kind([])) == list(Kind)
    assert set(rules.counts_by_kind([]).values()) == {0}


def test_a_secretary_sees_what_waits_for_her_and_only_for_her_bodies(client, auth, app):
    from portal.subscriptions.rules import State as SubscriptionState

    now = utcnow()
    mine, other = factories.collectivite("Sauvagnas"), factories.collectivite("Pujols")
    service = load_catalogue(Y)[0]
    for body in (mine, other):
        db.session.add(
            Subscription(
                collectivite_id=body.id, service_id=service.id, state=SubscriptionState.INFO_NEEDED, details={}
            )
        )
    elu = factories.elu(mine, "Anne Roux", email="anne@sauvagnas.fr")
    soon = factories.training_session(starts_at=now + timedelta(days=10))
    registrations.register(soon, elu.mandate, elu, now=now)
    later = factories.training_session()
    offered = registrations.register(later, elu.mandate, elu, now=now)
    offered.status, offered.offered_at, offered.offer_expires_at = "offered", now, now + timedelta(hours=40)
    other_elu = factories.elu(other, "Marc Pujols", email="marc@pujols.fr")
    registrations.register(soon, other_elu.mandate, other_elu, now=now)
    factories.user("secretary", email="sec@sauvagnas.fr", collectivites=[mine])
    db.session.commit()
    auth.login("sec@sauvagnas.fr")
    page = _text(client.get("/tableau-de-bord"))
    assert "À faire : 3 éléments" in page
    assert f"Compléter la demande : {service.name}" in page
    assert "Place proposée à confirmer — Sauvagnas" in page and "à confirmer avant le" in page
    assert "Formation à venir d'un élu — Sauvagnas Anne Roux" in page
    assert "Pujols" not in page.split("À faire")[1].split("Vous gérez")[0]


def test_the_daily_digest_reaches_each_agent_once_a_day_with_the_new_items(app, smtp_sink):
    from portal.notifications.models import NotificationPreference
    from portal.workqueue import digest

    _seed_one_of_each()
    factories.user("staff", email="agent@cdg47.fr")
    quiet = factories.user("staff", email="quiet@cdg47.fr")
    db.session.add(NotificationPreference(user_id=quiet.id, category="digest", email_enabled=False))
    db.session.commit()
    assert digest.send_digests() == 1
    db.session.commit()
    assert digest.send_digests() == 0  # a second run the same day sends nothing
    db.session.commit()
    [message] = [m for m in smtp_sink.messages if "à traiter" in m["Subject"]]
    assert message["To"].addresses[0].addr_spec == "agent@cdg47.fr"
    text = message.get_body(("plain",)).get_content()
    assert "Demande d'accès de Sophie Martin 0" in text and "/demandes-d-acces/" in text
    assert "Courriel non remis à perdu0@mairie.fr" in text
    # New since yesterday: the decision, the access request, the failed email, the offer; not the request of
    # three days ago, the attendance of two days ago nor the convention's deadline, all older.
    assert message["Subject"].startswith("4 nouveaux éléments à traiter")
    assert "Demande d'adhésion" not in text


def test_no_digest_when_nothing_new_entered_the_queue(app, smtp_sink):
    from portal.workqueue import digest

    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    assert digest.send_digests() == 0
    assert not [m for m in smtp_sink.messages if "à traiter" in m["Subject"]]
