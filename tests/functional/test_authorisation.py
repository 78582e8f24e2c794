"""Authorisation is enforced on the server: every route that takes an id, for every role.

A secretary or an elected official asking for another collectivité's object gets 404
(never 403: the portal does not reveal that it exists); staff-only pages give 403 to others.
"""

from datetime import date

import pytest
from sqlalchemy import select

from portal.affiliation.models import AffiliationDecision
from portal.extensions import db
from portal.notifications.models import Notification, OutboxEmail
from tests import factories
from tests.conftest import csrf_from

Y = factories.THIS_YEAR


@pytest.fixture
def world(app):
    commune_a = factories.collectivite("Commune A")
    commune_b = factories.collectivite("Commune B")
    ccas_b = factories.collectivite("CCAS de B", "ccas", parent=commune_b)
    person_a = factories.person(commune_a, "Anne", "Roux", sex="F", function="maire")
    users = {
        "staff": factories.user("staff", email="staff@cdg47.fr"),
        "secretary_a": factories.user("secretary", email="sec.a@mairie.fr", collectivites=[commune_a]),
        "secretary_b": factories.user("secretary", email="sec.b@mairie.fr", collectivites=[commune_b, ccas_b]),
        "elu_a": factories.user("elu", email="elu.a@mairie.fr", collectivites=[commune_a], function="maire"),
    }
    factories.declare(commune_a, Y - 1, 349)
    factories.declare(commune_b, Y - 1, 349)
    factories.declare(commune_b, Y, 350)  # opens a decision about B
    db.session.commit()
    decision = db.session.scalar(select(AffiliationDecision).where(AffiliationDecision.collectivite_id == commune_b.id))
    notification_b = db.session.scalar(select(Notification).where(Notification.user_id == users["secretary_b"].id))
    email = db.session.scalar(select(OutboxEmail))
    return {
        "a": commune_a,
        "b": commune_b,
        "ccas_b": ccas_b,
        "decision": decision,
        "users": users,
        "notification_b": notification_b,
        "email": email,
        "person_a": person_a,
    }


def get_codes(client, auth, email, urls):
    auth.login(email)
    return {url: client.get(url).status_code for url in urls}


def test_collectivite_pages(client, auth, world):
    a, b, ccas_b = world["a"].id, world["b"].id, world["ccas_b"].id
    urls = [f"/collectivites/{a}", f"/collectivites/{b}", f"/collectivites/{ccas_b}"]
    assert get_codes(client, auth, "staff@cdg47.fr", urls) == dict.fromkeys(urls, 200)
    auth.logout()
    assert get_codes(client, auth, "sec.a@mairie.fr", urls) == {urls[0]: 200, urls[1]: 404, urls[2]: 404}
    auth.logout()
    assert get_codes(client, auth, "sec.b@mairie.fr", urls) == {urls[0]: 404, urls[1]: 200, urls[2]: 200}
    auth.logout()
    assert get_codes(client, auth, "elu.a@mairie.fr", urls) == {urls[0]: 200, urls[1]: 404, urls[2]: 404}


def declaration_post(client, body_id, page_id):
    page = client.get(f"/collectivites/{page_id}")
    token = csrf_from(page.get_data(as_text=True)) if page.status_code == 200 else ""
    return client.post(
        f"/collectivites/{body_id}/effectifs",
        data={
            "year": Y,
            "titulaires_temps_complet": 5,
            "titulaires_temps_non_complet": 1,
            "contractuels": 2,
            "csrf_token": token,
        },
    )


def test_declaring_for_another_collectivite_is_404_and_saves_nothing(client, auth, world):
    from portal.affiliation.services import declaration_in_force

    a, b = world["a"].id, world["b"].id
    auth.login("sec.a@mairie.fr")
    assert declaration_post(client, b, a).status_code == 404
    assert declaration_in_force(b, Y).titulaires_temps_complet == 350
    assert declaration_post(client, a, a).status_code == 302
    assert declaration_in_force(a, Y).titulaires_temps_complet == 5
    auth.logout()
    auth.login("elu.a@mairie.fr")  # an elected official sees his commune but does not declare
    assert declaration_post(client, a, a).status_code == 403


