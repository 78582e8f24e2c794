"""``make run``'s supervisor (workers/supervisor.py, used by workers/run_all.py) with real subprocesses.

Tiny Python programs stand in for gunicorn, the Celery worker, beat and the mail sink; the backoff is
shortened (0.1 s, 0.2 s, 0.4 s at most) so that several restarts fit in a second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.workers.conftest import ROOT, wait_until
from workers.supervisor import Backoff, Service, Supervisor

SHORT = Backoff(base=0.1, cap=0.4, stable_after=5.0)

# The stand-in services. Each writes its pid to the file given, if any, so that the test can follow it.
FAKE_SERVICE = """
import os, signal, subprocess, sys, time

mode, *args = sys.argv[1:]
if mode == "exit":  # exit CODE [AFTER_SECONDS]
    time.sleep(float(args[1]) if len(args) > 1 else 0)
    sys.exit(int(args[0]))
if mode == "exit-when":  # exit-when FILE CODE: once FILE exists
    while not os.path.exists(args[0]):
        time.sleep(0.01)
    sys.exit(int(args[1]))
pid_file = args[0]
if mode == "ignore-sigterm":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode == "with-child":  # a process of its own, as gunicorn's and Celery's workers
    subprocess.Popen([sys.executable, __file__, "sleep", args[1]])
tmp = pid_file + ".tmp"
with open(tmp, "w") as f:
    f.write(str(os.getpid()))
os.replace(tmp, pid_file)
time.sleep(60)
"""


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / "fake_service.py"
    script.write_text(FAKE_SERVICE)

    def command(mode: str, *args) -> list[str]:
        return [sys.executable, str(script), mode, *(str(arg) for arg in args)]

    return command


def read_pid(path: Path, timeout: float = 10) -> int:
    assert wait_until(path.exists, timeout), f"{path.name} : le processus n'a pas démarré"
    return int(path.read_text())


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


class Background:
    """A supervisor run in a thread of the test, saying its messages into a list (with when they were said)."""

    def __init__(self, services: list[Service], backoff: Backoff = SHORT):
        self.said: list[tuple[float, str]] = []
        self.supervisor = Supervisor(
            services,
            backoff,
            poll_interval=0.01,
            stop_timeout=2.0,
            say=lambda m: self.said.append((time.monotonic(), m)),
        )
        self.status: list[int] = []
        self.thread = threading.Thread(target=lambda: self.status.append(self.supervisor.run()), daemon=True)
        self.thread.start()

    @property
    def messages(self) -> list[str]:
        return [message for _at, message in self.said]

    def join(self) -> int:
        """Wait for the supervisor to end by itself; returns its exit status."""
        self.thread.join(15)
        assert not self.thread.is_alive(), self.messages
        return self.status[0]

    def stop(self) -> int:
        self.supervisor.request_stop()
        return self.join()


def test_a_worker_that_keeps_stopping_is_restarted_after_growing_delays_while_the_web_server_runs_on(fake, tmp_path):
    run = Background(
        [Service("web", fake("sleep", tmp_path / "web.pid"), essential=True), Service("worker", fake("exit", 1))]
    )
    try:
        web = read_pid(tmp_path / "web.pid")
        assert wait_until(lambda: len(run.said) >= 5, 15), run.messages
        assert alive(web)
    finally:
        assert run.stop() == 0
    delays = ["0,1 s", "0,2 s", "0,4 s", "0,4 s", "0,4 s"]
    assert run.messages[:5] == [f"« worker » s'est arrêté (code 1) : redémarrage dans {delay}." for delay in delays]
    # Each restart waited its delay: the next stop came that long after at least.
    gaps = [later - earlier for (earlier, _), (later, _) in zip(run.said[:4], run.said[1:5], strict=True)]
    assert all(gap >= wanted - 0.01 for gap, wanted in zip(gaps, [0.1, 0.2, 0.4, 0.4], strict=True)), gaps
    assert not any("web" in message for message in run.messages)
    assert not alive(web)  # stopped with the rest at the end


def test_a_worker_killed_by_a_signal_is_started_again(fake, tmp_path):
    pid_file = tmp_path / "worker.pid"
    run = Background(
        [
            Service("web", fake("sleep", tmp_path / "web.pid"), essential=True),
            Service("worker", fake("sleep", pid_file)),
        ]
    )
    try:
        first = read_pid(pid_file)
        pid_file.unlink()
        os.kill(first, signal.SIGKILL)
        second = read_pid(pid_file)
        assert second != first and alive(second)
    finally:
        assert run.stop() == 0
    assert run.messages == ["« worker » a été arrêté par le signal SIGKILL : redémarrage dans 0,1 s."]
    assert not alive(second)


def test_a_service_that_ran_long_enough_is_restarted_after_the_shortest_delay_again(fake):
    backoff = Backoff(base=0.1, cap=0.4, stable_after=0.2)
    run = Background([Service("beat", fake("exit", 2, 0.3))], backoff)  # each run lasts 0.3 s: stable enough
    try:
        assert wait_until(lambda: len(run.said) >= 3, 15), run.messages
    finally:
        run.stop()
    assert run.messages[:3] == ["« beat » s'est arrêté (code 2) : redémarrage dans 0,1 s."] * 3


def test_when_the_web_server_stops_everything_stops(fake, tmp_path):
    run = Background(
        [
            Service("web", fake("exit-when", tmp_path / "stop-web", 3), essential=True),
            Service("worker", fake("with-child", tmp_path / "worker.pid", tmp_path / "pool.pid")),
            Service("mail", fake("exit", 1)),
        ]
    )
    worker, pool = read_pid(tmp_path / "worker.pid"), read_pid(tmp_path / "pool.pid")
    assert wait_until(lambda: run.said, 10)  # the mail sink has stopped once, and will be restarted
    assert run.messages[0] == "« mail » s'est arrêté (code 1) : redémarrage dans 0,1 s."
    (tmp_path / "stop-web").touch()
    assert run.join() == 3
    assert run.messages[-1] == "« web » s'est arrêté (code 3) : arrêt de l'ensemble."
    assert wait_until(lambda: not alive(worker) and not alive(pool), 5)


def test_a_service_that_cannot_start_is_tried_again(tmp_path):
    run = Background([Service("mail", [str(tmp_path / "absent")])])
    try:
        assert wait_until(lambda: len(run.said) >= 2, 10), run.messages
    finally:
        run.stop()
    messages = run.messages
    assert messages[0].startswith("« mail » n'a pas pu démarrer (") and messages[0].endswith(
        ") : nouvel essai dans 0,1 s."
    )
    assert messages[1].endswith(") : nouvel essai dans 0,2 s.")


# The supervisor in its own process, stopped as make run is: Ctrl-C (SIGINT) or SIGTERM ---------------------

DRIVER = """
import json, sys
from workers.supervisor import Backoff, Service, supervise

