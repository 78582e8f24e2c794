"""The staff home page lists every item that waits for an agent, from every area, oldest first, with counts by
kind, a filter and a link to act; it costs the same number of queries for 3 items or 60."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.access.models import AccessRequest
from portal.accounts.import_models import AccountImport, AccountImportResult, ImportStatus
from portal.accounts.import_rules import Outcome
from portal.catalogue.models import Service
from portal.common import versions
from portal.common.clock import paris_today, utcnow
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
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
    factories.AccessRequestFactory(full_name=f"Sophie Martin {n}", collectivites_text="Pujols")
    factories.OutboxEmailFactory(failed=True, to_address=f"perdu{n}@mairie.fr")
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
    factories.ConventionFactory(end_date=paris_today() + timedelta(days=20))  # its notice is due
    soon = factories.training_session(starts_at=now + timedelta(days=3), capacity=10)
    soon.minimum_participants = 5
    registrations.register(soon, elu.mandate, elu)  # one participant for five at least
    job = AccountImport(
        filename=f"secretaires-{n}.csv",
        upload_token=f"jeton-{n}",
        status=ImportStatus.DONE,
        finished_at=now - timedelta(days=1),
    )
    db.session.add(job)
    db.session.flush()
    db.session.add_all(
        AccountImportResult(import_id=job.id, line=line, outcome=Outcome.ERROR, email=f"x{line}@", full_name="X")
        for line in (2, 5)
    )
    db.session.add(
        AccountImportResult(import_id=job.id, line=3, outcome=Outcome.CREATED, email="ok@mairie.fr", full_name="Ok")
    )
    db.session.flush()
    return {"body": body, "registration": registration, "session": offered, "import": job}


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
    assert "À traiter : 9 éléments" in page
    assert "Demandes d'adhésion à valider (1)" in page and "Émargements à saisir (1)" in page
    assert "Demande d'accès de Sophie Martin 0" in page and "Courriel non remis à perdu0@mairie.fr" in page
    assert "3 jours" in page  # the subscription request waits since three days
    raw = client.get("/tableau-de-bord?type=demande-acces").get_data(as_text=True)
    assert "Demande d&#39;accès de Sophie Martin 0" in raw or "Demande d'accès de Sophie Martin 0" in raw
    assert "Courriel non remis" not in raw
    assert re.search(r'href="/demandes-d-acces/\d+"', raw)
    # An unknown kind is ignored, not an error.
    assert client.get("/tableau-de-bord?type=inconnu&page=abc").status_code == 200


def test_the_home_cards_show_the_queue_counts_and_a_change_of_status_at_once(client, auth, app, monkeypatch):
    # The registry's token is not read again within the test: only the change itself may renew the card's count.
    monkeypatch.setattr(versions, "TOKEN_TTL_SECONDS", 3600.0)
    body = _seed_one_of_each()["body"]
    factories.collectivite("Layrac").affiliation_status = "obligatoire"
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    page = _text(client.get("/tableau-de-bord"))
    for card in ("1 décision d'affiliation en attente.", "1 demande d'accès à traiter.", "1 courriel en échec."):
        assert card in page
    raw = client.get("/tableau-de-bord").get_data(as_text=True)
    assert 'status=obligatoire">2</a>' in raw and 'status=volontaire">0</a>' in raw  # Pujols (350 agents), Layrac
    body.affiliation_status = "volontaire"
    db.session.commit()
    raw = client.get("/tableau-de-bord").get_data(as_text=True)
    assert 'status=obligatoire">1</a>' in raw and 'status=volontaire">1</a>' in raw


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
    assert "À traiter : 54 éléments" in page
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
    assert "- Décision d'affiliation : 1\r\n" in text and "- Courriel en échec : 1\r\n" in text


def test_the_digest_summary_agrees_with_each_count():
    from portal.workqueue import digest

    counts = {kind: 0 for kind in Kind} | {Kind.FAILED_EMAIL: 1, Kind.ACCESS_REQUEST: 2}
    assert digest.summary_lines(counts) == ["Demandes d'accès : 2", "Courriel en échec : 1"]
    assert digest.summary_lines({kind: 0 for kind in Kind}) == []


@pytest.mark.parametrize(
    ("count", "subject", "opening"),
    [
        (0, "0 nouvel élément à traiter", "Depuis hier, 0 élément est entré dans la liste à traiter du CDG :"),
        (1, "1 nouvel élément à traiter", "Depuis hier, 1 élément est entré dans la liste à traiter du CDG :"),
        (2, "2 nouveaux éléments à traiter", "Depuis hier, 2 éléments sont entrés dans la liste à traiter du CDG :"),
    ],
)
def test_the_digest_email_agrees_with_its_count(app, count, subject, opening):
    """Each text of the digest's three templates is French for 0, 1 and 2 items (0: singular, as French says)."""
    from flask import render_template

    items = [
        {"kind": "Courriel en échec", "title": f"Courriel non remis {n}", "body": "Pujols", "url": "/envois/1"}
        for n in range(count)
    ]
    context = {
        "full_name": "Claire Agent",
        "day": "2026-12-07",
        "items": items,
        "summary": [f"Courriel en échec : {count}"] if count else [],
        "queue_url": "http://localhost/tableau-de-bord",
    }
    with app.app_context():
        rendered = {part: render_template(f"emails/staff_digest{part}", **context) for part in (".subject.txt", ".txt")}
        html_body = render_template("emails/staff_digest.html", **context)
    assert rendered[".subject.txt"].strip().startswith(f"{subject} — ")
    assert rendered[".txt"].startswith("Bonjour Claire Agent,\n\n" + opening + "\n")
    assert f"<p>{html.escape(opening, quote=True)}</p>" in html_body and f"<title>{subject}" in html_body
    assert all(
        f"Courriel non remis {n}" in rendered[".txt"] and f"Courriel non remis {n}" in html_body for n in range(count)
    )


