"""Subscription pages: the secretary's catalogue and request (ENT with two schools), staff validation,
documents, and 404 for another collectivité's subscriptions on every route that takes an id."""

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from portal.audit.models import AuditEvent
from portal.common.formatting import date_fr
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from portal.subscriptions.models import Document, Subscription
from tests import factories
from tests.conftest import csrf_from

Y = factories.THIS_YEAR
START = (date.today() + timedelta(days=15)).isoformat()


@pytest.fixture
def world(app):
    load_catalogue(Y)
    a = factories.collectivite("Sauvagnas")
    b = factories.collectivite("Pujols")
    factories.declare(a, Y, 4)
    factories.declare(b, Y, 20)
    factories.user("staff", email="staff@cdg47.fr")
    factories.user("secretary", email="sec.a@mairie.fr", collectivites=[a])
    factories.user("secretary", email="sec.b@mairie.fr", collectivites=[b])
    factories.user("elu", email="elu.a@mairie.fr", collectivites=[a])
    db.session.commit()
    return {"a": a, "b": b}


def ent_form(**overrides):
    data = {
        "start_date": START,
        "message": "Pour la rentrée",
        "schools-0-uai": "0470001W",
        "schools-0-school_name": "École Jean Jaurès",
        "schools-0-classes": "4",
        "schools-0-pupils": "92",
        "schools-0-director": "Mme Martin",
        "schools-1-uai": "0470002X",
        "schools-1-school_name": "École du Bourg",
        "schools-1-classes": "2",
        "schools-1-pupils": "41",
    }
    data.update(overrides)
    return data


def test_secretary_requests_the_ent_and_staff_validates(client, auth, world):
    a = world["a"]
    auth.login("sec.a@mairie.fr")
    catalogue = client.get(f"/collectivites/{a.id}/services").get_data(as_text=True)
    assert "ENT des écoles" in catalogue and "Comprise dans l'affiliation" in catalogue.replace("&#39;", "'")
    assert catalogue.index("Missions obligatoires") < catalogue.index("Socle commun de compétences (")
    url = f"/collectivites/{a.id}/services/ent-ecoles/demande"
    bad = auth.post(url, ent_form(**{"schools-1-uai": "0470002A"}))
    assert bad.status_code == 422 and "lettre de contrôle du code UAI 0470002A est incorrecte" in bad.get_data(
        as_text=True
    )
    assert db.session.scalar(select(Subscription)) is None
    done = auth.post(url, ent_form())
    assert done.status_code == 302
    subscription = db.session.scalar(select(Subscription))
    assert len(subscription.schools) == 2
    twice = auth.post(url, ent_form())
    assert twice.status_code == 422 and "déjà une demande" in twice.get_data(as_text=True)
    auth.logout()

    auth.login("staff@cdg47.fr")
    queue = client.get("/abonnements").get_data(as_text=True)
    assert "Sauvagnas" in queue
    page_url = f"/abonnements/{subscription.id}"
    validated = auth.post(
        f"{page_url}/action", {"action": "validate", "comment": "", "effective_date": START}, page_url=page_url
    )
    assert validated.status_code == 302
    db.session.expire_all()
    subscription = db.session.get(Subscription, subscription.id)
    assert subscription.state == "validee" and subscription.documents_state == "done"
    page = client.get(page_url).get_data(as_text=True)
    assert "convention-adhesion-" in page
    document = subscription.documents[0]
    download = client.get(f"{page_url}/documents/{document.id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    illegal = auth.post(f"{page_url}/action", {"action": "validate"}, page_url=page_url)
    assert illegal.status_code == 422 and "Action impossible" in illegal.get_data(as_text=True)


def test_refusal_without_reason_is_refused_in_french(client, auth, world):
    a = world["a"]
    auth.login("sec.a@mairie.fr")
    auth.post(
        f"/collectivites/{a.id}/services/rgpd-dpo/demande",
        {"start_date": START},
        page_url=f"/collectivites/{a.id}/services/rgpd-dpo/demande",
    )
    subscription = db.session.scalar(select(Subscription))
    auth.logout()
    auth.login("staff@cdg47.fr")
    page_url = f"/abonnements/{subscription.id}"
    refused = auth.post(f"{page_url}/action", {"action": "refuse", "comment": "", "confirmed": "1"}, page_url=page_url)
    assert refused.status_code == 422 and "Indiquez le motif" in refused.get_data(as_text=True)
    db.session.refresh(subscription)
    assert subscription.state == "demandee"


def test_refusal_and_termination_are_confirmed_and_their_reason_is_shown(client, auth, world):
    a = world["a"]
    auth.login("sec.a@mairie.fr")
    for code in ("rgpd-dpo", "ent-ecoles"):
        url = f"/collectivites/{a.id}/services/{code}/demande"
        auth.post(url, ent_form() if code == "ent-ecoles" else {"start_date": START}, page_url=url)
    rgpd, ent = db.session.scalars(select(Subscription).order_by(Subscription.id))
    auth.logout()
    auth.login("staff@cdg47.fr")

    page_url = f"/abonnements/{rgpd.id}"
    asked = auth.post(f"{page_url}/action", {"action": "refuse", "comment": "Hors périmètre"}, page_url=page_url)
    text = html.unescape(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "Refuser la demande « " in text and "Confirmer le refus" in text
    assert "Hors périmètre" in text and 'name="action" value="refuse"' in text
    db.session.refresh(rgpd)
    assert rgpd.state == "demandee"  # nothing before the confirmation
    done = auth.post(
        f"{page_url}/action", {"action": "refuse", "comment": "Hors périmètre", "confirmed": "1"}, page_url=page_url
    )
    assert done.status_code == 302
    shown = html.unescape(client.get(page_url).get_data(as_text=True))
    assert "Motif du refus" in shown and "Hors périmètre" in shown

    page_url = f"/abonnements/{ent.id}"
    auth.post(f"{page_url}/action", {"action": "validate", "effective_date": START}, page_url=page_url)
    ending = {"action": "end", "comment": "", "effective_date": START, "confirmed": "1"}
    missing = auth.post(f"{page_url}/action", ending, page_url=page_url)
    text = html.unescape(missing.get_data(as_text=True))
    assert missing.status_code == 422 and "Indiquez le motif de la résiliation" in text
    assert "Confirmer la résiliation" in text  # still on the confirmation page
    db.session.refresh(ent)
    assert ent.state == "validee"
    ended = auth.post(f"{page_url}/action", {**ending, "comment": "Fermeture de l'école"}, page_url=page_url)
    assert ended.status_code == 302
    db.session.refresh(ent)
    assert ent.state == "resiliee" and ent.staff_message == "Fermeture de l'école"
    shown = html.unescape(client.get(page_url).get_data(as_text=True))
    assert "Motif de la résiliation" in shown and "Fermeture de l'école" in shown
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "subscription.end"))
    assert event.details["comment"] == "Fermeture de l'école"


