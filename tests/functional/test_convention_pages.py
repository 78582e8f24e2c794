"""Convention pages: staff list, filters, timeline, creation (and its refusals), follow-up forms, documents;
secretaries see only their collectivités' conventions (404 otherwise, documents included); elected officials
have no access to the area."""

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from portal.audit.models import AuditEvent
from portal.conventions import services
from portal.conventions.demo import load_conventions
from portal.conventions.models import Convention, ConventionDocument
from portal.extensions import db
from tests import factories

TODAY = date.today()


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # uploaded files go to a temporary folder
    staff = factories.user("staff", email="staff@cdg47.fr")
    commune = factories.collectivite("Laroque-Timbaut", insee="47138")
    other = factories.collectivite("Pujols", insee="47215")
    factories.user("secretary", email="sec@laroque.fr", collectivites=[commune])
    factories.user("secretary", email="sec@pujols.fr", collectivites=[other])
    factories.user(
        "elu", email="elu@laroque.fr", collectivites=[commune], function="maire", start_date=date(2026, 3, 22)
    )
    conventions = {c.title: c for c in load_conventions({"47138": commune}, staff, log=lambda _m: None)}
    db.session.commit()
    return {"staff": staff, "conventions": conventions, "commune": commune}


def html(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&amp;", "&")


def by_title(world, start: str) -> Convention:
    return next(c for title, c in world["conventions"].items() if title.startswith(start))


def test_staff_list_filters_and_timeline(client, auth, world):
    auth.login("staff@cdg47.fr")
    page = html(client.get("/conventions/"))
    assert "Accord-cadre CNFPT – AMF" in page and "Convention ENT des écoles" in page
    expired = html(client.get("/conventions/?etat=expired"))
    assert "Accord-cadre CNFPT – FNCDG" in expired and "Partenariat Préfon – AATF" not in expired
    amf_partner = next(p for p in services.all_partners() if p.name.startswith("Association des maires"))
    by_partner = html(client.get(f"/conventions/?partenaire={amf_partner.id}"))
    assert "Accord-cadre CNFPT – AMF" in by_partner and "Préfon" not in by_partner.split("<table")[1]
    assert "Préfon – AATF" in html(client.get("/conventions/?q=prefon"))
    assert client.get("/conventions/?echeance=-3").status_code == 422
    timeline = html(client.get("/conventions/chronologie"))
    assert timeline.index("2012") < timeline.index("2015") < timeline.index("2019") < timeline.index("2021")


def test_convention_page_shows_axes_children_and_signatories(client, auth, world):
    auth.login("staff@cdg47.fr")
    amf = world["conventions"]["Accord-cadre CNFPT – AMF"]
    page = html(client.get(f"/conventions/{amf.id}"))
    assert "Jacques Pélissard" in page and "François Deluga" in page
    assert "Axe 5 : Intitulé à reprendre du texte signé" in page and "Axe 5 : Axe 5" not in page
    assert "Contrat de partenariat de formation professionnelle" in page


def convention_form(partners, **overrides):
    data = {
        "title": "Convention de test",
        "kind": "partenariat",
        "signed_on": "2024-01-10",
        "start_date": "2024-02-01",
        "end_date": "2026-01-31",
        "parties-0-partner": str(partners[0]),
        "parties-1-partner": str(partners[1]),
        "signatories-0-name": "Mme Durand",
        "signatories-0-partner": str(partners[0]),
        "axes-0-title": "Formation des secrétaires de mairie",
    }
    data.update(overrides)
    return data


def test_staff_creates_a_convention_and_bad_input_saves_nothing(client, auth, world):
    auth.login("staff@cdg47.fr")
    partners = [p.id for p in services.all_partners()[:3]]
    before = db.session.scalar(select(func.count()).select_from(Convention))
    bad_dates = auth.post("/conventions/nouvelle", convention_form(partners, end_date="2023-12-31"))
    assert bad_dates.status_code == 422 and "La date de fin ne peut pas précéder la date de début." in html(bad_dates)
    one_party = auth.post("/conventions/nouvelle", convention_form(partners, **{"parties-1-partner": ""}))
    assert one_party.status_code == 422 and "au moins deux parties" in html(one_party)
    amf = world["conventions"]["Accord-cadre CNFPT – FNCDG"]  # ends 31 December 2022
    outlasting = auth.post(
        "/conventions/nouvelle", convention_form(partners, parent_id=str(amf.id), start_date="2020-01-01")
    )
    assert outlasting.status_code == 422 and "au-delà de la convention-cadre" in html(outlasting)
    assert db.session.scalar(select(func.count()).select_from(Convention)) == before
    done = auth.post("/conventions/nouvelle", convention_form(partners))
    assert done.status_code == 302
    created = db.session.scalar(select(Convention).where(Convention.title == "Convention de test"))
    assert len(created.parties) == 2 and created.axes[0].title == "Formation des secrétaires de mairie"

    url = f"/conventions/{created.id}"
    action = auth.post(
        f"{url}/actions",
        {
            "action-axis_id": str(created.axes[0].id),
            "action-title": "Session 2025",
            "action-owner": "CDG 47",
            "action-status": "planned",
            "action-due_date": "2025-06-30",
        },
        page_url=url,
    )
    assert action.status_code == 302
    empty_axis = auth.post(f"{url}/axes", {"axis-title": " ", "axis-description": ""}, page_url=url)
    assert empty_axis.status_code == 422 and "Indiquez l'intitulé de l'axe." in html(empty_axis)
    new_axis = auth.post(
        f"{url}/axes", {"axis-title": "Accompagnement numérique", "axis-description": ""}, page_url=url
    )
    assert new_axis.status_code == 302
    db.session.refresh(created)
    assert [(a.position, a.title) for a in created.axes][-1] == (2, "Accompagnement numérique")
    added = created.axes[0].actions[0]
    status_url = f"{url}/actions/{added.id}/etat"
    assert auth.post(status_url, {"status": "nimporte"}, page_url=url).status_code == 302  # refused, flashed
    db.session.refresh(added)
    assert added.status == "planned"
    assert auth.post(status_url, {"status": "done"}, page_url=url).status_code == 302
    db.session.refresh(added)
    assert added.status == "done"
    assert "Prévue → Réalisée" in html(client.get("/journal"))
    meeting = auth.post(
        f"{url}/reunions",
        {"meeting-held_on": "2024-06-15", "meeting-title": "Comité de suivi", "meeting-minutes": "Bilan d'étape"},
        page_url=url,
    )
    assert meeting.status_code == 302
    page = html(client.get(url))
    assert "Session 2025" in page and "Bilan d'étape" in page


def upload(client, auth, convention_id, name, content):
    from io import BytesIO

    from tests.conftest import csrf_from

    page = client.get(f"/conventions/{convention_id}")
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        f"/conventions/{convention_id}/documents",
        data={"document-csrf_token": token, "document-file": (BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_documents_upload_checks_and_access(client, auth, world, app):
    ent = world["conventions"]["Convention ENT des écoles – DASEN, CDG 47 et communes"]
    national = world["conventions"]["Accord-cadre CNFPT – AMF"]
    auth.login("staff@cdg47.fr")
    wrong = upload(client, auth, ent.id, "photo.png", b"\x89PNG....")
    assert wrong.status_code == 422 and "Type de fichier refusé" in html(wrong)
    fake = upload(client, auth, ent.id, "convention.pdf", b"<html></html>")
    assert fake.status_code == 422 and "ne correspond pas" in html(fake)
    app.config["CONVENTION_MAX_UPLOAD_MB"] = 1
    big = upload(client, auth, ent.id, "convention.pdf", b"%PDF" + b"0" * (1024 * 1024))
    assert big.status_code == 422 and "taille maximale de 1 Mo" in html(big)
    assert db.session.scalar(select(func.count()).select_from(ConventionDocument)) == 0
    assert upload(client, auth, ent.id, "projet ENT.pdf", b"%PDF-1.7 projet").status_code == 302
    assert upload(client, auth, national.id, "accord.pdf", b"%PDF-1.7 accord").status_code == 302
    ent_doc, national_doc = db.session.scalars(select(ConventionDocument).order_by(ConventionDocument.id)).all()
    staff_download = client.get(f"/conventions/{ent.id}/documents/{ent_doc.id}")
    assert staff_download.status_code == 200 and staff_download.data == b"%PDF-1.7 projet"
    assert "attachment" in staff_download.headers["Content-Disposition"]
    auth.logout()

    auth.login("sec@laroque.fr")
    own = client.get(f"/conventions/{ent.id}")
    assert own.status_code == 200 and "projet ENT.pdf" in html(own) and "Joindre un document" not in html(own)
    assert client.get(f"/conventions/{ent.id}/documents/{ent_doc.id}").data == b"%PDF-1.7 projet"
    assert client.get(f"/conventions/{national.id}").status_code == 404
    assert client.get(f"/conventions/{national.id}/documents/{national_doc.id}").status_code == 404
    assert client.get(f"/conventions/{ent.id}/documents/{national_doc.id}").status_code == 404
    listing = html(client.get("/conventions/"))
    assert "Convention ENT des écoles" in listing and "Accord-cadre CNFPT – AMF</a>" not in listing
    assert client.get("/conventions/nouvelle").status_code == 403
    auth.logout()

    auth.login("sec@pujols.fr")
    assert client.get(f"/conventions/{ent.id}").status_code == 404
    assert client.get(f"/conventions/{ent.id}/documents/{ent_doc.id}").status_code == 404
    auth.logout()

    auth.login("elu@laroque.fr")
    assert client.get("/conventions/").status_code == 403
    assert client.get(f"/conventions/{ent.id}").status_code == 404
    assert client.get(f"/conventions/{ent.id}/documents/{ent_doc.id}").status_code == 404
    for document in (ent_doc, national_doc):
        services.document_path(document).unlink()


def test_anonymous_is_sent_to_login(client, world):
    response = client.get("/conventions/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_staff_adds_a_partner(client, auth, world):
    auth.login("staff@cdg47.fr")
    assert auth.post("/conventions/partenaires", {"name": "Préfon", "kind": "prefon"}).status_code == 422
    done = auth.post("/conventions/partenaires", {"name": "CNFPT Occitanie", "kind": "cnfpt_delegation"})
    assert done.status_code == 302 and "CNFPT Occitanie" in html(client.get("/conventions/partenaires"))


def test_expiring_filter(client, auth, world):
    auth.login("staff@cdg47.fr")
    cnfpt = next(p for p in services.all_partners() if p.name == "CNFPT")
    fncdg = next(p for p in services.all_partners() if p.name.startswith("Fédération"))
    services.create_convention(
        services.ConventionInput(
            title="Bientôt échue",
            kind="partenariat",
            signed_on=TODAY - timedelta(days=300),
            start_date=TODAY - timedelta(days=300),
            end_date=TODAY + timedelta(days=15),
            parties=[services.PartyInput(cnfpt.id), services.PartyInput(fncdg.id)],
        ),
        world["staff"],
    )
    db.session.commit()
    page = html(client.get("/conventions/?echeance=30"))
    assert "Bientôt échue" in page and "1 convention." in page


def test_staff_edit_the_terms_and_bad_dates_change_nothing(client, auth, world):
    convention = by_title(world, "Accord-cadre CNFPT")
    child = convention.children[0] if convention.children else None
    auth.login("staff@cdg47.fr")
    url = f"/conventions/{convention.id}/modifier"
    page = html(client.get(url))
    assert convention.title in page
    base = {
        "title": convention.title,
        "kind": convention.kind,
        "object": convention.object or "",
        "signed_on": convention.signed_on.isoformat(),
        "start_date": convention.start_date.isoformat(),
        "end_date": "",
        "duration_months": "",
        "notice_months": "",
        "renewal_months": "",
        "deliberation_refs": "",
        "follow_up": "",
        "parent_id": "",
    }
    backwards = auth.post(url, {**base, "end_date": (convention.start_date - timedelta(days=1)).isoformat()})
    assert backwards.status_code == 422
    db.session.refresh(convention)
    assert convention.title.startswith("Accord-cadre CNFPT")
    if child is not None and child.end_date is not None:
        too_short = auth.post(url, {**base, "end_date": (child.end_date - timedelta(days=1)).isoformat()})
        assert too_short.status_code == 422 and "durerait au-delà" in html(too_short)
    done = auth.post(url, {**base, "title": "Accord-cadre CNFPT – AMF (modifié)"})
    assert done.status_code == 302
    db.session.refresh(convention)
    assert convention.title == "Accord-cadre CNFPT – AMF (modifié)"
    assert "Convention modifiée" in html(client.get("/journal"))
    auth.logout()
    auth.login("sec@laroque.fr")
    assert client.get(url).status_code == 403


# Names of uploaded files --------------------------------------------------------------------------------------

HEADER_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def upload_raw(client, convention_id, disposition_params: str, content: bytes):
    """A multipart body written by hand, as any script can send it: ``filename*`` (RFC 2231) carries the
    characters a browser would never put in a file name (quotes, semicolons, line breaks)."""
    from tests.conftest import csrf_from

    token = csrf_from(client.get(f"/conventions/{convention_id}").get_data(as_text=True))
    body = (
        b"--B\r\n"
        b'Content-Disposition: form-data; name="document-csrf_token"\r\n\r\n' + token.encode() + b"\r\n"
        b'--B\r\nContent-Disposition: form-data; name="document-file"; ' + disposition_params.encode() + b"\r\n"
        b"Content-Type: application/pdf\r\n\r\n" + content + b"\r\n--B--\r\n"
    )
    return client.post(
        f"/conventions/{convention_id}/documents", data=body, content_type="multipart/form-data; boundary=B"
    )


def assert_downloads(client, convention_id, document, expected_name: str, content: bytes):
    response = client.get(f"/conventions/{convention_id}/documents/{document.id}")
    assert response.status_code == 200 and response.data == content
    header = response.headers["Content-Disposition"]
    assert not HEADER_CONTROLS.search(header)
    header.encode("ascii")
    disposition, params = parse_options_header(header)
    assert disposition == "attachment" and params["filename"] == expected_name


def test_uploaded_names_are_cleaned_and_every_one_downloads(client, auth, world):
    ent = world["conventions"]["Convention ENT des écoles – DASEN, CDG 47 et communes"]
    auth.login("staff@cdg47.fr")
    long_name = "Délibération_du_conseil_municipal_" * 9 + "2027.pdf"
    assert len(long_name) > 300
    uploads = [
        (upload(client, auth, ent.id, "x.html\x00.pdf", b"%PDF-1.7 nul"), "x.html.pdf"),
        (upload(client, auth, ent.id, long_name, b"%PDF-1.7 long"), None),
        (upload(client, auth, ent.id, "De\u0301libe\u0301ration e\u0301te\u0301.pdf", b"%PDF-1.7 nfd"), None),
        (
            upload_raw(client, ent.id, "filename*=UTF-8''rapport%20%22final%22%3B%20v2%0D%0Abis.pdf", b"%PDF-1.7 q"),
            'rapport "final"; v2 bis.pdf',
        ),
    ]
    assert [response.status_code for response, _ in uploads] == [302, 302, 302, 302]
    documents = db.session.scalars(select(ConventionDocument).order_by(ConventionDocument.id)).all()
    names = [d.filename for d in documents]
    assert names[0] == "x.html.pdf" and names[3] == 'rapport "final"; v2 bis.pdf'
    assert len(names[1]) == 255 and names[1].endswith(".pdf") and names[1].startswith("Délibération_du_conseil")
    assert names[2] == "Délibération été.pdf" and len(names[2]) == 20  # NFC: one character per accented letter
    for document, content in zip(
        documents, [b"%PDF-1.7 nul", b"%PDF-1.7 long", b"%PDF-1.7 nfd", b"%PDF-1.7 q"], strict=True
    ):
        assert_downloads(client, ent.id, document, document.filename, content)
    page = html(client.get(f"/conventions/{ent.id}"))
    assert "Délibération été.pdf" in page and "\x00" not in page
    for document in documents:
        services.document_path(document).unlink()


def test_documents_stored_with_bad_names_download(client, auth, world, app):
    """Rows written before names were cleaned (PostgreSQL never stored a NUL: it refused the upload)."""
    ent = world["conventions"]["Convention ENT des écoles – DASEN, CDG 47 et communes"]
    stored = {
        "rapport\r\nfinal.pdf": "rapport final.pdf",
        "\x1b[31mrouge\x7f.pdf": "[31mrouge.pdf",
        "“citation” ; é.pdf": "“citation” ; é.pdf",
    }
    if db.engine.dialect.name == "sqlite":
        stored["x.html\x00.pdf"] = "x.html.pdf"
    documents = []
    for index, name in enumerate(stored):
        document = ConventionDocument(
            filename=name, stored_name=f"legacy{index}.pdf", content_type="application/pdf", size=9
        )
        ent.documents.append(document)
        documents.append(document)
    db.session.flush()
    for document in documents:
        path = services.document_path(document)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.7 ")
    db.session.commit()
    auth.login("staff@cdg47.fr")
    for document, expected in zip(documents, stored.values(), strict=True):
        assert_downloads(client, ent.id, document, expected, b"%PDF-1.7 ")


def test_the_largest_allowed_upload_fits_in_a_request(client, auth, world, app):
    """MAX_CONTENT_LENGTH lets the largest allowed document through; one byte more gets the form's French
    message, not a 413."""
    ent = world["conventions"]["Convention ENT des écoles – DASEN, CDG 47 et communes"]
    limit = app.config["CONVENTION_MAX_UPLOAD_MB"] * 1024 * 1024
    auth.login("staff@cdg47.fr")
    largest = b"%PDF-1.7 " + b"0" * (limit - 9)
    assert upload(client, auth, ent.id, "le plus gros.pdf", largest).status_code == 302
    document = db.session.scalar(select(ConventionDocument))
    assert document.size == limit
    too_big = upload(client, auth, ent.id, "trop gros.pdf", largest + b"0")
    assert too_big.status_code == 422 and "taille maximale" in html(too_big)
    services.document_path(document).unlink()


def test_termination_is_confirmed_with_a_reason_shown_on_the_convention(client, auth, world):
    convention = by_title(world, "Convention ENT")
    auth.login("staff@cdg47.fr")
    page_url = f"/conventions/{convention.id}"
    url = f"{page_url}/resiliation"
    on = (TODAY + timedelta(days=30)).isoformat()
    asked = auth.post(url, {"end-terminated_on": on, "end-reason": "Service repris par la région"}, page_url=page_url)
    text = html(asked)
    assert asked.status_code == 200 and "Résilier la convention « " in text and "Confirmer la résiliation" in text
    assert "Service repris par la région" in text and on in text
    db.session.refresh(convention)
    assert convention.terminated_on is None
    missing = auth.post(url, {"end-terminated_on": on, "end-reason": "", "confirmed": "1"}, page_url=page_url)
    assert missing.status_code == 422 and "Indiquez le motif de la résiliation." in html(missing)
    reason = "Service repris par la région"
    done = auth.post(url, {"end-terminated_on": on, "end-reason": reason, "confirmed": "1"}, page_url=page_url)
    assert done.status_code == 302
    db.session.refresh(convention)
    assert convention.terminated_on.isoformat() == on
    shown = html(client.get(page_url))
    assert "Motif de la résiliation" in shown and "Service repris par la région" in shown
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "convention.terminate"))
    assert event.details == {"reason": "Service repris par la région"}


# Corrections after creation -------------------------------------------------------------------------------------


def parties_form(parties, signatories) -> dict:
    """The parties page's rows as posted: ``parties`` of (partner id, representative), ``signatories`` of
    (name, role, partner id)."""
    data = {}
    for index, (partner_id, representative) in enumerate(parties):
        data[f"parties-{index}-partner"] = str(partner_id)
        data[f"parties-{index}-representative"] = representative
        data[f"parties-{index}-deliberation_ref"] = ""
    for index, (name, role, partner_id) in enumerate(signatories):
        data[f"signatories-{index}-name"] = name
        data[f"signatories-{index}-role"] = role
        data[f"signatories-{index}-partner"] = str(partner_id)
    return data


def partner_named(name: str):
    return next(p for p in services.all_partners() if p.name == name)


def test_staff_edit_parties_and_signatories_and_confirm_a_removal(client, auth, world):
    amf = world["conventions"]["Accord-cadre CNFPT – AMF"]
    amf_partner, cnfpt = partner_named("Association des maires de France (AMF)"), partner_named("CNFPT")
    prefon = partner_named("Préfon")
    page_url, url = f"/conventions/{amf.id}", f"/conventions/{amf.id}/parties"
    auth.login("staff@cdg47.fr")
    assert "Modifier les parties et les signataires" in html(client.get(page_url))
    form_page = client.get(url)
    text = html(form_page)
    assert form_page.status_code == 200 and 'value="Jacques Pélissard"' in text and 'value="François Deluga"' in text
    assert re.search(rf'<option selected value="{cnfpt.id}">CNFPT</option>', text)
    assert "parties-3-partner" in text  # room for new rows

    one_party = auth.post(url, parties_form([(amf_partner.id, "")], []))
    assert one_party.status_code == 422 and "au moins deux parties" in html(one_party)
    foreign = auth.post(
        url,
        parties_form([(amf_partner.id, ""), (cnfpt.id, "")], [("Mme Préfon", "Présidente", prefon.id)]),
    )
    assert foreign.status_code == 422 and "doit figurer parmi les parties" in html(foreign)
    db.session.refresh(amf)
    assert len(amf.parties) == 2 and len(amf.signatories) == 2

    kept_signatories = [("Jacques Pélissard", "Président", amf_partner.id), ("François Deluga", "", cnfpt.id)]
    added = auth.post(
        url,
        parties_form(
            [(amf_partner.id, "Jacques Pélissard"), (cnfpt.id, "François Deluga"), (prefon.id, "")], kept_signatories
        ),
    )
    assert added.status_code == 302  # nothing removed: no confirmation
    db.session.refresh(amf)
    assert [p.partner.name for p in amf.parties][-1] == "Préfon"
    assert amf.signatories[0].role == "Président"

    without_cnfpt = parties_form([(amf_partner.id, "Jacques Pélissard"), (prefon.id, "")], kept_signatories)
    asked = auth.post(url, without_cnfpt)
    text = html(asked)
    assert asked.status_code == 200 and "Retirer des parties de la convention « Accord-cadre CNFPT – AMF » ?" in text
    assert "Parties retirées de la convention : CNFPT." in text
    assert "Leurs signataires sont retirés avec elles : François Deluga – CNFPT." in text
    assert 'name="parties-1-partner"' in text and 'name="confirmed"' in text  # the rows are posted again
    assert '<label for="reason">Motif du retrait <span class="required">(obligatoire)</span></label>' in text
    assert 'id="reason-error"' not in text  # not refused before it is asked
    db.session.refresh(amf)
    assert "CNFPT" in [p.partner.name for p in amf.parties]

    # Confirmed without a reason (or with spaces only): refused next to the field, asked again, nothing lost.
    for blank in ("", "   "):
        refused = auth.post(url, {**without_cnfpt, "reason": blank, "confirmed": "1"})
        text = html(refused)
        assert refused.status_code == 422
        assert re.search(
            r'id="reason-error"><span class="visually-hidden">Erreur : </span>Indiquez le motif du retrait.', text
        )
        assert 'name="parties-1-partner"' in text and "Parties retirées de la convention : CNFPT." in text
        db.session.refresh(amf)
        assert [p.partner.name for p in amf.parties] == ["Association des maires de France (AMF)", "CNFPT", "Préfon"]
        assert [s.name for s in amf.signatories] == ["Jacques Pélissard", "François Deluga"]
    # Too long: the same, the text typed kept.
    too_long = auth.post(url, {**without_cnfpt, "reason": "x" * 1001, "confirmed": "1"})
    assert too_long.status_code == 422 and 'id="reason-error"' in html(too_long) and "x" * 1001 in html(too_long)
    db.session.refresh(amf)
    assert "CNFPT" in [p.partner.name for p in amf.parties]

    reason = "Le CNFPT se retire de l'accord-cadre (courrier du 2 mars)."
    done = auth.post(url, {**without_cnfpt, "reason": f"  {reason} ", "confirmed": "1"})
    assert done.status_code == 302
    db.session.refresh(amf)
    assert [p.partner.name for p in amf.parties] == ["Association des maires de France (AMF)", "Préfon"]
    assert [s.name for s in amf.signatories] == ["Jacques Pélissard"]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "convention.parties_update").order_by(AuditEvent.id)
    ).all()
    assert [e.details["parties_removed"] for e in events] == [[], ["CNFPT"]]
    assert [e.details["reason"] for e in events] == [None, reason]
    assert events[1].details["signatories_after"] == [
        "Jacques Pélissard (Président) – Association des maires de France (AMF)"
    ]
    journal = html(client.get("/journal"))
    assert "Parties et signataires d'une convention modifiés" in journal and "parties retirées : CNFPT" in journal
    assert f"parties retirées : CNFPT ; motif : {reason}" in journal
    # The convention's history says who removed the party, when and why.
    page = html(client.get(page_url))
    history = page[page.index('<h2 id="historique">') :]
    assert "Parties et signataires d'une convention modifiés" in history and "staff@cdg47.fr" in history
    assert f"parties retirées : CNFPT ; motif : {reason}" in history
    assert history.index("parties retirées : CNFPT") < history.index("parties ajoutées : Préfon")  # newest first


