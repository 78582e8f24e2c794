"""Flask commands: registry import, users create (password on standard input), demo load."""

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.affiliation.models import AffiliationDecision
from portal.catalogue.models import PayrollDeclaration
from portal.extensions import db
from portal.registry.models import Collectivite, HeadcountDeclaration
from portal.subscriptions.models import Subscription
from tests.conftest import DATA_47, TEST_PASSWORD


def test_registry_import_command_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["registry", "import", str(DATA_47), "--departement", "47"])
    assert first.exit_code == 0, first.output
    assert "319 communes, 12 EPCI" in first.output
    assert "Terminé : 332 créées, 0 mises à jour, 0 inchangées." in first.output
    second = runner.invoke(args=["registry", "import", str(DATA_47), "-d", "47"])
    assert "Terminé : 0 créées, 0 mises à jour, 332 inchangées." in second.output
    assert db.session.scalar(select(func.count()).select_from(Collectivite)) == 332


def test_registry_import_command_reports_bad_input_in_french(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["registry", "import", str(tmp_path)])
    assert result.exit_code == 1 and "Erreur : Fichier introuvable" in result.output


def test_users_create_reads_the_password_from_stdin(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["registry", "import", str(DATA_47), "-d", "47"])
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Secretariat@Mairie-Pujols.fr",
            "--role",
            "secretary",
            "--collectivite",
            "47215",
            "--collectivite",
            "214701385",
            "--password-stdin",
        ],
        input=TEST_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "rattaché à" in result.output and "Laroque-Timbaut" in result.output and "Pujols" in result.output
    user = db.session.scalar(select(User).where(User.email == "secretariat@mairie-pujols.fr"))
    assert {c.insee_code for c in user.collectivites} == {"47215", "47138"}
    assert TEST_PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2")

    elu = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "maire@pujols.fr",
            "--role",
            "elu",
            "--collectivite",
            "47215",
            "--function",
            "maire",
            "--mandate-start",
            "2026-03-22",
            "--password-stdin",
        ],
        input=TEST_PASSWORD + "\n",
    )
    assert elu.exit_code == 0, elu.output
    mandate = db.session.scalar(select(User).where(User.email == "maire@pujols.fr")).mandate
    assert mandate.function == "maire" and mandate.has_delegation and mandate.collectivite.name == "Pujols"


def test_users_create_refuses_bad_input(app):
    runner = app.test_cli_runner()
    unknown = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@b.fr",
            "--role",
            "secretary",
            "--collectivite",
            "99999",
            "--password-stdin",
        ],
        input=TEST_PASSWORD + "\n",
    )
    assert unknown.exit_code == 1 and "Aucune collectivité ne porte le code" in unknown.output
    weak = runner.invoke(
        args=["users", "create", "--email", "a@b.fr", "--role", "staff", "--password-stdin"], input="court\n"
    )
    assert weak.exit_code == 1 and "12 caractères" in weak.output
    alone = runner.invoke(
        args=["users", "create", "--email", "a@b.fr", "--role", "secretary", "--password-stdin"],
        input=TEST_PASSWORD + "\n",
    )
    assert alone.exit_code == 1 and "au moins une collectivité" in alone.output
    runner.invoke(
        args=["users", "create", "--email", "a@b.fr", "--role", "staff", "--password-stdin"], input=TEST_PASSWORD + "\n"
    )
    twice = runner.invoke(
        args=["users", "create", "--email", "A@B.fr", "--role", "staff", "--password-stdin"], input=TEST_PASSWORD + "\n"
    )
    assert twice.exit_code == 1 and "existe déjà" in twice.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_demo_load(app):
    app.config["PORTAL_ENV"] = "demo"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert (
        db.session.scalar(select(func.count()).select_from(Collectivite).where(Collectivite.kind == "commune")) == 319
    )
    statuses = dict(db.session.execute(select(Collectivite.name, Collectivite.affiliation_status)).all())
    assert statuses["Agen"] == "volontaire"
    assert statuses["Villeneuve-sur-Lot"] == "obligatoire"
    assert statuses["Marmande"] == "obligatoire"  # rose to 350: a decision is waiting, nothing changed silently
    assert statuses["Lot-et-Garonne"] == "non_affiliee"
    decision = db.session.scalar(select(AffiliationDecision).where(AffiliationDecision.state == "open"))
    assert decision.collectivite.name == "Marmande" and decision.counted_headcount == 350
    assert (
        db.session.scalar(
            select(func.count()).select_from(HeadcountDeclaration).where(HeadcountDeclaration.is_synthetic.is_(False))
        )
        == 0
    )
    assert db.session.scalar(select(func.count()).select_from(User)) == 7  # 5 accounts + 2 élus of the trainings
    from portal.training.models import Registration

    registrations = dict(
        db.session.execute(select(Registration.status, func.count()).group_by(Registration.status)).all()
    )
    assert registrations == {"registered": 3, "waiting": 1, "present": 1}
    states = dict(
        db.session.execute(select(Collectivite.name, Subscription.state).join(Subscription.collectivite)).all()
    )
    assert states == {"Laroque-Timbaut": "active", "Sauvagnas": "demandee", "Saint-Sixte": "informations_demandees"}
    assert db.session.scalar(select(func.count()).select_from(PayrollDeclaration)) > 600  # two years, every body
    sauvagnas_school = db.session.scalar(
        select(Subscription).join(Subscription.collectivite).where(Collectivite.name == "Sauvagnas")
    ).schools[0]
    from portal.catalogue.rules import uai_problem

    assert uai_problem(sauvagnas_school.uai) is None
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "déjà des données" in again.output


def test_demo_load_is_refused_in_production(app):
    app.config["PORTAL_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 1 and "production" in result.output
