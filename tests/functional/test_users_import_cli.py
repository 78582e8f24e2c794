"""``flask users import FILE [--dry-run] [--yes]``: the same dry run and import as the staff page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from portal.accounts.import_models import AccountImport
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests.conftest import DATA_47

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "secretaires" / "secretaires-20-communes.csv"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_dry_run_then_import_then_again(app, smtp_sink):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["registry", "import", str(DATA_47), "-d", "47"]).exit_code == 0

    dry = runner.invoke(args=["users", "import", str(SAMPLE), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (
        "Ligne 4 : Compte à créer, invitation à envoyer — secretaire@allemans-du-dropt.example — Nathalie Lefèvre : "
        "Allemans-du-Dropt (47005), Auriac-sur-Dropt (47018)"
    ) in dry.output
    assert "Simulation : 16 comptes à créer, 0 compte à compléter, 0 inchangé, 0 ligne en erreur." in dry.output
    assert "rien n'a été enregistré ni envoyé" in dry.output
    assert count(User) == 0 and count(OutboxEmail) == 0 and count(AccountImport) == 0

    done = runner.invoke(args=["users", "import", str(SAMPLE)])
    assert done.exit_code == 0, done.output
    assert "Terminé : 16 comptes créés, 0 compte complété, 0 inchangé, 0 ligne en erreur." in done.output
    assert count(User) == 16 and len(smtp_sink.messages) == 16
    assert db.session.scalar(select(AccountImport.status)) == "done"
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "user.invite")) == 16

    again = runner.invoke(args=["users", "import", str(SAMPLE)])
    assert again.exit_code == 0 and "16 inchangés" in again.output and "Rien à importer." in again.output
    assert count(User) == 16 and count(OutboxEmail) == 16 and count(AccountImport) == 1


def test_lines_in_error_are_imported_only_once_confirmed(app, smtp_sink, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["registry", "import", str(DATA_47), "-d", "47"]).exit_code == 0
    path = tmp_path / "secretaires.csv"
    path.write_text("Courriel,Nom,SIREN\na@agme.fr,Claire Dubois,214700023\nb@agme.fr,Paul,999999999\n", "cp1252")
    refused = runner.invoke(args=["users", "import", str(path)], input="n\n")
    assert refused.exit_code == 1
    assert "Ligne 3 : Erreur : ligne ignorée — b@agme.fr — Paul : Code inconnu : 999999999" in refused.output
    assert "Les lignes en erreur seront ignorées. Importer les autres ?" in refused.output
    assert count(User) == 0 and count(AccountImport) == 0
    accepted = runner.invoke(args=["users", "import", str(path), "--yes"])
    assert accepted.exit_code == 0, accepted.output
    assert "Terminé : 1 compte créé, 0 compte complété, 0 inchangé, 1 ligne en erreur." in accepted.output
    assert [u.email for u in db.session.scalars(select(User))] == ["a@agme.fr"]


def test_a_bad_file_is_refused_with_the_expected_columns(app, tmp_path):
    path = tmp_path / "secretaires.csv"
    path.write_text("Courriel;Nom;Téléphone\na@b.fr;A;0553000000\n", "utf-8")
    result = app.test_cli_runner().invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1
    assert "Erreur : Colonnes inconnues : « Téléphone »." in result.output
    assert "Colonnes attendues : « Adresse électronique »" in result.output and "Rien n'a été importé." in result.output
    assert count(AccountImport) == 0
