"""Benchmark: N emails through the outbox, Celery and a local SMTP sink (aiosmtpd).

For each broker, a fresh database is migrated, a Celery worker is started (the production app,
``workers.celery_app``, ``--pool prefork --concurrency 2``), N emails are queued with
``queue_email`` (committed in batches: each commit publishes its messages), and every message
reaching the sink is counted by its Message-ID. Printed for each run: throughput (distinct
emails received per second, from the first publication to the last reception), lost
(queued - distinct received), duplicates (received - distinct), and the final outbox states.

* ``redis``: Redis (``redis://127.0.0.1:6379/1``, queue purged first) and PostgreSQL (a
  database ``portal_bench_notif`` created and dropped by the script);
* ``embedded``: kombu's SQLAlchemy transport on a SQLite file and a SQLite database, both in a
  temporary directory.

    .venv/bin/python benchmarks/notifications.py [--count 10000] [--only redis|embedded]
        [--database postgres|sqlite] [--concurrency 2] [--polling-interval SECONDS]

Target: at least 200 emails/s on Redis with 2 worker processes, 0 lost, 0 duplicates.
``--polling-interval`` sets the embedded broker's polling (kombu's default: 1 s) in the worker;
``--time-limit`` stops a run that would take too long (the embedded broker, at its default
polling, delivers about two emails a second): what has not arrived is reported as still queued.
Also printed: the CPU time per email of the worker (its processes, from /proc) and of this
script (publication and SMTP sink), and the machine's load, since other processes skew the rate.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "portal_bench_notif"
REDIS_URL = "redis://127.0.0.1:6379/1"
TARGET_PER_SECOND = 200
MESSAGE_ID_RE = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


# The SMTP sink --------------------------------------------------------------------------------------


class CountingHandler:
    """Keeps the Message-ID and the arrival time of every message (no MIME parsing: the sink must stay cheap)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ids: list[bytes] = []
        self.last_at = 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        data = envelope.original_content or envelope.content
        head = data.split(b"\r\n\r\n", 1)[0]
        match = MESSAGE_ID_RE.search(head)
        with self.lock:
            self.ids.append(match.group(1) if match else b"(sans Message-ID)")
            self.last_at = time.perf_counter()
        return "250 Message accepted for delivery"

    def snapshot(self) -> tuple[int, int, float]:
        with self.lock:
            return len(self.ids), len(set(self.ids)), self.last_at


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Databases ---------------------------------------------------------------------------------------


def create_pg_database() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        in_use = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (PG_DATABASE,)
        ).fetchone()[0]
        if in_use:
            raise SystemExit(f"La base {PG_DATABASE} est utilisée ({in_use} connexions) : un autre essai tourne ?")
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')  # left over by an interrupted run
        connection.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    return PG_ADMIN_URL.rpartition("/")[0] + "/" + PG_DATABASE


def drop_pg_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')


def environ_for(database_url: str, broker_url: str, **extra) -> dict:
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    environ.update(
        {
            "PORTAL_ENV": "production",
            "SECRET_KEY": BENCH_SECRET,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
        }
    )
    environ.update({k: str(v) for k, v in extra.items()})
    return environ


BENCH_SECRET = secrets.token_urlsafe(32)


# The worker --------------------------------------------------------------------------------------


