"""Helpers shared by the benchmark scripts: paths, throw-away databases, the app, memory.

The scripts are run as ``python benchmarks/<script>.py`` from the repository root (with the
project's virtualenv), so this module is imported as a sibling (``benchlib``).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = (REPO_ROOT / ".." / "shared" / "data" / "decoupage-administratif").resolve()
# Where the throw-away PostgreSQL databases are created (the maintenance database of the server).
DEFAULT_PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def _plain_url(url: str) -> str:
    """psycopg wants ``postgresql://``; SQLAlchemy URLs may say ``postgresql+psycopg://``."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def database_url(admin_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``admin_url``."""
    base, _, _ = _plain_url(admin_url).rpartition("/")
    return f"{base}/{name}"


def create_database(admin_url: str, name: str) -> str:
    """Drop (if left over by an interrupted run) and create database ``name``; return its URL."""
    import psycopg

    with psycopg.connect(_plain_url(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_plain_url(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_environ(database: str, **extra: str) -> dict[str, str]:
    """A production-like configuration for ``create_app``, independent of the caller's environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "PORTAL_"))}
    environ.update(
        {
            "PORTAL_ENV": "production",
            "SECRET_KEY": environ.get("SECRET_KEY") or "benchmark-secret-key-not-for-production",
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": "memory://",
            "SESSION_COOKIE_SECURE": "0",
        }
    )
    environ.update(extra)
    return environ


def make_app(database: str):
    from portal import create_app

    return create_app({"ENVIRON": bench_environ(database)})


def migrate_schema(app) -> None:
    """Build the schema the way production does: the Alembic migrations, never ``create_all``."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine_line() -> str:
    """Cores and load average: figures measured on a busy machine are not comparable."""
    one, five, _ = os.getloadavg()
    return f"machine : {os.cpu_count()} cœurs, charge moyenne {one:.2f} (1 min) / {five:.2f} (5 min)"


def code_line() -> str:
    """The commit measured, and whether the work tree had uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        completed = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return completed.stdout.strip() if completed.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "inconnu"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "portal", "templates", "migrations", "workers")
    return f"code : commit {commit}" + (" + modifications non commitées (portal/, templates/…)" if dirty else "")


def child_result(script: str, label: str, *args: str) -> dict:
    """Run ``script --child label *args`` in a fresh interpreter (its own peak memory) and return the JSON it
    prints on its ``RESULT `` line; stop with its output when it fails."""
    command = [sys.executable, script, "--child", label, *args]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.stderr.write(completed.stdout + completed.stderr)
    raise SystemExit(f"L'import sur {label} a échoué (code {completed.returncode}) : voir la sortie ci-dessus.")
