"""Staff import secretaries from a file: a dry run line by line (nothing written), then a confirmed job with its
progress page, invitations through the outbox; the same file twice changes nothing and sends nothing twice."""

from __future__ import annotations

import html
import re
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.accounts.import_models import AccountImport, AccountImportResult
from portal.accounts.models import AccountStatus, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.conftest import DATA_47, csrf_from

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "secretaires" / "secretaires-20-communes.csv"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _field(page: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page).group(1)


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # uploaded files go to a temporary folder
    result = app.test_cli_runner().invoke(args=["registry", "import", str(DATA_47), "-d", "47"])
    assert result.exit_code == 0, result.output
    with factories.shared_password_hash():
        factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    return tmp_path


def upload(client, content: bytes, name: str = "secretaires.csv"):
    token = csrf_from(client.get("/comptes/import").get_data(as_text=True))
    return client.post(
        "/comptes/import",
        data={"csrf_token": token, "file": (BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def confirm(client, preview_page: str):
    return client.post(
        "/comptes/import/confirmer",
        data={
            "csrf_token": csrf_from(preview_page),
            "token": _field(preview_page, "token"),
            "digest": _field(preview_page, "digest"),
            "filename": _field(preview_page, "filename"),
        },
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_dry_run_then_job_then_same_file_again(client, auth, world, smtp_sink):
    auth.login("staff@cdg47.fr")
    page = _text(client.get("/comptes/import"))
    assert "Importer des secrétaires généraux de mairie" in page and "(47)" in page and "Codes INSEE" in page

    preview = upload(client, SAMPLE.read_bytes(), "secretaires-20-communes.csv")
    text = _text(preview)
    assert preview.status_code == 200, text
    assert "Rien n'a encore été enregistré ni envoyé." in text
    assert "16 comptes à créer, 0 compte à compléter, 0 inchangé, 0 ligne en erreur." in text
    assert (
        "<td>4</td><td>Compte à créer, invitation à envoyer</td><td>secretaire@allemans-du-dropt.example</td>"
        "<td>Nathalie Lefèvre</td><td>Allemans-du-Dropt (47005), Auriac-sur-Dropt (47018)</td>"
    ) in text
    assert "Astaffort (47015)" in text  # given by its SIREN
    assert count(User) == 1 and count(OutboxEmail) == 0 and count(AccountImport) == 0  # nothing written

    done = confirm(client, text)
    assert done.status_code == 302
    job = db.session.scalar(select(AccountImport))
    assert done.headers["Location"].endswith(f"/comptes/import/{job.id}")
    # Eager Celery: the job ran at the commit of the confirmation.
    db.session.refresh(job)
    assert (job.status, job.total, job.done) == ("done", 16, 16)
    report = _text(client.get(f"/comptes/import/{job.id}"))
    assert "16 comptes créés, 0 compte complété, 0 inchangé, 0 ligne en erreur." in report
    assert (
        "16 lignes traitées sur 16." in report and '<progress id="import-progress-bar" max="16" value="16">' in report
    )
    assert 'http-equiv="refresh"' not in report  # finished: no more refreshing

    secretaries = db.session.scalars(select(User).where(User.role == "secretary")).all()
    assert len(secretaries) == 16 and {u.status for u in secretaries} == {AccountStatus.INVITED}
    nathalie = next(u for u in secretaries if u.email == "secretaire@allemans-du-dropt.example")
    assert nathalie.full_name == "Nathalie Lefèvre"
    assert {c.name for c in nathalie.collectivites} == {"Allemans-du-Dropt", "Auriac-sur-Dropt"}
    assert sum(len(u.collectivites) for u in secretaries) == 20
    assert len(smtp_sink.messages) == 16
    assert {m["To"].addresses[0].addr_spec for m in smtp_sink.messages} == {u.email for u in secretaries}
    body = (
        next(m for m in smtp_sink.messages if m["To"].addresses[0].addr_spec == nathalie.email)
        .get_body(("plain",))
        .get_content()
    )
    assert "Auriac-sur-Dropt" in body and "/invitation/" in body

    staff_id = db.session.scalar(select(User.id).where(User.email == "staff@cdg47.fr"))
    by_staff = select(AuditEvent.action, func.count()).where(AuditEvent.actor_id == staff_id)
    actions = dict(db.session.execute(by_staff.group_by(AuditEvent.action)).all())
    assert actions["user.create"] == 16 and actions["user.invite"] == 16  # who did what: the staff who confirmed
    assert actions["accounts.import_start"] == 1 and actions["accounts.import_done"] == 1

    # The same file again: every line unchanged, nothing to confirm, nothing sent.
    again = _text(upload(client, SAMPLE.read_bytes()))
    assert "0 compte à créer, 0 compte à compléter, 16 inchangés, 0 ligne en erreur." in again
    assert "il n'y a rien à confirmer" in again and 'name="digest"' not in again
    assert count(OutboxEmail) == 16 and len(smtp_sink.messages) == 16


def test_errors_are_shown_then_skipped_and_an_existing_secretary_gains_a_collectivite(client, auth, world, smtp_sink):
    sauvagnas_secretary = _existing_secretary("sec@sauvagnas.fr", "47288")
    factories.user("elu", email="maire@agnac.fr", collectivites=[_commune("47003")])
    db.session.commit()
    auth.login("staff@cdg47.fr")
    content = (
        "Courriel;Prénom;Nom;Collectivités\r\n"
        "claire@agme.fr;Claire;Dubois;47002\r\n"
        "sec@sauvagnas.fr;Marie;Durand;47288, 47138\r\n"
        "maire@agnac.fr;Jean;Petit;47003\r\n"
        "bordeaux@mairie.fr;Anne;Roy;33063\r\n"
        "inconnue@mairie.fr;Anne;Roy;47999\r\n"
        "pas une adresse;Anne;Roy;47001\r\n"
        "claire@agme.fr;Claire;Dubois;47002\r\n"
    ).encode("cp1252")
    text = _text(upload(client, content, "secrétaires.csv"))
    assert "1 compte à créer, 1 compte à compléter, 0 inchangé, 5 lignes en erreur." in text
    assert "5 lignes sont en erreur : si vous confirmez, elles seront ignorées." in text
    assert "<td>3</td><td>Collectivités à ajouter</td>" in text and "Laroque-Timbaut (47138)</td>" in text
    assert "Un compte d'élu existe déjà pour cette adresse." in text
    assert "Code inconnu : 47999" in text
    assert "Hors des départements du CDG (47) : 33063" not in text  # Bordeaux is not in the 47 registry
    assert "Adresse électronique invalide : « pas une adresse »." in text
    assert "<td>8</td><td><strong>Erreur : ligne ignorée</strong></td>" in text
    assert "Ligne en double : identique à la ligne 2." in text

    assert confirm(client, text).status_code == 302
    job = db.session.scalar(select(AccountImport))
    db.session.refresh(job)
    assert (job.status, job.total, job.done) == ("done", 2, 2)
    outcomes = dict(db.session.execute(select(AccountImportResult.line, AccountImportResult.outcome)).all())
    assert outcomes == {2: "created", 3: "added", 4: "error", 5: "error", 6: "error", 7: "error", 8: "error"}
    db.session.refresh(sauvagnas_secretary)
    assert {c.insee_code for c in sauvagnas_secretary.collectivites} == {"47288", "47138"}
    assert sauvagnas_secretary.full_name != "Marie Durand"  # an import never renames an account
    assert [m["To"].addresses[0].addr_spec for m in smtp_sink.messages] == ["claire@agme.fr"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.collectivites"))
    assert event.summary == "Collectivités du compte sec@sauvagnas.fr : ajout de Laroque-Timbaut"
    assert event.actor_email == "staff@cdg47.fr" and event.details["import_id"] == job.id
    report = _text(client.get(f"/comptes/import/{job.id}"))
    assert "1 compte créé, 1 compte complété, 0 inchangé, 5 lignes en erreur." in report


def _commune(insee: str):
    from portal.registry.models import Collectivite

    return db.session.scalar(
        select(Collectivite).where(Collectivite.insee_code == insee, Collectivite.kind == "commune")
    )


def _existing_secretary(email: str, insee: str) -> User:
    with factories.shared_password_hash():
        return factories.user("secretary", email=email, collectivites=[_commune(insee)])


def test_a_confirmation_that_no_longer_matches_its_dry_run_writes_nothing(client, auth, world, smtp_sink):
    auth.login("staff@cdg47.fr")
    text = _text(upload(client, b"Courriel;Nom;Codes INSEE\nclaire@agme.fr;Claire Dubois;47002\n"))
    assert "1 compte à créer" in text
    # Meanwhile, someone creates the account as an élu's.
    factories.user("elu", email="claire@agme.fr", collectivites=[_commune("47002")])
    db.session.commit()
    changed = confirm(client, text)
    page = _text(changed)
    assert changed.status_code == 409
    assert "ont changé depuis la simulation" in page and "Un compte d'élu existe déjà pour cette adresse." in page
    assert count(AccountImport) == 0 and count(OutboxEmail) == 0


def test_a_confirmation_sent_twice_runs_one_job(client, auth, world, smtp_sink):
    auth.login("staff@cdg47.fr")
    text = _text(upload(client, SAMPLE.read_bytes()))
    assert confirm(client, text).status_code == 302
    again = confirm(client, text)
    assert again.status_code == 302 and again.headers["Location"].endswith("/comptes/import")
    assert count(AccountImport) == 1 and len(smtp_sink.messages) == 16


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "vide.csv", "Le fichier est vide."),
        (b"%PDF-1.4 du texte", "secretaires.pdf", "n'est ni un fichier CSV ni un classeur XLSX"),
        (b"Courriel;Nom;T\xc3\xa9l\xc3\xa9phone\n", "secretaires.csv", "Colonnes inconnues : « Téléphone »."),
        (b"Courriel;Nom\na@b.fr;A\n", "secretaires.csv", "Colonnes absentes : les codes des collectivités."),
    ],
)
def test_bad_files_are_refused_with_the_expected_columns(client, auth, world, content, name, message):
    auth.login("staff@cdg47.fr")
    response = upload(client, content, name)
    text = _text(response)
    assert response.status_code == 422
    assert message in text and "Colonnes attendues : « Adresse électronique »" in text
    assert not (world / "account-imports").exists() or not list((world / "account-imports").iterdir())


def test_a_file_over_the_limit_is_refused(app, client, auth, world):
    app.config["IMPORT_MAX_UPLOAD_MB"] = 1
    auth.login("staff@cdg47.fr")
    big = b"Courriel;Nom;Codes INSEE\n" + b"a@agme.fr;A;47002\n" * 70_000  # 1.2 MB
    response = upload(client, big)
    assert response.status_code == 422 and "dépasse la taille maximale de 1 Mo" in _text(response)
    # Above the largest request the portal reads: refused on its Content-Length, on the same page.
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = upload(client, big)
    text = _text(response)
    assert response.status_code == 413
    assert "Le fichier dépasse la taille maximale de 1 Mo" in text and "Colonnes attendues" in text


def test_the_progress_page_refreshes_itself_while_the_job_waits(client, auth, world):
    from portal.accounts import bulk_import
    from portal.accounts import import_rules as rules

    staff = db.session.scalar(select(User).where(User.email == "staff@cdg47.fr"))
    table = rules.read_table(SAMPLE.read_bytes(), max_bytes=1024 * 1024)
    job = bulk_import.start_import(
        table,
        filename="s.csv",
        upload_token="t" * 32,
        expected_digest=None,
        departements=["47"],
        actor=staff,
        publish=False,
    )
    db.session.commit()
    auth.login("staff@cdg47.fr")
    page = _text(client.get(f"/comptes/import/{job.id}"))
    assert "En attente" in page and '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "0 ligne traitée sur 16." in page
    assert f'data-progress-url="/comptes/import/{job.id}/etat"' in page
    state = client.get(f"/comptes/import/{job.id}/etat").get_json()
    assert state == {
        "status": "pending",
        "status_label": "En attente",
        "done": 0,
        "total": 16,
        "percent": 0,
        "finished": False,
        "text": "0 ligne traitée sur 16.",
    }
    assert client.get("/comptes/import/999999").status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(client, world):
    for url in ("/comptes/import", "/comptes/import/1", "/comptes/import/1/etat"):
        response = client.get(url)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_the_staff_dashboard_links_to_the_import(client, auth, world):
    auth.login("staff@cdg47.fr")
    assert 'href="/comptes/import">Importer des secrétaires</a>' in _text(client.get("/tableau-de-bord"))


def test_an_xlsx_workbook_is_read_whatever_its_name(client, auth, world):
    from tests.unit.test_account_import_rules import xlsx

    auth.login("staff@cdg47.fr")
    content = xlsx([["E-mail", "Prénom", "Nom", "SIREN"], ["claire@agme.fr", "Claire", "Dubois", 214700023]])
    text = _text(upload(client, content, "secretaires.bin"))
    assert "1 compte à créer, 0 compte à compléter, 0 inchangé, 0 ligne en erreur." in text
    assert "<td>claire@agme.fr</td><td>Claire Dubois</td><td>Agmé (47002)</td>" in text
