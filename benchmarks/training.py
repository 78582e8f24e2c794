"""Benchmark: élus' training registrations at national scale, and a burst of concurrent registrations.

Issue 5's performance requirement: "500 sessions, 50,000 elected officials, 20,000 registrations, then
1,000 registrations arriving concurrently through the web for 100 sessions: print throughput, p99 and
the count of overbooked sessions (target: 0 overbooked, p99 under 200 ms)."

1. Builds a fresh database (PostgreSQL ``portal_bench_training`` by default, created then dropped;
   ``--sqlite`` for a temporary SQLite file) with the Alembic migrations and the whole national registry
   (``web_pages.build_database``: Etalab import, synthetic headcounts, a staff account), then bulk-inserts
   (SQLAlchemy Core, in batches, consistent with ``portal.training.registrations``):

   - 50,000 élus: ``user_account`` rows (role ``elu``, all sharing ONE argon2 hash made by
     ``portal.accounts.services.hash_password``, so that every one of them can log in) and their
     ``mandate`` rows, spread over the communes (the first élu of a commune is its maire);
   - a training body with a valid agrément, 5 trainings, 500 published sessions in the future
     (capacity 10 to 40, registration deadline 7 days before the start);
   - 20,000 registrations: for each session, seats (``registered``) up to its capacity, then the
     waiting list (``waiting``), ``waiting_since`` increasing, a unique ``uid``. 100 "target" sessions
     are left nearly full (0 to 3 seats free for three quarters of them, 4 to 9 for the others), so that
     the last seats are raced for; 1,000 élus (the "clients") have no registration at all.

   then ``ANALYZE``.
2. Serves the portal with gunicorn (production settings; ``-w 4 --threads 2`` by default; broker:
   Redis ``redis://127.0.0.1:6379/13`` for PostgreSQL, the embedded SQLite broker for ``--sqlite``; no
   Celery worker: the emails stay in the outbox, the messages published to Redis are deleted at the end).
3. Logs each of the 1,000 clients in through the real login form (``web_pages.login``) and fetches the
   page of its target session (``GET /formations/sessions/<id>``) for the CSRF token: not measured.
4. Before the burst, ``--sequential`` (20) other élus register one at a time on other sessions: the
   median latency of a registration without any queue (its own cost).
5. Measured: the 1,000 ``POST /formations/sessions/<id>`` (the élu registers himself: ``csrf_token``,
   ``mandate_id``, ``funding=commune``, ``dife_amount``, ``travel_cost``, ``leave_days`` at 0), 10 per
   target session, sent by ``--concurrency`` client threads (32) released together; by default the
   requests of a session are consecutive (``--order grouped``) so that they are in flight at the same
   time and really race for the last seats (``--order random`` shuffles them). Success = 302 to the
   session page. Printed: requests, successes, errors by status, throughput, p50/p95/p99/max latency
   (client side, one new connection per request), the CPU time per request of gunicorn and of the
   PostgreSQL backends, and how many requests of a same session were in flight together.
6. Checks in the database: overbooked sessions (seats taken, i.e. registered/offered/present/absent,
   above capacity: target 0), élus twice on a session (live statuses), waiting positions not exactly
   1..n, sessions with a free seat while someone waits, target sessions whose final counts differ from
   what serving the successful requests one after the other gives (seats up to capacity, the rest
   waiting), registrations and outbox emails created by the run vs successes.

Figures only: the script exits 1 if a consistency check fails (overbooking, duplicates…), never on time.

    .venv/bin/python benchmarks/training.py [--sqlite] [--concurrency 32] [--order grouped|random] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import math
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import benchlib
import web_pages

PG_DATABASE = "portal_bench_training"
REDIS_URL = "redis://127.0.0.1:6379/13"
ELU_PASSWORD = "mot-de-passe-des-elus-du-banc"
ELU_EMAIL = "elu{:05d}@banc-formation.example"
P99_TARGET_MS = 200.0
BATCH = 5_000
SEED = 47
USER_AGENT = web_pages.USER_AGENT  # Flask-Login's session protection hashes it: same for login and requests
SEAT_STATUSES = ("registered", "offered", "present", "absent")
LIVE_STATUSES = (*SEAT_STATUSES, "waiting")


def _chunks(rows: list, size: int = BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# Database -------------------------------------------------------------------------------------


@dataclass
class Target:
    session_id: int
    capacity: int
    seats: int  # before the burst
    waiting: int  # before the burst


@dataclass
class Client:
    email: str
    mandate_id: int
    session_id: int
    cookie: str = ""
    csrf: str = ""


@dataclass
class Plan:
    targets: dict[int, Target]
    clients: list[Client]
    solo: list[Client]  # registered one at a time before the burst, on other sessions
    facts: dict = field(default_factory=dict)


def build_database(url: str, data: Path, args) -> Plan:
    """Registry (web_pages.build_database), then élus, sessions and registrations in bulk; ANALYZE."""
    from sqlalchemy import func, insert, select, text

    from portal.accounts.models import Mandate, Person, User, new_session_token
    from portal.accounts.services import hash_password
    from portal.extensions import db
    from portal.registry.models import Collectivite
    from portal.training.models import Registration, Training, TrainingBody, TrainingSession

    rng = random.Random(args.seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    registry = web_pages.build_database(url, data, analyze=False)
    timings["registre"] = time.perf_counter() - started

    app = benchlib.make_app(url)
    with app.app_context():
        now = datetime.now(UTC).replace(microsecond=0)
        # Élus and their mandates ------------------------------------------------------------
        started = time.perf_counter()
        communes = list(
            db.session.scalars(select(Collectivite.id).where(Collectivite.kind == "commune").order_by(Collectivite.id))
        )
        rng.shuffle(communes)
        password_hash = hash_password(ELU_PASSWORD)  # one argon2 hash shared by every élu
        # Each élu is a person (the mandates are his) with a login attached to him.
        people = [
            {
                "given_name": "Élu",
                "family_name": f"{n:05d} du banc d'essai",
                "source": "manual",
                "source_key": f"banc-formation-{n:05d}",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(args.elus)
        ]
        for chunk in _chunks(people):
            db.session.execute(insert(Person.__table__), chunk)
        person_ids = dict(
            db.session.execute(
                select(Person.source_key, Person.id).where(Person.source_key.like("banc-formation-%"))
            ).all()
        )
        users = [
            {
                "email": ELU_EMAIL.format(n),
                "full_name": f"Élu {n:05d} du banc d'essai",
                "role": "elu",
                "password_hash": password_hash,
                "active": True,
                "session_token": new_session_token(),
                "password_changed_at": now,
                "person_id": person_ids[f"banc-formation-{n:05d}"],
                "created_at": now,
                "updated_at": now,
            }
            for n in range(args.elus)
        ]
        for chunk in _chunks(users):
            db.session.execute(insert(User.__table__), chunk)
        mandate_start = (now - timedelta(days=240)).date()
        mandates, seen_communes = [], set()
        for n in range(args.elus):
            commune = communes[n % len(communes)]
            first = commune not in seen_communes
            seen_communes.add(commune)
            function = "maire" if first else rng.choice(("adjoint", "conseiller", "conseiller"))
            mandates.append(
                {
                    "person_id": person_ids[f"banc-formation-{n:05d}"],
                    "collectivite_id": commune,
                    "function": function,
                    "has_delegation": function != "conseiller",
                    "delegation_subject": "Urbanisme" if function == "adjoint" else None,
                    "start_date": mandate_start,
                }
            )
        for chunk in _chunks(mandates):
            db.session.execute(insert(Mandate.__table__), chunk)
        rows = db.session.execute(
            select(User.email, Mandate.id, Mandate.collectivite_id, User.id.label("user_id")).join(
                User, User.person_id == Mandate.person_id
            )
        ).all()
        by_email = {row.email: row for row in rows}
        elus = [by_email[ELU_EMAIL.format(n)] for n in range(args.elus)]  # index n → (email, mandate id, …)
        db.session.commit()
        timings["élus"] = time.perf_counter() - started

        # Body, trainings, sessions ----------------------------------------------------------
        started = time.perf_counter()
        db.session.execute(
            insert(TrainingBody.__table__),
            [
                {
                    "name": "Organisme de formation du banc d'essai",
                    "agrement_number": "AGR-BANC-2026-001",
                    "agrement_from": (now - timedelta(days=365)).date(),
                    "agrement_until": (now + timedelta(days=3 * 365)).date(),
                    "contact_email": "formation@banc.example",
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        body_id = db.session.scalar(select(TrainingBody.id))
        titles = [
            "Élu Numérique Rural — les outils numériques de la mairie",
            "Élu Numérique Rural — la dématérialisation des actes",
            "Élu Numérique Rural — la cybersécurité de la commune",
            "Le budget communal",
            "Les fondamentaux de l'action municipale",
        ]
        db.session.execute(
            insert(Training.__table__),
            [
                {
                    "title": title,
                    "objectives": "Objectifs de la formation (banc d'essai).",
                    "programme": "Programme (banc d'essai).",
                    "duration_hours": 7,
                    "cost_per_participant": 50 * (i + 1),
                    "body_id": body_id,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, title in enumerate(titles)
            ],
        )
        trainings = db.session.execute(select(Training.id, Training.cost_per_participant).order_by(Training.id)).all()
        sessions = []
        for i in range(args.sessions):
            training = trainings[i % len(trainings)]
            starts = (now + timedelta(days=30 + rng.randrange(240))).replace(hour=7, minute=0, second=0)
            sessions.append(
                {
                    "training_id": training.id,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=8),
                    "place": f"Salle {i % 37 + 1}, maison des communes",
                    "remote_url": None,
                    "capacity": rng.randint(10, 40),
                    "registration_deadline": starts - timedelta(days=7),
                    "quota_per_collectivite": None,
                    "published": True,
                    "prioritise_untrained": False,
                    "sequence": 0,
                    "roster_version": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        db.session.execute(insert(TrainingSession.__table__), sessions)
        session_rows = db.session.execute(
            select(TrainingSession.id, TrainingSession.capacity, Training.cost_per_participant)
            .join(Training)
            .order_by(TrainingSession.id)
        ).all()
        db.session.commit()
        timings["sessions"] = time.perf_counter() - started

        # Registrations ----------------------------------------------------------------------
        started = time.perf_counter()
        n_targets = min(args.target_sessions, len(session_rows))
        step = max(len(session_rows) // max(n_targets, 1), 1)
        target_ids = {session_rows[i * step].id for i in range(n_targets)}
        # Per session: how many registrations before the burst.
        wanted: dict[int, int] = {}
        targets: dict[int, Target] = {}
        for k, row in enumerate(r for r in session_rows if r.id in target_ids):
            free = k % 4 if k < n_targets * 3 // 4 else 4 + k % 6  # 0–3 seats left, or 4–9
            free = min(free, row.capacity)
            waiting = rng.randint(0, 5) if free == 0 else 0
            targets[row.id] = Target(row.id, row.capacity, row.capacity - free, waiting)
            wanted[row.id] = row.capacity - free + waiting
        others = [r for r in session_rows if r.id not in target_ids]
        rest = max(args.registrations - sum(wanted.values()), 0)
        weights = [rng.uniform(0.3, 1.7) for _ in others]
        total_weight = sum(weights) or 1.0
        pool_size = args.elus - args.requests - args.sequential  # the clients (the last élus): no registration
        for row, weight in zip(others, weights, strict=True):
            wanted[row.id] = min(int(rest * weight / total_weight), pool_size)
        shortfall = args.registrations - sum(wanted.values())  # rounding: spread the remainder
        for row in others[: max(shortfall, 0)]:
            wanted[row.id] += 1
        base = now - timedelta(days=60)
        registrations, tick = [], 0
        for row in session_rows:
            count = wanted.get(row.id, 0)
            for position, elu_index in enumerate(rng.sample(range(pool_size), count)):
                elu = elus[elu_index]
                seated = position < row.capacity
                tick += 1
                since = base + timedelta(seconds=tick * 7)
                registrations.append(
                    {
                        "session_id": row.id,
                        "mandate_id": elu.id,
                        "collectivite_id": elu.collectivite_id,
                        "status": "registered" if seated else "waiting",
                        "waiting_since": since,
                        "offered_at": None,
                        "offer_expires_at": None,
                        "registered_at": since if seated else None,
                        "registered_by_id": elu.user_id,
                        "cancelled_at": None,
                        "cancel_reason": None,
                        "delegation_held": False,
                        "first_year": False,
                        "funding": "commune",
                        "tuition_cost": row.cost_per_participant,
                        "travel_cost": 0,
                        "dife_amount": 0,
                        "leave_days": 0,
                        "uid": uuid.uuid4().hex,
                        "ics_sequence": 0,
                        "invitation_sent": seated,
                        "waiting_notice_sent_at": None if seated else since,  # every élu already told
                        "reminders_sent": "",
                        "attendance_marked_at": None,
                        "attestation_sent_at": None,
                        "created_at": since,
                        "updated_at": since,
                    }
                )
        for chunk in _chunks(registrations):
            db.session.execute(insert(Registration.__table__), chunk)
        db.session.commit()
        timings["inscriptions"] = time.perf_counter() - started

        started = time.perf_counter()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        timings["ANALYZE"] = time.perf_counter() - started

        # The clients: the last élus, 10 per target session (requests / targets).
        target_list = sorted(targets)
        clients = [
            Client(
                email=elus[pool_size + i].email,
                mandate_id=elus[pool_size + i].id,
                session_id=target_list[i % len(target_list)],
            )
            for i in range(args.requests)
        ]
        solo = [
            Client(
                email=elus[pool_size + args.requests + i].email,
                mandate_id=elus[pool_size + args.requests + i].id,
                session_id=others[i * len(others) // max(args.sequential, 1)].id,
            )
            for i in range(args.sequential)
        ]
        facts = {
            "registry": registry["created"],
            "elus": db.session.scalar(select(func.count()).select_from(User).where(User.role == "elu")),
            "mandates": db.session.scalar(select(func.count()).select_from(Mandate)),
            "communes_with_elu": len(seen_communes),
            "sessions": db.session.scalar(select(func.count()).select_from(TrainingSession)),
            "registrations": db.session.scalar(select(func.count()).select_from(Registration)),
            "registered": sum(1 for r in registrations if r["status"] == "registered"),
            "waiting": sum(1 for r in registrations if r["status"] == "waiting"),
            "free_seats": Counter(t.capacity - t.seats for t in targets.values()),
            "timings": timings,
        }
        db.session.remove()
        db.engine.dispose()
    return Plan(targets=targets, clients=clients, solo=solo, facts=facts)


# HTTP -----------------------------------------------------------------------------------------

CSRF_RE = web_pages.CSRF_RE


@dataclass
class Reply:
    status: int
    location: str
    body: bytes
    cookie: str | None  # a new value of the session cookie, if the response set one


def request(base: str, method: str, path: str, cookie: str, form: dict | None = None, timeout: float = 120) -> Reply:
    """One request on a new connection (sync gunicorn workers close it anyway); no redirect followed."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    headers = {"User-Agent": USER_AGENT, "Cookie": f"session={cookie}"}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        new_cookie = None
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            if "session" in jar:
                new_cookie = jar["session"].value
        return Reply(response.status, response.headers.get("Location") or "", data, new_cookie)
    finally:
        connection.close()


