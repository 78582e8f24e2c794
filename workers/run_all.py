"""``make run``: the web server, a Celery worker, Celery beat and the local mail sink, in the foreground.

When the worker, beat or the mail sink stops, it is started again after 1 s, 2 s, 4 s … up to a minute
(workers/supervisor.py); the web server's end stops all four (a restart would usually meet the same error:
port taken, configuration refused). Ctrl-C or SIGTERM stops all four.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from workers.supervisor import Backoff, Service, supervise

ROOT = Path(__file__).resolve().parent.parent
BACKOFF = Backoff(base=1.0, cap=60.0, stable_after=60.0)


def commands(port: str, host: str) -> dict[str, list[str]]:
    python = sys.executable
    instance = ROOT / "instance"
    return {
        "web": [
            python,
            "-m",
            "gunicorn",
            "--bind",
            f"{host}:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
            "portal:create_app()",
        ],
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--hostname",
            "worker@%h",
        ],
        "beat": [
            python,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(instance / "celerybeat-schedule"),
        ],
        "mail": [
            python,
            "-m",
            "portal.notifications.sink",
            "--port",
            mail_port(),
            "--dir",
            str(instance / "mail"),
        ],
    }


def mail_port() -> str:
    """The port the portal sends to (MAIL_PORT, 8025 when unset or empty, as in portal.config): the local mail
    sink listens on it."""
    return os.environ.get("MAIL_PORT") or "8025"


def services(port: str, host: str) -> list[Service]:
    wanted = commands(port, host)
    if os.environ.get("MAIL_SERVER", "127.0.0.1") not in ("127.0.0.1", "localhost"):
        wanted.pop("mail")  # a real SMTP server is configured
    return [Service(name, command, essential=name == "web") for name, command in wanted.items()]


def main() -> int:
    port = os.environ.get("PORT", "5000")
    host = os.environ.get("HOST", "127.0.0.1")
    wanted = services(port, host)
    local_mail = any(service.name == "mail" for service in wanted)
    mail = (
        f"courriels reçus sur smtp://127.0.0.1:{mail_port()} et rangés dans {ROOT / 'instance' / 'mail'}"
        if local_mail
        else f"courriels envoyés à {os.environ.get('MAIL_SERVER')}:{mail_port()}"
    )
    print(
        f"\nPortail CDG : http://{host}:{port}/  —  {mail}\n"
        "Le worker, beat et la boîte locale redémarrent s'ils s'arrêtent ; Ctrl-C pour tout arrêter.\n",
        flush=True,
    )
    return supervise(wanted, BACKOFF, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