def test_removing_a_commune_warns_that_its_secretaries_lose_the_convention(client, auth, world):
    ent = by_title(world, "Convention ENT")
    auth.login("staff@cdg47.fr")
    url = f"/conventions/{ent.id}/parties"
    rows = [(p.partner_id, p.representative or "") for p in ent.parties if p.partner.collectivite_id is None]
    asked = auth.post(url, parties_form(rows, []))
    assert asked.status_code == 200 and "Les secrétaires de Laroque-Timbaut ne verront plus cette convention." in html(
        asked
    )


def test_staff_edit_an_axis_and_remove_one_without_actions(client, auth, world):
    amf = world["conventions"]["Accord-cadre CNFPT – AMF"]
    first, second = amf.axes[0], amf.axes[1]
    services.add_action(first, "Session 2025", None, None, "planned", world["staff"])
    db.session.commit()
    page_url = f"/conventions/{amf.id}"
    auth.login("staff@cdg47.fr")
    edit_url = f"{page_url}/axes/{second.id}/modifier"
    assert edit_url in html(client.get(page_url))
    empty = auth.post(edit_url, {"title": " ", "description": ""})
    assert empty.status_code == 422 and "Indiquez l'intitulé de l'axe." in html(empty)
    done = auth.post(edit_url, {"title": "Formation des secrétaires généraux de mairie", "description": "Sessions"})
    assert done.status_code == 302
    assert "Axe 2 : Formation des secrétaires généraux de mairie" in html(client.get(page_url))

    # An axis with actions: the page says why it cannot be removed, and a forced request changes nothing.
    first_url = f"{page_url}/axes/{first.id}/modifier"
    first_page = html(client.get(first_url))
    assert "a 1 action de suivi : il ne peut pas être supprimé" in first_page
    assert f"/axes/{first.id}/suppression" not in first_page
    forced = auth.post(f"{page_url}/axes/{first.id}/suppression", {"confirmed": "1"}, page_url=first_url)
    assert forced.status_code == 302
    assert "il ne peut pas être supprimé" in html(client.get(forced.headers["Location"]))
    db.session.refresh(amf)
    assert len(amf.axes) == 5

    remove_url = f"{page_url}/axes/{second.id}/suppression"
    asked = auth.post(remove_url, {}, page_url=edit_url)
    text = html(asked)
    assert asked.status_code == 200 and "Supprimer l'axe 2 « Formation des secrétaires généraux de mairie » ?" in text
    db.session.refresh(amf)
    assert len(amf.axes) == 5
    assert auth.post(remove_url, {"confirmed": "1"}, page_url=edit_url).status_code == 302
    db.session.expire_all()
    assert [a.position for a in amf.axes] == [1, 2, 3, 4]
    assert second.id not in [a.id for a in amf.axes]
    assert "Axe d'une convention supprimé" in html(client.get("/journal"))


