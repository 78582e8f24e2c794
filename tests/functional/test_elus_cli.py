"""``flask elus import``: summary, rejected lines, dry run, bad file, idempotence."""

from sqlalchemy import func, select

from portal.accounts.models import Mandate, Person
from portal.extensions import db
from tests import factories
from tests.integration.test_people_import import SAMPLE


def _communes():
    for code, name in (("47138", "Laroque-Timbaut"), ("47279", "Saint-Sixte"), ("47288", "Sauvagnas")):
        factories.collectivite(name, insee=code)
    db.session.commit()


def test_elus_import_command(app, tmp_path):
    _communes()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["elus", "import", str(SAMPLE), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Simulation, rien n'a été enregistré : 45 élus créés" in dry.output
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0

    result = runner.invoke(args=["elus", "import", str(SAMPLE), "--publication-date", "2026-06-01"])
    assert result.exit_code == 0, result.output
    assert "Départements du CDG : 47." in result.output
    assert "Terminé : 45 élus créés, 0 mis à jour, 0 mandat terminé, 0 inchangé, 0 ligne rejetée." in result.output
    assert db.session.scalar(select(func.count()).select_from(Mandate)) == 45

    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    newer = tmp_path / "rne.csv"
    newer.write_text("\n".join([lines[0], *lines[1:44], lines[44].replace(";F;", ";Z;")]), encoding="utf-8")
    again = runner.invoke(args=["elus", "import", str(newer), "--publication-date", "2026-10-01"])
    assert again.exit_code == 0, again.output
    assert "Ligne 45 rejetée : Code sexe inconnu : « Z » (F ou M attendu)." in again.output
    # The last line is rejected, the one before it absent: in a commune with a rejected line nobody is ended (the
    # élu of the rejected line may be the one missing).
    assert "Terminé : 0 élu créé, 0 mis à jour, 0 mandat terminé, 43 inchangés, 1 ligne rejetée." in again.output
    newer.write_text("\n".join(lines[:45]), encoding="utf-8")
    fixed = runner.invoke(args=["elus", "import", str(newer), "--publication-date", "2026-10-01"])
    assert "Terminé : 0 élu créé, 0 mis à jour, 1 mandat terminé, 44 inchangés, 0 ligne rejetée." in fixed.output


def test_elus_import_command_refuses_a_bad_file(app, tmp_path):
    _communes()
    bad = tmp_path / "elus.csv"
    bad.write_text("Commune;Nom\n47138;JOLY\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["elus", "import", str(bad)])
    assert result.exit_code == 1
    assert "Colonnes absentes" in result.output and "« Date de naissance »" in result.output
    assert "Rien n'a été importé." in result.output
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
