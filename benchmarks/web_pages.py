"""Benchmark: the registry pages under load, on a national database, against a bare Flask app.

Builds a national database (PostgreSQL ``portal_bench_web`` by default, created then dropped;
``--sqlite`` for a temporary SQLite file) with the Alembic migrations, imports the whole
country's registry, adds one synthetic headcount declaration per body for the current year and
the matching affiliation status, creates a staff account; then serves the portal with gunicorn
(2 sync workers, production settings) next to a bare Flask "hello" app (benchmarks/bare_app.py)
served the same way, logs in through the real login form, and runs ``wrk`` against:

- /collectivites (page 1), /collectivites?q=saint&status=obligatoire, /collectivites?page=200,
- /collectivites/<id of a commune>,
- the bare app.

Printed: requests/s, p50, p99 and throughput relative to the bare app, next to the targets
(p99 < 100 ms, throughput >= 25 % of bare), the median of sequential requests (the page's own
cost), and the CPU time per request of gunicorn and of the PostgreSQL backends (read in /proc,
steadier than latencies on a shared machine). Figures only: nothing fails on time.

    .venv/bin/python benchmarks/web_pages.py [--duration 15s] [--connections 16] [--sqlite]
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import benchlib

PG_DATABASE = "portal_bench_web"
STAFF_EMAIL = "bench.staff@cdg.example"
STAFF_PASSWORD = "mot-de-passe-du-banc-d-essai"
# wrk and urllib send the same User-Agent: Flask-Login's session protection hashes it.
USER_AGENT = "portal-benchmark/1.0"
P99_TARGET_MS = 100.0
THROUGHPUT_TARGET = 0.25
WRK = shutil.which("wrk") or "/usr/bin/wrk"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


# Database -------------------------------------------------------------------------------------


def synthetic_headcount(kind: str, population: int | None) -> int:
    """Plausible fonctionnaires à temps complet: about one per 70 inhabitants in a commune."""
    if kind == "departement":
        return 2500
    if kind == "region":
        return 4000
    if kind == "commune":
        return (population or 0) // 70
    return (population or 0) // 250  # EPCI


def build_database(url: str, data: Path, analyze: bool = True) -> dict:
    """Migrate, import, declare, set statuses, create the staff account. Returns facts for the run."""
    from sqlalchemy import insert, select, text, update

    from portal.accounts.services import create_user
    from portal.affiliation import rules
    from portal.common.clock import utcnow
    from portal.extensions import db
    from portal.registry.importer import import_records, read_dataset
    from portal.registry.models import Collectivite, HeadcountDeclaration

    app = benchlib.make_app(url)
    timings = {}
    started = time.perf_counter()
    benchlib.migrate_schema(app)
    timings["migrations"] = time.perf_counter() - started
    year = date.today().year
    with app.app_context():
        started = time.perf_counter()
        summary = import_records(read_dataset(data, None))
        db.session.commit()
        timings["import"] = time.perf_counter() - started

        started = time.perf_counter()
        now = utcnow()
        bodies = db.session.execute(select(Collectivite.id, Collectivite.kind, Collectivite.population)).all()
        declarations, by_status = [], {}
        for body_id, kind, population in bodies:
            count = synthetic_headcount(kind, population)
            declarations.append(
                {
                    "collectivite_id": body_id,
                    "year": year,
                    "titulaires_temps_complet": count,
                    "titulaires_temps_non_complet": count // 5,
                    "contractuels": count // 4,
                    "declared_at": now,
                    "is_synthetic": True,
                    "comment": "Donnée synthétique (banc d'essai)",
                }
            )
            status = rules.affiliation_status(kind, count, False, year=year).status
            by_status.setdefault(str(status), []).append(body_id)
        for start in range(0, len(declarations), 5000):
            db.session.execute(insert(HeadcountDeclaration), declarations[start : start + 5000])
        for status, ids in by_status.items():
            for start in range(0, len(ids), 5000):
                db.session.execute(
                    update(Collectivite)
                    .where(Collectivite.id.in_(ids[start : start + 5000]))
                    .values(affiliation_status=status)
                    .execution_options(synchronize_session=False)
                )
        db.session.commit()
        timings["declarations"] = time.perf_counter() - started

        staff = create_user(email=STAFF_EMAIL, role="staff", password=STAFF_PASSWORD, full_name="Agent du banc d'essai")
        db.session.commit()
        started = time.perf_counter()
        queue_items = seed_work_queue([row[0] for row in bodies], staff)
        timings["work_queue"] = time.perf_counter() - started
        if analyze:
            # The state autovacuum reaches within a minute of a bulk load (and that `flask registry import` leaves):
            # planner statistics and the visibility map (index-only scans) exist — for the work queue's 5,000
            # items too (analysed before them, its plans joined the claims row by row over every key).
            started = time.perf_counter()
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM (ANALYZE)"))
            else:
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            timings["analyze"] = time.perf_counter() - started

        # A commune of middle size with an EPCI: Agen (47001) if present, else the first commune with an EPCI.
        commune = db.session.scalar(
            select(Collectivite).where(Collectivite.kind == "commune", Collectivite.insee_code == "47001")
        )
        if commune is None:
            commune = db.session.scalar(
                select(Collectivite).where(Collectivite.kind == "commune", Collectivite.epci_id.is_not(None)).limit(1)
            )
        facts = {
            "queue_items": queue_items,
            "created": summary.created,
            "declarations": len(declarations),
            "statuses": {k: len(v) for k, v in sorted(by_status.items())},
            "commune_id": commune.id,
            "commune_name": commune.name,
            "timings": timings,
        }
        db.session.remove()
        db.engine.dispose()
    return facts


QUEUE_SUBSCRIPTIONS, QUEUE_EMAILS, QUEUE_ACCESS = 3000, 1000, 1000  # 5,000 open items on the staff home


def seed_work_queue(body_ids: list[int], staff) -> int:
    """What the staff home shows on a busy day of a large CDG (issue 16): the headcount campaign of next year in
    progress for the CDG's département, and 5,000 open items — subscription requests, failed emails, access
    requests — inserted in bulk. Returns the number of items."""
    from sqlalchemy import insert

    from portal.access.models import AccessRequest
    from portal.campaigns import services as campaigns
    from portal.common.clock import paris_today, utcnow
    from portal.demo.catalogue import load_catalogue
    from portal.extensions import db
    from portal.notifications.models import OutboxEmail, OutboxState
    from portal.subscriptions.models import Subscription

    today = paris_today()
    campaigns.open_campaign(
        campaigns.OpenInput(kind="effectifs", year=today.year + 1, deadline=date(today.year + 1, 3, 31)), staff
    )
    services = load_catalogue(today.year)
    now = utcnow()
    db.session.execute(
        insert(Subscription),
        [
            {
                "collectivite_id": body_ids[n % len(body_ids)],
                "service_id": services[n % len(services)].id,
                "state": "demandee",
                "requested_at": now - timedelta(minutes=n),
                "details": {},
                "created_at": now,
                "updated_at": now,
            }
            for n in range(QUEUE_SUBSCRIPTIONS)
        ],
    )
    db.session.execute(
        insert(OutboxEmail),
        [
            {
                "message_id": f"<banc-{n}@bench.invalid>",
                "category": "account",
                "to_address": f"perdu{n}@mairie.invalid",
                "template": "invitation",
                "context": {},
                "state": OutboxState.FAILED,
                "created_at": now - timedelta(minutes=n),
            }
            for n in range(QUEUE_EMAILS)
        ],
    )
    db.session.execute(
        insert(AccessRequest),
        [
            {
                "full_name": f"Secrétaire {n}",
                "email": f"demande{n}@mairie.invalid",
                "job_title": "Secrétaire générale de mairie",
                "collectivites_text": "Commune du banc d'essai",
                "state": "pending",
                "created_at": now - timedelta(minutes=n),
            }
            for n in range(QUEUE_ACCESS)
        ],
    )
    db.session.commit()
    return QUEUE_SUBSCRIPTIONS + QUEUE_EMAILS + QUEUE_ACCESS


# Servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group of this gunicorn only (its own session)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_gunicorn(
    name: str,
    app_spec: str,
    environ: dict,
    log_dir: Path,
    workers: int,
    threads: int = 1,
    chdir: Path | None = None,
) -> Server:
    port = free_port()
    log = log_dir / f"{name}.log"
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    if threads > 1:
        command += ["--threads", str(threads)]  # gthread workers, as `make run` uses
    if chdir is not None:
        command += ["--chdir", str(chdir)]
    command.append(app_spec)
    with log.open("w") as handle:
        process = subprocess.Popen(
            command,
            cwd=benchlib.REPO_ROOT,
            env=environ,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, port, process, log)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn « {name} » s'est arrêté au démarrage :\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise SystemExit(f"gunicorn « {name} » n'écoute pas après 60 s :\n{log.read_text()}")


# CPU accounting -------------------------------------------------------------------------------
# Wall-clock figures suffer when other processes share the cores; CPU seconds spent by the
# gunicorn processes and the PostgreSQL backends, divided by the requests served, do not.

_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from "state" on (the name may hold spaces)


def process_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of each process still alive."""
    cpu = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    return cpu


