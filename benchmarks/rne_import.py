"""Benchmark: import a national-size RNE file of conseillers municipaux (about 500,000 rows).

A deterministic generator writes a file in the ministry's layout (``;``-separated, UTF-8, dates ``dd/mm/yyyy``)
for about 28,500 communes in 96 départements, and a *newer* file in which 1 % of the élus left and 1 % changed
function. For each database (a fresh SQLite file, then a fresh PostgreSQL database; each in its own process, so
that the peak memory is its own), the schema is built by the Alembic migrations, the communes are put in the
registry, then ``import_rne`` + ``commit`` run for two CDGs:

* Lot-et-Garonne (``47``): the real case, reading the whole national file to keep one département;
* every département: the worst case, each of the 500,000 rows becoming a person and a mandate.

Each CDG imports the file (creates), the same file again (must change nothing) and the newer file (ends
departures, records new functions). Printed: counts, seconds, peak RSS.

    .venv/bin/python benchmarks/rne_import.py [--rows 500000] [--skip-postgres]

Figures only: nothing here fails on time. Target: under 180 s for an import of the whole of France.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import benchlib

PG_DATABASE = "portal_bench_rne"
TARGET_SECONDS = 180.0
SEED = 47
HEADER = (
    "Code du département;Libellé du département;Code de la collectivité à statut particulier;"
    "Libellé de la collectivité à statut particulier;Code de la commune;Libellé de la commune;Nom de l'élu;"
    "Prénom de l'élu;Code sexe;Date de naissance;Code de la catégorie socio-professionnelle;"
    "Libellé de la catégorie socio-professionnelle;Date de début du mandat;Libellé de la fonction;"
    "Date de début de la fonction;Code nationalité"
)
DEPARTEMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
FAMILY = [
    "MARTIN",
    "BERNARD",
    "THOMAS",
    "PETIT",
    "ROBERT",
    "RICHARD",
    "DURAND",
    "DUBOIS",
    "MOREAU",
    "LAURENT",
    "SIMON",
    "MICHEL",
    "LEFEBVRE",
    "LEROY",
    "ROUX",
    "DAVID",
    "BERTRAND",
    "MOREL",
    "FOURNIER",
    "GIRARD",
    "BONNET",
    "DUPONT",
    "LAMBERT",
    "FONTAINE",
    "ROUSSEAU",
    "VINCENT",
    "MULLER",
    "LEFEVRE",
    "FAURE",
    "ANDRE",
    "MERCIER",
    "BLANC",
    "GUERIN",
    "BOYER",
    "GARNIER",
    "CHEVALIER",
    "FRANCOIS",
    "LEGRAND",
    "GAUTHIER",
    "GARCIA",
    "PERRIN",
    "ROBIN",
    "CLEMENT",
    "MORIN",
    "NICOLAS",
    "HENRY",
    "ROUSSEL",
    "MATHIEU",
    "GAUTIER",
    "MASSON",
    "MARCHAND",
    "DUVAL",
    "DENIS",
    "DUMONT",
    "MARIE",
    "LEMAIRE",
    "NOEL",
    "MEYER",
]
GIVEN = {
    "F": [
        "Marie",
        "Nathalie",
        "Isabelle",
        "Sylvie",
        "Catherine",
        "Martine",
        "Christine",
        "Monique",
        "Sophie",
        "Élodie",
        "Stéphanie",
        "Sandrine",
    ],
    "M": [
        "Jean",
        "Pierre",
        "Michel",
        "Philippe",
        "Alain",
        "Patrick",
        "Nicolas",
        "Christophe",
        "Frédéric",
        "Thierry",
        "Olivier",
        "Sébastien",
    ],
}


def council_size(rng: random.Random) -> int:
    """Most communes are small: 7 to 33 conseillers, about 17 on average."""
    return rng.choice((7, 11, 11, 15, 15, 15, 19, 23, 27, 33))


def generate(path: Path, rows: int) -> dict:
    """Write a national-size file; the same ``rows`` always give the same file."""
    rng = random.Random(SEED)
    communes = []
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\r\n")
        number = 0
        while written < rows:
            departement = DEPARTEMENTS[number % len(DEPARTEMENTS)]
            insee = f"{departement}{(number // len(DEPARTEMENTS)) + 1:03d}"
            name = f"Commune {insee}"
            communes.append((departement, insee, name))
            size = min(council_size(rng), rows - written)
            adjoints = max(1, size // 5)
            for seat in range(size):
                sex = "F" if seat % 2 else "M"
                birth = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2004)}"
                if seat == 0:
                    function = "Maire"
                elif seat <= adjoints:
                    function = f"{seat}{'re' if sex == 'F' and seat == 1 else 'er' if seat == 1 else 'e'} "
                    function += "adjointe au maire" if sex == "F" else "adjoint au maire"
                else:
                    function = ""
                started = f"{rng.randint(16, 30)}/03/2026" if function else ""
                out.write(
                    f"{departement};Département {departement};;;{insee};{name};{rng.choice(FAMILY)};"
                    f"{rng.choice(GIVEN[sex])};{sex};{birth};74;Anciens cadres;15/03/2026;{function};{started};FR\r\n"
                )
                written += 1
            number += 1
    return {"rows": written, "communes": communes}


def newer_version(source: Path, target: Path) -> None:
    """The same file a quarter later: 1 line in 100 gone (departures), 1 in 100 become "Adjoint au maire"."""
    rng = random.Random(SEED + 1)
    with source.open(encoding="utf-8", newline="") as lines, target.open("w", encoding="utf-8", newline="") as out:
        out.write(next(lines))
        for line in lines:
            draw = rng.random()
            if draw < 0.01:
                continue
            values = line.split(";")
            if draw < 0.02 and not values[13]:
                values[13], values[14] = "Adjoint au maire", "01/07/2026"
            out.write(";".join(values))


def load_communes(communes: list[tuple[str, str, str]]) -> None:
    from sqlalchemy import insert

    from portal.common.text import normalise
    from portal.extensions import db
    from portal.registry.models import Collectivite

    rows = [
        {
            "kind": "commune",
            "name": name,
            "name_normalised": normalise(name),
            "insee_code": insee,
            "departement_code": departement,
            "population": 1000,
            "source": "etalab",
        }
        for departement, insee, name in communes
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Collectivite), rows[start : start + 5000])
    db.session.commit()


def timed_import(path: Path, departements: list[str], publication: str) -> dict:
    from datetime import date

    from portal.extensions import db
    from portal.people.services import import_rne

    started = time.perf_counter()
    report = import_rne(path, departements=departements, publication_date=date.fromisoformat(publication))
    db.session.commit()
    seconds = time.perf_counter() - started
    db.session.remove()
    return {
        "seconds": seconds,
        "created": report.created,
        "updated": report.updated,
        "ended": report.ended,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
        "other": report.other_departements,
    }


def child(label: str, url: str, work: Path, scope: str) -> None:
    """Runs in a child process: migrate, load the communes, import three times, print one JSON line."""
    from sqlalchemy import func, select

    from portal.accounts.models import Mandate, Person
    from portal.extensions import db

    communes = json.loads((work / "communes.json").read_text(encoding="utf-8"))
    departements = ["47"] if scope == "47" else DEPARTEMENTS
    app = benchlib.make_app(url)
    benchlib.migrate_schema(app)
    with app.app_context():
        load_communes(communes)
        runs = {
            "first": timed_import(work / "rne.csv", departements, "2026-06-01"),
            "same": timed_import(work / "rne.csv", departements, "2026-06-01"),
            "newer": timed_import(work / "rne-newer.csv", departements, "2026-10-01"),
        }
        persons = db.session.scalar(select(func.count()).select_from(Person))
        mandates = db.session.scalar(select(func.count()).select_from(Mandate))
        db.session.remove()
        db.engine.dispose()
    result = {"label": label, "scope": scope, "runs": runs, "persons": persons, "mandates": mandates}
    result["peak_rss_mb"] = benchlib.peak_rss_mb()
    print("RESULT " + json.dumps(result), flush=True)


def measure(label: str, url: str, work: Path, scope: str) -> dict:
    return benchlib.child_result(__file__, label, "--url", url, "--work", str(work), "--scope", scope)


def verdict(seconds: float) -> str:
    return "OK" if seconds < TARGET_SECONDS else "MANQUÉ"


def report(result: dict) -> None:
    scope = "Lot-et-Garonne (47)" if result["scope"] == "47" else "tous les départements"
    print(f"\n== {result['label']} — CDG : {scope} ==")
    names = {"first": "1er import", "same": "même fichier", "newer": "fichier plus récent"}
    for key, run in result["runs"].items():
        print(
            f"  {names[key]:<20}: {run['seconds']:6.1f} s"
            f"   [cible < {TARGET_SECONDS:.0f} s : {verdict(run['seconds'])}]"
            f"   créés {run['created']}, mis à jour {run['updated']}, terminés {run['ended']}, "
            f"inchangés {run['unchanged']}, rejetés {run['rejected']}, autres départements {run['other']}"
        )
    print(f"  personnes / mandats  : {result['persons']} / {result['mandates']}")
    print(f"  pic de mémoire (RSS) : {result['peak_rss_mb']:.0f} Mio")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000, help="lignes du fichier généré (défaut : %(default)s)")
    parser.add_argument("--skip-postgres", action="store_true", help="ne mesurer que SQLite")
    parser.add_argument(
        "--pg-admin-url",
        default=benchlib.DEFAULT_PG_ADMIN_URL,
        help="base de maintenance PostgreSQL où créer la base de mesure (défaut : %(default)s)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scope", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.work, args.scope)
        return 0

    print("Import du Répertoire national des élus (conseillers municipaux), fichier généré")
    print(benchlib.machine_line())
    print(benchlib.code_line())
    results = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-rne-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        generated = generate(work / "rne.csv", args.rows)
        newer_version(work / "rne.csv", work / "rne-newer.csv")
        (work / "communes.json").write_text(json.dumps(generated["communes"]), encoding="utf-8")
        size = (work / "rne.csv").stat().st_size / 1024 / 1024
        print(
            f"fichier : {generated['rows']} lignes, {len(generated['communes'])} communes, {size:.0f} Mio "
            f"(généré en {time.perf_counter() - started:.1f} s)"
        )
        for scope in ("47", "all"):
            results.append(
                measure("SQLite (fichier neuf)", f"sqlite:///{work / f'bench-{scope}.sqlite3'}", work, scope)
            )
            if not args.skip_postgres:
                url = benchlib.create_database(args.pg_admin_url, PG_DATABASE)
                try:
                    results.append(measure(f"PostgreSQL (base {PG_DATABASE} neuve)", url, work, scope))
                finally:
                    benchlib.drop_database(args.pg_admin_url, PG_DATABASE)
    for result in results:
        report(result)
    print(f"\n{benchlib.machine_line()}")
    not_idempotent = [r for r in results if r["runs"]["same"]["created"] or r["runs"]["same"]["updated"]]
    return 1 if not_idempotent else 0


if __name__ == "__main__":
    sys.exit(main())