def direct_cookies(url: str, clients: list[Client]) -> None:
    """The session cookie the login form would give, made by Flask-Login's own ``login_user``.

    Same content (``_user_id`` = id:session token, ``_fresh``, ``_id`` from the address and the
    User-Agent), signed with the same SECRET_KEY as the served app, without the argon2 verification
    (0.1 to 0.2 s of CPU each here: 1,000 form logins would take minutes). Not measured either way.
    """
    from flask import session
    from flask_login import login_user
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db

    app = benchlib.make_app(url)
    serializer = app.session_interface.get_signing_serializer(app)
    with app.app_context():
        users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_([c.email for c in clients])))}
        for client in clients:
            with app.test_request_context(
                "/connexion", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
            ):
                login_user(users[client.email])
                client.cookie = serializer.dumps(dict(session))
        db.session.remove()
        db.engine.dispose()


def prepare_client(base: str, client: Client) -> None:
    """Log in through the form unless a cookie is already there, then read the session page (CSRF token)."""
    if not client.cookie:
        client.cookie = web_pages.login(base, client.email, ELU_PASSWORD)
    reply = request(base, "GET", f"/formations/sessions/{client.session_id}", client.cookie)
    if reply.cookie:
        client.cookie = reply.cookie
    page = reply.body.decode()
    match = CSRF_RE.search(page)
    if reply.status != 200 or not match or 'name="mandate_id"' not in page:
        raise SystemExit(
            f"La page de la session {client.session_id} pour {client.email} répond {reply.status} "
            "sans formulaire d'inscription. Abandon."
        )
    client.csrf = html.unescape(match.group(1) or match.group(2))