def test_no_digest_when_nothing_new_entered_the_queue(app, smtp_sink):
    from portal.workqueue import digest

    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    assert digest.send_digests() == 0
    assert not [m for m in smtp_sink.messages if "à traiter" in m["Subject"]]


def test_an_import_with_refused_lines_waits_until_an_agent_marks_it_dealt_with(client, auth, app):
    seeded = _seed_one_of_each()
    clean = AccountImport(filename="propre.csv", upload_token="propre", status=ImportStatus.DONE, finished_at=utcnow())
    db.session.add(clean)
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    [item] = [i for i in services.collect() if i.kind == Kind.IMPORT_REJECTED]  # not the import with no refusal
    assert item.title == "2 lignes refusées : secretaires-0.csv" and item.object_id == seeded["import"].id
    auth.login("agent@cdg47.fr")
    page = client.get("/tableau-de-bord")
    assert f'href="/comptes/import/{seeded["import"].id}"' in page.get_data(as_text=True)
    # Only the kinds no page ends can be marked dealt with.
    other = next(i for i in services.collect() if i.kind == Kind.ACCESS_REQUEST)
    refused = auth.post(
        "/a-traiter/traite", {"kind": other.kind.value, "object_id": other.object_id}, page_url="/tableau-de-bord"
    )
    assert refused.status_code == 302
    assert "quitte la liste de lui-même" in _text(client.get("/tableau-de-bord"))
    done = auth.post(
        "/a-traiter/traite",
        {"kind": "import-rejets", "object_id": item.object_id, "next": "/tableau-de-bord?type=import-rejets"},
        page_url="/tableau-de-bord",
    )
    assert done.headers["Location"].endswith("/tableau-de-bord?type=import-rejets")
    assert not [i for i in services.collect() if i.kind == Kind.IMPORT_REJECTED]
    assert "marqué comme traité" in _text(client.get("/tableau-de-bord"))


