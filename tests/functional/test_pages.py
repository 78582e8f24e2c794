"""Pages by role: dashboards, the collectivités list (search, filters, sort, pagination), the declaration form."""

import pytest
from sqlalchemy import select

from portal.common import versions
from portal.extensions import db
from portal.registry.importer import import_records, read_dataset
from portal.registry.models import Collectivite, HeadcountDeclaration
from tests import factories
from tests.conftest import DATA_47

Y = factories.THIS_YEAR


def load_47():
    import_records(read_dataset(DATA_47, "47"))
    db.session.commit()
    return {c.insee_code: c for c in db.session.scalars(select(Collectivite).where(Collectivite.kind == "commune"))}


def test_staff_list_search_filter_sort_paginate(app, client, auth):
    communes = load_47()
    factories.declare(communes["47001"], Y, 420)
    factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    auth.login("staff@cdg47.fr")

    first = client.get("/collectivites").get_data(as_text=True)
    assert "332 résultats" in first and "1 à 50 affichés" in first and "Page 1 sur 7" in first

    by_name = client.get("/collectivites?q=villeneuve").get_data(as_text=True)
    assert "Villeneuve-sur-Lot" in by_name and ">Agen</a>" not in by_name
    accents = client.get("/collectivites?q=NERAC").get_data(as_text=True)
    assert "Nérac" in accents
    by_code = client.get("/collectivites?q=47001").get_data(as_text=True)
    assert "1 résultat" in by_code and "Agen" in by_code
    by_postcode = client.get("/collectivites?q=47000").get_data(as_text=True)
    assert "Agen" in by_postcode

    epci = db.session.scalar(select(Collectivite).where(Collectivite.siren == "200096956"))
    in_epci = client.get(f"/collectivites?epci={epci.id}").get_data(as_text=True)
    assert "44 résultats" in in_epci

    cc_only = client.get("/collectivites?kind=cc").get_data(as_text=True)
    assert "9 résultats" in cc_only
    non_affiliated = client.get("/collectivites?status=non_affiliee").get_data(as_text=True)
    assert "1 résultat" in non_affiliated and ">Agen</a>" in non_affiliated

    by_population = client.get("/collectivites?kind=commune&tri=population&ordre=desc").get_data(as_text=True)
    assert by_population.index("Agen") < by_population.index("Villeneuve-sur-Lot") < by_population.index("Marmande")
    last = client.get("/collectivites?page=7").get_data(as_text=True)
    assert "Page 7 sur 7" in last and "301 à 332 affichés" in last
    assert client.get("/collectivites?page=abc").status_code == 200
    assert client.get("/collectivites?epci=abc&tri=nimporte").status_code == 200


@pytest.fixture
def token_kept(monkeypatch):
    """The registry's version token kept for the whole test: on a slow run, more than the one second a process
    trusts it may pass between two requests, and its re-reading would be counted as a query of the page."""
    monkeypatch.setattr(versions, "TOKEN_TTL_SECONDS", 3600.0)


def test_list_query_count_does_not_grow_with_rows(app, client, auth, count_queries, token_kept):
    load_47()
    factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    auth.login("staff@cdg47.fr")
    app.config["PORTAL_PAGE_SIZE"] = 5
    app.config["RESPONSE_CACHE_ENABLED"] = False  # the queries of the list itself, not of the response cache
    assert client.get("/collectivites").status_code == 200  # the count is cached from now on (same data version)
    db.session.expunge_all()  # the test shares the session with the views: start both requests from a cold one
    with count_queries() as small:
        assert client.get("/collectivites").status_code == 200
    app.config["PORTAL_PAGE_SIZE"] = 200
    db.session.expunge_all()
    with count_queries() as large:
        assert client.get("/collectivites").status_code == 200
    assert len(small) == len(large), (small, large)
    assert len(large) <= 8


def test_collectivite_page_query_count_does_not_grow_with_declarations(app, client, auth, count_queries, token_kept):
    commune = factories.collectivite()
    other = factories.collectivite()
    factories.declare(commune, Y, 10)
    for year in range(Y - 10, Y + 1):
        factories.declare(other, year, 10)
        factories.declare(other, year, 11)
    factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    few_url, many_url = f"/collectivites/{commune.id}", f"/collectivites/{other.id}"
    auth.login("staff@cdg47.fr")
    db.session.expunge_all()
    with count_queries() as few:
        client.get(few_url)
    db.session.expunge_all()
    with count_queries() as many:
        client.get(many_url)
    assert len(few) == len(many)


def test_collectivite_page_explains_status_and_history(app, client, auth):
    commune = factories.collectivite("Villeneuve-sur-Lot")
    ccas = factories.collectivite("CCAS de Villeneuve-sur-Lot", "ccas", parent=commune)
    factories.declare(commune, Y, 320)
    factories.declare(ccas, Y, 29)
    factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    auth.login("staff@cdg47.fr")
    html = client.get(f"/collectivites/{commune.id}").get_data(as_text=True)
    assert "Affiliation obligatoire" in html
    assert "349 fonctionnaires titulaires et stagiaires à temps complet" in html
    assert "09035" in html and "L452-13" in html
    assert "Historique du statut" in html and "Statut initial" in html