@dataclass
class Outcome:
    client: Client
    started: float
    ended: float
    status: int  # 0: connection error
    location: str
    detail: str = ""

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000

    @property
    def ok(self) -> bool:
        return self.status == 302 and self.location.endswith(f"/formations/sessions/{self.client.session_id}")


_ERROR_RE = re.compile(r'class="[^"]*(?:error|alert)[^"]*"[^>]*>(.*?)</', re.S)


def register(base: str, client: Client) -> Outcome:
    form = {
        "csrf_token": client.csrf,
        "mandate_id": str(client.mandate_id),
        "funding": "commune",
        "dife_amount": "0",
        "travel_cost": "0",
        "leave_days": "0",
    }
    started = time.perf_counter()
    try:
        reply = request(base, "POST", f"/formations/sessions/{client.session_id}", client.cookie, form)
    except OSError as exc:
        return Outcome(client, started, time.perf_counter(), 0, "", f"{type(exc).__name__}: {exc}")
    ended = time.perf_counter()
    detail = ""
    if reply.status != 302:
        texts = [re.sub(r"<[^>]+>|\s+", " ", m).strip() for m in _ERROR_RE.findall(reply.body.decode(errors="replace"))]
        detail = next((t for t in texts if t), reply.body[:200].decode(errors="replace"))
    return Outcome(client, started, ended, reply.status, reply.location, detail)