def process_tree(root: int) -> list[int]:
    """``root`` and its children (the gunicorn master and its workers)."""
    pids = [root]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and fields[1] == str(root):
                pids.append(int(entry.name))
    return pids


def postgres_backends(admin_url: str | None, database: str) -> list[int]:
    """PIDs of the PostgreSQL backends connected to ``database`` (local server only)."""
    if admin_url is None:
        return []
    import psycopg

    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://", 1)) as connection:
        rows = connection.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()
    return [row[0] for row in rows]


@dataclass
class CpuProbe:
    server: Server
    admin_url: str | None
    database: str
    start: dict[int, float] | None = None

    def _now(self) -> dict[int, float]:
        app = process_cpu(process_tree(self.server.process.pid))
        database = process_cpu(postgres_backends(self.admin_url, self.database))
        return {**{pid: v for pid, v in app.items()}, **{-pid: v for pid, v in database.items()}}

    def begin(self) -> None:
        self.start = self._now()

    def end(self) -> tuple[float, float]:
        """CPU seconds since ``begin``: (application, database)."""
        now, start = self._now(), self.start or {}
        app = sum(v - start.get(pid, 0.0) for pid, v in now.items() if pid > 0)
        database = sum(v - start.get(pid, 0.0) for pid, v in now.items() if pid < 0)
        return app, database


