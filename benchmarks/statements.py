"""Benchmark: the yearly statements of the whole country, and the secretary's catalogue page under load.

Builds a national database (PostgreSQL ``portal_bench_statements`` by default, created then dropped;
``--sqlite`` for a temporary SQLite file) with the Alembic migrations: the whole registry
(``portal.registry.importer``), one synthetic headcount declaration per body and its affiliation status
(``web_pages.build_database``), the status history (one ``affiliation_status_change`` per body, effective
2020-01-01), one payroll declaration per body for the year, the demo catalogue (``load_catalogue``: services,
tariffs and cotisation rates of the year) and on average 5 active subscriptions per body among the
facultative services, with the quantities their tariff needs; everything after the import is bulk-inserted.
Then, each in its own child process (so that each peak RSS is its own):

1. ``portal.statements.services.statements_for(year)`` consumed over every body: bodies/s, seconds, peak
   RSS, how many statements have a cotisation and how many have service lines (they must not be empty);
2. the streamed CSV export ``/cotisations/<year>/releves.csv`` through the Flask test client, logged in as
   staff through the login form, the whole body read: same figures, plus bytes and lines;

target for both: under 30 s. Then the secretary's catalogue page ``/collectivites/<id>/services`` (a
secretary account created with ``create_user`` for Agen, logged in through the real form) under ``wrk``
(16 connections, gunicorn with 2 sync workers, production settings), next to the bare Flask app served the
same way in the same run: req/s, p50, p99; target p99 under 100 ms. Figures only: nothing fails on time.

    .venv/bin/python benchmarks/statements.py [--sqlite] [--duration 15s] [--connections 16] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

import benchlib
import web_pages

PG_DATABASE = "portal_bench_statements"
SECRETARY_EMAIL = "bench.secretaire@mairie.example"
SECRETARY_PASSWORD = "mot-de-passe-de-la-secretaire-du-banc"
TARGET_SECONDS = 30.0
P99_TARGET_MS = web_pages.P99_TARGET_MS
STATUS_SINCE = date(2020, 1, 1)
PAYROLL_PER_AGENT = 31_500  # euros a year, charges included: a plausible order of magnitude
BATCH = 10_000
SEED = 47


# Database -------------------------------------------------------------------------------------


def _chunks(rows: list, size: int = BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def quantities_for(service, agents: int, population: int | None, rng: random.Random) -> dict[str, int]:
    """What a request for ``service`` records (its request fields), with plausible values for the body."""
    quantities: dict[str, int] = {}
    for name in service.request_fields:
        if name == "agents":
            quantities["agents"] = max(agents, 1)
        elif name == "hours":
            quantities["hours"] = rng.randint(20, 400)
        elif name == "days":
            quantities["days"] = rng.randint(1, 30)
        elif name == "pupils":
            quantities["pupils"] = rng.randint(20, 600)
        elif name == "ent_schools":
            schools = min(40, max(1, (population or 0) // 1500))
            quantities["schools"] = schools
            quantities["pupils"] = sum(rng.randint(30, 180) for _ in range(schools))
    return quantities


def build_database(url: str, data: Path, year: int, per_body: float) -> dict:
    """The registry database of web_pages.py, then statuses history, payrolls, catalogue, subscriptions."""
    from sqlalchemy import insert, select, text

    from portal.accounts.services import create_user
    from portal.affiliation.models import AffiliationStatusChange
    from portal.catalogue.models import PayrollDeclaration, Service
    from portal.common.clock import utcnow
    from portal.demo.catalogue import load_catalogue
    from portal.extensions import db
    from portal.registry.models import Collectivite, HeadcountDeclaration
    from portal.subscriptions.models import Subscription

    facts = web_pages.build_database(url, data, analyze=False)
    timings = facts["timings"]
    rng = random.Random(SEED)
    app = benchlib.make_app(url)
    with app.app_context():
        started = time.perf_counter()
        now = utcnow()
        bodies = db.session.execute(
            select(Collectivite.id, Collectivite.affiliation_status, Collectivite.population)
        ).all()
        agents = dict(
            db.session.execute(
                select(
                    HeadcountDeclaration.collectivite_id,
                    HeadcountDeclaration.titulaires_temps_complet
                    + HeadcountDeclaration.titulaires_temps_non_complet
                    + HeadcountDeclaration.contractuels,
                ).where(HeadcountDeclaration.year == year)
            ).all()
        )
        changes = [
            {
                "collectivite_id": body_id,
                "status": status,
                "effective_date": STATUS_SINCE,
                "explanation": "Donnée synthétique (banc d'essai)",
                "recorded_at": now,
            }
            for body_id, status, _ in bodies
            if status
        ]
        for chunk in _chunks(changes):
            db.session.execute(insert(AffiliationStatusChange.__table__), chunk)
        timings["statuts (historique)"] = time.perf_counter() - started

        started = time.perf_counter()
        payrolls = [
            {
                "collectivite_id": body_id,
                "year": year,
                "amount": Decimal(
                    max(agents.get(body_id, 0), 1) * PAYROLL_PER_AGENT * rng.uniform(0.85, 1.15)
                ).quantize(Decimal("0.01")),
                "declared_at": now,
                "details": {"synthetic": True},
            }
            for body_id, _, _ in bodies
        ]
        for chunk in _chunks(payrolls):
            db.session.execute(insert(PayrollDeclaration.__table__), chunk)
        timings["masses salariales"] = time.perf_counter() - started

        started = time.perf_counter()
        load_catalogue(year)
        db.session.flush()
        facultative = db.session.scalars(
            select(Service).where(Service.group == "facultative").order_by(Service.position)
        ).all()
        first_day, days = date(year, 1, 1), (date(year, 12, 31) - date(year, 1, 1)).days + 1
        subscriptions = []
        for body_id, _, population in bodies:
            # 1 to 2 × per_body - 1 services, uniformly: per_body on average (5 by default, among 9).
            count = min(len(facultative), rng.randint(1, max(1, round(2 * per_body - 1))))
            for service in rng.sample(facultative, count):
                start = first_day + timedelta(days=rng.randrange(days))
                requested = datetime.combine(start - timedelta(days=30), clock(9), tzinfo=UTC)
                subscriptions.append(
                    {
                        "collectivite_id": body_id,
                        "service_id": service.id,
                        "state": "active",
                        "requested_at": requested,
                        "start_date": start,
                        "details": {
                            "quantities": quantities_for(service, agents.get(body_id, 0), population, rng),
                            "message": None,
                        },
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        for chunk in _chunks(subscriptions):
            db.session.execute(insert(Subscription.__table__), chunk)
        db.session.commit()
        timings["catalogue et abonnements"] = time.perf_counter() - started

        started = time.perf_counter()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        timings["ANALYZE"] = time.perf_counter() - started

        commune = db.session.get(Collectivite, facts["commune_id"])
        create_user(
            email=SECRETARY_EMAIL,
            role="secretary",
            password=SECRETARY_PASSWORD,
            full_name="Secrétaire du banc d'essai",
            collectivites=[commune],
        )
        db.session.commit()
        facts.update(
            {
                "status_changes": len(changes),
                "payrolls": len(payrolls),
                "services": len(facultative),
                "subscriptions": len(subscriptions),
                "commune_subscriptions": sum(1 for s in subscriptions if s["collectivite_id"] == commune.id),
            }
        )
        db.session.remove()
        db.engine.dispose()
    return facts


# Child processes: statements and the CSV export ---------------------------------------------


def _profile(function):
    """Run ``function`` under cProfile; print the 20 most expensive calls (cumulative time)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(function)
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(20)
    print(buffer.getvalue(), file=sys.stderr, flush=True)
    return result


