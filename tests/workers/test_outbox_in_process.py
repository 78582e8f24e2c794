"""The outbox's failure handling, claim and sweep, run in the test process against a real SMTP server.

Permanent failures (missing template, malformed address), the staff retry, the claim
that makes a second delivery harmless, and two sweeps at once on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from jinja2 import BaseLoader, TemplateNotFound
from sqlalchemy import event, select, update

from portal.audit.models import AuditEvent
from portal.common.clock import utcnow
from portal.extensions import db
from portal.notifications import services
from portal.notifications.models import OutboxEmail, OutboxState
from portal.notifications.sink import CollectingHandler
from tests import factories
from tests.conftest import _free_port, clean_tables
from tests.workers.conftest import queue_reset_email


def _row(email_id: int) -> OutboxEmail:
    db.session.expire_all()
    return db.session.get(OutboxEmail, email_id)


class _HidingLoader(BaseLoader):
    """Serves every template but those under ``prefix``, which do not exist (a deployment that lost them)."""

    def __init__(self, inner, prefix: str):
        self.inner, self.prefix = inner, prefix

    def get_source(self, environment, template):
        if template.startswith(self.prefix):
            raise TemplateNotFound(template)
        return self.inner.get_source(environment, template)

    def list_templates(self):
        return self.inner.list_templates()


# Permanent failures ------------------------------------------------------------------------------


def test_missing_template_fails_in_the_web_request_which_still_succeeds_then_staff_retry(app, auth, smtp_sink):
    """Eager mode: the email is sent inside the request (after its commit), and fails there."""
    staff = factories.user("staff", email="agent.cdg@exemple.fr")
    target = factories.user("staff", email="helene.leveque@exemple.fr")
    target.full_name = "Hélène Lévêque"
    db.session.commit()
    staff_id = staff.id
    original_loader = app.jinja_env.loader
    app.jinja_env.loader = _HidingLoader(original_loader, "emails/password_reset")

    response = auth.post("/mot-de-passe/oubli", {"email": "helene.leveque@exemple.fr"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/connexion")
    email = db.session.scalars(select(OutboxEmail)).one()
    assert (email.state, email.attempts, email.to_name) == (OutboxState.FAILED, 1, "Hélène Lévêque")
    assert email.last_error.startswith("Erreur dans le gabarit « password_reset »"), email.last_error
    assert email.claim_token is None
    assert smtp_sink.messages == []
    # The request's own work was committed with the outbox row.
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "password.reset_requested")).one()

    # A staff member puts it back in the queue from /envois (published to the broker, not run here).
    celery_app = app.extensions["celery"]
    celery_app.conf.task_always_eager = False
    assert auth.login("agent.cdg@exemple.fr").status_code == 302
    response = auth.post(f"/envois/{email.id}/relancer", {}, page_url="/envois?etat=failed")
    assert response.status_code == 302
    row = _row(email.id)
    assert (row.state, row.attempts) == (OutboxState.PENDING, 0)
    assert row.next_attempt_at <= utcnow() and row.enqueued_at is not None  # published after the commit
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.retry")).one()
    assert (audit.actor_id, audit.object_type, audit.object_id) == (staff_id, "OutboxEmail", email.id)

    # Only a failed email can be retried: a second click changes nothing and audits nothing.
    auth.post(f"/envois/{email.id}/relancer", {}, page_url="/envois")
    assert _row(email.id).state == OutboxState.PENDING
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.retry")).all()) == 1

    # The templates are back: the retried message sends it.
    app.jinja_env.loader = original_loader
    celery_app.conf.task_always_eager = True
    assert celery_app.tasks[services.SEND_TASK](email.id) == "sent"
    assert smtp_sink.message_ids() == [row.message_id]
    assert _row(email.id).state == OutboxState.SENT


@pytest.mark.parametrize(
    "address",
    [
        "helene.leveque.exemple.fr",
        "helene leveque@exemple.fr",
        "helene@",
        "hélène.lévêque@exemple.fr",
    ],
)
def test_malformed_address_fails_permanently_with_a_french_reason(app, smtp_sink, address):
    email = queue_reset_email(app, address, "Hélène Lévêque")
    db.session.commit()  # eager: sent (here: failed) right after the commit
    row = _row(email.id)
    assert (row.state, row.attempts) == (OutboxState.FAILED, 1)
    assert row.last_error.startswith("Adresse électronique invalide"), row.last_error
    assert smtp_sink.messages == []


@pytest.mark.parametrize("address", ["helene@@mairie.fr", "@exemple.fr"])
def test_unparseable_address_fails_as_invalid_address(app, smtp_sink, address):
    """Regression test. The bug it caught:
    for these addresses ``email.headerregistry.Address`` raises ``HeaderParseError``, which
    ``mailer._address`` does not catch (it is neither a ValueError nor an IndexError): the row fails as
    « Erreur inattendue : HeaderParseError(...) », with a traceback in the worker's log, instead of
    « Adresse électronique invalide ». ``create_user`` accepts ``helene@@mairie.fr``, so this is reachable."""
    if address == "helene@@mairie.fr":
        user = factories.user("staff", email=address)  # accepted at account creation
        db.session.commit()
        services.notify(user, category="account", title="Connexion depuis un nouvel appareil", body="Bonjour.")
    else:
        queue_reset_email(app, address, "Hélène Lévêque")
    db.session.commit()
    row = db.session.scalars(select(OutboxEmail)).one()
    assert row.state == OutboxState.FAILED
    assert row.last_error.startswith("Adresse électronique invalide"), row.last_error
    assert smtp_sink.messages == []


# Refusals by the SMTP server ---------------------------------------------------------------------


class _RefusingHandler(CollectingHandler):
    """An SMTP server that answers RCPT TO with ``reply`` (greylisting, unknown mailbox...)."""

    def __init__(self, reply: str):
        super().__init__()
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        return self.reply


@pytest.fixture
def refusing_smtp():
    controllers = []

    def start(reply: str) -> int:
        port = _free_port()
        controller = Controller(_RefusingHandler(reply), hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def test_recipient_refused_with_5xx_fails_permanently(app, refusing_smtp):
    app.config["MAIL_PORT"] = refusing_smtp("550 5.1.1 Boîte inconnue")
    email = queue_reset_email(app, "inconnu@exemple.fr", "Inconnu")
    db.session.commit()
    row = _row(email.id)
    assert row.state == OutboxState.FAILED
    assert row.last_error.startswith("Destinataire refusé par le serveur"), row.last_error


def test_recipient_greylisted_with_4xx_is_retried_later(app, refusing_smtp):
    """Regression test. The bug it caught:
    greylisting (« 451 4.7.1 » to RCPT TO, common on French mail servers) is temporary by
    definition, yet ``mailer.send`` turns every SMTPRecipientsRefused into a PermanentEmailError: the
    email is abandoned at the first attempt instead of being retried with backoff."""
    app.config["MAIL_PORT"] = refusing_smtp("451 4.7.1 Greylisted, please try again later")
    email = queue_reset_email(app, "mairie@exemple.fr", "Mairie")
    db.session.commit()
    row = _row(email.id)
    assert (row.state, row.attempts) == (OutboxState.PENDING, 1), row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=5)
    assert "451" in row.last_error


# The claim ---------------------------------------------------------------------------------------


def test_send_email_twice_sends_once_sequentially_and_from_concurrent_threads(app, smtp_sink):
    celery_app = app.extensions["celery"]
    celery_app.conf.task_always_eager = False  # published to the in-memory broker; we run the task ourselves
    emails = [queue_reset_email(app, f"claim{n}@exemple.fr", f"Élue n° {n}") for n in range(9)]
    db.session.commit()
    ids = [e.id for e in emails]
    message_ids = {e.message_id for e in emails}
    task = celery_app.tasks[services.SEND_TASK]

    assert task(ids[0]) == "sent"
    assert task(ids[0]) == "skipped"

    threads = 4
    barrier = threading.Barrier(threads)

    def deliver(email_id: int) -> str:
        barrier.wait(timeout=10)
        return task(email_id)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for email_id in ids[1:]:
            results = list(pool.map(deliver, [email_id] * threads))
            assert sorted(results) == ["sent"] + ["skipped"] * (threads - 1), (email_id, results)

    assert Counter(smtp_sink.message_ids()) == Counter({mid: 1 for mid in message_ids})
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxEmail)).all()
    assert {(r.state, r.attempts) for r in rows} == {(OutboxState.SENT, 1)}


def test_a_claim_taken_over_after_its_lease_records_nothing_and_retries_nothing(app):
    """Regression test. The bug it caught:
    a worker whose lease had run out (its email handed to another worker) and whose send then failed
    transiently got a retry delay back, and published one more message for an email it no longer held."""
    celery_app = app.extensions["celery"]
    celery_app.conf.task_always_eager = False  # published to the in-memory broker, not run
    email = queue_reset_email(app, "relais@exemple.fr", "Relais")
    db.session.commit()
    old_token = services.claim(email.id)
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    db.session.execute(update(OutboxEmail).values(claimed_at=utcnow() - lease - timedelta(seconds=1)))
    db.session.commit()  # the worker has been held up longer than the lease
    new_token = services.claim(email.id)  # so another worker takes the email over
    assert old_token and new_token and new_token != old_token

    assert services.mark_transient_failure(email.id, old_token, "Serveur SMTP injoignable") is None
    assert services.mark_sent(email.id, old_token) is False
    assert services.renew_claim([email.id], old_token) == []
    row = _row(email.id)
    assert (row.state, row.claim_token, row.attempts, row.last_error) == (OutboxState.RUNNING, new_token, 2, None)

    # The new holder renews its lease and finishes the email.
    before = row.claimed_at
    assert services.renew_claim([email.id], new_token) == [email.id]
    assert _row(email.id).claimed_at >= before
    assert services.mark_sent(email.id, new_token) is True
    assert services.renew_claim([email.id], new_token) == []  # sent: nothing left to hold
    assert _row(email.id).state == OutboxState.SENT


# The sweep ---------------------------------------------------------------------------------------


def _due_rows(count: int) -> list[int]:
    now = utcnow()
    rows = [
        OutboxEmail(
            message_id=services.new_message_id(),
            category="account",
            to_address=f"balayage{n}@exemple.fr",
            template="password_reset",
            context={},
            state=OutboxState.PENDING,
            next_attempt_at=now - timedelta(minutes=1),
            enqueued_at=None,
        )
        for n in range(count)
    ]
    db.session.add_all(rows)  # not through queue_email: nothing is published
    db.session.commit()
    return [r.id for r in rows]


def test_two_sweeps_at_once_take_disjoint_rows_on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED : PostgreSQL seulement (SQLite sérialise les écritures).")
    ids = _due_rows(150)
    results: dict[str, list[int]] = {}
    a_selected, b_done = threading.Event(), threading.Event()

    def pause_a_before_its_update(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == "sweep-a" and statement.lstrip().upper().startswith(
            "UPDATE OUTBOX_EMAIL"
        ):
            a_selected.set()
            b_done.wait(timeout=15)

    def sweep(name: str) -> None:
        with app.app_context():
            try:
                results[name] = services.due_for_publication(limit=60)
            finally:
                db.session.remove()

    # Deterministic interleaving: sweep A has selected (and locked) its rows; sweep B runs meanwhile.
    event.listen(db.engine, "before_cursor_execute", pause_a_before_its_update)
    try:
        thread_a = threading.Thread(target=sweep, args=("a",), name="sweep-a")
        thread_a.start()
        assert a_selected.wait(timeout=15)
        thread_b = threading.Thread(target=sweep, args=("b",), name="sweep-b")
        thread_b.start()
        thread_b.join(timeout=15)
        assert not thread_b.is_alive(), "the second sweep waited on the first one's row locks"
        b_done.set()
        thread_a.join(timeout=15)
    finally:
        b_done.set()
        event.remove(db.engine, "before_cursor_execute", pause_a_before_its_update)
    assert len(results["a"]) == len(results["b"]) == 60
    assert not set(results["a"]) & set(results["b"])
    assert sorted(results["a"] + results["b"]) == ids[:120]

    # Free-running: four sweeps at once, again and again, until nothing is due; every row comes out once.
    db.session.execute(update(OutboxEmail).values(enqueued_at=None))
    db.session.commit()
    taken: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def sweep_until_empty() -> None:
        with app.app_context():
            try:
                while True:
                    barrier.wait(timeout=15)
                    got = services.due_for_publication(limit=7)
                    with lock:
                        taken.extend(got)
                    barrier.wait(timeout=15)
                    with lock:
                        if len(taken) >= len(ids):
                            return
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(sweep_until_empty) for _ in range(4)]:
            future.result(timeout=60)
    assert Counter(taken) == Counter(ids)


def test_sweep_does_not_republish_rows_whose_message_is_still_queued(outbox):
    """Regression test. The bug it caught:
    a row counts as "message maybe lost" once ``enqueued_at`` is older than the lease, even when its
    message is just waiting in the queue behind a backlog. Every sweep then adds up to 500 duplicate messages,
    again every lease period for as long as the rows wait: under a backlog longer than the lease (5 min by
    default; ~600 emails on the embedded broker, which runs about two tasks a second) the queue grows faster
    than the workers drain it. Here: 10 emails queued, no worker, lease 1 s; the sweep doubles the queue."""
    app = outbox.app(OUTBOX_LEASE_SECONDS=1)
    with app.app_context():
        for n in range(10):
            queue_reset_email(app, f"attente{n}@exemple.fr", "En attente")
        db.session.commit()
        db.session.remove()
    celery_app = app.extensions["celery"]

    def queued() -> int:
        with celery_app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(queue=outbox.queue, passive=True).message_count

    waiting = queued()
    assert waiting >= 1  # the messages of the 10 emails (one each today)
    time.sleep(1.2)
    republished = outbox.sweep(app)
    assert (republished, queued()) == (0, waiting)


def test_never_published_rows_are_published_by_the_sweep_even_behind_a_backlog(outbox, monkeypatch):
    """Regression test. The bug it caught:
    a row whose publication failed at commit (broker unreachable then) has ``enqueued_at`` NULL:
    it certainly has no message. Since the sweep skips pending rows while the queue holds messages, such
    a row waits until the queue is empty, and never gets a message if the queue never empties."""
    app = outbox.app()
    celery_app = app.extensions["celery"]
    send_task = celery_app.tasks[services.SEND_TASK]

    def broker_down(*_args, **_kwargs):
        raise ConnectionRefusedError("broker unreachable")

    with app.app_context():
        monkeypatch.setattr(send_task, "apply_async", broker_down)
        orphan = queue_reset_email(app, "orpheline@exemple.fr", "Orpheline")
        db.session.commit()  # the row is there, its message could not be published
        orphan_id = orphan.id
        monkeypatch.undo()
        for n in range(3):  # the broker is back, a backlog builds up
            queue_reset_email(app, f"file{n}@exemple.fr", "File d'attente")
        db.session.commit()
        db.session.remove()
    assert next(row for row in outbox.rows(app) if row.id == orphan_id).enqueued_at is None

    assert orphan_id in _republished_by_sweep(outbox, app)


def _republished_by_sweep(outbox, app) -> list[int]:
    published: list[int] = []
    send_task = app.extensions["celery"].tasks[services.SEND_TASK]
    original = send_task.apply_async

    def recording(*args, **kwargs):
        published.append(kwargs["args"][0])
        return original(*args, **kwargs)

    send_task.apply_async = recording
    try:
        outbox.sweep(app)
    finally:
        del send_task.apply_async
    return published


def test_broker_down_at_commit_does_not_stall_the_web_request(app_factory):
    """Regression test. The bug it caught:
    with the broker unreachable, ``_publish`` (run in the request, after the commit) tries every
    message in turn, each with Celery's default publish retries: about 0.6 s per email, so a request
    that notifies 50 people hangs ~30 s (gunicorn's default timeout). The first failure says the broker is
    down: the rest should be left to the sweep at once (the rows are committed, nothing is lost)."""
    app = app_factory(broker=f"redis://127.0.0.1:{_free_port()}/0", CELERY_TASK_ALWAYS_EAGER="0")
    emails = 3 * services.PUBLISH_BATCH_SIZE + 1  # four Celery messages if each were tried
    celery_tasks = app.extensions["celery"].tasks
    attempts: list[str] = []

    def counting(task_name):
        original = celery_tasks[task_name].apply_async

        def attempt(*args, **kwargs):
            attempts.append(task_name)
            return original(*args, **kwargs)  # the real publish, against a port where no broker listens

        return attempt

    with app.app_context():
        try:
            for task_name in (services.SEND_TASK, services.SEND_BATCH_TASK):
                celery_tasks[task_name].apply_async = counting(task_name)
            for n in range(emails):
                queue_reset_email(app, f"panne{n}@exemple.fr", "Panne du broker")
            db.session.commit()
            rows = db.session.scalars(select(OutboxEmail)).all()
            assert len(rows) == emails and {r.enqueued_at for r in rows} == {None}  # left to the sweep
            # Counted, not timed: each attempt costs Celery's publish retries, so one attempt is the bound.
            assert attempts == [services.SEND_BATCH_TASK], attempts
        finally:
            for task_name in (services.SEND_TASK, services.SEND_BATCH_TASK):
                vars(celery_tasks[task_name]).pop("apply_async", None)
            db.session.remove()
            clean_tables()
