"""Import of the conseillers municipaux file of the Répertoire national des élus (RNE, domain.md §8).

Reading is separate from writing. :func:`read_rne` streams the file (``;``-separated, UTF-8 or Windows-1252,
columns found by header name) and keeps only the rows of the CDG's départements, each checked by
:func:`portal.people.rules.parse_row`; a problem with the file itself raises :class:`RneFileError` before
anything is written. :func:`plan_import` compares the rows with what the portal holds (two SELECTs) and
:func:`apply_plan` writes the differences with bulk statements in batches, never one ORM object per row:

* a person unknown so far is created with his mandate;
* a new function, rank or term closes the current mandate row (``end_date``: the day the new function began)
  and opens a new one: the history of functions is kept, and training rights follow the person across rows;
* a person of the RNE absent from a newer file, in a commune the file covers, has his mandate closed at the
  file's publication date; nothing is ever deleted.

Persons are matched between files by family name, given name, sex, birth date and commune (never the row
number), so that importing the same file twice changes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import bindparam, insert, select, text, update

from portal.accounts.models import MUNICIPAL_FUNCTIONS, Mandate, Person, PersonSource
from portal.common.clock import utcnow
from portal.common.i18n import gettext as _
from portal.common.text import departement_code
from portal.extensions import db
from portal.people import rules
from portal.people.rules import Change, Rejection, RneFileError, RneRow
from portal.registry.kinds import Kind
from portal.registry.models import Collectivite

BATCH = 5000
PROGRESS_EVERY = 50_000
_NOT_CSV_SIGNATURES = (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0", b"\x1f\x8b")


@dataclass(frozen=True)
class LineOutcome:
    """What happens to one line of the CDG's départements (shown by the dry run)."""

    line: int
    change: str  # a rules.Change, or "rejected"
    name: str
    insee: str
    detail: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    ended: int = 0
    unchanged: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    other_departements: int = 0
    lines: list[LineOutcome] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def summary(self) -> str:
        return rules.summary_text(
            created=self.created,
            updated=self.updated,
            ended=self.ended,
            unchanged=self.unchanged,
            rejected=self.rejected,
        )


@dataclass
class RneFile:
    rows: list[RneRow]
    rejections: list[Rejection]
    other_departements: int
    lines_read: int


# Reading --------------------------------------------------------------------------------------------------------


def _open_text(raw: BinaryIO, encoding: str) -> io.TextIOWrapper:
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def _check_signature(raw: BinaryIO) -> None:
    head = raw.read(4096)
    raw.seek(0)
    if not head.strip():
        raise RneFileError(
            _("Le fichier est vide. Colonnes attendues : %(expected)s.", expected=rules.expected_columns_text())
        )
    if head.startswith(_NOT_CSV_SIGNATURES) or b"\x00" in head:
        raise RneFileError(
            _(
                "Ce fichier n'est pas un fichier CSV (texte séparé par des points-virgules). "
                "Colonnes attendues : %(expected)s.",
                expected=rules.expected_columns_text(),
            )
        )


def _rows(
    text: io.TextIOWrapper,
    departements: set[str],
    communes: dict[str, int],
    today: date,
    progress: Callable[[int], None] | None,
) -> RneFile:
    reader = csv.reader(text, delimiter=";")
    header = next(reader, None)
    if header is None:
        raise RneFileError(
            _("Le fichier est vide. Colonnes attendues : %(expected)s.", expected=rules.expected_columns_text())
        )
    columns = rules.map_columns(header)
    departement_at = columns["departement"]
    rows, rejections, others, seen = [], [], 0, {}
    line = 1
    for line, values in enumerate(reader, start=2):
        if progress is not None and line % PROGRESS_EVERY == 0:
            progress(line)
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        departement = values[departement_at] if departement_at < len(values) else ""
        if departement_code(departement) not in departements:
            others += 1
            continue
        parsed = rules.parse_row(line, values, columns, today=today, known_communes=communes)
        if isinstance(parsed, Rejection):
            rejections.append(parsed)
        elif parsed.key in seen:
            rejections.append(
                Rejection(
                    line,
                    f"Même élu que la ligne {seen[parsed.key]} (nom, prénom, sexe, naissance, commune).",
                    parsed.insee,
                )
            )
        else:
            seen[parsed.key] = line
            rows.append(parsed)
    return RneFile(rows=rows, rejections=rejections, other_departements=others, lines_read=line)