def child_statements(url: str, year: int, profile: bool) -> dict:
    from portal.statements.services import statements_for

    app = benchlib.make_app(url)
    with app.app_context():

        def consume() -> dict:
            counts = Counter()
            warnings = Counter()
            total = Decimal(0)
            for item in statements_for(year):
                statement = item.statement
                counts["bodies"] += 1
                kinds = Counter(line.kind for line in statement.lines)
                counts["with_cotisation"] += statement.total_of("cotisation") > 0
                counts["with_socle"] += statement.total_of("socle") > 0
                counts["with_services"] += kinds["service"] > 0
                counts["service_lines"] += kinds["service"]
                counts["service_lines_unpriced"] += sum(
                    1 for line in statement.lines if line.kind == "service" and line.amount is None
                )
                counts["empty"] += not statement.lines
                counts["with_instalments"] += bool(statement.instalments)
                for warning in statement.warnings:
                    warnings[warning.split("«")[0].split(":")[0].strip()] += 1
                total += statement.total
            return {"counts": dict(counts), "warnings": dict(warnings.most_common(5)), "total": str(total)}

        started = time.perf_counter()
        result = _profile(consume) if profile else consume()
        result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = benchlib.peak_rss_mb()
    return result


def _test_client_login(app, client, email: str, password: str) -> None:
    """Log in through the form. Flask's test client speaks the app's PREFERRED_URL_SCHEME (https in production),
    so, as a browser would, the POST carries a same-origin Referer (Flask-WTF checks it on secure requests)."""
    page = client.get("/connexion", headers={"User-Agent": web_pages.USER_AGENT}).get_data(as_text=True)
    match = web_pages.CSRF_RE.search(page)
    if not match:
        raise SystemExit("Pas de jeton CSRF dans la page /connexion (client de test).")
    response = client.post(
        "/connexion",
        data={"email": email, "password": password, "csrf_token": match.group(1) or match.group(2)},
        headers={
            "User-Agent": web_pages.USER_AGENT,
            "Referer": f"{app.config['PREFERRED_URL_SCHEME']}://localhost/connexion",
        },
    )
    if response.status_code != 302 or "/connexion" in (response.headers.get("Location") or ""):
        raise SystemExit(f"Connexion de {email} refusée par le client de test (réponse {response.status_code}).")