services = [Service(name, command, essential=name == "web") for name, command in json.loads(sys.argv[1])]
sys.exit(supervise(services, Backoff(base=0.1, cap=0.4, stable_after=5.0), poll_interval=0.02, stop_timeout=1.0))
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_stop_every_service_and_their_children(fake, tmp_path, signum):
    import json

    services = [
        ("web", fake("sleep", tmp_path / "web.pid")),
        ("worker", fake("with-child", tmp_path / "worker.pid", tmp_path / "pool.pid")),
        ("beat", fake("exit", 1)),  # waiting for its next start when the stop comes
        ("mail", fake("ignore-sigterm", tmp_path / "mail.pid")),  # killed once stop_timeout is over
    ]
    log = tmp_path / "supervisor.log"
    with open(log, "wb") as output:
        supervisor = subprocess.Popen(
            [sys.executable, "-c", DRIVER, json.dumps(services)], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        pids = {name: read_pid(tmp_path / f"{name}.pid") for name in ("web", "worker", "pool", "mail")}
        assert wait_until(lambda: "« beat » s'est arrêté (code 1)" in log.read_text(), 10), log.read_text()
        supervisor.send_signal(signum)
        assert supervisor.wait(timeout=15) == 0, log.read_text()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
    assert wait_until(lambda: not any(alive(pid) for pid in pids.values()), 5), {
        name: pid for name, pid in pids.items() if alive(pid)
    }


def test_the_mail_sink_listens_on_mail_port_and_the_start_up_says_where(monkeypatch, capsys):
    from workers import run_all

    monkeypatch.setenv("MAIL_PORT", "2526")
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    started = {}
    monkeypatch.setattr(run_all, "supervise", lambda wanted, backoff, cwd: started.update(wanted=wanted) or 0)
    assert run_all.main() == 0
    mail = next(s for s in started["wanted"] if s.name == "mail")
    assert mail.command[mail.command.index("--port") + 1] == "2526"
    assert "smtp://127.0.0.1:2526" in capsys.readouterr().out
    monkeypatch.setenv("MAIL_PORT", "")
    assert run_all.mail_port() == "8025"  # unset or empty: the portal's own default (portal.config)
