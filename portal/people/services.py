"""Use cases about persons: importing the élus of the Répertoire national des élus. Services only flush."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import BinaryIO

from portal.audit import services as audit
from portal.common.clock import paris_today
from portal.people import importer
from portal.people.importer import ImportReport


def import_rne(
    source: str | Path | BinaryIO,
    *,
    departements: list[str],
    publication_date: date | None = None,
    dry_run: bool = False,
    keep_lines: bool = False,
    actor=None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the conseillers municipaux of ``departements`` from an RNE file.

    Valid lines are imported and each rejected line is reported (number and reason); a problem with the file
    itself raises :class:`portal.people.rules.RneFileError` before anything is written. ``publication_date``
    (default: today) is the day the mandates of persons absent from the file end. A dry run writes nothing.
    """
    publication_date = publication_date or paris_today()
    communes = importer.communes_of(departements)
    rne = importer.read_rne(
        source, departements=departements, communes=communes, today=paris_today(), progress=progress
    )
    plan = importer.plan_import(
        rne, departements=departements, communes=communes, publication_date=publication_date, keep_lines=keep_lines
    )
    if not dry_run:
        importer.apply_plan(plan, communes)
        report = plan.report
        audit.record(
            "elus.import",
            f"Import du Répertoire national des élus (publication du {publication_date:%d/%m/%Y}) : {report.summary()}",
            actor=actor,
            details={
                "created": report.created,
                "updated": report.updated,
                "ended": report.ended,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
                "publication_date": publication_date.isoformat(),
            },
        )
    return plan.report