def child_csv(url: str, year: int, profile: bool) -> dict:
    app = benchlib.make_app(url)
    client = app.test_client()
    _test_client_login(app, client, web_pages.STAFF_EMAIL, web_pages.STAFF_PASSWORD)

    def download() -> dict:
        started = time.perf_counter()
        response = client.get(
            f"/cotisations/{year}/releves.csv", headers={"User-Agent": web_pages.USER_AGENT}, buffered=False
        )
        if response.status_code != 200:
            raise SystemExit(f"/cotisations/{year}/releves.csv répond {response.status_code}.")
        first_byte = None
        size = lines = 0
        tail = b""
        try:
            for chunk in response.response:
                chunk = chunk.encode() if isinstance(chunk, str) else chunk
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                lines += chunk.count(b"\r\n")
                tail = (tail + chunk)[-400:]
        finally:
            response.close()
        return {"bytes": size, "lines": lines, "first_byte": first_byte or 0.0, "tail": tail.decode(errors="replace")}

    started = time.perf_counter()
    result = _profile(download) if profile else download()
    result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = benchlib.peak_rss_mb()
    return result


def run_child(kind: str, url: str, year: int, profile: bool) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--url", url, "--year", str(year)]
    if profile:
        command.append("--profile")
    completed = subprocess.run(command, cwd=benchlib.REPO_ROOT, capture_output=True, text=True, check=False)
    if profile:
        sys.stdout.write("\n".join(line for line in completed.stderr.splitlines() if "alembic" not in line) + "\n")
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.stderr.write(completed.stdout + completed.stderr)
    raise SystemExit(f"La mesure « {kind} » a échoué (code {completed.returncode}) : voir la sortie ci-dessus.")


def _n(value: float) -> str:
    """A figure with a thin space between thousands, the French way."""
    return f"{value:,.0f}".replace(",", "\u202f")


def verdict(seconds: float) -> str:
    return "OK" if seconds < TARGET_SECONDS else "MANQUÉ"


def report_statements(result: dict) -> None:
    counts, seconds = result["counts"], result["seconds"]
    bodies = counts.get("bodies", 0)
    print(
        f"  statements_for({result['year']}) : {bodies} collectivités en {seconds:.1f} s, "
        f"{_n(bodies / seconds)} collectivités/s, pic RSS {result['peak_rss_mb']:.0f} Mio"
        f"   [cible < {TARGET_SECONDS:.0f} s : {verdict(seconds)}]"
    )
    print(
        f"    avec cotisation : {counts.get('with_cotisation', 0)} ; avec contribution au socle : "
        f"{counts.get('with_socle', 0)} ; avec lignes de services : {counts.get('with_services', 0)} "
        f"({counts.get('service_lines', 0)} lignes, dont {counts.get('service_lines_unpriced', 0)} sans montant) ; "
        f"avec échéancier : {counts.get('with_instalments', 0)} ; vides : {counts.get('empty', 0)}"
    )
    total = Decimal(result["total"])
    print(f"    total des relevés : {_n(total)} €")
    if result["warnings"]:
        print("    alertes les plus fréquentes : " + " ; ".join(f"{k} ({v})" for k, v in result["warnings"].items()))
    if not counts.get("with_cotisation") or not counts.get("with_services"):
        print("  ! les relevés sont vides : la base de mesure n'a pas les données attendues")