# HTTP -----------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def login(base: str, email: str = STAFF_EMAIL, password: str = STAFF_PASSWORD) -> str:
    """Log in through the real form (CSRF token from the page); return the session cookie's value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(f"{base}/connexion", timeout=30) as response:
        page = response.read().decode()
    match = CSRF_RE.search(page)
    if not match:
        raise SystemExit("Pas de jeton CSRF dans la page /connexion : formulaire de connexion introuvable.")
    form = urllib.parse.urlencode(
        {"email": email, "password": password, "csrf_token": match.group(1) or match.group(2)}
    ).encode()
    try:
        with opener.open(f"{base}/connexion", data=form, timeout=30) as response:
            raise SystemExit(f"La connexion a échoué : réponse {response.status} au lieu d'une redirection.")
    except urllib.error.HTTPError as exc:
        if exc.code != 302 or "/connexion" in (exc.headers.get("Location") or ""):
            raise SystemExit(f"La connexion a échoué : réponse {exc.code}.") from exc
    session = next((c.value for c in jar if c.name == "session"), None)
    if not session:
        raise SystemExit("La connexion n'a pas donné de cookie de session.")
    return session


def check_page(url: str, cookie: str, expected: str) -> float:
    """One request before the load: 200 and the expected text, else stop. Returns its time in ms."""
    request = urllib.request.Request(url, headers={"Cookie": f"session={cookie}", "User-Agent": USER_AGENT})
    opener = urllib.request.build_opener(_NoRedirect())
    started = time.perf_counter()
    try:
        with opener.open(request, timeout=60) as response:
            body = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{url} répond {exc.code} (attendu : 200). Abandon.") from exc
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200 or expected not in body:
        raise SystemExit(f"{url} répond {status} sans le texte attendu « {expected} ». Abandon.")
    return elapsed


def single_latency(url: str, cookie: str, count: int) -> float:
    """Median time of ``count`` sequential requests: the page's own cost, without queueing."""
    request = urllib.request.Request(url, headers={"Cookie": f"session={cookie}", "User-Agent": USER_AGENT})
    opener = urllib.request.build_opener(_NoRedirect())
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        with opener.open(request, timeout=60) as response:
            response.read()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def drain(url: str, cookie: str) -> None:
    """Wait until the requests wrk left queued (sync workers read them after wrk has gone) are served.

    One request queued behind them returns only when they are done, so that the next measure
    does not pay for the previous one.
    """
    request = urllib.request.Request(url, headers={"Cookie": f"session={cookie}", "User-Agent": USER_AGENT})
    with contextlib.suppress(OSError), urllib.request.build_opener(_NoRedirect()).open(request, timeout=300):
        pass


# wrk ------------------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"durée wrk illisible : {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


@dataclass
class WrkResult:
    label: str
    url: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: str
    raw: str
    single_ms: float = 0.0
    app_cpu_ms: float | None = None  # CPU per request, gunicorn processes
    db_cpu_ms: float | None = None  # CPU per request, PostgreSQL backends