def read_rne(
    source: str | Path | BinaryIO,
    *,
    departements: Iterable[str],
    communes: dict[str, int],
    today: date,
    progress: Callable[[int], None] | None = None,
) -> RneFile:
    """The rows of ``departements`` (codes) in the file, checked against the communes the portal knows
    (``{insee: collectivite id}``). UTF-8 (with or without BOM), else Windows-1252 as Excel writes it."""
    wanted = {departement_code(d) for d in departements}
    raw = open(source, "rb") if isinstance(source, str | Path) else source  # noqa: SIM115 - closed below
    try:
        _check_signature(raw)
        try:
            return _rows(_open_text(raw, "utf-8-sig"), wanted, communes, today, progress)
        except UnicodeDecodeError:
            return _rows(_open_text(raw, "cp1252"), wanted, communes, today, progress)
        except csv.Error as exc:
            raise RneFileError(_("Ce fichier n'est pas un fichier CSV lisible (%(exc)s).", exc=exc)) from exc
    finally:
        if raw is not source:
            raw.close()


def communes_of(departements: Iterable[str]) -> dict[str, int]:
    """``{insee: collectivite id}`` of the communes of ``departements`` in the registry."""
    codes = [departement_code(d) for d in departements]
    return dict(
        db.session.execute(
            select(Collectivite.insee_code, Collectivite.id).where(
                Collectivite.kind == Kind.COMMUNE, Collectivite.departement_code.in_(codes)
            )
        ).all()
    )


# Comparing and writing ------------------------------------------------------------------------------------------


@dataclass
class Plan:
    new_persons: list[RneRow] = field(default_factory=list)
    # (person id, row): a new mandate row for a known person
    new_mandates: list[tuple[int, RneRow]] = field(default_factory=list)
    # {"id": mandate id, "end_date": day}
    closings: list[dict] = field(default_factory=list)
    report: ImportReport = field(default_factory=ImportReport)


def _current_mandates(departements: list[str]) -> dict[int, tuple[int, int, rules.CurrentMandate]]:
    """{person id: (collectivite id, mandate id, current mandate)} for the RNE persons of these départements."""
    statement = (
        select(
            Mandate.id,
            Mandate.person_id,
            Mandate.collectivite_id,
            Mandate.function,
            Mandate.rank,
            Mandate.start_date,
        )
        .join(Person, Person.id == Mandate.person_id)
        .join(Collectivite, Collectivite.id == Mandate.collectivite_id)
        .where(
            Person.source == PersonSource.RNE,
            Mandate.end_date.is_(None),
            Mandate.function.in_([f.value for f in MUNICIPAL_FUNCTIONS]),
            Collectivite.departement_code.in_(departements),
        )
        .order_by(Mandate.id)
    )
    return {
        row.person_id: (
            row.collectivite_id,
            row.id,
            rules.CurrentMandate(row.id, row.function, row.rank, row.start_date),
        )
        for row in db.session.execute(statement)
    }


def plan_import(
    rne: RneFile,
    *,
    departements: Iterable[str],
    communes: dict[str, int],
    publication_date: date,
    keep_lines: bool = False,
) -> Plan:
    """What importing ``rne`` would change, read from the database without writing."""
    codes = [departement_code(d) for d in departements]
    persons = dict(
        db.session.execute(select(Person.source_key, Person.id).where(Person.source == PersonSource.RNE)).all()
    )
    current = _current_mandates(codes)
    plan = Plan()
    report = plan.report
    report.rejections = list(rne.rejections)
    report.other_departements = rne.other_departements
    seen: set[int] = set()
    outcomes: list[LineOutcome] = []
    for row in rne.rows:
        person_id = persons.get(row.key)
        held = current.get(person_id) if person_id is not None else None
        change = rules.compare(row, held[2] if held else None, person_id is not None)
        if person_id is not None:
            seen.add(person_id)
        if change == Change.CREATED:
            plan.new_persons.append(row)
            report.created += 1
        elif change == Change.UPDATED:
            if held is not None:
                day = max(rules.change_day(row, publication_date), held[2].term_start)
                plan.closings.append({"id": held[1], "end_date": day})
            plan.new_mandates.append((person_id, row))
            report.updated += 1
        else:
            report.unchanged += 1
        if keep_lines:
            outcomes.append(
                LineOutcome(
                    row.line,
                    change.value,
                    f"{row.given_name} {row.family_name}",
                    row.insee,
                    rules.function_change_text(row, held[2] if held else None),
                )
            )
    # Departures are ended only in communes the file covers, and not where a line was rejected: that élu may be
    # the one on the rejected line.
    doubtful = {communes.get(r.insee) for r in rne.rejections}
    covered = {communes[row.insee] for row in rne.rows} - doubtful
    for person_id, (collectivite_id, mandate_id, _held) in current.items():
        if person_id not in seen and collectivite_id in covered:
            plan.closings.append({"id": mandate_id, "end_date": publication_date})
            report.ended += 1
    if keep_lines:
        outcomes.extend(LineOutcome(r.line, "rejected", "", "", r.reason) for r in rne.rejections)
        report.lines = sorted(outcomes, key=lambda o: o.line)
    return plan


