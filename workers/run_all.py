"""``make run``: the web server, a Celery worker, Celery beat and the local mail sink, in the foreground.

Ctrl-C (or the end of any one of them) stops all four.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
            os.environ.get("MAIL_PORT", "8025"),
            "--dir",
            str(instance / "mail"),
        ],
    }


def _stop_on_sigterm(_signum, _frame):
    # A supervisor stopped by SIGTERM (systemd, kill) must stop its children too, like Ctrl-C does.
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    port = os.environ.get("PORT", "5000")
    host = os.environ.get("HOST", "127.0.0.1")
    wanted = commands(port, host)
    if os.environ.get("MAIL_SERVER", "127.0.0.1") not in ("127.0.0.1", "localhost"):
        wanted.pop("mail")  # a real SMTP server is configured
    processes: dict[str, subprocess.Popen] = {}
    for name, command in wanted.items():
        processes[name] = subprocess.Popen(command, cwd=ROOT)
    print(
        f"\nPortail CDG : http://{host}:{port}/  —  courriels reçus dans {ROOT / 'instance' / 'mail'}\n"
        "Ctrl-C pour tout arrêter.\n",
        flush=True,
    )
    status = 0
    try:
        while True:
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    print(f"« {name} » s'est arrêté (code {code}) : arrêt de l'ensemble.", file=sys.stderr)
                    status = code or 1
                    raise KeyboardInterrupt
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.time() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                process.kill()
    return status


if __name__ == "__main__":
    sys.exit(main())