@pytest.mark.parametrize("role_email", ["sec.a@mairie.fr", "sec.b@mairie.fr", "elu.a@mairie.fr"])
def test_staff_pages_are_refused_to_other_roles(client, auth, world, role_email):
    decision, b = world["decision"].id, world["b"].id
    urls = [
        "/affiliation/decisions",
        f"/affiliation/decisions/{decision}",
        f"/affiliation/collectivites/{b}/volontaire",
        "/journal",
        "/envois",
        "/elus/import",
        "/comptes/",
        "/comptes/nouveau",
        f"/comptes/{world['users']['secretary_a'].id}",
        "/demandes-d-acces/",
        "/comptes/import",
        "/comptes/import/1",
        "/comptes/import/1/etat",
        "/statistiques/",
        f"/statistiques/{Y}",
        f"/statistiques/{Y}/graphiques/affiliation.svg",
        f"/statistiques/{Y}/rapport-activite.pdf",
        "/statistiques/campagnes/1.svg",
    ]
    codes = get_codes(client, auth, role_email, urls)
    assert codes == dict.fromkeys(urls, 403)
    profile = client.get("/mon-profil").get_data(as_text=True)
    for url in ("/a-traiter/prendre", "/a-traiter/liberer", "/a-traiter/traite"):
        taken = client.post(url, data={"csrf_token": csrf_from(profile), "kind": "demande-acces", "object_id": "1"})
        assert taken.status_code == 403, url
    confirm = client.post("/elus/import/confirmer", data={"csrf_token": csrf_from(profile)})
    assert confirm.status_code == 403
    for url in ("/comptes/import", "/comptes/import/confirmer"):
        assert client.post(url, data={"csrf_token": csrf_from(profile)}).status_code == 403
    page = client.get("/mon-profil")
    retry = client.post(
        f"/envois/{world['email'].id}/relancer", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert retry.status_code == 403


def test_staff_pages_for_staff(client, auth, world):
    decision, b = world["decision"].id, world["b"].id
    urls = [
        "/affiliation/decisions",
        f"/affiliation/decisions/{decision}",
        f"/affiliation/collectivites/{b}/volontaire",
        "/journal",
        "/envois",
        "/affiliation/decisions/999999",
        "/affiliation/collectivites/999999/volontaire",
        "/elus/import",
        "/comptes/",
        f"/comptes/{world['users']['secretary_a'].id}",
        "/comptes/999999",
        "/demandes-d-acces/",
        "/demandes-d-acces/999999",
        "/comptes/import",
        "/comptes/import/999999",
        "/comptes/import/999999/etat",
    ]
    codes = get_codes(client, auth, "staff@cdg47.fr", urls)
    assert codes == {
        **dict.fromkeys(urls[:5], 200),
        urls[5]: 404,
        urls[6]: 404,
        urls[7]: 200,
        urls[8]: 200,
        urls[9]: 200,
        urls[10]: 404,
        urls[11]: 200,
        urls[12]: 404,
        urls[13]: 200,
        urls[14]: 404,
        urls[15]: 404,
    }


def test_notifications_belong_to_their_user(client, auth, world):
    notification = world["notification_b"]
    auth.login("sec.a@mairie.fr")
    page = client.get("/notifications")
    response = client.post(
        f"/notifications/{notification.id}/lue", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 404
    db.session.refresh(notification)
    assert notification.read_at is None
    auth.logout()
    auth.login("sec.b@mairie.fr")
    page = client.get("/notifications")
    assert "Franchissement du seuil" in page.get_data(as_text=True)
    response = client.post(
        f"/notifications/{notification.id}/lue", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 302
    db.session.refresh(notification)
    assert notification.read_at is not None


def test_list_shows_only_what_a_secretary_may_see(client, auth, world):
    auth.login("sec.b@mairie.fr")
    html = client.get("/collectivites").get_data(as_text=True)
    assert "Commune B" in html and "CCAS de B" in html and "Commune A" not in html


def test_decision_recorded_by_staff_through_the_page(client, auth, world):
    decision = world["decision"]
    auth.login("staff@cdg47.fr")
    url = f"/affiliation/decisions/{decision.id}"
    missing = auth.post(
        url, {"decided_status": "non_affiliee", "effective_date": date.today().isoformat(), "deliberation_ref": ""}
    )
    assert missing.status_code == 422 and "Indiquez la référence de la délibération." in missing.get_data(as_text=True)
    done = auth.post(
        url,
        {
            "decided_status": "non_affiliee",
            "effective_date": date.today().isoformat(),
            "deliberation_ref": "Délibération n° 2026-31",
        },
    )
    assert done.status_code == 302
    db.session.refresh(world["b"])
    assert world["b"].affiliation_status == "non_affiliee"
    journal = client.get("/journal").get_data(as_text=True)
    assert "Décision d&#39;affiliation pour Commune B" in journal or "Décision d'affiliation pour Commune B" in journal


def test_proconnect_routes_do_not_exist_unless_configured(client, auth, world):
    """The ProConnect routes (tests/functional/test_proconnect.py with a provider) are 404 on a portal without
    ProConnect, for visitors and for every role."""
    urls = ["/connexion/proconnect/retour?code=c&state=s", "/deconnexion/proconnect/retour?state=s"]
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 404)
    token = csrf_from(client.get("/connexion").get_data(as_text=True))
    assert client.post("/connexion/proconnect", data={"csrf_token": token}).status_code == 404
    for email in ("staff@cdg47.fr", "sec.a@mairie.fr", "elu.a@mairie.fr"):
        auth.login(email)
        assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 404)
        auth.logout()


def test_council_pages(client, auth, world):
    """A collectivité's élus: its secretaries and staff; anyone else 404, reading or writing."""
    a, person = world["a"].id, world["person_a"].id
    pages = [f"/collectivites/{a}/elus", f"/collectivites/{a}/elus/{person}"]
    posts = [f"/collectivites/{a}/elus/{person}", f"/collectivites/{a}/elus/{person}/invitation"]
    posts.append(f"/collectivites/{a}/elus/{person}/inscription")
    expected = {
        "staff@cdg47.fr": (200, 302),
        "sec.a@mairie.fr": (200, 200),
        "sec.b@mairie.fr": (404, 200),  # her own entry page, without commune A
        "elu.a@mairie.fr": (404, 404),  # an élu sees only himself (his own rights page)
    }
    for email, (page_code, entry_code) in expected.items():
        auth.login(email)
        assert {url: client.get(url).status_code for url in pages} == dict.fromkeys(pages, page_code), email
        assert client.get("/conseils").status_code == entry_code, email
        if page_code == 404:
            token = csrf_from(client.get("/mon-profil").get_data(as_text=True))
            codes = {url: client.post(url, data={"csrf_token": token}).status_code for url in posts}
            assert codes == dict.fromkeys(posts, 404), email
        auth.logout()
    assert client.get(pages[0]).status_code == 302  # anonymous: to the login page


def test_campaign_pages(client, auth, world):
    """Campaigns: staff pages are 403 to others; a task is seen by staff, by the secretary of its body (and of the
    commune of a CCAS, for the headcount); anyone else 404, reading or writing."""
    from portal.campaigns import services as campaigns
    from portal.campaigns.models import CampaignTask

    campaign = campaigns.open_campaign(
        campaigns.OpenInput("effectifs", Y + 1, date(Y + 1, 3, 31)), world["users"]["staff"]
    )
    db.session.commit()
    task = {
        key: db.session.scalar(
            select(CampaignTask.id).where(
                CampaignTask.campaign_id == campaign.id, CampaignTask.collectivite_id == world[key].id
            )
        )
        for key in ("a", "b", "ccas_b")
    }
    staff_pages = [
        "/campagnes/",
        f"/campagnes/{campaign.id}",
        f"/campagnes/{campaign.id}/manquants.csv",
        f"/campagnes/{campaign.id}/reouverture",
    ]
    task_pages = {key: f"/campagnes/{campaign.id}/taches/{task_id}" for key, task_id in task.items()}
    expected = {
        "sec.a@mairie.fr": {"a": 200, "b": 404, "ccas_b": 404},
        "sec.b@mairie.fr": {"a": 404, "b": 200, "ccas_b": 200},
        "elu.a@mairie.fr": {"a": 404, "b": 404, "ccas_b": 404},
    }
    for email, codes in expected.items():
        auth.login(email)
        assert {url: client.get(url).status_code for url in staff_pages} == dict.fromkeys(staff_pages, 403), email
        assert {key: client.get(url).status_code for key, url in task_pages.items()} == codes, email
        token = csrf_from(client.get("/mon-profil").get_data(as_text=True))
        for url in (f"/campagnes/{campaign.id}/cloture", "/campagnes/"):
            assert client.post(url, data={"csrf_token": token}).status_code == 403, email
        for key, code in codes.items():
            if code == 404:
                answer = client.post(
                    f"{task_pages[key]}/etapes/declaration",
                    data={"csrf_token": token, f"c{world[key].id}-titulaires_temps_complet": "1"},
                )
                assert answer.status_code == 404, email
        # A task of another campaign id, or a document of another task: 404.
        assert client.get(f"/campagnes/999999/taches/{task['a']}").status_code == 404
        assert client.get(f"/campagnes/{campaign.id}/taches/{task['a']}/documents/1").status_code == 404
        auth.logout()
    auth.login("staff@cdg47.fr")
    assert {url: client.get(url).status_code for url in staff_pages} == {
        **dict.fromkeys(staff_pages[:3], 200),
        staff_pages[3]: 302,  # an open campaign has nothing to reopen: back to its page
    }
    assert {key: client.get(url).status_code for key, url in task_pages.items()} == dict.fromkeys(task, 200)
    assert client.get("/campagnes/999999").status_code == 404
    auth.logout()
    assert client.get(staff_pages[0]).status_code == 302  # anonymous: to the login page
