"""Staff page importing the RNE file: a dry run shown line by line, then the import once confirmed."""

from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Person
from portal.extensions import db
from tests import factories
from tests.conftest import csrf_from
from tests.integration.test_people_import import SAMPLE


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # uploaded files go to a temporary folder
    for code, name in (("47138", "Laroque-Timbaut"), ("47279", "Saint-Sixte"), ("47288", "Sauvagnas")):
        factories.collectivite(name, insee=code)
    with factories.shared_password_hash():
        factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    return tmp_path


def upload(client, content: bytes, publication_date: str = "2026-09-02"):
    token = csrf_from(client.get("/elus/import").get_data(as_text=True))
    return client.post(
        "/elus/import",
        data={"csrf_token": token, "file": (BytesIO(content), "rne.csv"), "publication_date": publication_date},
        content_type="multipart/form-data",
    )


def persons() -> int:
    return db.session.scalar(select(func.count()).select_from(Person))


def test_dry_run_then_confirm(client, auth, world):
    auth.login("staff@cdg47.fr")
    page = client.get("/elus/import").get_data(as_text=True)
    assert "Importer les élus du Répertoire national des élus" in page and "(47)" in page
    content = SAMPLE.read_bytes().replace(b"ROLLAND;Pierre;M", b"ROLLAND;Pierre;Q", 1)
    preview = upload(client, content)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text
    assert "Rien n'a encore été enregistré. Fichier publié le 2 septembre 2026." in text
    assert "44 élus créés, 0 mis à jour, 0 mandat terminé, 0 inchangé, 1 ligne rejetée." in text
    assert "<td>3</td><td>Créé</td><td>Monique ROBIN</td><td>47138</td><td>1re adjointe au maire</td>" in text
    assert "<td>4</td><td><strong>Rejetée</strong></td>" in text and "Code sexe inconnu : « Q »" in text
    assert persons() == 0  # nothing written by the dry run
    confirmed = client.post(
        "/elus/import/confirmer",
        data={
            "csrf_token": csrf_from(text),
            "token": _field(text, "token"),
            "publication_date": _field(text, "publication_date"),
        },
        follow_redirects=True,
    )
    assert "Import terminé : 44 élus créés" in confirmed.get_data(as_text=True)
    assert persons() == 44
    assert list(world.joinpath("rne-imports").iterdir()) == []  # the uploaded file is gone
    # The same confirmation again: the simulation is no longer there, nothing imported twice.
    again = client.post(
        "/elus/import/confirmer",
        data={"csrf_token": csrf_from(text), "token": _field(text, "token"), "publication_date": "2026-09-01"},
        follow_redirects=True,
    )
    assert "Cette simulation n&#39;est plus disponible" in again.get_data(as_text=True) and persons() == 44


def _field(html: str, name: str) -> str:
    import re

    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


def test_a_bad_file_is_refused_in_french_with_the_expected_columns(client, auth, world):
    auth.login("staff@cdg47.fr")
    response = upload(client, b"Commune;Nom\n47138;JOLY\n")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Colonnes absentes" in text and "« Date de naissance »" in text
    assert persons() == 0
    forged = client.post(
        "/elus/import/confirmer",
        data={
            "csrf_token": csrf_from(text),
            "token": "../../secret_key-aaaaaaaaaaaa",
            "publication_date": "2026-09-01",
        },
        follow_redirects=True,
    )
    assert "Cette simulation n&#39;est plus disponible" in forged.get_data(as_text=True)


def test_a_publication_date_outside_the_portal_range_is_refused_in_french(client, auth, world):
    """The upload form's date and the confirmation's hidden copy are dates of the portal's range (issue 12,
    item 1): year 9999 was accepted, and an impossible date in the confirmation showed Python's own message."""
    auth.login("staff@cdg47.fr")
    refused = upload(client, SAMPLE.read_bytes(), publication_date="9999-12-31")
    assert refused.status_code == 422
    assert "La date doit être comprise entre le 1er janvier 1950" in refused.get_data(as_text=True)
    preview = upload(client, SAMPLE.read_bytes()).get_data(as_text=True)
    for tampered in ("2026-02-30", "9999-12-31"):
        response = client.post(
            "/elus/import/confirmer",
            data={"csrf_token": csrf_from(preview), "token": _field(preview, "token"), "publication_date": tampered},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert "Cette simulation n&#39;est plus disponible" in page and "month" not in page and "day is out" not in page
    assert persons() == 0