def test_other_collectivites_subscriptions_are_404_on_every_route(client, auth, world):
    b = world["b"]
    auth.login("sec.b@mairie.fr")
    auth.post(
        f"/collectivites/{b.id}/services/ent-ecoles/demande",
        ent_form(),
        page_url=f"/collectivites/{b.id}/services/ent-ecoles/demande",
    )
    subscription_b = db.session.scalar(select(Subscription))
    auth.logout()
    auth.login("staff@cdg47.fr")
    page_url = f"/abonnements/{subscription_b.id}"
    auth.post(f"{page_url}/action", {"action": "validate", "effective_date": START}, page_url=page_url)
    db.session.expire_all()
    document_id = db.session.get(Subscription, subscription_b.id).documents[0].id
    auth.logout()

    for email in ("sec.a@mairie.fr", "elu.a@mairie.fr"):
        auth.login(email)
        for url in (
            f"/collectivites/{b.id}/services",
            f"/collectivites/{b.id}/services/ent-ecoles/demande",
            page_url,
            f"{page_url}/documents/{document_id}",
        ):
            assert client.get(url).status_code == 404, (email, url)
        token = csrf_from(client.get("/mon-profil").get_data(as_text=True))
        assert client.post(f"{page_url}/action", data={"action": "withdraw", "csrf_token": token}).status_code == 404
        auth.logout()
    auth.login("sec.a@mairie.fr")
    assert "Pujols" not in client.get("/abonnements?etat=tous").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Subscription, subscription_b.id).state == "validee"


