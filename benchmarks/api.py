"""Benchmark: ``GET /api/v1/collectivites`` on the national registry, against a bare Flask app, and the memory
of the national CSV and XLSX exports.

Builds the national database exactly as benchmarks/web_pages.py does (PostgreSQL ``portal_bench_api`` by
default, created then dropped; ``--sqlite`` for a temporary file), creates a staff API token, serves the
portal and the bare Flask app (benchmarks/bare_app.py) with the same gunicorn settings, and runs ``wrk``
(16 connections by default) with ``Authorization: Bearer <token>`` against:

- /api/v1/collectivites walking pages 1 to 100 (50 items a page; a Lua script changes the page per request),
- /api/v1/collectivites?statut=obligatoire&type=commune&departement=47 (a filtered query),
- the bare app.

Printed: requests/s, p50, p99, throughput relative to the bare app, next to the targets (p99 < 50 ms,
throughput >= 30 % of bare), and the CPU time per request. Then, on a fresh one-worker gunicorn for each
format, the peak resident memory (VmHWM of the worker) while the whole country is exported as CSV and as
XLSX by /collectivites/export.<fmt> (the body is read and discarded). Figures only: nothing fails on time.

    .venv/bin/python benchmarks/api.py [--duration 15s] [--connections 16] [--sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import benchlib
import web_pages
from web_pages import WRK, CpuProbe, build_database, parse_wrk, start_gunicorn

PG_DATABASE = "portal_bench_api"
P99_TARGET_MS = 50.0
THROUGHPUT_TARGET = 0.30
PAGES = 100
LUA_PAGES = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/api/v1/collectivites?per_page=50&page=" .. ((counter % %(pages)d) + 1))
end
"""


def create_token(url: str) -> str:
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.api import tokens
    from portal.common.clock import utcnow
    from portal.extensions import db

    app = benchlib.make_app(url)
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.email == web_pages.STAFF_EMAIL))
        created = tokens.create_token(staff, "banc d'essai", "read", utcnow() + timedelta(days=1), staff)
        db.session.commit()
        secret = created.secret
        db.session.remove()
        db.engine.dispose()
    return secret