def test_agents_take_items_in_hand_and_filter_the_queue_by_agent(client, auth, app):
    _seed_one_of_each()
    me = factories.user("staff", email="agent@cdg47.fr")
    colleague = factories.user("staff", email="collegue@cdg47.fr")
    colleague.full_name = "Claire Collègue"
    db.session.commit()
    items = {i.kind: i for i in services.collect()}
    services.claim(Kind.ACCESS_REQUEST, items[Kind.ACCESS_REQUEST].object_id, colleague)
    db.session.commit()

    auth.login("agent@cdg47.fr")
    taken = auth.post(
        "/a-traiter/prendre",
        {"kind": "demande-adhesion", "object_id": items[Kind.SUBSCRIPTION_REQUEST].object_id},
        page_url="/tableau-de-bord",
    )
    assert taken.status_code == 302 and taken.headers["Location"].endswith("/tableau-de-bord")
    assert "Vous vous occupez de cet élément." in _text(client.get("/tableau-de-bord"))

    mine = _text(client.get("/tableau-de-bord?agent=moi"))
    assert "Demande d'adhésion :" in mine and "Demande d'accès de" not in mine
    theirs = _text(client.get(f"/tableau-de-bord?agent={colleague.id}"))
    assert "Demande d'accès de Sophie Martin 0" in theirs and "Demande d'adhésion :" not in theirs
    assert "Claire Collègue" in theirs
    nobody = _text(client.get("/tableau-de-bord?agent=personne"))
    assert (
        "Courriel non remis" in nobody and "Demande d'accès de" not in nobody and "Demande d'adhésion :" not in nobody
    )
    assert "À traiter : 9 éléments" in nobody  # the counts stay those of the whole queue
    assert client.get("/tableau-de-bord?agent=99999").status_code == 200  # an unknown agent: no filter

    # Taking over from a colleague says so; handing back frees the item.
    over = auth.post(
        "/a-traiter/prendre",
        {"kind": "demande-acces", "object_id": items[Kind.ACCESS_REQUEST].object_id},
        page_url="/tableau-de-bord",
    )
    assert over.status_code == 302
    assert "à la place de Claire Collègue" in _text(client.get("/tableau-de-bord"))
    auth.post(
        "/a-traiter/liberer",
        {"kind": "demande-acces", "object_id": items[Kind.ACCESS_REQUEST].object_id},
        page_url="/tableau-de-bord",
    )
    assert services.claims() == {("demande-adhesion", items[Kind.SUBSCRIPTION_REQUEST].object_id): me.id}

    # An item that left the queue cannot be taken; a forged kind is refused in French.
    db.session.execute(update(AccessRequest).values(state="refused"))
    db.session.commit()
    gone = auth.post(
        "/a-traiter/prendre",
        {"kind": "demande-acces", "object_id": items[Kind.ACCESS_REQUEST].object_id},
        page_url="/tableau-de-bord",
    )
    assert gone.status_code == 302
    assert "n'est plus dans la liste à traiter" in _text(client.get("/tableau-de-bord"))
    auth.post("/a-traiter/prendre", {"kind": "inconnu", "object_id": "1"}, page_url="/tableau-de-bord")
    assert "Élément inconnu" in _text(client.get("/tableau-de-bord"))


def test_the_agent_filter_is_a_pure_rule():
    from datetime import UTC, datetime

    def item(kind, object_id):
        return rules.WorkItem(kind, object_id, "x", datetime(2026, 1, 1, tzinfo=UTC), "main.dashboard")

    a, b, c = item(Kind.ACCESS_REQUEST, 1), item(Kind.ACCESS_REQUEST, 2), item(Kind.FAILED_EMAIL, 1)
    claims = {("demande-acces", 1): 10, ("courriel-echec", 1): 11}
    assert rules.filter_by_agent([a, b, c], claims, "", 10) == [a, b, c]
    assert rules.filter_by_agent([a, b, c], claims, "moi", 10) == [a]
    assert rules.filter_by_agent([a, b, c], claims, "11", 10) == [c]
    assert rules.filter_by_agent([a, b, c], claims, "personne", 10) == [b]


def test_an_elu_sees_the_seat_to_confirm_his_sessions_and_his_rights_and_confirms_from_home(client, auth, app):
    body = factories.collectivite("Sauvagnas")
    me = factories.elu(body, "Martine Lafon", email="martine@mairie.fr", delegation=True, mandate_start=paris_today())
    other = factories.elu(body, "Paul Voisin", email="paul@mairie.fr")
    now = utcnow()
    offered_session = factories.training_session(factories.training("Finances locales"))
    coming_session = factories.training_session(factories.training("Urbanisme"))
    offer = registrations.register(offered_session, me.mandate, me)
    offer.status, offer.offered_at, offer.offer_expires_at = "offered", now, now + timedelta(hours=20)
    registrations.register(coming_session, me.mandate, me)
    registrations.register(coming_session, other.mandate, other)  # his neighbour's registration is not his
    db.session.commit()

    auth.login("martine@mairie.fr")
    home = client.get("/tableau-de-bord")
    assert home.status_code == 200
    page = _text(home)
    assert "Bonjour, Martine Lafon" in page
    assert "Une place vous est proposée" in page and "Finances locales" in page and "À confirmer avant le" in page
    assert "Mes formations à venir" in page and "Urbanisme" in page
    assert "Il vous en reste 24 jours." in page.replace("\u202f", " ")
    assert "une formation doit vous être proposée dans la première année de votre mandat" in page
    assert "Paul Voisin" not in page

    confirmed = auth.post(
        f"/formations/inscriptions/{offer.id}/accepter", {"next": "/tableau-de-bord"}, page_url="/tableau-de-bord"
    )
    assert confirmed.headers["Location"].endswith("/tableau-de-bord")
    after = _text(client.get("/tableau-de-bord"))
    assert "Place confirmée" in after and "Une place vous est proposée" not in after
    assert db.session.get(Registration, offer.id).status == "registered"