def test_a_document_with_a_bad_stored_name_still_downloads(client, auth, world):
    a = world["a"]
    url = f"/collectivites/{a.id}/services/ent-ecoles/demande"
    auth.login("sec.a@mairie.fr")
    assert auth.post(url, ent_form()).status_code == 302
    subscription = db.session.scalar(select(Subscription))
    document = Document(
        kind="convention", filename="convention\r\nadhésion.pdf", content_type="application/pdf", data=b"%PDF-1.7"
    )
    subscription.documents.append(document)
    db.session.commit()
    download = client.get(f"/abonnements/{subscription.id}/documents/{document.id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.7"
    header = download.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    assert parse_options_header(header) == ("attachment", {"filename": "convention adhésion.pdf"})


def test_the_ent_request_takes_any_number_of_schools_without_javascript(client, auth, world):
    a = world["a"]
    auth.login("sec.a@mairie.fr")
    url = f"/collectivites/{a.id}/services/ent-ecoles/demande"
    first = html.unescape(client.get(url).get_data(as_text=True))
    assert first.count('class="school-row"') == 1 and "Ajouter une école" in first

    added = auth.post(url, ent_form(add_school="1"))
    page = html.unescape(added.get_data(as_text=True))
    assert added.status_code == 200 and page.count('class="school-row"') == 3
    assert 'value="École du Bourg"' in page and 'value="Pour la rentrée"' not in page  # a textarea
    assert "Pour la rentrée" in page and "error-summary" not in page  # kept, and nothing checked yet
    assert db.session.scalar(select(Subscription)) is None

    removed = auth.post(url, ent_form(**{"schools-0-remove": "1"}))
    page = html.unescape(removed.get_data(as_text=True))
    assert removed.status_code == 200 and page.count('class="school-row"') == 1
    assert "École Jean Jaurès" not in page and 'value="École du Bourg"' in page

    many = {"start_date": START}
    for i in range(7):
        many |= {
            f"schools-{i}-uai": f"047000{i}",
            f"schools-{i}-school_name": f"École {i}",
            f"schools-{i}-classes": "1",
            f"schools-{i}-pupils": "20",
        }
    uais = [f"047000{i}" for i in range(7)]
    letters = {}
    from portal.catalogue.rules import uai_problem

    for uai in uais:  # the right check letter, read from the rule's own message
        wrong = uai_problem(uai + "A")
        letters[uai] = uai + ("A" if wrong is None else wrong.split("attendue : ")[1][0])
    for i, uai in enumerate(uais):
        many[f"schools-{i}-uai"] = letters[uai]
    assert auth.post(url, many).status_code == 302
    assert len(db.session.scalar(select(Subscription)).schools) == 7


def test_every_row_of_the_ent_request_shows_its_own_errors_at_once(client, auth, world):
    a = world["a"]
    auth.login("sec.a@mairie.fr")
    url = f"/collectivites/{a.id}/services/ent-ecoles/demande"
    data = ent_form(
        **{
            "schools-0-school_name": "",
            "schools-1-uai": "0470001W",  # the first row's code again
            "schools-1-classes": "deux",
            "schools-2-uai": "0470002A",
        }
    )
    refused = auth.post(url, data)
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "Le formulaire contient 7 erreurs" in page  # row 3 has only its code: three fields missing
    assert "École n° 1 — Nom de l'école : Indiquez le nom de l'école." in page
    assert "École n° 2 — Code UAI : Ce code UAI figure déjà sur une autre ligne." in page
    assert "École n° 2 — Nombre de classes :" in page
    assert "École n° 3 — Code UAI : La lettre de contrôle du code UAI 0470002A est incorrecte" in page
    assert "École n° 3 — Nombre d'élèves : Indiquez le nombre d'élèves." in page
    for error in ("schools-0-school_name", "schools-1-uai", "schools-1-classes", "schools-2-uai"):
        assert f'id="{error}-error"' in page, error  # each message next to its field
    # Nothing typed is lost.
    for value in ("0470001W", "deux", "0470002A", "Mme Martin", "92"):
        assert f'value="{value}"' in page, value
    assert db.session.scalar(select(Subscription)) is None


def test_the_end_a_secretary_requests_is_dated_in_words(client, auth, world):
    a = world["a"]
    auth.login("sec.a@mairie.fr")
    url = f"/collectivites/{a.id}/services/rgpd-dpo/demande"
    auth.post(url, {"start_date": START}, page_url=url)
    subscription = db.session.scalar(select(Subscription))
    auth.logout()
    auth.login("staff@cdg47.fr")
    page_url = f"/abonnements/{subscription.id}"
    auth.post(f"{page_url}/action", {"action": "validate", "effective_date": START}, page_url=page_url)
    auth.logout()

    auth.login("sec.a@mairie.fr")
    done = auth.post(f"{page_url}/action", {"action": "request_end", "confirmed": "1"}, page_url=page_url)
    assert done.status_code == 302
    db.session.refresh(subscription)
    text = html.unescape(client.get(page_url).get_data(as_text=True))
    assert f"La résiliation est demandée ; fin prévue le {date_fr(subscription.end_date)}." in text
    assert f"fin prévue le {subscription.end_date:%d/%m/%Y}" not in text