def burst(base: str, clients: list[Client], concurrency: int) -> list[Outcome]:
    """``concurrency`` threads released together take the requests in order, one at a time each."""
    queue = list(reversed(clients))
    lock = threading.Lock()
    gate = threading.Barrier(concurrency)
    outcomes: list[Outcome] = []

    def worker() -> None:
        gate.wait()
        while True:
            with lock:
                if not queue:
                    return
                client = queue.pop()
            outcome = register(base, client)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 values: the 990th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals in progress at the same instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    current = best = 0
    for _, delta in events:
        current += delta
        best = max(best, current)
    return best


# Checks ---------------------------------------------------------------------------------------


def check_database(url: str, plan: Plan, outcomes: list[Outcome]) -> dict:
    from sqlalchemy import func, select, text

    from portal.extensions import db
    from portal.notifications.models import OutboxEmail
    from portal.training import roster
    from portal.training.models import NOTICE_DUE_SQL, Registration, TrainingSession

    app = benchlib.make_app(url)
    with app.app_context():
        capacity = dict(db.session.execute(select(TrainingSession.id, TrainingSession.capacity)).all())
        counts = defaultdict(Counter)
        for session_id, status, count in db.session.execute(
            select(Registration.session_id, Registration.status, func.count()).group_by(
                Registration.session_id, Registration.status
            )
        ):
            counts[session_id][status] = count
        seats = {sid: sum(counts[sid][s] for s in SEAT_STATUSES) for sid in capacity}
        overbooked = {sid: (seats[sid], capacity[sid]) for sid in capacity if seats[sid] > capacity[sid]}
        free_while_waiting = [sid for sid in capacity if seats[sid] < capacity[sid] and counts[sid]["waiting"] > 0]
        duplicates = db.session.execute(
            select(Registration.session_id, Registration.mandate_id, func.count())
            .where(Registration.status.in_(LIVE_STATUSES))
            .group_by(Registration.session_id, Registration.mandate_id)
            .having(func.count() > 1)
        ).all()
        bad_positions = 0
        for session in db.session.scalars(select(TrainingSession)):
            positions = roster.waiting_positions(session)
            if sorted(positions.values()) != list(range(1, counts[session.id]["waiting"] + 1)):
                bad_positions += 1
        client_mandates = [c.mandate_id for c in plan.clients]
        created, notices_due = Counter(), 0
        for chunk in _chunks(client_mandates, 500):
            for status, count in db.session.execute(
                select(Registration.status, func.count())
                .where(Registration.mandate_id.in_(chunk))
                .group_by(Registration.status)
            ):
                created[status] += count
            notices_due += db.session.scalar(
                select(func.count()).where(Registration.mandate_id.in_(chunk), text(f"({NOTICE_DUE_SQL})"))
            )
        emails = db.session.scalar(select(func.count()).select_from(OutboxEmail))
        db.session.remove()
        db.engine.dispose()

    # What serving the successful requests one at a time gives, session by session.
    successes = Counter(o.client.session_id for o in outcomes if o.ok)
    mismatches, contested = [], 0
    for sid, target in plan.targets.items():
        new = successes[sid]
        free = target.capacity - target.seats
        seated = min(free, new) if target.waiting == 0 else 0
        expected = (target.seats + seated, target.waiting + new - seated)
        actual = (seats[sid], counts[sid]["waiting"])
        if expected != actual:
            mismatches.append((sid, expected, actual))
        if 0 < free < new:
            contested += 1
    return {
        "overbooked": overbooked,
        "duplicates": len(duplicates),
        "bad_positions": bad_positions,
        "free_while_waiting": len(free_while_waiting),
        "mismatches": mismatches,
        "contested": contested,
        "created": created,
        "emails": emails,
        "notices_due": notices_due,
        "seats": sum(seats.values()),
        "capacity": sum(capacity.values()),
    }