def parse_wrk(label: str, url: str, output: str) -> WrkResult:
    def number(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, output)
        if match:
            return match.group(1)
        if default is None:
            raise ValueError(f"sortie wrk inattendue (motif {pattern!r}) :\n{output}")
        return default

    errors = re.search(r"Socket errors: (.*)", output)
    return WrkResult(
        label=label,
        url=url,
        requests=int(number(r"(\d+) requests in")),
        rps=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(number(r"\s50%\s+(\S+)")),
        p99_ms=_ms(number(r"\s99%\s+(\S+)")),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=errors.group(1).strip() if errors else "aucune",
        raw=output,
    )


def run_wrk(label: str, url: str, cookie: str, duration: str, connections: int, threads: int) -> WrkResult:
    command = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}",
        "--latency",
        "--timeout",
        "10s",
        "-H",
        f"Cookie: session={cookie}",
        "-H",
        f"User-Agent: {USER_AGENT}",
        url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"wrk a échoué sur {url} :\n{completed.stdout}{completed.stderr}")
    return parse_wrk(label, url, completed.stdout)


def print_table(results: list[WrkResult], bare: WrkResult) -> None:
    header = (
        f"{'URL':<46} {'req/s':>8} {'p50':>9} {'p99':>9} {'vs bare':>8}  {'p99<100ms':<9} {'débit>=25%':<10}"
        f" {'seule':>8} {'CPU app':>8} {'CPU db':>7}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        ratio = result.rps / bare.rps if bare.rps else 0.0
        is_bare = result is bare
        p99_ok = "OK" if result.p99_ms < P99_TARGET_MS else "MANQUÉ"
        rps_ok = "—" if is_bare else ("OK" if ratio >= THROUGHPUT_TARGET else "MANQUÉ")
        print(
            f"{result.label:<46} {result.rps:>8.1f} {result.p50_ms:>7.1f}ms {result.p99_ms:>7.1f}ms "
            f"{ratio:>7.1%}  {p99_ok if not is_bare else '—':<9} {rps_ok:<10} {result.single_ms:>6.1f}ms"
            f" {_cpu(result.app_cpu_ms):>8} {_cpu(result.db_cpu_ms):>7}"
        )
    problems = [r for r in results if r.non_2xx or r.socket_errors != "aucune"]
    for result in problems:
        print(
            f"  ! {result.label} : {result.non_2xx} réponses non 2xx/3xx sur {result.requests}, "
            f"erreurs de socket : {result.socket_errors}"
        )
    if not any(r.non_2xx for r in results):
        print("Toutes les réponses sont en 2xx/3xx (wrk ne signale aucune « Non-2xx or 3xx responses »).")
    print("« seule » : médiane de requêtes séquentielles, une à la fois (coût propre de la page, sans file d'attente).")
    print(
        "« CPU app » / « CPU db » : temps CPU par requête des processus gunicorn / des connexions PostgreSQL "
        "pendant la mesure (insensible aux autres processus de la machine)."
    )


def _cpu(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}ms"


# Main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="15s", help="durée de chaque mesure wrk (défaut : %(default)s)")
    parser.add_argument("--connections", type=int, default=16, help="connexions wrk (défaut : %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="threads wrk (défaut : %(default)s)")
    parser.add_argument(
        "--sequential", type=int, default=20, help="requêtes séquentielles pour la latence seule (défaut : %(default)s)"
    )
    parser.add_argument("--workers", type=int, default=2, help="workers gunicorn (défaut : %(default)s)")
    parser.add_argument(
        "--gunicorn-threads",
        type=int,
        default=1,
        help="threads par worker gunicorn (défaut : %(default)s, workers sync ; make run utilise 4)",
    )
    parser.add_argument("--warmup", default="3s", help="chauffe wrk non mesurée avant chaque mesure ('0' : aucune)")
    parser.add_argument("--sqlite", action="store_true", help="base SQLite temporaire au lieu de PostgreSQL")
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
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="ne pas lancer ANALYZE après le chargement (état juste après un import massif, "
        "avant le passage d'autovacuum)",
    )
    parser.add_argument(
        "--app",
        default="portal:create_app()",
        help="application servie par gunicorn (défaut : %(default)s ; pour mesurer une variante, "
        "avec PYTHONPATH pointant sur son module)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="garder les journaux gunicorn (chemin affiché)")
    args = parser.parse_args()
    if not Path(WRK).exists():
        raise SystemExit("wrk est introuvable (paquet Debian : apt-get install wrk).")
    data = args.data.resolve()
    if not (data / "communes.json").exists():
        raise SystemExit(f"Données introuvables : {data}/communes.json (option --data).")

    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-web-"))
    servers: list[Server] = []
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
        facts = build_database(url, data, analyze=not args.no_analyze)
        t = facts["timings"]
        print(
            f"  migrations {t['migrations']:.1f} s ; import {facts['created']} collectivités {t['import']:.1f} s ; "
            f"{facts['declarations']} déclarations synthétiques + statuts {t['declarations']:.1f} s ; "
            + (f"ANALYZE {t['analyze']:.1f} s" if "analyze" in t else "sans ANALYZE")
        )
        print(f"  statuts : {', '.join(f'{k} {v}' for k, v in facts['statuses'].items())}")

        portal_env = benchlib.bench_environ(url)
        servers.append(start_gunicorn("portal", args.app, portal_env, tmp, args.workers, args.gunicorn_threads))
        bare_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "PORTAL_"))}
        servers.append(
            start_gunicorn(
                "bare",
                "bare_app:app",
                bare_env,
                tmp,
                args.workers,
                args.gunicorn_threads,
                chdir=benchlib.REPO_ROOT / "benchmarks",
            )
        )
        portal, bare = servers
        threads = f" --threads {args.gunicorn_threads}" if args.gunicorn_threads > 1 else " (workers sync)"
        print(
            f"gunicorn -w {args.workers}{threads} '{args.app}' : portail sur {portal.base}, "
            f"application nue sur {bare.base}"
        )

        cookie = login(portal.base)
        print(f"Connecté comme {STAFF_EMAIL} (cookie de session obtenu par le formulaire de connexion).")
        targets = [
            ("/collectivites", f"{portal.base}/collectivites", "Collectivités et établissements"),
            (
                "/collectivites?q=saint&status=obligatoire",
                f"{portal.base}/collectivites?q=saint&status=obligatoire",
                "Collectivités et établissements",
            ),
            ("/collectivites?page=200", f"{portal.base}/collectivites?page=200", "page 200 sur"),
            (
                f"/collectivites/{facts['commune_id']} ({facts['commune_name']})",
                f"{portal.base}/collectivites/{facts['commune_id']}",
                facts["commune_name"],
            ),
            (
                f"/tableau-de-bord (accueil des agents : {facts['queue_items']:,} éléments à traiter)".replace(
                    ",", "\u202f"
                ),
                f"{portal.base}/tableau-de-bord",
                "À traiter",
            ),
            (
                "/tableau-de-bord?page=50 (liste à traiter, page 50)",
                f"{portal.base}/tableau-de-bord?page=50",
                "À traiter",
            ),
            ("application Flask nue (hello)", f"{bare.base}/", "Hello, World!"),
        ]
        for label, target, expected in targets:
            elapsed = check_page(target, cookie, expected)
            print(f"  vérifié : {label} → 200, « {expected} » présent ({elapsed:.0f} ms à froid)")

        print(
            f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration} --latency (chauffe {args.warmup})",
            flush=True,
        )
        pg_admin = None if args.sqlite else args.pg_admin_url
        results = []
        for label, target, _ in targets:
            if args.warmup not in ("0", "0s"):
                run_wrk(label, target, cookie, args.warmup, args.connections, args.threads)
                drain(target, cookie)
            probe = CpuProbe(portal if target.startswith(portal.base) else bare, pg_admin, PG_DATABASE)
            probe.begin()
            result = run_wrk(label, target, cookie, args.duration, args.connections, args.threads)
            app_cpu, db_cpu = probe.end()
            if result.requests:
                result.app_cpu_ms = app_cpu * 1000 / result.requests
                result.db_cpu_ms = db_cpu * 1000 / result.requests if pg_admin and probe.server is portal else None
            drain(target, cookie)
            result.single_ms = single_latency(target, cookie, args.sequential)
            print(
                f"  {label} : {result.rps:.1f} req/s, p99 {result.p99_ms:.1f} ms "
                f"(charge moyenne 1 min : {os.getloadavg()[0]:.2f})",
                flush=True,
            )
            results.append(result)
        print()
        print_table(results, results[-1])
        print(benchlib.machine_line())
        if args.keep_logs:
            print(f"Journaux gunicorn : {tmp}")
    finally:
        for server in servers:
            server.stop()
        if created_pg:
            benchlib.drop_database(args.pg_admin_url, PG_DATABASE)
        if not args.keep_logs:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