def _batches(items: list, size: int = BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _mandate_values(person_id: int, row: RneRow, collectivite_id: int) -> dict:
    return {
        "person_id": person_id,
        "collectivite_id": collectivite_id,
        "function": row.function,
        "rank": row.rank,
        "has_delegation": row.function in ("maire", "adjoint"),
        "delegation_subject": None,
        "start_date": row.term_start,
        "function_start_date": row.function_start,
        "end_date": None,
    }


def _person_values(row: RneRow) -> dict:
    return {
        "given_name": row.given_name,
        "family_name": row.family_name,
        "sex": row.sex,
        "birth_date": row.birth_date,
        "source": PersonSource.RNE.value,
        "source_key": row.key,
    }


def _insert_sqlite(plan: Plan, communes: dict[str, int]) -> None:
    """Core INSERTs for many rows at once, in batches; persons' ids come back through RETURNING."""
    person, mandate = Person.__table__, Mandate.__table__
    for batch in _batches(plan.new_persons):
        created = db.session.execute(
            insert(person).returning(person.c.id, person.c.source_key), [_person_values(row) for row in batch]
        )
        ids = {key: person_id for person_id, key in created}
        db.session.execute(insert(mandate), [_mandate_values(ids[row.key], row, communes[row.insee]) for row in batch])
    for batch in _batches(plan.new_mandates):
        db.session.execute(
            insert(mandate), [_mandate_values(person_id, row, communes[row.insee]) for person_id, row in batch]
        )


def _copy(cursor, table, rows: Iterable[dict]) -> None:
    columns = None
    copy = None
    with contextlib.ExitStack() as stack:
        for values in rows:
            if copy is None:
                columns = list(values)
                copy = stack.enter_context(cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"))
            copy.write_row([values[c] for c in columns])


def _insert_postgresql(plan: Plan, communes: dict[str, int]) -> None:
    """COPY, PostgreSQL's bulk load, in the session's transaction: building one huge INSERT per batch costs more
    than the rows themselves. The persons' ids are drawn from their sequence first."""
    person, mandate = Person.__table__, Mandate.__table__
    now = utcnow()
    ids = list(
        db.session.scalars(
            text("SELECT nextval(pg_get_serial_sequence('person', 'id')) FROM generate_series(1, :n)"),
            {"n": len(plan.new_persons)},
        )
    )
    stamps = {"created_at": now, "updated_at": now}
    with db.session.connection().connection.driver_connection.cursor() as cursor:
        _copy(
            cursor,
            person,
            (
                {"id": i, **_person_values(row), "contact_email": None, **stamps}
                for i, row in zip(ids, plan.new_persons, strict=True)
            ),
        )
        _copy(
            cursor,
            mandate,
            itertools.chain(
                (_mandate_values(i, row, communes[row.insee]) for i, row in zip(ids, plan.new_persons, strict=True)),
                (_mandate_values(person_id, row, communes[row.insee]) for person_id, row in plan.new_mandates),
            ),
        )


def apply_plan(plan: Plan, communes: dict[str, int]) -> None:
    """Write the plan in bulk, never one ORM object per row: Core UPDATEs for many rows at once to close
    mandates, then the new rows (COPY on PostgreSQL, batched Core INSERTs elsewhere). Only flushes; the caller
    commits."""
    mandate = Mandate.__table__
    close = update(mandate).where(mandate.c.id == bindparam("closed_id")).values(end_date=bindparam("closed_on"))
    for batch in _batches(plan.closings):
        db.session.execute(close, [{"closed_id": c["id"], "closed_on": c["end_date"]} for c in batch])
    if db.session.get_bind().dialect.name == "postgresql":
        _insert_postgresql(plan, communes)
    else:
        _insert_sqlite(plan, communes)
