"""``flask elus import FILE``: the élus of the CDG's départements from the Répertoire national des élus."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.common import cdg
from portal.common.i18n import gettext as _
from portal.extensions import db

elus_cli = AppGroup("elus", help="Élus (Répertoire national des élus).")


@elus_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--publication-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date de publication du fichier (AAAA-MM-JJ ; par défaut : aujourd'hui) : les mandats des élus absents "
    "du fichier se terminent ce jour-là.",
)
@click.option("--dry-run", is_flag=True, help="Montre ce qui changerait, sans rien enregistrer.")
def elus_import(path: str, publication_date, dry_run: bool):
    """Importe le fichier des conseillers municipaux du RNE pour les départements du CDG."""
    from portal.people.rules import RneFileError
    from portal.people.services import import_rne

    departements = cdg.departements()
    click.echo(_("Départements du CDG : %(codes)s.", codes=", ".join(departements)))
    try:
        report = import_rne(
            path,
            departements=departements,
            publication_date=publication_date.date() if publication_date else None,
            dry_run=dry_run,
            progress=lambda line: click.echo(
                _("… %(line)s lignes lues", line=format(line, ",").replace(",", "\u202f"))
            ),
        )
    except RneFileError as exc:
        db.session.rollback()
        click.secho(_("Erreur : %(message)s Rien n'a été importé.", message=str(exc)), fg="red", err=True)
        sys.exit(1)
    for rejection in report.rejections:
        click.echo(_("Ligne %(line)s rejetée : %(reason)s", line=rejection.line, reason=rejection.reason))
    if dry_run:
        db.session.rollback()
        click.echo(_("Simulation, rien n'a été enregistré : %(summary)s", summary=report.summary()))
    else:
        db.session.commit()
        click.echo(_("Terminé : %(summary)s", summary=report.summary()))