def _failed_emails(count: int, start: int = 0):
    base = utcnow() - timedelta(days=30)
    db.session.add_all(
        factories.OutboxEmailFactory.build(failed=True, created_at=base + timedelta(minutes=n))
        for n in range(start, start + count)
    )


def test_the_database_sorts_and_pages_the_queue_with_the_computed_items_in_their_place(app):
    staff = factories.user("staff")
    _failed_emails(60)
    today = paris_today()
    # A convention's notice (computed in Python) that waits since the alert window opened: among the emails.
    factories.ConventionFactory(end_date=today + timedelta(days=20))
    db.session.commit()
    every = rules.order_items(services.collect())
    assert len(every) == 61
    pages = [services.queue_page(me=staff.id, number=n, per_page=25) for n in (1, 2, 3)]
    assert [len(p.items) for p in pages] == [25, 25, 11] and {p.total for p in pages} == {61}
    assert [i for p in pages for i in p.items] == every  # each item once, in the order of the whole queue
    assert pages[0].counts[Kind.FAILED_EMAIL] == 60 and pages[0].counts[Kind.CONVENTION_DEADLINE] == 1
    newest = services.queue_page(me=staff.id, number=1, per_page=25, newest_first=True)
    assert newest.items == list(reversed(every))[:25]
    beyond = services.queue_page(me=staff.id, number=99, per_page=25)
    assert beyond.items == pages[2].items  # past the end: the last page
    only = services.queue_page(kind="echeance-convention", me=staff.id)
    assert [i.kind for i in only.items] == [Kind.CONVENTION_DEADLINE] and only.total == 1


def test_a_page_of_the_queue_costs_the_same_queries_for_a_hundred_or_a_thousand_items(
    client, auth, app, count_queries, monkeypatch
):
    # The registry's version token (the card of bodies by status) not read again however long the inserts take.
    monkeypatch.setattr(versions, "TOKEN_TTL_SECONDS", 3600.0)
    factories.user("staff", email="agent@cdg47.fr")
    _failed_emails(120)
    db.session.commit()
    auth.login("agent@cdg47.fr")
    client.get("/tableau-de-bord?page=2")
    with count_queries() as few:
        small = _text(client.get("/tableau-de-bord?page=2"))
    _failed_emails(1000, start=120)
    db.session.commit()
    with count_queries() as many:
        large = _text(client.get("/tableau-de-bord?page=2"))
    assert "À traiter : 120 éléments" in small and "À traiter : 1 120 éléments" in large.replace("\u202f", " ")
    assert len(many) == len(few), (len(few), len(many))


def test_a_session_below_its_minimum_enters_the_queue_a_week_before_and_leaves_when_full_enough(app):
    now = utcnow()
    body = factories.collectivite("Layrac")
    elus = [factories.elu(body, f"Élu {n}") for n in range(3)]
    in_five_days = factories.training_session(starts_at=now + timedelta(days=5), capacity=10)
    in_ten_days = factories.training_session(starts_at=now + timedelta(days=10), capacity=10)
    no_minimum = factories.training_session(starts_at=now + timedelta(days=2), capacity=10)
    for session in (in_five_days, in_ten_days):
        session.minimum_participants = 3
    registrations.register(in_five_days, elus[0].mandate, elus[0])
    db.session.commit()
    [item] = [i for i in services.collect() if i.kind == Kind.SESSION_BELOW_MINIMUM]
    assert item.object_id == in_five_days.id and item.title.endswith(": 1 inscrit pour 3 au minimum")
    assert item.since == in_five_days.starts_at - timedelta(days=7)  # it entered the week two days ago
    assert item.due == in_five_days.starts_at
    assert no_minimum.id != item.object_id
    for elu in elus[1:]:
        registrations.register(in_five_days, elu.mandate, elu)
    db.session.commit()
    assert not [i for i in services.collect() if i.kind == Kind.SESSION_BELOW_MINIMUM]


def test_a_minimum_above_the_capacity_is_refused_in_french(app):
    from portal.common.errors import DomainError
    from portal.training import sessions

    staff = factories.user("staff")
    session = factories.training_session(capacity=10)
    data = sessions.SessionInput(
        training_id=session.training_id,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        registration_deadline=session.registration_deadline,
        capacity=10,
        place="Agen",
        minimum_participants=12,
    )
    with pytest.raises(DomainError, match="compris entre 1 et la capacité \\(10\\)"):
        sessions.update_session(session, data, staff)
