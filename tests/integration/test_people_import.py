"""Import of the RNE conseillers municipaux file on the real database: persons and mandates created, functions
changed with their history, departures ended at the publication date, bad lines and bad files, idempotence."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Mandate, Person
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.people.rules import RneFileError
from portal.people.services import import_rne
from tests import factories

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "rne" / "conseillers-municipaux-sample.csv"
LINES = SAMPLE.read_text(encoding="utf-8").splitlines()
HEADER = LINES[0]


@pytest.fixture
def communes(app):
    bodies = {
        code: factories.collectivite(name, insee=code)
        for code, name in (("47138", "Laroque-Timbaut"), ("47279", "Saint-Sixte"), ("47288", "Sauvagnas"))
    }
    db.session.commit()
    return bodies


def csv_file(lines: list[str], encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO("\r\n".join(lines).encode(encoding))


def run(source, **kwargs):
    report = import_rne(source, departements=["47"], **kwargs)
    db.session.commit()
    return report


def snapshot() -> set[tuple]:
    db.session.expire_all()
    return set(
        db.session.execute(
            select(
                Person.family_name,
                Person.given_name,
                Person.sex,
                Person.birth_date,
                Mandate.collectivite_id,
                Mandate.function,
                Mandate.rank,
                Mandate.start_date,
                Mandate.function_start_date,
                Mandate.end_date,
            ).join(Mandate.person)
        ).all()
    )


def mandates_of(family_name: str, given_name: str | None = None) -> list[Mandate]:
    db.session.expire_all()
    statement = select(Mandate).join(Mandate.person).where(Person.family_name == family_name)
    if given_name is not None:
        statement = statement.where(Person.given_name == given_name)
    return list(db.session.scalars(statement.order_by(Mandate.id)))


def test_the_sample_creates_persons_and_mandates_with_their_functions(communes):
    report = run(SAMPLE, publication_date=date(2026, 6, 1))
    assert (report.created, report.updated, report.ended, report.unchanged, report.rejected) == (45, 0, 0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 45
    assert db.session.scalar(select(func.count()).select_from(Mandate)) == 45
    (robin,) = mandates_of("ROBIN")
    assert (robin.function, robin.rank, robin.function_label) == ("adjoint", 1, "1re adjointe au maire")
    assert robin.person.sex == "F" and robin.person.birth_date == date(1995, 12, 22)
    assert robin.person.source == "rne" and robin.person.user is None  # an élu without an account
    assert robin.start_date == date(2026, 3, 15) and robin.function_start_date == date(2026, 3, 22)
    assert robin.collectivite_id == communes["47138"].id and robin.has_delegation
    (joly,) = mandates_of("JOLY")
    assert joly.function_label == "Maire"
    (martinez,) = mandates_of("MARTINEZ")
    assert martinez.function_label == "Conseillère municipale" and not martinez.has_delegation
    assert report.summary() == "45 élus créés, 0 mis à jour, 0 mandat terminé, 0 inchangé, 0 ligne rejetée."
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "elus.import"))
    assert "45 élus créés" in event.summary


def test_the_same_file_twice_changes_nothing(communes):
    run(SAMPLE)
    before = snapshot()
    report = run(SAMPLE)
    assert (report.created, report.updated, report.ended, report.unchanged, report.rejected) == (0, 0, 0, 45, 0)
    assert snapshot() == before


def test_a_newer_file_ends_departures_and_records_a_promotion(communes):
    run(SAMPLE, publication_date=date(2026, 6, 1))
    newer = [
        line.replace(";15/03/2026;;;FR", ";15/03/2026;4e adjointe au maire;12/09/2026;FR")
        if "MARTINEZ;Élodie" in line
        else line
        for line in LINES
        if "DUMONT;Thierry" not in line
    ]
    # The lines of another département are not the CDG's: ignored, never rejected.
    newer.append("33;Gironde;;;33063;Bordeaux;DUPUY;Anne;F;01/02/1970;33;Cadres;15/03/2026;;;FR")
    report = run(csv_file(newer), publication_date=date(2026, 10, 1))
    assert (report.created, report.updated, report.ended, report.unchanged, report.rejected) == (0, 1, 1, 43, 0)
    assert report.other_departements == 1
    (dumont,) = mandates_of("DUMONT", "Thierry")
    assert dumont.end_date == date(2026, 10, 1)  # ended at the file's publication, never deleted
    former, current = mandates_of("MARTINEZ")
    assert (former.function, former.end_date) == ("conseiller", date(2026, 9, 12))
    assert (current.function, current.rank, current.end_date) == ("adjoint", 4, None)
    assert current.start_date == date(2026, 3, 15) and current.function_start_date == date(2026, 9, 12)
    assert current.function_label == "4e adjointe au maire" and current.person_id == former.person_id
    # The newer file again: nothing more.
    again = run(csv_file(newer), publication_date=date(2026, 10, 1))
    assert (again.created, again.updated, again.ended, again.unchanged) == (0, 0, 0, 44)
    # Dumont comes back in a later file: a new mandate row, the old one stays closed.
    back = run(SAMPLE, publication_date=date(2027, 1, 1))
    assert back.updated == 2 and back.created == 0  # Dumont back, Martinez's line differs again
    assert [m.end_date for m in mandates_of("DUMONT", "Thierry")] == [date(2026, 10, 1), None]


def test_bad_lines_are_rejected_with_their_number_and_reason_and_the_others_imported(communes):
    lines = [
        HEADER,
        LINES[1],
        LINES[2].replace("47138", "47999"),
        LINES[3].replace("ROLLAND", ""),
        LINES[4].replace("01/09/1973", "31/02/1973"),
        LINES[5].replace(";M;", ";X;"),
        LINES[5],
        LINES[5],
    ]
    report = run(csv_file(lines))
    assert report.created == 2
    assert [(r.line, r.reason) for r in report.rejections] == [
        (3, "Commune inconnue : 47999 (Laroque-Timbaut)."),
        (4, "Nom de l'élu manquant."),
        (5, "Date de naissance impossible : « 31/02/1973 »."),
        (6, "Code sexe inconnu : « X » (F ou M attendu)."),
        (8, "Même élu que la ligne 7 (nom, prénom, sexe, naissance, commune)."),
    ]
    assert db.session.scalar(select(func.count()).select_from(Person)) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "n'est pas un fichier CSV"),
        (b"", "Le fichier est vide"),
        ("Commune;Nom;Prénom\n47138;JOLY;Frédéric\n".encode(), "Colonnes absentes"),
    ],
)
def test_a_bad_file_writes_nothing_and_lists_the_expected_columns(communes, content, message):
    with pytest.raises(RneFileError) as error:
        import_rne(io.BytesIO(content), departements=["47"])
    assert message in str(error.value) and "« Nom de l'élu »" in str(error.value)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_windows_1252_iso_dates_and_reordered_columns(communes):
    columns = HEADER.split(";")
    order = list(reversed(range(len(columns))))
    lines = [";".join(columns[i] for i in order)]
    for line in LINES[1:4]:
        values = line.split(";")
        values[9] = "-".join(reversed(values[9].split("/")))  # ISO birth date
        lines.append(";".join(values[i] for i in order))
    report = run(csv_file(lines, encoding="cp1252"))
    assert report.created == 3 and report.rejected == 0
    (joly,) = mandates_of("JOLY")
    assert joly.person.given_name == "Frédéric" and joly.person.birth_date == date(1999, 9, 2)


def test_a_dry_run_writes_nothing_and_tells_each_line(communes):
    report = import_rne(SAMPLE, departements=["47"], dry_run=True, keep_lines=True)
    db.session.rollback()
    assert report.created == 45 and len(report.lines) == 45
    assert report.lines[1].line == 3 and report.lines[1].detail == "1re adjointe au maire"
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_persons_of_other_sources_are_never_ended(communes):
    elu = factories.elu(communes["47138"], "Sophie Vidal")
    db.session.commit()
    report = run(SAMPLE)
    assert report.ended == 0
    assert mandates_of("Vidal")[0].end_date is None and elu.person.source == "manual"
