"""Accounts are created invited: a single-use emailed link where the person chooses a password and accepts the
terms of use; expired, used, replaced, forged links and deactivated accounts are refused with a French page."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts import links, services
from portal.accounts.models import AccountLink, AccountStatus, LinkPurpose, User
from portal.audit.models import AuditEvent
from portal.common.clock import utcnow
from portal.extensions import db
from tests import factories
from tests.conftest import DATA_47, TEST_PASSWORD, csrf_from

NEW_PASSWORD = "une phrase de passe bien à moi"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _invitation_path(message) -> str:
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/invitation/\S+", text).group(0)
    return urlsplit(link).path


def _accept(client, path: str, password: str = NEW_PASSWORD, *, terms: bool = True):
    page = client.get(path)
    data = {"password": password, "confirm": password, "csrf_token": csrf_from(_text(page))}
    if terms:
        data["accept_terms"] = "y"
    return client.post(path, data=data)


def test_an_account_created_without_password_is_invited_and_activated_through_its_link(app, client, auth, smtp_sink):
    runner = app.test_cli_runner()
    runner.invoke(args=["registry", "import", str(DATA_47), "-d", "47"])
    result = runner.invoke(
        args=["users", "create", "--email", "Secretariat@Mairie-Pujols.fr", "--role", "secretary"]
        + ["--collectivite", "47215", "--name", "Sophie Martin"]
    )
    assert result.exit_code == 0, result.output
    assert "invitation envoyée" in result.output
    user = db.session.scalar(select(User).where(User.email == "secretariat@mairie-pujols.fr"))
    assert user.status == AccountStatus.INVITED and user.password_hash is None and user.invited_at is not None

    [message] = smtp_sink.messages
    assert message["To"].addresses[0].addr_spec == "secretariat@mairie-pujols.fr"
    assert message["Subject"] == "Votre accès au portail du CDG de Lot-et-Garonne — Portail CDG 47"
    text = message.get_body(("plain",)).get_content()
    assert "Bonjour Sophie Martin" in text and "Secrétaire général de mairie" in text and "Pujols" in text
    assert "valable 7 jours" in text
    assert app.config["PORTAL_BASE_URL"] + "/invitation/" in text, "links are built on the public address"
    path = _invitation_path(message)

    # Invited: no password yet, so no login.
    assert auth.login("secretariat@mairie-pujols.fr", "une phrase de passe au hasard").status_code == 401

    page = client.get(path)
    assert page.status_code == 200
    body = _text(page)
    assert "secretariat@mairie-pujols.fr" in body and "conditions d'utilisation" in body
    without_terms = _accept(client, path, terms=False)
    assert without_terms.status_code == 422
    assert "Acceptez les conditions d'utilisation" in _text(without_terms)
    weak = _accept(client, path, password="motdepasse123")
    assert weak.status_code == 422 and "courant" in _text(weak)
    assert db.session.get(User, user.id).status == AccountStatus.INVITED

    done = _accept(client, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/connexion")
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.status == AccountStatus.ACTIVE and user.terms_accepted_at is not None
    assert auth.login("secretariat@mairie-pujols.fr", NEW_PASSWORD).status_code == 302

    again = client.get(path)
    assert again.status_code == 400
    kinds = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == user.id)).all()
    assert {"user.create", "user.invite", "user.invitation_accepted"} <= set(kinds)


def test_an_expired_invitation_offers_a_new_one_which_replaces_it(app, client, smtp_sink):
    staff = factories.user("staff")
    user = services.create_user(email="nouvelle@mairie.fr", role="staff", full_name="Nadia Nouvelle", actor=staff)
    db.session.commit()
    [first] = smtp_sink.messages
    assert f"{staff.full_name} vous a ouvert un compte" in first.get_body(("plain",)).get_content()
    path = _invitation_path(first)

    later = utcnow() + timedelta(days=app.config["INVITATION_MAX_AGE_DAYS"], seconds=1)
    with time_machine.travel(later):
        expired = client.get(path)
        body = _text(expired)
        assert expired.status_code == 400 and "a expiré" in body and "Recevoir un nouveau lien" in body
        resent = client.post(
            "/mot-de-passe/oubli", data={"email": user.email, "csrf_token": csrf_from(body)}, follow_redirects=False
        )
        assert resent.status_code == 302
        assert len(smtp_sink.messages) == 2
        second = smtp_sink.messages[1]
        assert second["Subject"].startswith("Votre accès au portail"), "an invited account gets an invitation"
        assert _accept(client, _invitation_path(second)).status_code == 302
    kinds = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == user.id)).all()
    assert "user.invite_again" in kinds


def test_resending_replaces_the_previous_link(app, client, smtp_sink):
    user = services.create_user(email="nouvelle@mairie.fr", role="staff")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "invite", "NOUVELLE@mairie.fr"])
    assert result.exit_code == 0, result.output
    first, second = smtp_sink.messages
    replaced = client.get(_invitation_path(first))
    assert replaced.status_code == 400 and "remplacé par un lien plus récent" in _text(replaced)
    assert client.get(_invitation_path(second)).status_code == 200
    assert user.status == AccountStatus.INVITED


def test_only_invited_accounts_get_invitations(app):
    factories.user("staff", email="actif@cdg47.fr")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "invite", "actif@cdg47.fr"])
    assert result.exit_code != 0 and "rien à envoyer" in result.output
    assert "Aucun compte" in app.test_cli_runner().invoke(args=["users", "invite", "personne@nulle.fr"]).output


def test_forged_links_and_links_of_deactivated_accounts_are_refused(client, smtp_sink):
    user = services.create_user(email="nouvelle@mairie.fr", role="staff")
    db.session.commit()
    path = _invitation_path(smtp_sink.messages[0])
    forged = client.get("/invitation/" + "A" * 43)
    assert forged.status_code == 400 and "n'est pas valable" in _text(forged)
    assert "Recevoir un nouveau lien" not in _text(forged), "nothing tells a forger about accounts"
    assert client.get("/invitation/x").status_code == 400
    assert client.get(path[:-1] + ("A" if path[-1] != "A" else "B")).status_code == 400

    services.deactivate_user(user)
    db.session.commit()
    refused = client.get(path)
    assert refused.status_code == 400 and "désactivé" in _text(refused)
    posted = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "accept_terms": "y"})
    assert posted.status_code == 400
    assert db.session.get(User, user.id).password_hash is None


def test_a_link_is_used_once_even_by_simultaneous_submissions(app):
    user = services.create_user(email="nouvelle@mairie.fr", role="staff")
    db.session.flush()
    secret = links.issue(user, LinkPurpose.INVITATION, timedelta(days=1))
    # Two requests both passed the check before either used the link: the guarded update lets one through.
    first = links.check(secret, LinkPurpose.INVITATION)
    links.use(first)
    with pytest.raises(links.LinkRefused, match="déjà été utilisé"):
        links.use(first)


def test_links_stored_only_as_digests(app, smtp_sink):
    user = services.create_user(email="nouvelle@mairie.fr", role="staff")
    db.session.commit()
    secret = _invitation_path(smtp_sink.messages[0]).rsplit("/", 1)[1]
    stored = db.session.scalars(select(AccountLink.secret_digest).where(AccountLink.user_id == user.id)).all()
    assert stored and secret not in stored and all(len(digest) == 64 for digest in stored)


def test_forgotten_password_of_an_invited_account_sends_the_invitation_again(client, auth, smtp_sink):
    services.create_user(email="nouvelle@mairie.fr", role="staff")
    db.session.commit()
    assert auth.post("/mot-de-passe/oubli", {"email": "nouvelle@mairie.fr"}).status_code == 302
    assert [m["Subject"].split(" — ")[0] for m in smtp_sink.messages] == [
        "Votre accès au portail du CDG de Lot-et-Garonne"
    ] * 2


def test_email_links_ignore_a_forged_host_header(app, client, smtp_sink):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    page = client.get("/mot-de-passe/oubli", headers={"Host": "malveillant.example"})
    client.post(
        "/mot-de-passe/oubli",
        data={"email": "agent@cdg47.fr", "csrf_token": csrf_from(_text(page))},
        headers={"Host": "malveillant.example"},
    )
    text = smtp_sink.messages[0].get_body(("plain",)).get_content()
    assert "malveillant" not in text and app.config["PORTAL_BASE_URL"] + "/mot-de-passe/reinitialiser/" in text


def test_scripted_accounts_with_a_password_are_active_at_once(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "agent@cdg47.fr", "--role", "staff", "--password-stdin"],
        input=TEST_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "agent@cdg47.fr"))
    assert user.status == AccountStatus.ACTIVE and user.invited_at is None


def test_terms_of_use_are_public_and_linked_from_every_page(client):
    page = client.get("/conditions-d-utilisation")
    assert page.status_code == 200 and "Données personnelles" in _text(page)
    assert 'href="/conditions-d-utilisation"' in _text(client.get("/connexion"))
