"""A person without an account asks for access from the login page; staff accept (she is invited with the
collectivités they confirm) or refuse with a reason; she is told by email either way. Rate-limited, and the page
answers the same whether the address has an account or not."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from portal.access.models import AccessRequest, RequestState
from portal.accounts.models import AccountStatus, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests import factories
from tests.conftest import csrf_from


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def communes(app):
    bodies = {
        "pujols": factories.collectivite("Pujols", insee="47215", siren="214702151"),
        "laroque": factories.collectivite("Laroque-Timbaut", insee="47137"),
        "ccas": factories.collectivite("CCAS de Pujols", "ccas", siren="264701284"),
    }
    db.session.commit()
    return bodies


def _ask(client, url="/demande-d-acces", **fields):
    data = {
        "full_name": "Sophie Martin",
        "email": "sophie@mairie-pujols.fr",
        "job_title": "Secrétaire générale de mairie",
        "collectivites": "Mairie de Pujols\n47137",
        "message": "",
        **fields,
    }
    page = client.get(url)
    return client.post(url, data={**data, "csrf_token": csrf_from(page.get_data(as_text=True))})


def test_the_login_page_offers_the_request_which_lands_in_the_staff_list(client, auth, communes, smtp_sink):
    assert "/demande-d-acces" in _text(client.get("/connexion"))
    response = _ask(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/demande-d-acces/envoyee")
    assert "Votre demande a été transmise au CDG." in _text(client.get(response.headers["Location"]))

    request = db.session.scalar(select(AccessRequest))
    assert request.state == RequestState.PENDING and request.email == "sophie@mairie-pujols.fr"
    assert [c.name for c in request.collectivites] == ["Laroque-Timbaut", "Pujols"]
    assert request.collectivites_text == "Mairie de Pujols\n47137"
    [ack] = smtp_sink.messages
    assert ack["To"].addresses[0].addr_spec == "sophie@mairie-pujols.fr"
    assert "Nous avons bien reçu votre demande" in ack.get_body(("plain",)).get_content()

    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    dashboard = re.sub(r"<[^>]+>", "", _text(client.get("/tableau-de-bord")))
    assert "1 demande d'accès à traiter." in dashboard
    listing = _text(client.get("/demandes-d-acces/"))
    assert "Sophie Martin" in listing and "Laroque-Timbaut, Pujols" in listing and "À traiter" in listing


def test_accepting_invites_her_with_the_collectivites_staff_confirmed(client, auth, communes, smtp_sink):
    _ask(client)
    request = db.session.scalar(select(AccessRequest))
    agent = factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    page = _text(client.get(f"/demandes-d-acces/{request.id}"))
    assert "47215, 47137" in page or "47137, 47215" in page

    response = auth.post(
        f"/demandes-d-acces/{request.id}/acceptation",
        {"collectivites": "47215, 264701284"},
        page_url=f"/demandes-d-acces/{request.id}",
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "sophie@mairie-pujols.fr"))
    assert user.status == AccountStatus.INVITED and user.is_secretary
    assert {c.name for c in user.collectivites} == {"Pujols", "CCAS de Pujols"}
    db.session.refresh(request)
    assert request.state == RequestState.ACCEPTED and request.user_id == user.id and request.decided_by_id == agent.id
    invitation = smtp_sink.messages[-1]
    assert "/invitation/" in invitation.get_body(("plain",)).get_content()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access.accept")).actor_id == agent.id

    again = auth.post(
        f"/demandes-d-acces/{request.id}/acceptation", {"collectivites": "47215"}, page_url="/demandes-d-acces/"
    )
    assert again.status_code == 302
    assert "Cette demande a déjà été traitée (acceptée)." in _text(client.get(again.headers["Location"]))


def test_refusing_needs_a_reason_which_she_receives(client, auth, communes, smtp_sink):
    _ask(client)
    request = db.session.scalar(select(AccessRequest))
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    url = f"/demandes-d-acces/{request.id}/refus"
    empty = auth.post(url, {"reason": "  "}, page_url=f"/demandes-d-acces/{request.id}")
    assert empty.status_code == 422 and "Indiquez le motif du refus" in _text(empty)

    done = auth.post(
        url,
        {"reason": "Pujols a déjà une secrétaire inscrite ; voyez avec elle."},
        page_url=f"/demandes-d-acces/{request.id}",
    )
    assert done.status_code == 302
    db.session.refresh(request)
    assert request.state == RequestState.REFUSED
    refusal = smtp_sink.messages[-1]
    assert refusal["To"].addresses[0].addr_spec == "sophie@mairie-pujols.fr"
    assert "Pujols a déjà une secrétaire inscrite ; voyez avec elle." in refusal.get_body(("plain",)).get_content()
    assert db.session.scalar(select(User).where(User.email == "sophie@mairie-pujols.fr")) is None


def test_unknown_or_ambiguous_collectivites_are_named_and_nothing_is_recorded(client, communes):
    factories.collectivite("Sainte-Colombe", insee="47236")
    factories.collectivite("Sainte-Colombe", insee="47237")
    outside = factories.collectivite("Cahors", insee="46042")
    outside.departement_code = "46"
    db.session.commit()
    response = _ask(client, collectivites="Pujols\nVillebrumier\nSainte Colombe\n46042")
    assert response.status_code == 422
    text = _text(response)
    assert "« Villebrumier » : aucune collectivité de ce nom ; indiquez son code INSEE." in text
    assert "« Sainte Colombe » désigne plusieurs collectivités" in text and "47236" in text
    assert "« 46042 » : aucune collectivité de ce code parmi celles du CDG." in text
    assert 'value="Sophie Martin"' in response.get_data(as_text=True)  # nothing typed is lost
    assert db.session.scalar(select(AccessRequest)) is None


def test_an_address_with_an_account_gets_the_same_page_and_an_email_saying_so(client, communes, smtp_sink):
    factories.user("secretary", email="sophie@mairie-pujols.fr", collectivites=[communes["pujols"]])
    db.session.commit()
    known = _ask(client)
    unknown = _ask(client, email="personne@mairie-pujols.fr")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert db.session.scalars(select(AccessRequest.email)).all() == ["personne@mairie-pujols.fr"]
    existing = next(m for m in smtp_sink.messages if m["To"].addresses[0].addr_spec == "sophie@mairie-pujols.fr")
    assert "qui a déjà un compte" in existing.get_body(("plain",)).get_content()


def test_a_second_request_updates_the_pending_one(client, communes):
    _ask(client)
    _ask(client, collectivites="47215", full_name="Sophie Martin-Durand")
    [request] = db.session.scalars(select(AccessRequest)).all()
    assert request.full_name == "Sophie Martin-Durand" and [c.name for c in request.collectivites] == ["Pujols"]


def test_requests_are_rate_limited_per_address(app, client, communes):
    app.config["ACCESS_REQUEST_MAX_PER_EMAIL"] = 2
    assert _ask(client).status_code == 302
    assert _ask(client).status_code == 302
    throttled = _ask(client)
    assert throttled.status_code == 429 and "Trop de demandes d'accès en peu de temps" in _text(throttled)


def test_proconnect_prefill_uses_the_siret_as_a_hint_only(client, communes):
    page = _text(client.get("/demande-d-acces?email=s.martin@pujols.fr&prenom=Sophie&nom=Martin&siret=21470215100018"))
    assert 'value="Sophie Martin"' in page and 'value="s.martin@pujols.fr"' in page
    assert "Pujols (47215)" in page
    assert "Pujols (47215)" not in _text(client.get("/demande-d-acces?siret=99999999900018"))
    response = _ask(client, url="/demande-d-acces?siret=21470215100018", collectivites="47137")
    assert response.status_code == 302
    request = db.session.scalar(select(AccessRequest))
    assert request.siret_hint == "21470215100018" and [c.name for c in request.collectivites] == ["Laroque-Timbaut"]


def test_a_logged_in_person_is_sent_to_the_dashboard(client, auth, communes):
    factories.user("secretary", email="sophie@mairie-pujols.fr", collectivites=[communes["pujols"]])
    db.session.commit()
    auth.login("sophie@mairie-pujols.fr")
    assert client.get("/demande-d-acces").status_code == 302


@pytest.mark.parametrize("role", ["secretary", "elu"])
def test_only_staff_see_and_decide_requests(client, auth, communes, role):
    _ask(client)
    request = db.session.scalar(select(AccessRequest))
    if role == "secretary":
        user = factories.user("secretary", email="other@mairie.fr", collectivites=[communes["pujols"]])
    else:
        user = factories.elu(communes["pujols"], email="elu@mairie.fr")
    db.session.commit()
    auth.login(user.email)
    assert client.get("/demandes-d-acces/").status_code == 403
    assert client.get(f"/demandes-d-acces/{request.id}").status_code == 403
    token = csrf_from(client.get("/mon-profil").get_data(as_text=True))
    data = {"csrf_token": token, "collectivites": "47215", "reason": "non"}
    assert client.post(f"/demandes-d-acces/{request.id}/acceptation", data=data).status_code == 403
    assert client.post(f"/demandes-d-acces/{request.id}/refus", data=data).status_code == 403
    db.session.refresh(request)
    assert request.state == RequestState.PENDING