def get(url: str, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.status, response.read()


def run_wrk(label: str, url: str, headers: dict, args, script: Path | None = None) -> web_pages.WrkResult:
    import subprocess

    command = [WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}", "--latency"]
    command += ["--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"wrk a échoué sur {url} :\n{completed.stdout}{completed.stderr}")
    return parse_wrk(label, url, completed.stdout)


def worker_hwm_kib(server) -> dict[int, int]:
    """VmHWM (peak resident memory) of each gunicorn worker, in KiB."""
    peaks = {}
    for pid in benchlib_children(server.process.pid):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = int(line.split()[1])
    return peaks


def benchlib_children(root: int) -> list[int]:
    return [pid for pid in web_pages.process_tree(root) if pid != root]


def export_peak(fmt: str, url: str, tmp: Path, cookie: str) -> tuple[float, float, int, float]:
    """(peak RSS before, peak RSS after, bytes, seconds) of a one-worker gunicorn exporting the country."""
    server = start_gunicorn(f"export-{fmt}", "portal:create_app()", benchlib.bench_environ(url), tmp, 1)
    try:
        headers = {"Cookie": f"session={cookie}", "User-Agent": web_pages.USER_AGENT}
        get(f"{server.base}/collectivites", headers)  # the worker warmed up: app, templates, a list page
        before = max(worker_hwm_kib(server).values())
        started = time.perf_counter()
        request = urllib.request.Request(f"{server.base}/collectivites/export.{fmt}", headers=headers)
        size = 0
        with urllib.request.urlopen(request, timeout=600) as response:
            while chunk := response.read(256 * 1024):
                size += len(chunk)
        elapsed = time.perf_counter() - started
        after = max(worker_hwm_kib(server).values())
    finally:
        server.stop()
    return before / 1024, after / 1024, size, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="15s")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", default="3s")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--data", type=Path, default=benchlib.DEFAULT_DATA)
    parser.add_argument("--pg-admin-url", default=benchlib.DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args()
    if not Path(WRK).exists():
        raise SystemExit("wrk est introuvable (paquet Debian : apt-get install wrk).")

    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-api-"))
    servers = []
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
        facts = build_database(url, args.data.resolve())
        print(f"  {facts['created']} collectivités ; statuts : {facts['statuses']}")
        secret = create_token(url)

        # Rate limits out of the way: the benchmark measures the list, not the 429 answers.
        portal_env = benchlib.bench_environ(url, API_RATE_LIMIT="100000000/minute")
        servers.append(start_gunicorn("portal", "portal:create_app()", portal_env, tmp, args.workers))
        bare_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "PORTAL_"))}
        servers.append(
            start_gunicorn("bare", "bare_app:app", bare_env, tmp, args.workers, chdir=benchlib.REPO_ROOT / "benchmarks")
        )
        portal, bare = servers
        print(f"gunicorn -w {args.workers} (workers sync) : portail sur {portal.base}, application nue sur {bare.base}")
        auth = {"Authorization": f"Bearer {secret}"}
        script = tmp / "pages.lua"
        script.write_text(LUA_PAGES.replace("%(pages)d", str(PAGES)))
        filtered = "/api/v1/collectivites?statut=obligatoire&type=commune&departement=47"
        status, body = get(f"{portal.base}/api/v1/collectivites?per_page=50&page={PAGES}", auth)
        items = len(json.loads(body)["items"])
        print(f"  vérifié : page {PAGES} → {status}, {items} éléments")
        status, body = get(f"{portal.base}{filtered}", auth)
        print(f"  vérifié : {filtered} → {status}, {len(body)} octets")

        targets = [
            (f"/api/v1/collectivites pages 1 à {PAGES}", f"{portal.base}/api/v1/collectivites", auth, script),
            (filtered, f"{portal.base}{filtered}", auth, None),
            ("application Flask nue (hello)", f"{bare.base}/", {}, None),
        ]
        pg_admin = None if args.sqlite else args.pg_admin_url
        print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration} --latency (chauffe {args.warmup})")
        results = []
        for label, target, headers, lua in targets:
            if args.warmup not in ("0", "0s"):
                warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
                run_wrk(label, target, headers, warm, lua)
                time.sleep(1)
            probe = CpuProbe(portal if target.startswith(portal.base) else bare, pg_admin, PG_DATABASE)
            probe.begin()
            result = run_wrk(label, target, headers, args, lua)
            app_cpu, db_cpu = probe.end()
            if result.requests:
                result.app_cpu_ms = app_cpu * 1000 / result.requests
                result.db_cpu_ms = db_cpu * 1000 / result.requests if pg_admin and probe.server is portal else None
            time.sleep(1)
            results.append(result)
            print(f"  {label} : {result.rps:.1f} req/s, p99 {result.p99_ms:.1f} ms", flush=True)
        bare_result = results[-1]
        print()
        header = f"{'URL':<70} {'req/s':>8} {'p50':>9} {'p99':>9} {'vs nue':>7}  p99<50ms débit>=30%  CPU app  CPU db"
        print(header)
        print("-" * len(header))
        for r in results:
            ratio = r.rps / bare_result.rps if bare_result.rps else 0
            is_bare = r is bare_result
            p99_ok = "—" if is_bare else ("ATTEINT" if r.p99_ms < P99_TARGET_MS else "MANQUÉ")
            rps_ok = "—" if is_bare else ("ATTEINT" if ratio >= THROUGHPUT_TARGET else "MANQUÉ")
            cpu = f"{r.app_cpu_ms:.1f}ms" if r.app_cpu_ms is not None else "—"
            dbc = f"{r.db_cpu_ms:.1f}ms" if r.db_cpu_ms is not None else "—"
            print(
                f"{r.label:<70} {r.rps:>8.1f} {r.p50_ms:>7.1f}ms {r.p99_ms:>7.1f}ms {ratio:>6.1%}  {p99_ok:<8} "
                f"{rps_ok:<11} {cpu:>7} {dbc:>7}"
            )
            if r.non_2xx:
                print(f"  ATTENTION : {r.non_2xx} réponses non 2xx/3xx")
        for server in servers:
            server.stop()
        servers.clear()

        print("\nExport national (toutes les collectivités, sans filtre), un worker gunicorn neuf par format :")
        probe_server = start_gunicorn("login", "portal:create_app()", benchlib.bench_environ(url), tmp, 1)
        try:
            cookie = web_pages.login(probe_server.base)
        finally:
            probe_server.stop()
        for fmt in ("csv", "xlsx"):
            before, after, size, elapsed = export_peak(fmt, url, tmp, cookie)
            print(
                f"  {fmt.upper():<4} : {size / 1e6:.1f} Mo en {elapsed:.1f} s ; pic de mémoire du worker (VmHWM) "
                f"{before:.0f} Mio avant l'export → {after:.0f} Mio après (+{after - before:.0f} Mio)"
            )
        print(benchlib.machine_line())
    finally:
        for server in servers:
            server.stop()
        if created_pg:
            benchlib.drop_database(args.pg_admin_url, PG_DATABASE)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