def test_staff_withdraw_a_document_which_secretaries_no_longer_get(client, auth, world):
    ent = world["conventions"]["Convention ENT des écoles – DASEN, CDG 47 et communes"]
    page_url = f"/conventions/{ent.id}"
    auth.login("staff@cdg47.fr")
    assert upload(client, auth, ent.id, "projet ENT.pdf", b"%PDF-1.7 projet").status_code == 302
    assert upload(client, auth, ent.id, "convention signée.pdf", b"%PDF-1.7 signee").status_code == 302
    wrong, right = db.session.scalars(select(ConventionDocument).order_by(ConventionDocument.id)).all()
    url = f"{page_url}/documents/{wrong.id}/retrait"
    assert url in html(client.get(page_url))
    asked = auth.post(url, {}, page_url=page_url)
    text = html(asked)
    assert (
        asked.status_code == 200 and "Retirer le document « projet ENT.pdf » ?" in text and "Motif du retrait" in text
    )
    missing = auth.post(url, {"withdraw-reason": " ", "confirmed": "1"}, page_url=page_url)
    assert missing.status_code == 422 and "Indiquez le motif du retrait." in html(missing)
    db.session.refresh(wrong)
    assert wrong.withdrawn_at is None
    done = auth.post(url, {"withdraw-reason": "Projet non signé", "confirmed": "1"}, page_url=page_url)
    assert done.status_code == 302
    db.session.refresh(wrong)
    assert wrong.withdrawn and wrong.withdrawal_reason == "Projet non signé"
    page = html(client.get(page_url))
    withdrawn_part = page.split("Documents retirés", 1)[1]
    assert "projet ENT.pdf" in withdrawn_part and "Projet non signé" in withdrawn_part
    assert world["staff"].full_name in withdrawn_part
    assert "projet ENT.pdf" not in page.split("Documents retirés", 1)[0].split('id="documents"', 1)[1]
    assert url not in page  # no second withdrawal offered
    assert client.get(f"{page_url}/documents/{wrong.id}").data == b"%PDF-1.7 projet"  # staff still can
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "convention.document_withdraw"))
    assert event.details["reason"] == "Projet non signé"
    assert services.document_path(wrong).is_file()  # evidence: the file stays
    auth.logout()

    auth.login("sec@laroque.fr")
    page = html(client.get(page_url))
    assert "convention signée.pdf" in page and "projet ENT.pdf" not in page and "Documents retirés" not in page
    assert client.get(f"{page_url}/documents/{wrong.id}").status_code == 404
    assert client.get(f"{page_url}/documents/{right.id}").status_code == 200
    for document in (wrong, right):
        services.document_path(document).unlink()