def worker_main(argv: list[str]) -> None:
    """``notifications.py _worker READY_FILE POLLING CONCURRENCY``: the production Celery app, as a worker."""
    ready_file, polling, concurrency = argv
    if polling:
        from kombu.transport import sqlalchemy as sqla_transport

        sqla_transport.Transport.polling_interval = float(polling)
    from celery.signals import worker_ready

    from workers.celery_app import app

    @worker_ready.connect
    def _ready(**_kwargs):
        Path(ready_file).write_text(str(os.getpid()))

    app.worker_main(
        [
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            concurrency,
            "--loglevel",
            "WARNING",
            "--hostname",
            f"bench-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )


def start_worker(environ: dict, workdir: Path, polling: str, concurrency: int) -> subprocess.Popen:
    ready_file = workdir / "worker.ready"
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115 - kept open for the worker's lifetime
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "_worker", str(ready_file), polling, str(concurrency)],
        cwd=REPO_ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_worker(process)
            raise SystemExit(f"Le worker n'a pas démarré ; voir {workdir / 'worker.log'}")
        time.sleep(0.05)
    return process


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process of a process group (the worker and its prefork children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields: state ppid pgrp session ... utime(12) stime(13)
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stop_worker(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


# One run -----------------------------------------------------------------------------------------


def run(
    label: str,
    broker_url: str,
    database: str,
    count: int,
    batch: int,
    concurrency: int,
    polling: str,
    timeout: float,
    time_limit: float,
) -> dict:
    from aiosmtpd.controller import Controller
    from celery.signals import before_task_publish
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app
    from portal.extensions import db
    from portal.notifications import services
    from portal.notifications.models import OutboxEmail

    workdir = Path(tempfile.mkdtemp(prefix=f"bench-notif-{label}-"))
    if broker_url == "embedded":
        broker_url = f"sqla+sqlite:///{workdir / 'broker.sqlite3'}"
    database_url = create_pg_database() if database == "postgres" else f"sqlite:///{workdir / 'portal.sqlite3'}"
    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    worker = None
    app = create_app({"ENVIRON": environ_for(database_url, broker_url)})
    celery_app = app.extensions["celery"]
    first_publish: list[float] = []

    def on_publish(**_kwargs):
        if not first_publish:
            first_publish.append(time.perf_counter())

    try:
        with app.app_context():
            upgrade()
            db.engine.dispose()
        celery_app.control.purge()
        worker = start_worker(
            environ_for(database_url, broker_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port),
            workdir,
            polling,
            concurrency,
        )
        worker_cpu_at_start, own_cpu_at_start = group_cpu_seconds(worker.pid), own_cpu_seconds()
        before_task_publish.connect(on_publish, weak=False)

        # Queue: batches of ``batch`` emails per transaction, each commit publishing its messages.
        started = time.perf_counter()
        with app.app_context():
            for start in range(0, count, batch):
                for n in range(start, min(count, start + batch)):
                    services.queue_email(
                        template="notification",
                        category="affiliation",
                        to_address=f"elu{n}@mairie{n % 319}.exemple.fr",
                        to_name=f"Élu n° {n} — Lévêque",
                        context={
                            "title": "Franchissement du seuil d'affiliation",
                            "full_name": f"Élu n° {n}",
                            "body": "Votre collectivité franchit le seuil de 350 agents.",
                            "link": None,
                            "base_url": "http://localhost:5000",
                        },
                    )
                db.session.commit()
            db.session.remove()
        published_in = time.perf_counter() - started

        # Wait for the last email, for nothing to arrive for a while, or for the time limit.
        last_progress, last_distinct, stopped = time.perf_counter(), -1, None
        while True:
            received, distinct, _ = handler.snapshot()
            if distinct >= count:
                break
            if distinct != last_distinct:
                last_distinct, last_progress = distinct, time.perf_counter()
            elif time.perf_counter() - last_progress > timeout:
                stopped = f"plus rien reçu depuis {timeout:.0f} s"
                break
            if first_publish and time.perf_counter() - first_publish[0] > time_limit:
                stopped = f"limite de {time_limit:.0f} s atteinte"
                break
            time.sleep(0.05)
        time.sleep(0.5)  # late duplicates
        received, distinct, last_at = handler.snapshot()
        worker_cpu = group_cpu_seconds(worker.pid) - worker_cpu_at_start
        own_cpu = own_cpu_seconds() - own_cpu_at_start
        with app.app_context():
            states = dict(db.session.execute(select(OutboxEmail.state, func.count()).group_by(OutboxEmail.state)).all())
            db.session.remove()
        elapsed = last_at - first_publish[0] if first_publish and last_at else float("nan")
        result = {
            "label": label,
            "broker": broker_url.split(":", 1)[0],
            "database": database,
            "count": count,
            "received": received,
            "distinct": distinct,
            "lost": count - distinct,
            "stopped": stopped,
            "duplicates": received - distinct,
            "seconds": elapsed,
            "per_second": distinct / elapsed if elapsed and elapsed == elapsed else 0.0,
            "published_in": published_in,
            "states": states,
            "doubled": sum(1 for n in Counter(handler.ids).values() if n > 1),
            "worker_cpu_ms": 1000 * worker_cpu / max(1, distinct),
            "own_cpu_ms": 1000 * own_cpu / max(1, distinct),
            "load": os.getloadavg()[0],
        }
        return result
    finally:
        before_task_publish.disconnect(on_publish)
        if worker is not None:
            stop_worker(worker)
        try:
            celery_app.control.purge()
        except Exception as exc:  # noqa: BLE001 - best effort
            print(f"  (purge impossible : {exc})")
        celery_app.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        controller.stop()
        if database == "postgres":
            drop_pg_database()
        shutil.rmtree(workdir, ignore_errors=True)


def report(result: dict) -> None:
    ok = result["lost"] == 0 and result["duplicates"] == 0
    target = ""
    if result["label"] == "redis":
        reached = result["per_second"] >= TARGET_PER_SECOND and ok
        target = f"  cible ≥ {TARGET_PER_SECOND}/s, 0 perdu, 0 doublon : {'ATTEINTE' if reached else 'MANQUÉE'}"
    if result["stopped"] and result["stopped"].startswith("limite"):
        # Not lost: still waiting in the outbox and the queue when the run was stopped.
        missing = f"non reçus à l'arrêt ({result['stopped']}, encore en file) : {result['lost']}"
    else:
        missing = f"perdus : {result['lost']}" + (f" ({result['stopped']})" if result["stopped"] else "")
    print(
        f"{result['label']:>8} ({result['broker']} + {result['database']}) : {result['count']} courriels, "
        f"{result['distinct']} reçus en {result['seconds']:.1f} s → {result['per_second']:.0f} courriels/s ; "
        f"{missing} ; doublons : {result['duplicates']}"
    )
    print(f"{'':>10}publication (requêtes + commits) : {result['published_in']:.1f} s ; états : {result['states']}")
    print(
        f"{'':>10}CPU par courriel : worker {result['worker_cpu_ms']:.1f} ms, "
        f"ce script (publication + puits SMTP) {result['own_cpu_ms']:.1f} ms ; "
        f"charge de la machine à la fin : {result['load']:.1f} pour {os.cpu_count()} CPU"
    )
    if target:
        print(f"{'':>10}{target.strip()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--only", choices=("redis", "embedded"))
    parser.add_argument(
        "--database",
        choices=("postgres", "sqlite"),
        help="default: PostgreSQL with Redis, SQLite with the embedded broker",
    )
    parser.add_argument("--batch", type=int, default=500, help="emails per transaction (default 500)")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--polling-interval",
        default="",
        help="embedded broker's polling in the worker, in seconds (default: kombu's, 1 s)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds without progress")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=300.0,
        help="stop a run after this many seconds (the emails not received yet are reported as still queued)",
    )
    args = parser.parse_args()

    runs = []
    if args.only in (None, "redis"):
        runs.append(("redis", REDIS_URL, args.database or "postgres"))
    if args.only in (None, "embedded"):
        runs.append(("embedded", "embedded", args.database or "sqlite"))
    polling = f"{args.polling_interval} s" if args.polling_interval else "celui de workers.celery_app"
    print(
        f"{args.count} courriels par essai, {args.concurrency} processus worker, "
        f"transactions de {args.batch} ; polling du broker embarqué : {polling}",
        flush=True,
    )
    failed = False
    for label, broker, database in runs:
        result = run(
            label,
            broker,
            database,
            args.count,
            args.batch,
            args.concurrency,
            args.polling_interval,
            args.timeout,
            args.time_limit,
        )
        report(result)
        failed |= result["duplicates"] > 0 or (
            result["lost"] > 0 and not (result["stopped"] or "").startswith("limite")
        )
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        worker_main(sys.argv[2:])
    else:
        sys.exit(main())
