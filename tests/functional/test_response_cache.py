"""The response cache (issue 17, portal.common.page_cache): the registry's list for staff and the API's list are kept
under the registry's version token, and a change to the data is never followed by the old page."""

from __future__ import annotations

import socket
from html import unescape

import pytest

from portal.config import ConfigurationError, build_config
from portal.extensions import db
from tests import factories
from tests.api_helpers import bearer, token_for


@pytest.fixture
def world(app):
    epci = factories.collectivite("CC du Confluent", "cc", insee=None, siren="200000001")
    commune = factories.collectivite("Aiguillon", epci=epci)
    other = factories.collectivite("Damazan", epci=epci)
    staff = factories.user("staff", email="staff@cdg47.fr")
    factories.user("secretary", email="mairie@aiguillon.fr", collectivites=[commune])
    db.session.commit()
    return {"epci": epci, "commune": commune, "other": other, "token": token_for(staff)}


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def test_the_staff_list_shows_a_change_at_once(app, client, auth, world, count_queries):
    auth.login("staff@cdg47.fr")
    assert "Aiguillon" in _page(client, "/collectivites")
    with count_queries() as statements:
        assert "Aiguillon" in _page(client, "/collectivites")
    assert not any("FROM collectivite" in s for s in statements)  # kept
    world["commune"].name, world["commune"].name_normalised = "Aiguillon-sur-Lot", "aiguillon-sur-lot"
    db.session.commit()
    assert "Aiguillon-sur-Lot" in _page(client, "/collectivites")
    factories.collectivite("Buzet-sur-Baïse", epci=world["epci"])
    db.session.commit()
    page = _page(client, "/collectivites")
    assert "Buzet-sur-Baïse" in page and "4 résultats" in page


def test_an_epci_created_shows_in_the_filter_at_once(app, client, auth, world):
    auth.login("staff@cdg47.fr")
    assert "CA d'Agen" not in _page(client, "/collectivites")
    agen = factories.collectivite("CA d'Agen", "ca", insee=None, siren="200000002")
    factories.collectivite("Agen", epci=agen)
    db.session.commit()
    assert "CA d'Agen" in _page(client, "/collectivites")


def test_each_query_string_has_its_own_page(app, client, auth, world):
    auth.login("staff@cdg47.fr")
    assert "Damazan" in _page(client, "/collectivites")
    filtered = _page(client, "/collectivites?q=aiguillon")
    assert "Aiguillon" in filtered and "Damazan" not in filtered
    assert "Damazan" in _page(client, "/collectivites?tri=nom&ordre=desc")


def test_a_secretary_never_gets_the_staff_page(app, client, auth, world):
    auth.login("staff@cdg47.fr")
    assert "Damazan" in _page(client, "/collectivites")
    auth.logout()
    auth.login("mairie@aiguillon.fr")
    page = _page(client, "/collectivites")
    assert "Aiguillon" in page and "Damazan" not in page


def test_the_header_stays_the_readers_own(app, client, auth, world):
    factories.user("staff", email="autre@cdg47.fr").full_name = "Agent Autre"
    db.session.commit()
    auth.login("staff@cdg47.fr")
    _page(client, "/collectivites")
    auth.logout()
    auth.login("autre@cdg47.fr")
    assert "Agent Autre" in _page(client, "/collectivites")


def test_the_api_list_shows_a_change_at_once(app, client, world, count_queries):
    headers = bearer(world["token"])
    names = lambda: [item["nom"] for item in client.get("/api/v1/collectivites", headers=headers).get_json()["items"]]  # noqa: E731
    assert "Aiguillon" in names()
    with count_queries() as statements:
        assert "Aiguillon" in names()
    assert statements == []  # token and page both kept
    world["other"].affiliation_status = "volontaire"
    world["commune"].name = "Aiguillon-sur-Lot"
    db.session.commit()
    assert "Aiguillon-sur-Lot" in names()
    body = client.get("/api/v1/collectivites?statut=volontaire", headers=headers).get_json()
    assert [item["nom"] for item in body["items"]] == ["Damazan"]


def test_the_cache_is_chosen_by_one_setting():
    base = {"PORTAL_ENV": "testing"}
    assert build_config("/tmp", base)["CACHE_TYPE"] == "SimpleCache"
    off = build_config("/tmp", {**base, "RESPONSE_CACHE": "off"})
    assert (off["CACHE_TYPE"], off["RESPONSE_CACHE_ENABLED"]) == ("NullCache", False)
    redis = build_config("/tmp", {**base, "RESPONSE_CACHE": "redis://redis:6379/2"})
    assert (redis["CACHE_TYPE"], redis["CACHE_REDIS_URL"]) == ("RedisCache", "redis://redis:6379/2")
    with pytest.raises(ConfigurationError, match="RESPONSE_CACHE"):
        build_config("/tmp", {**base, "RESPONSE_CACHE": "memcached://x"})


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_the_redis_cache_is_invalidated_the_same_way(app_factory, migrated):
    from tests.conftest import Auth, IsolatedClient, clean_tables

    scaled = app_factory(RESPONSE_CACHE="redis://127.0.0.1:6379/12", CELERY_TASK_ALWAYS_EAGER="1")
    scaled.test_client_class = IsolatedClient
    with scaled.app_context():
        try:
            from portal.extensions import cache

            cache.clear()
            commune = factories.collectivite("Aiguillon")
            factories.user("staff", email="staff@cdg47.fr")
            db.session.commit()
            client = scaled.test_client()
            Auth(client).login("staff@cdg47.fr")
            assert "Aiguillon" in _page(client, "/collectivites")
            assert "Aiguillon" in _page(client, "/collectivites")
            commune.name = "Aiguillon-sur-Lot"
            db.session.commit()
            assert "Aiguillon-sur-Lot" in _page(client, "/collectivites")
        finally:
            cache.clear()
            db.session.remove()
            clean_tables()