def test_a_sdis_page_says_it_is_never_affiliated_by_law(app, client, auth):
    import html as entities

    sdis = factories.collectivite("SDIS de Lot-et-Garonne", "ep_departemental", population=None)
    factories.declare(sdis, Y, 279)
    factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    auth.login("staff@cdg47.fr")
    page = " ".join(entities.unescape(client.get(f"/collectivites/{sdis.id}").get_data(as_text=True)).split())
    assert "Établissement public départemental ou interdépartemental (SDIS…)" in page
    assert f"Statut calculé pour {Y} : Non affiliée." in page
    assert "n'est jamais affilié d'office, quel que soit son effectif (279 fonctionnaires titulaires" in page
    assert "Fondement : décret n° 85-643, art. 2, 2°." in page


def test_secretary_dashboard_and_declaration(app, client, auth):
    a = factories.collectivite("Laroque-Timbaut")
    b = factories.collectivite("Sauvagnas")
    factories.declare(a, Y - 1, 8)
    factories.user("secretary", email="sec@mairie.fr", collectivites=[a, b])
    db.session.commit()
    auth.login("sec@mairie.fr")
    dashboard = client.get("/tableau-de-bord").get_data(as_text=True)
    assert "Laroque-Timbaut" in dashboard and "Sauvagnas" in dashboard and "À faire" in dashboard

    url = f"/collectivites/{a.id}"
    bad = auth.post(
        f"{url}/effectifs",
        {"year": Y, "titulaires_temps_complet": -3, "titulaires_temps_non_complet": 0, "contractuels": "beaucoup"},
        page_url=url,
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Indiquez un nombre entier entre 0 et 100 000." in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="titulaires_temps_complet-hint titulaires_temps_complet-error"' in html
    assert db.session.scalar(select(HeadcountDeclaration).where(HeadcountDeclaration.year == Y)) is None

    good = auth.post(
        f"{url}/effectifs",
        {
            "year": Y,
            "titulaires_temps_complet": 9,
            "titulaires_temps_non_complet": 2,
            "contractuels": 4,
            "comment": "Recrutement d'un agent technique",
        },
        page_url=url,
    )
    assert good.status_code == 302
    declaration = db.session.scalar(select(HeadcountDeclaration).where(HeadcountDeclaration.year == Y))
    assert (declaration.titulaires_temps_complet, declaration.contractuels) == (9, 4)
    assert declaration.declared_by.email == "sec@mairie.fr"
    page = client.get(url).get_data(as_text=True)
    assert "est enregistrée" in page


def test_elu_profile_shows_the_mandate(app, client, auth):
    commune = factories.collectivite("Sauvagnas")
    factories.user("elu", email="maire@mairie.fr", collectivites=[commune], function="maire")
    db.session.commit()
    response = auth.login("maire@mairie.fr")
    assert response.status_code == 302
    home = client.get("/tableau-de-bord")  # an élu's home: his « à faire », his sessions, his rights
    assert home.status_code == 200 and "Mes droits" in home.get_data(as_text=True)
    html = client.get("/mon-profil").get_data(as_text=True)
    assert "Mandat" in html and "Maire" in html and "Sauvagnas" in html and "22 mars 2026" in html


def test_notification_preferences_keep_mandatory_categories(app, client, auth):
    factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    auth.login("staff@cdg47.fr")
    response = auth.post("/notifications/preferences", {"email_headcount": "1"})
    assert response.status_code == 302
    from portal.accounts.services import find_user_by_email
    from portal.notifications.services import email_enabled

    user = find_user_by_email("staff@cdg47.fr")
    assert email_enabled(user.id, "headcount") is True
    assert email_enabled(user.id, "training") is False
    assert email_enabled(user.id, "affiliation") is True  # cannot be switched off


def test_header_counts_unread_notifications(app, client, auth):
    """The notifications area puts the count of unread notices in the header of every page."""
    from portal.common.clock import utcnow
    from portal.notifications.models import Notification

    staff = factories.user("staff", email="staff@cdg47.fr")
    db.session.flush()
    for title, read_at in (("Premier avis", None), ("Deuxième avis", None), ("Avis lu", utcnow())):
        db.session.add(Notification(user_id=staff.id, category="account", title=title, body="…", read_at=read_at))
    db.session.commit()
    auth.login("staff@cdg47.fr")

    html = client.get("/tableau-de-bord").get_data(as_text=True)
    assert '2<span class="visually-hidden"> non lues</span>' in html


def test_list_rows_escape_what_comes_from_the_data(app, client, auth):
    """The rows of the list escape each value read from the registry (the template escapes them one by one)."""
    epci = factories.collectivite('CC "Coteaux" & <Vallées>', "cc", siren="200000001")
    factories.collectivite("<script>alert(1)</script>", insee="47999", epci=epci)
    factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    auth.login("staff@cdg47.fr")

    html = client.get("/collectivites?kind=commune").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in html
    assert "CC &#34;Coteaux&#34; &amp; &lt;Vallées&gt;</td>" in html
    assert 'data-label="Code INSEE / SIREN">47999</td>' in html