# Redis ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def redis_broker(url: str):
    """Yield the broker URL; delete the keys the run added (the tasks no worker will consume)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis injoignable ({url}) : {exc}. Option --redis-url.") from exc
    before = set(client.keys("*"))
    try:
        yield url
    finally:
        added = [k for k in client.keys("*") if k not in before]
        if added:
            client.delete(*added)
        client.close()


# Main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--sqlite", action="store_true", help="SQLite temporaire (broker embarqué) au lieu de PostgreSQL"
    )
    parser.add_argument("--sessions", type=int, default=500, help="sessions publiées")
    parser.add_argument("--elus", type=int, default=50_000, help="élus (comptes et mandats)")
    parser.add_argument("--registrations", type=int, default=20_000, help="inscriptions existantes avant la rafale")
    parser.add_argument("--requests", type=int, default=1_000, help="inscriptions envoyées en même temps par le web")
    parser.add_argument(
        "--sequential", type=int, default=20, help="inscriptions une à une avant la rafale (coût propre, sans file)"
    )
    parser.add_argument("--target-sessions", type=int, default=100, help="sessions visées par la rafale")
    parser.add_argument("--concurrency", type=int, default=32, help="clients simultanés pendant la rafale")
    parser.add_argument(
        "--order",
        choices=("grouped", "random"),
        default="grouped",
        help="grouped : les requêtes d'une même session se suivent (course à la dernière place) ; random : mélangées",
    )
    parser.add_argument("--workers", type=int, default=4, help="workers gunicorn")
    parser.add_argument("--gunicorn-threads", type=int, default=2, help="threads par worker gunicorn (1 = sync)")
    parser.add_argument(
        "--form-logins",
        type=int,
        default=50,
        help="élus connectés par le vrai formulaire (argon2, 0,1 à 0,2 s chacun) ; les autres reçoivent le cookie "
        "de session que donne login_user, signé par la même clé",
    )
    parser.add_argument("--login-concurrency", type=int, default=8, help="préparations (connexion, page) en parallèle")
    parser.add_argument("--seed", type=int, default=SEED, help="graine des données synthétiques")
    parser.add_argument("--redis-url", default=REDIS_URL, help="broker Celery des exécutions PostgreSQL")
    parser.add_argument("--data", type=Path, default=benchlib.DEFAULT_DATA, help="dossier du découpage administratif")
    parser.add_argument(
        "--pg-database", default=PG_DATABASE, help="base PostgreSQL créée puis supprimée (une par exécution simultanée)"
    )
    parser.add_argument("--pg-admin-url", default=benchlib.DEFAULT_PG_ADMIN_URL, help="base de maintenance PostgreSQL")
    parser.add_argument("--keep", action="store_true", help="garder la base (et les journaux gunicorn) à la fin")
    args = parser.parse_args()
    if args.requests > args.elus // 2:
        parser.error("--requests doit rester petit devant --elus")
    data = args.data.resolve()
    if not (data / "communes.json").exists():
        raise SystemExit(f"Données introuvables : {data}/communes.json (option --data).")

    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-training-"))
    server = None
    created_pg = False
    failed = False
    with contextlib.ExitStack() as stack:
        try:
            if args.sqlite:
                url, engine = f"sqlite:///{tmp / 'bench.sqlite3'}", f"SQLite (fichier {tmp / 'bench.sqlite3'})"
                broker = f"sqla+sqlite:///{tmp / 'celery-broker.sqlite3'}"
            else:
                url = benchlib.create_database(args.pg_admin_url, args.pg_database)
                created_pg, engine = True, f"PostgreSQL (base {args.pg_database})"
                broker = stack.enter_context(redis_broker(args.redis_url))
            print(benchlib.machine_line())
            print(benchlib.code_line())
            print(f"Base : {engine}. Construction…", flush=True)
            started = time.perf_counter()
            plan = build_database(url, data, args)
            f = plan.facts
            print(
                f"  construite en {time.perf_counter() - started:.1f} s ("
                + " ; ".join(f"{k} {v:.1f} s" for k, v in f["timings"].items())
                + ")"
            )
            print(
                f"  {f['registry']} collectivités ; {f['elus']} élus ({f['mandates']} mandats dans "
                f"{f['communes_with_elu']} communes) ; {f['sessions']} sessions publiées ; "
                f"{f['registrations']} inscriptions ({f['registered']} inscrits, {f['waiting']} en attente)"
            )
            free = ", ".join(f"{n} place(s) libre(s) : {c}" for n, c in sorted(f["free_seats"].items()))
            print(f"  {len(plan.targets)} sessions visées, avant la rafale — {free}")

            environ = benchlib.bench_environ(url, CELERY_BROKER_URL=broker)
            server = web_pages.start_gunicorn(
                "portal", "portal:create_app()", environ, tmp, args.workers, args.gunicorn_threads
            )
            mode = f"--threads {args.gunicorn_threads}" if args.gunicorn_threads > 1 else "(workers sync)"
            print(f"gunicorn -w {args.workers} {mode} 'portal:create_app()' sur {server.base} ; broker {broker}")

            started = time.perf_counter()
            form_logins = min(args.form_logins, len(plan.clients))
            direct_cookies(url, plan.clients[form_logins:] + plan.solo)
            with ThreadPoolExecutor(args.login_concurrency) as pool:
                list(pool.map(lambda c: prepare_client(server.base, c), plan.clients + plan.solo))
            print(
                f"{len(plan.clients)} élus connectés ({form_logins} par le formulaire /connexion, "
                f"{len(plan.clients) - form_logins} par login_user en processus), page de leur session lue "
                f"(jeton CSRF, formulaire d'inscription présent) en {time.perf_counter() - started:.1f} s (non mesuré)"
            )

            if plan.solo:
                solo = [register(server.base, c) for c in plan.solo]
                bad = [o for o in solo if not o.ok]
                print(
                    f"Inscriptions une à une, sans concurrence ({len(solo)} élus, autres sessions) : médiane "
                    f"{percentile([o.ms for o in solo], 0.5):.0f} ms, max {max(o.ms for o in solo):.0f} ms"
                    + (f" ; {len(bad)} en échec ({bad[0].status} {bad[0].detail[:120]})" if bad else "")
                )

            clients = list(plan.clients)
            if args.order == "grouped":
                clients.sort(key=lambda c: c.session_id)
            else:
                random.Random(args.seed).shuffle(clients)
            pg_admin = None if args.sqlite else args.pg_admin_url
            probe = web_pages.CpuProbe(server, pg_admin, args.pg_database)
            load_before = os.getloadavg()[0]
            print(
                f"\nRafale : {len(clients)} POST /formations/sessions/<id> ({len(plan.targets)} sessions), "
                f"{args.concurrency} clients simultanés, ordre {args.order}…",
                flush=True,
            )
            probe.begin()
            started = time.perf_counter()
            outcomes = burst(server.base, clients, args.concurrency)
            wall = time.perf_counter() - started
            app_cpu, db_cpu = probe.end()

            ok = [o for o in outcomes if o.ok]
            latencies = [o.ms for o in outcomes]
            statuses = Counter(o.status for o in outcomes if not o.ok)
            print(f"  requêtes : {len(outcomes)} ; réussies (302 vers la session) : {len(ok)}")
            if statuses:
                print("  erreurs : " + ", ".join(f"{s or 'connexion'} × {n}" for s, n in sorted(statuses.items())))
                for detail, n in Counter(o.detail for o in outcomes if not o.ok).most_common(3):
                    print(f"    « {detail[:160]} » × {n}")
            else:
                print("  erreurs : aucune")
            print(
                f"  durée : {wall:.2f} s → débit {len(ok) / wall:.1f} inscriptions/s ({len(outcomes) / wall:.1f} req/s)"
            )
            p99 = percentile(latencies, 0.99)
            print(
                f"  latence : p50 {percentile(latencies, 0.50):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
                f"p99 {p99:.0f} ms, max {max(latencies):.0f} ms   "
                f"[cible p99 < {P99_TARGET_MS:.0f} ms : {'OK' if p99 < P99_TARGET_MS else 'MANQUÉ'}]"
            )
            print(
                f"  CPU par requête : gunicorn {app_cpu * 1000 / len(outcomes):.1f} ms"
                + (f", PostgreSQL {db_cpu * 1000 / len(outcomes):.1f} ms" if pg_admin else "")
                + f" ; charge moyenne 1 min {load_before:.2f} → {os.getloadavg()[0]:.2f}"
            )
            by_session = defaultdict(list)
            for o in outcomes:
                by_session[o.client.session_id].append((o.started, o.ended))
            overlaps = [max_overlap(v) for v in by_session.values()]
            print(
                f"  requêtes d'une même session en cours ensemble : jusqu'à {max(overlaps)}, "
                f"en moyenne {sum(overlaps) / len(overlaps):.1f} au plus fort ; "
                f"{sum(1 for n in overlaps if n >= 2)} sessions sur {len(overlaps)} avec au moins 2"
            )

            checks = check_database(url, plan, outcomes)
            print("\nVérifications dans la base (toutes les sessions) :")
            over = checks["overbooked"]
            print(
                f"  sessions surréservées (places prises > capacité) : {len(over)}   "
                f"[cible 0 : {'OK' if not over else 'MANQUÉ'}]" + (f" — {sorted(over.items())[:5]}" if over else "")
            )
            print(f"  élus inscrits deux fois à une session (statuts vivants) : {checks['duplicates']}")
            print(f"  sessions dont les positions d'attente ne sont pas exactement 1..n : {checks['bad_positions']}")
            print(f"  sessions avec une place libre et une liste d'attente : {checks['free_while_waiting']}")
            print(
                f"  sessions visées dont le bilan diffère d'un traitement un par un : {len(checks['mismatches'])}"
                + (f" — (session, attendu, obtenu) {checks['mismatches'][:5]}" if checks["mismatches"] else "")
            )
            print(
                f"  sessions visées où la rafale a disputé les dernières places (moins de places libres que de "
                f"demandes) : {checks['contested']}"
            )
            created = checks["created"]
            print(
                f"  inscriptions créées par la rafale : {sum(created.values())} pour {len(ok)} réussies ("
                + ", ".join(f"{k} {v}" for k, v in sorted(created.items()))
                + f") ; courriels dans l'outbox : {checks['emails']}"
            )
            print(
                f"  avis d'inscription (invitation, position d'attente) laissés au job Celery, sans worker ici : "
                f"{checks['notices_due']} sur {len(ok)}"
            )
            print(f"  places prises / capacité totale : {checks['seats']} / {checks['capacity']}")
            failed = bool(
                over
                or checks["duplicates"]
                or checks["bad_positions"]
                or checks["free_while_waiting"]
                or checks["mismatches"]
                or sum(created.values()) != len(ok)
            )
            print(
                f"\nBilan : {len(ok) / wall:.1f} inscriptions/s, p99 {p99:.0f} ms "
                f"[{'OK' if p99 < P99_TARGET_MS else 'MANQUÉ'}], {len(over)} session(s) surréservée(s) "
                f"[{'OK' if not over else 'MANQUÉ'}]"
            )
            print(benchlib.machine_line())
            if args.keep:
                print(f"Base gardée : {url} ; journaux gunicorn : {tmp}")
        finally:
            if server is not None:
                server.stop()
            if created_pg and not args.keep:
                benchlib.drop_database(args.pg_admin_url, args.pg_database)
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
