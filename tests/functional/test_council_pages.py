"""A secretary manages her communes' élus: the council in the order of the table, addresses, invitations,
registrations on the élus' behalf (with or without an account) and their rights."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import AccountLink, Person, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.notifications.models import Notification, OutboxEmail
from portal.training.models import Registration
from tests import factories
from tests.conftest import csrf_from


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)).replace("\u202f", " "))


@pytest.fixture
def world(app):
    commune = factories.collectivite("Sauvagnas")
    other = factories.collectivite("Pujols")
    secretary = factories.user("secretary", email="sec@sauvagnas.fr", collectivites=[commune])
    factories.user("secretary", email="sec@pujols.fr", collectivites=[other])
    factories.user("staff", email="agent@cdg47.fr")
    people = {
        "conseillere": factories.person(commune, "Zoé", "Abadie", sex="F"),
        "adjoint2": factories.person(commune, "Paul", "Bernard", sex="M", function="adjoint", rank=2),
        "conseiller": factories.person(commune, "Luc", "Écuyer", sex="M", contact_email="luc@exemple.fr"),
        "maire": factories.person(commune, "Anne", "Roux", sex="F", function="maire"),
        "adjointe1": factories.person(commune, "Marie", "Durand", sex="F", function="adjoint", rank=1),
        "ailleurs": factories.person(other, "Jean", "Pujolais", sex="M", function="maire"),
    }
    elu = factories.elu(other, "Henri Compte", email="henri@pujols.fr")
    session = factories.training_session(capacity=5)
    db.session.commit()
    return {
        "commune": commune,
        "other": other,
        "secretary": secretary,
        "people": people,
        "elu": elu,
        "session": session,
    }


def council_url(world, key="commune") -> str:
    return f"/collectivites/{world[key].id}/elus"


def member_url(world, person_key: str, commune_key: str = "commune") -> str:
    return f"{council_url(world, commune_key)}/{world['people'][person_key].id}"


def test_the_council_in_the_order_of_the_table_with_titles_accounts_and_rights(client, auth, world):
    auth.login("sec@sauvagnas.fr")
    response = client.get(council_url(world))
    assert response.status_code == 200
    text = text_of(response)
    names = ["Anne Roux", "Marie Durand", "Paul Bernard", "Zoé Abadie", "Luc Écuyer"]
    positions = [text.index(name) for name in names]
    assert positions == sorted(positions), "maire, adjoints by rank, conseillers alphabetically"
    assert "Jean Pujolais" not in text
    for title in ("Maire", "1re adjointe au maire", "2e adjoint au maire", "Conseillère municipale"):
        assert title in text
    assert "luc@exemple.fr" in text and "Pas de compte" in text and "aucune : messages au secrétariat" in text
    assert "Congé de formation restant (sur 24 jours)" in text and "DIFE estimé" in text
    assert '<th scope="row">' in response.get_data(as_text=True)


def test_rights_on_the_council_page_follow_the_registrations(client, auth, world):
    from portal.training.registrations import RegistrationInput, register

    maire = world["people"]["maire"]
    register(
        world["session"],
        maire.current_mandates[0],
        world["secretary"],
        RegistrationInput(leave_days=Decimal("2.5")),
    )
    db.session.commit()
    auth.login("sec@sauvagnas.fr")
    row = re.search(rf'<tr id="elu-{maire.id}">.*?</tr>', client.get(council_url(world)).get_data(as_text=True), re.S)
    assert row is not None and ">21,5<" in row.group(0)


def test_the_council_page_costs_the_same_queries_whatever_its_size(client, auth, world, count_queries):
    auth.login("sec@sauvagnas.fr")
    client.get(council_url(world))
    with count_queries() as few:
        assert client.get(council_url(world)).status_code == 200
    for n in range(15):
        factories.person(world["commune"], f"Prénom{n}", f"Nom{n}", sex="F" if n % 2 else "M")
    db.session.commit()
    client.get(council_url(world))  # the commit expired the session's objects (the user): load them again
    with count_queries() as many:
        assert client.get(council_url(world)).status_code == 200
    assert len(many) == len(few)


def test_correcting_an_address_is_validated_and_audited(client, auth, world):
    auth.login("sec@sauvagnas.fr")
    url = member_url(world, "maire")
    bad = auth.post(url, {"contact_email": "pas-une-adresse"})
    assert bad.status_code == 422 and "Saisissez une adresse électronique valide" in text_of(bad)
    assert db.session.get(Person, world["people"]["maire"].id).contact_email is None
    good = auth.post(url, {"contact_email": "  Anne.Roux@Exemple.fr "})
    assert good.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, world["people"]["maire"].id).contact_email == "anne.roux@exemple.fr"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.contact_email"))
    assert event.actor_email == "sec@sauvagnas.fr" and "anne.roux@exemple.fr" in event.summary


def test_inviting_an_elu_creates_an_invited_account_and_allows_resending(client, auth, world):
    auth.login("sec@sauvagnas.fr")
    person = world["people"]["conseiller"]
    page = client.get(council_url(world)).get_data(as_text=True)
    response = client.post(f"{member_url(world, 'conseiller')}/invitation", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.person_id == person.id))
    assert user.email == "luc@exemple.fr" and user.role == "elu" and user.status == "invited"
    sent = db.session.scalars(select(OutboxEmail).where(OutboxEmail.template == "invitation")).all()
    assert [e.to_address for e in sent] == ["luc@exemple.fr"]
    text = text_of(client.get(council_url(world)))
    assert "Invitation envoyée le" in text and "Renvoyer l'invitation" in text
    page = client.get(council_url(world)).get_data(as_text=True)
    again = client.post(f"{member_url(world, 'conseiller')}/invitation", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 302
    links = db.session.scalar(select(func.count()).select_from(AccountLink).where(AccountLink.user_id == user.id))
    assert links == 2


def test_an_elu_without_an_address_cannot_be_invited(client, auth, world):
    auth.login("sec@sauvagnas.fr")
    page = client.get(council_url(world)).get_data(as_text=True)
    response = client.post(
        f"{member_url(world, 'maire')}/invitation", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    )
    assert "Indiquez d'abord l'adresse électronique de Anne Roux" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "elu")) == 1


def register_on_behalf(client, auth, world, person_key: str, **data):
    return auth.post(
        f"{member_url(world, person_key)}/inscription",
        {"session_id": world["session"].id, "funding": "commune", **data},
        page_url=member_url(world, person_key),
    )


def test_registering_an_elu_without_account_nor_address_tells_his_secretaries(client, auth, world):
    auth.login("sec@sauvagnas.fr")
    response = register_on_behalf(client, auth, world, "maire")
    assert response.status_code == 302
    assert "Anne Roux est inscrite à la session" in text_of(client.get(response.headers["Location"]))
    registration = db.session.scalar(select(Registration))
    assert registration.status == "registered" and registration.registered_by_id == world["secretary"].id
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.category == "training"))
    assert email.to_address == "sec@sauvagnas.fr" and "pour Anne Roux" in email.context["title"]
    assert "Anne Roux, Maire (Sauvagnas)" in email.context["body"]
    assert any(a.filename == "invitation.ics" for a in email.attachments)
    notice = db.session.scalar(select(Notification).where(Notification.user_id == world["secretary"].id))
    assert notice is not None and "pour Anne Roux" in notice.title


def test_registering_an_elu_with_a_contact_address_writes_to_him(client, auth, world):
    auth.login("sec@sauvagnas.fr")
    assert register_on_behalf(client, auth, world, "conseiller").status_code == 302
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.category == "training"))
    assert email.to_address == "luc@exemple.fr" and email.recipient_id is None
    assert email.context["salutation"] == "Monsieur le Conseiller municipal,"
    assert email.context["link"] is None and email.context["without_account"] is True
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_registration_on_behalf_checks_rights_as_for_the_elu(client, auth, world):
    auth.login("sec@sauvagnas.fr")
    response = register_on_behalf(client, auth, world, "maire", leave_days="24.5")
    assert response.status_code == 422 and "Entre 0 et 24 jours." in text_of(response)
    assert register_on_behalf(client, auth, world, "maire", leave_days="10").status_code == 302
    session2 = factories.training_session(capacity=5)
    db.session.commit()
    response = auth.post(
        f"{member_url(world, 'maire')}/inscription",
        {"session_id": session2.id, "funding": "commune", "leave_days": "15"},
        page_url=member_url(world, "maire"),
    )
    assert response.status_code == 422 and "Congé de formation dépassé" in text_of(response)
    again = register_on_behalf(client, auth, world, "maire")
    assert again.status_code == 422 and "Anne Roux est déjà inscrite à cette session" in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1


def test_the_secretary_sees_where_messages_go(client, auth, world):
    auth.login("sec@sauvagnas.fr")
    assert "au secrétariat de mairie" in text_of(client.get(member_url(world, "maire")))
    assert "à l'adresse indiquée ci-dessous (luc@exemple.fr)" in text_of(client.get(member_url(world, "conseiller")))


def test_entry_page_and_navigation(client, auth, world):
    auth.login("sec@sauvagnas.fr")
    page = client.get("/conseils")
    assert page.status_code == 200
    text = text_of(page)
    assert "Conseil de Sauvagnas" in text and "Pujols" not in text
    assert f'href="{council_url(world)}"' in page.get_data(as_text=True)
    assert 'href="/conseils"' in client.get("/tableau-de-bord").get_data(as_text=True)
    auth.logout()
    auth.login("agent@cdg47.fr")
    assert client.get("/conseils").status_code == 302
    assert f'href="{council_url(world)}"' in client.get(f"/collectivites/{world['commune'].id}").get_data(as_text=True)
    assert client.get(council_url(world)).status_code == 200


@pytest.mark.parametrize("email", ["sec@pujols.fr", "henri@pujols.fr"])
def test_others_get_404_and_change_nothing(client, auth, world, email):
    auth.login(email)
    token = csrf_from(client.get("/mon-profil").get_data(as_text=True))
    for url in (council_url(world), member_url(world, "maire")):
        assert client.get(url).status_code == 404
    posts = {
        member_url(world, "maire"): {"contact_email": "pirate@exemple.fr"},
        f"{member_url(world, 'conseiller')}/invitation": {},
        f"{member_url(world, 'maire')}/inscription": {"session_id": world["session"].id, "funding": "commune"},
    }
    for url, data in posts.items():
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Person, world["people"]["maire"].id).contact_email is None
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert db.session.scalar(select(User).where(User.email == "luc@exemple.fr")) is None
    if email.startswith("henri"):
        assert client.get("/conseils").status_code == 404


def test_a_person_of_another_council_is_404_even_for_staff(client, auth, world):
    auth.login("agent@cdg47.fr")
    wrong = f"{council_url(world)}/{world['people']['ailleurs'].id}"
    assert client.get(wrong).status_code == 404
    assert client.get(member_url(world, "ailleurs", "other")).status_code == 200


def test_the_sign_in_sheet_lists_an_elu_without_account(client, auth, world):
    from portal.training.registrations import register

    register(world["session"], world["people"]["adjointe1"].current_mandates[0], world["secretary"])
    db.session.commit()
    auth.login("agent@cdg47.fr")
    text = text_of(client.get(f"/formations/sessions/{world['session'].id}/emargement"))
    assert "Marie Durand" in text
