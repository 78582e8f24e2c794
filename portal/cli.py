"""Flask commands: ``registry import``, ``users create|import|invite|deactivate|reactivate``, ``demo load``,
``outbox sweep``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import text

from portal.common import cdg
from portal.common.clock import paris_today
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.extensions import db

registry_cli = AppGroup("registry", help="Registre des collectivités.")
users_cli = AppGroup("users", help="Comptes utilisateurs.")
demo_cli = AppGroup("demo", help="Données de démonstration (Lot-et-Garonne).")


def _fail(message: str) -> None:
    db.session.rollback()
    click.secho(f"Erreur : {message}", fg="red", err=True)
    sys.exit(1)


@registry_cli.command("import")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option("--departement", "-d", default=None, help="Code du département à importer (tous si absent), ex. 47.")
def registry_import(directory: str, departement: str | None):
    """Importe le découpage administratif Etalab (communes.json, epci.json…) depuis DIRECTORY."""
    from portal.registry.importer import import_records, read_dataset

    try:
        dataset = read_dataset(directory, departement)
    except DomainError as exc:
        _fail(exc.message)
    scope = f"département {departement}" if departement else "France entière"
    click.echo(
        f"Lecture terminée ({scope}) : {len(dataset.communes)} communes, {len(dataset.epci)} EPCI, "
        f"{len(dataset.others)} départements et régions."
    )
    with click.progressbar(length=len(dataset), label="Import", show_pos=True, file=sys.stderr) as bar:
        summary = import_records(dataset, progress=bar.update)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Fresh statistics and visibility map: right after a bulk import the planner misjudges the table, and
        # without VACUUM the (name, id) index cannot serve index-only scans (deep list pages: 25 ms → 0.7 ms).
        # VACUUM cannot run inside a transaction: on a connection of its own, in autocommit.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) collectivite"))
    click.echo(f"Terminé : {summary.created} créées, {summary.updated} mises à jour, {summary.unchanged} inchangées.")


@users_cli.command("create")
@click.option("--email", required=True, help="Adresse électronique (identifiant de connexion).")
@click.option("--role", required=True, type=click.Choice(["staff", "secretary", "elu"]), help="Rôle du compte.")
@click.option("--collectivite", "codes", multiple=True, help="Code INSEE ou SIREN (répétable pour une secrétaire).")
@click.option("--name", "full_name", default=None, help="Nom affiché (par défaut : la partie avant @).")
@click.option(
    "--function",
    "function",
    type=click.Choice(["maire", "adjoint", "conseiller"]),
    default="conseiller",
    show_default=True,
    help="Fonction d'un élu.",
)
@click.option("--delegation/--no-delegation", default=False, help="L'élu détient une délégation.")
@click.option(
    "--mandate-start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Début du mandat (AAAA-MM-JJ ; par défaut : 22 mars 2026, dernier renouvellement général).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Lit le mot de passe sur l'entrée standard et crée un compte actif (installations scriptées) ; "
    "sans cette option, le compte est créé invité et reçoit un courriel d'invitation.",
)
def users_create(email, role, codes, full_name, function, delegation, mandate_start, password_stdin):
    """Crée un compte : invité par courriel, ou actif avec un mot de passe lu sur l'entrée standard."""
    from portal.accounts import services

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    collectivites = []
    for code in codes:
        found = services.find_collectivite_by_code(code)
        if found is None:
            _fail(f"Aucune collectivité ne porte le code {code!r} (code INSEE ou SIREN). Importez d'abord le registre.")
        collectivites.append(found)
    mandate = services.MandateInput(
        function=function,
        has_delegation=delegation,
        start_date=mandate_start.date() if mandate_start else None,
    )
    try:
        user = services.create_user(
            email=email,
            role=role,
            password=password,
            full_name=full_name,
            collectivites=collectivites,
            mandate=mandate if role == "elu" else None,
        )
    except DomainError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(
        f"Compte créé : {user.email} ({user.role_label})"
        + (f", rattaché à {', '.join(c.name for c in collectivites)}" if collectivites else "")
        + ("." if password is not None else " ; invitation envoyée.")
    )


@users_cli.command("invite")
@click.argument("email")
def users_invite(email):
    """Envoie une nouvelle invitation à un compte invité (le lien précédent cesse de fonctionner)."""
    from portal.accounts import services

    user = services.find_user_by_email(email)
    if user is None:
        _fail(f"Aucun compte pour {services.normalise_email(email)}.")
    try:
        services.send_invitation(user)
    except DomainError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"Invitation envoyée à {user.email}.")