def report_csv(result: dict, bodies: int) -> None:
    seconds = result["seconds"]
    rows = result["lines"] - 1
    print(
        f"  GET /cotisations/{result['year']}/releves.csv (client de test, agent connecté) : {rows} lignes, "
        f"{result['bytes'] / 1_048_576:.1f} Mio en {seconds:.1f} s ({_n(rows / seconds)} collectivités/s, "
        f"premier octet {result['first_byte'] * 1000:.0f} ms), pic RSS {result['peak_rss_mb']:.0f} Mio"
        f"   [cible < {TARGET_SECONDS:.0f} s : {verdict(seconds)}]"
    )
    if rows != bodies:
        print(f"  ! {rows} lignes de relevé pour {bodies} collectivités : export incomplet")


# The catalogue page under wrk ----------------------------------------------------------------


def measure_catalogue(args, url: str, facts: dict, tmp: Path) -> None:
    servers: list[web_pages.Server] = []
    try:
        servers.append(web_pages.start_gunicorn("portal", "portal:create_app()", benchlib.bench_environ(url), tmp, 2))
        bare_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "PORTAL_"))}
        servers.append(
            web_pages.start_gunicorn("bare", "bare_app:app", bare_env, tmp, 2, chdir=benchlib.REPO_ROOT / "benchmarks")
        )
        portal, bare = servers
        print(f"gunicorn -w 2 (workers sync) : portail sur {portal.base}, application nue sur {bare.base}")
        cookie = web_pages.login(portal.base, SECRETARY_EMAIL, SECRETARY_PASSWORD)
        print(
            f"Connectée comme {SECRETARY_EMAIL}, secrétaire de {facts['commune_name']} "
            "(cookie de session obtenu par le formulaire de connexion)."
        )
        path = f"/collectivites/{facts['commune_id']}/services"
        targets = [
            (
                f"{path} ({facts['commune_name']})",
                f"{portal.base}{path}",
                f"Services du CDG pour {facts['commune_name']}",
            ),
            ("application Flask nue (hello)", f"{bare.base}/", "Hello, World!"),
        ]
        for label, target, expected in targets:
            elapsed = web_pages.check_page(target, cookie, expected)
            print(f"  vérifié : {label} → 200, « {expected} » présent ({elapsed:.0f} ms à froid)")
        print(
            f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration} --latency (chauffe {args.warmup})",
            flush=True,
        )
        pg_admin = None if args.sqlite else args.pg_admin_url
        results = []
        for label, target, _ in targets:
            if args.warmup not in ("0", "0s"):
                web_pages.run_wrk(label, target, cookie, args.warmup, args.connections, args.threads)
                web_pages.drain(target, cookie)
            probe = web_pages.CpuProbe(portal if target.startswith(portal.base) else bare, pg_admin, PG_DATABASE)
            probe.begin()
            result = web_pages.run_wrk(label, target, cookie, args.duration, args.connections, args.threads)
            app_cpu, db_cpu = probe.end()
            if result.requests:
                result.app_cpu_ms = app_cpu * 1000 / result.requests
                result.db_cpu_ms = db_cpu * 1000 / result.requests if pg_admin and probe.server is portal else None
            web_pages.drain(target, cookie)
            result.single_ms = web_pages.single_latency(target, cookie, args.sequential)
            print(
                f"  {label} : {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms "
                f"(charge moyenne 1 min : {os.getloadavg()[0]:.2f})",
                flush=True,
            )
            results.append(result)
        print()
        web_pages.print_table(results, results[-1])
        page = results[0]
        print(
            f"Page catalogue de la secrétaire : p50 {page.p50_ms:.1f} ms, p99 {page.p99_ms:.1f} ms, "
            f"{page.rps:.1f} req/s   [cible p99 < {P99_TARGET_MS:.0f} ms : "
            f"{'OK' if page.p99_ms < P99_TARGET_MS else 'MANQUÉ'}]"
        )
    finally:
        for server in servers:
            server.stop()