def test_secretaries_cannot_reach_the_correction_pages(client, auth, world):
    ent = by_title(world, "Convention ENT")
    axis = services.add_axis(ent, "Déploiement dans les écoles", None, world["staff"])
    services.add_document(ent, "a.pdf", io.BytesIO(b"%PDF-1.7 a"), world["staff"])
    db.session.commit()
    document = ent.documents[0]
    base = f"/conventions/{ent.id}"
    auth.login("sec@laroque.fr")
    page = html(client.get(base))
    assert "Modifier les parties" not in page and "Modifier ou supprimer" not in page and "/retrait" not in page
    assert client.get(f"{base}/parties").status_code == 403
    assert client.get(f"{base}/axes/{axis.id}/modifier").status_code == 403
    for url, data in [
        (f"{base}/parties", {"parties-0-partner": "1", "confirmed": "1"}),
        (f"{base}/axes/{axis.id}/modifier", {"title": "Piraté"}),
        (f"{base}/axes/{axis.id}/suppression", {"confirmed": "1"}),
        (f"{base}/documents/{document.id}/retrait", {"withdraw-reason": "Piraté", "confirmed": "1"}),
    ]:
        assert auth.post(url, data, page_url=base).status_code == 403
    db.session.refresh(ent)
    assert axis in ent.axes and axis.title != "Piraté" and document.withdrawn_at is None and len(ent.parties) >= 2
    services.document_path(document).unlink()
