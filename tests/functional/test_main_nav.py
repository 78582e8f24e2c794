"""The main navigation is kept per role, page and language (portal.common.templating.main_nav): each person still
sees the links of his role, the current page marked, and an élu the link to his own training page."""

from __future__ import annotations

import re

from portal.extensions import db
from tests import factories


def _nav(response) -> str:
    html = response.get_data(as_text=True)
    return re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)


def _current(nav: str) -> list[str]:
    return re.findall(r'aria-current="page">([^<]+)</a>', nav)


def test_each_role_sees_its_own_links_on_the_same_page(client, auth):
    body = factories.collectivite("Pujols", insee="47217")
    factories.user("staff", email="agent@cdg47.fr")
    factories.user("secretary", email="secretaire@pujols.fr", collectivites=[body])
    db.session.commit()

    auth.login("agent@cdg47.fr")
    staff_nav = _nav(client.get("/mon-profil"))
    assert "Journal" in staff_nav and "Conseils municipaux" not in staff_nav
    assert _current(staff_nav) == ["Mon profil"]
    auth.logout()

    auth.login("secretaire@pujols.fr")
    secretary_nav = _nav(client.get("/mon-profil"))  # the same page, kept for staff just before
    assert "Conseils municipaux" in secretary_nav
    assert "Journal" not in secretary_nav and "Décisions à prendre" not in secretary_nav
    assert _current(secretary_nav) == ["Mon profil"]


def test_the_current_page_follows_the_request(client, auth):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    assert _current(_nav(client.get("/collectivites"))) == ["Collectivités"]
    assert _current(_nav(client.get("/journal"))) == ["Journal"]
    assert _current(_nav(client.get("/collectivites"))) == ["Collectivités"]  # kept, still right


def test_each_elu_gets_the_link_to_his_own_page(client, auth):
    body = factories.collectivite("Pujols", insee="47217")
    first = factories.elu(body, "Anne Durand", email="anne@pujols.fr")
    second = factories.elu(body, "Paul Martin", email="paul@pujols.fr")
    db.session.commit()
    first_link, second_link = f"/formations/elus/{first.mandate.id}", f"/formations/elus/{second.mandate.id}"

    auth.login("anne@pujols.fr")
    nav = _nav(client.get("/mon-profil"))
    assert first_link in nav and second_link not in nav
    auth.logout()

    auth.login("paul@pujols.fr")
    nav = _nav(client.get("/mon-profil"))
    assert second_link in nav and first_link not in nav
    assert "Collectivités" not in nav  # an élu sees neither the registry nor the requests