# Main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="base SQLite temporaire au lieu de PostgreSQL")
    parser.add_argument("--year", type=int, default=date.today().year, help="année des relevés (défaut : %(default)s)")
    parser.add_argument(
        "--per-body", type=float, default=5.0, help="abonnements par collectivité en moyenne (défaut : %(default)s)"
    )
    parser.add_argument("--duration", default="15s", help="durée de la mesure wrk (défaut : %(default)s)")
    parser.add_argument("--warmup", default="3s", help="chauffe wrk non mesurée ('0' : aucune ; défaut : %(default)s)")
    parser.add_argument("--connections", type=int, default=16, help="connexions wrk (défaut : %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="threads wrk (défaut : %(default)s)")
    parser.add_argument(
        "--sequential", type=int, default=20, help="requêtes séquentielles pour la latence seule (défaut : %(default)s)"
    )
    parser.add_argument("--skip-wrk", action="store_true", help="ne pas mesurer la page catalogue sous charge")
    parser.add_argument("--profile", action="store_true", help="profil cProfile des deux mesures de relevés")
    parser.add_argument(
        "--data",
        type=Path,
        default=benchlib.DEFAULT_DATA,
        help=f"dossier du découpage administratif (défaut : {benchlib.DEFAULT_DATA})",
    )
    parser.add_argument(
        "--pg-admin-url",
        default=benchlib.DEFAULT_PG_ADMIN_URL,
        help="base de maintenance PostgreSQL où créer la base de mesure (défaut : %(default)s)",
    )
    parser.add_argument("--child", choices=["statements", "csv"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        measure = child_statements if args.child == "statements" else child_csv
        result = measure(args.url, args.year, args.profile)
        result["year"] = args.year
        print("RESULT " + json.dumps(result), flush=True)
        return 0

    if not args.skip_wrk and not Path(web_pages.WRK).exists():
        raise SystemExit("wrk est introuvable (paquet Debian : apt-get install wrk).")
    data = args.data.resolve()
    if not (data / "communes.json").exists():
        raise SystemExit(f"Données introuvables : {data}/communes.json (option --data).")

    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-statements-"))
    created_pg = False
    try:
        if args.sqlite:
            url, engine = f"sqlite:///{tmp / 'bench.sqlite3'}", "SQLite (fichier temporaire)"
        else:
            url = benchlib.create_database(args.pg_admin_url, PG_DATABASE)
            created_pg, engine = True, f"PostgreSQL (base {PG_DATABASE})"
        print(benchlib.machine_line())
        print(benchlib.code_line())
        print(f"Base : {engine}. Construction de la base nationale…", flush=True)
        started = time.perf_counter()
        facts = build_database(url, data, args.year, args.per_body)
        build_seconds = time.perf_counter() - started
        steps = " ; ".join(f"{name} {seconds:.1f} s" for name, seconds in facts["timings"].items())
        print(f"  construite en {build_seconds:.1f} s ({steps})")
        print(
            f"  {facts['created']} collectivités ; statuts : "
            f"{', '.join(f'{k} {v}' for k, v in facts['statuses'].items())} ; "
            f"{facts['status_changes']} lignes d'historique au {STATUS_SINCE:%d/%m/%Y} ; "
            f"{facts['payrolls']} masses salariales {args.year}"
        )
        print(
            f"  catalogue de démonstration : {facts['services']} services facultatifs ; {facts['subscriptions']} "
            f"abonnements actifs ({facts['subscriptions'] / facts['created']:.2f} par collectivité, "
            f"{facts['commune_subscriptions']} pour {facts['commune_name']})"
        )

        print(
            f"\nRelevés {args.year} de toutes les collectivités (chaque mesure dans son propre processus) :", flush=True
        )
        statements = run_child("statements", url, args.year, args.profile)
        report_statements(statements)
        csv_export = run_child("csv", url, args.year, args.profile)
        report_csv(csv_export, statements["counts"].get("bodies", 0))

        if not args.skip_wrk:
            print(flush=True)
            measure_catalogue(args, url, facts, tmp)
        print(benchlib.machine_line())
    finally:
        if created_pg:
            benchlib.drop_database(args.pg_admin_url, PG_DATABASE)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