@users_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Montre ce que ferait chaque ligne, sans rien enregistrer ni envoyer.")
@click.option("--yes", is_flag=True, help="Importe sans demander confirmation quand des lignes sont en erreur.")
def users_import(path: str, dry_run: bool, yes: bool):
    """Importe des secrétaires généraux de mairie depuis un fichier CSV ou XLSX (adresse, nom, codes INSEE ou SIREN) :
    les nouvelles sont invitées par courriel, les autres rattachées aux collectivités qui leur manquent."""
    from pathlib import Path

    from portal.accounts import bulk_import
    from portal.accounts import import_rules as rules
    from portal.accounts.tasks import run_import

    departements = cdg.departements()
    try:
        with open(path, "rb") as stream:
            table = bulk_import.read_upload(stream)
        plan = bulk_import.preview(table, departements)
    except rules.ImportFileError as exc:
        _fail(f"{exc} Rien n'a été importé.")
    db.session.rollback()
    for decision in plan.decisions:
        label = rules.PLANNED_LABELS[decision.outcome]
        who = " — ".join(part for part in (decision.email, decision.full_name) if part)
        click.echo(f"Ligne {decision.line} : {label} — {who}" + (f" : {decision.detail}" if decision.detail else ""))
    click.echo(f"Simulation : {plan.summary()}")
    counts = plan.counts
    if dry_run:
        click.echo("Simulation seulement : rien n'a été enregistré ni envoyé.")
        return
    if not (counts.created or counts.added):
        click.echo("Rien à importer.")
        return
    if counts.errors and not yes:
        click.confirm("Les lignes en erreur seront ignorées. Importer les autres ?", abort=True)
    try:
        # Run here, in this process, rather than by a worker: the command shows the progress and ends with the
        # result.
        job = bulk_import.start_import(
            table,
            filename=Path(path).name,
            upload_token=bulk_import.new_upload_token(),
            expected_digest=plan.digest,
            departements=departements,
            actor=None,
            publish=False,
        )
    except DomainError as exc:
        _fail(exc.message)
    job_id = job.id
    db.session.commit()
    with click.progressbar(length=job.total, label="Import", show_pos=True, file=sys.stderr) as bar:
        outcome = run_import(job_id, on_line=lambda: bar.update(1))
    counts = bulk_import.result_counts(job_id)
    if outcome != "done":
        from portal.accounts.import_models import AccountImport

        _fail(db.session.get(AccountImport, job_id).error or "l'import ne s'est pas terminé.")
    click.echo(f"Terminé : {rules.summary_text(counts)}")


def _revoked_tokens(count: int) -> str:
    if count == 0:
        return _("aucun jeton d'API à révoquer")
    return ngettext("%(num)s jeton d'API révoqué", "%(num)s jetons d'API révoqués", count)


def _change_activation(email: str, change) -> tuple:
    """Find the account, apply ``change`` (deactivate or reactivate: returns the tokens revoked), commit."""
    from portal.accounts import services

    user = services.find_user_by_email(email)
    if user is None:
        _fail(f"Aucun compte pour {services.normalise_email(email)}.")
    try:
        revoked = change(user)
    except DomainError as exc:
        _fail(exc.message)
    db.session.commit()
    return user, revoked


@users_cli.command("deactivate")
@click.argument("email")
def users_deactivate(email):
    """Désactive un compte : ses sessions prennent fin et ses jetons d'API sont révoqués."""
    from portal.accounts import services

    user, revoked = _change_activation(email, services.deactivate_user)
    click.echo(_("Compte désactivé : %(email)s (%(tokens)s).", email=user.email, tokens=_revoked_tokens(revoked)))


@users_cli.command("reactivate")
@click.argument("email")
def users_reactivate(email):
    """Réactive un compte, sans ses anciennes sessions ni ses anciens jetons d'API."""
    from portal.accounts import services

    user, revoked = _change_activation(email, services.reactivate_user)
    suffix = f" (jetons d'API d'avant la désactivation révoqués : {revoked})" if revoked else ""
    click.echo(f"Compte réactivé : {user.email}{suffix}.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Ne fait rien si la base contient déjà des collectivités.")
def demo_load(if_empty: bool):
    """Charge la démonstration du CDG de Lot-et-Garonne (registre officiel, effectifs fictifs, comptes)."""
    from portal.demo import loader

    if current_app.config["PORTAL_ENV"] == "production":
        _fail("les données de démonstration ne se chargent pas en production (PORTAL_ENV=production).")
    if not loader.is_empty():
        if if_empty:
            click.echo("La base contient déjà des données : démonstration non rechargée.")
            return
        _fail("la base n'est pas vide ; la démonstration se charge dans une base vide.")
    loader.load(log=click.echo)
    db.session.commit()
    click.echo("Comptes de démonstration (mot de passe : " + loader.DEMO_PASSWORD + ") :")
    for account in loader.DEMO_ACCOUNTS:
        click.echo(f"  - {account.email}  ({account.full_name})")


@click.command("outbox-sweep")
def outbox_sweep():
    """Republie les envois en attente dont le message a pu être perdu."""
    from portal.notifications.tasks import sweep_outbox

    republished = sweep_outbox.run()
    click.echo(ngettext("%(num)s envoi republié.", "%(num)s envois republiés.", republished))


@click.command("apply-affiliation-changes")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def apply_affiliation_changes(on):
    """Applique les statuts d'affiliation dont la date d'effet est atteinte."""
    from portal.affiliation.services import apply_due_changes

    count = apply_due_changes(on.date() if on else paris_today())
    db.session.commit()
    click.echo(ngettext("%(num)s statut mis à jour.", "%(num)s statuts mis à jour.", count))


def register(app: Flask) -> None:
    from portal.people.cli import elus_cli

    for command in (registry_cli, users_cli, demo_cli, outbox_sweep, apply_affiliation_changes, elus_cli):
        app.cli.add_command(command)
