"""Benchmark: import the whole country's registry (Etalab découpage administratif).

For each database (a fresh SQLite file, then a fresh PostgreSQL database), the schema is built
by the Alembic migrations, then ``read_dataset(dir, None)`` + ``import_records`` + ``commit`` run
twice: the first run creates every row, the second must create none (idempotent upsert).
Printed: rows created, seconds of each run, the second run's summary, peak RSS.

Each database is measured in its own child process, so that each peak RSS is its own.

    .venv/bin/python benchmarks/import_registry.py [--data DIR] [--skip-postgres]

Figures only: nothing here fails on time. Target: under 60 s for an import.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import benchlib

PG_DATABASE = "portal_bench_import"
TARGET_SECONDS = 60.0


def run_once(app, data: Path) -> dict:
    """One import in its own app context: read, upsert, commit. Returns timings and summary."""
    from portal.extensions import db
    from portal.registry.importer import import_records, read_dataset

    with app.app_context():
        started = time.perf_counter()
        dataset = read_dataset(data, None)
        read_seconds = time.perf_counter() - started
        summary = import_records(dataset)
        db.session.commit()
        total_seconds = time.perf_counter() - started
        db.session.remove()
    return {
        "records": len(dataset),
        "communes": len(dataset.communes),
        "epci": len(dataset.epci),
        "others": len(dataset.others),
        "read_seconds": read_seconds,
        "seconds": total_seconds,
        "created": summary.created,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
    }


def child(label: str, url: str, data: Path) -> None:
    """Runs in a child process: migrate, import twice, print one JSON line."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.registry.models import Collectivite

    app = benchlib.make_app(url)
    started = time.perf_counter()
    benchlib.migrate_schema(app)
    migrate_seconds = time.perf_counter() - started
    first = run_once(app, data)
    second = run_once(app, data)
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(Collectivite))
        db.session.remove()
        db.engine.dispose()
    result = {
        "label": label,
        "migrate_seconds": migrate_seconds,
        "first": first,
        "second": second,
        "rows_in_table": rows,
        "peak_rss_mb": benchlib.peak_rss_mb(),
    }
    print("RESULT " + json.dumps(result), flush=True)


def measure(label: str, url: str, data: Path) -> dict:
    return benchlib.child_result(__file__, label, "--url", url, "--data", str(data))


def verdict(seconds: float) -> str:
    return "OK" if seconds < TARGET_SECONDS else "MANQUÉ"


def report(result: dict) -> None:
    first, second = result["first"], result["second"]
    print(f"\n== {result['label']} ==")
    print(
        f"  jeu de données          : {first['communes']} communes, {first['epci']} EPCI, "
        f"{first['others']} départements et régions ({first['records']} enregistrements)"
    )
    print(f"  migrations Alembic      : {result['migrate_seconds']:.2f} s")
    print(
        f"  1er import              : {first['created']} créées, {first['updated']} mises à jour, "
        f"{first['unchanged']} inchangées"
    )
    print(
        f"  1er import, durée       : {first['seconds']:.1f} s (dont lecture JSON {first['read_seconds']:.1f} s)"
        f"   [cible < {TARGET_SECONDS:.0f} s : {verdict(first['seconds'])}]"
    )
    idempotent = "OK" if second["created"] == 0 else "ÉCHEC : des lignes ont été dupliquées"
    print(
        f"  2e import (idempotent)  : {second['created']} créées, {second['updated']} mises à jour, "
        f"{second['unchanged']} inchangées   [0 créée attendue : {idempotent}]"
    )
    print(
        f"  2e import, durée        : {second['seconds']:.1f} s (dont lecture JSON {second['read_seconds']:.1f} s)"
        f"   [cible < {TARGET_SECONDS:.0f} s : {verdict(second['seconds'])}]"
    )
    print(f"  lignes dans la table    : {result['rows_in_table']}")
    print(f"  pic de mémoire (RSS)    : {result['peak_rss_mb']:.0f} Mio")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=benchlib.DEFAULT_DATA,
        help=f"dossier du découpage administratif (défaut : {benchlib.DEFAULT_DATA})",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="ne mesurer que SQLite")
    parser.add_argument(
        "--pg-admin-url",
        default=benchlib.DEFAULT_PG_ADMIN_URL,
        help="base de maintenance PostgreSQL où créer la base de mesure (défaut : %(default)s)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = args.data.resolve()

    if args.child:
        child(args.child, args.url, data)
        return 0

    if not (data / "communes.json").exists():
        raise SystemExit(f"Données introuvables : {data}/communes.json (option --data).")
    print(f"Import du registre national depuis {data}")
    print(benchlib.machine_line())
    print(benchlib.code_line())
    results = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        results.append(measure("SQLite (fichier neuf)", url, data))
    if not args.skip_postgres:
        url = benchlib.create_database(args.pg_admin_url, PG_DATABASE)
        try:
            results.append(measure(f"PostgreSQL (base {PG_DATABASE} neuve)", url, data))
        finally:
            benchlib.drop_database(args.pg_admin_url, PG_DATABASE)
    for result in results:
        report(result)
    print(f"\n{benchlib.machine_line()}")
    failed = [r for r in results if r["second"]["created"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
