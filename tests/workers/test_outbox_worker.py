"""The email outbox with real Celery workers (subprocesses), the real broker and a real SMTP server.

Run on the embedded default (SQLite + kombu's SQLAlchemy transport) and, with ``DATABASE_URL``
and ``CELERY_BROKER_URL`` set, on PostgreSQL + Redis.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.common.clock import utcnow
from portal.extensions import db
from portal.notifications import services
from portal.notifications.models import OutboxEmail, OutboxState
from portal.notifications.sink import start as start_sink
from tests.conftest import _free_port
from tests.workers.conftest import distinct_ids, duplicates, queue_reset_email, wait_until

SUBJECT = "Réinitialisation de votre mot de passe — Portail CDG 47"


def _count_rows(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(OutboxEmail))
        finally:
            db.session.remove()


def test_rollback_leaves_no_email_and_commit_sends_exactly_one(outbox, smtp_sink):
    app = outbox.app()
    with app.app_context():
        # Rolled back: neither the row nor the Celery message may survive.
        queue_reset_email(app, "annule@exemple.fr", "Annulé Ünique")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0

        # Rolled back to a savepoint inside a transaction that commits: that email is not sent either.
        savepoint = db.session.begin_nested()
        queue_reset_email(app, "savepoint@exemple.fr", "Point de sauvegarde")
        savepoint.rollback()

        email = queue_reset_email(app, "helene.leveque@exemple.fr", "Hélène Lévêque")
        message_id = email.message_id
        db.session.commit()
        db.session.remove()
    assert _count_rows(app) == 1

    worker = outbox.worker(smtp_sink.port)
    received = wait_until(lambda: distinct_ids(smtp_sink), 30)
    assert received == {message_id}, worker.log_tail()

    # Nothing else turns up, even after sweeps (the sweep only re-publishes rows that exist).
    assert outbox.sweep(app) == 0
    time.sleep(1.0)
    assert smtp_sink.message_ids() == [message_id]

    message = smtp_sink.messages[0]
    assert message["Subject"] == SUBJECT
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Hélène Lévêque", "helene.leveque@exemple.fr")
    assert message["Message-ID"] == message_id
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "Bonjour Hélène Lévêque," in text.get_content()
    assert "<p>Bonjour Hélène Lévêque,</p>" in html.get_content()

    assert not message.defects and not message["Subject"].defects and not message["To"].defects
    assert wait_until(lambda: outbox.rows(app)[0].state == OutboxState.SENT, 10)
    (row,) = outbox.rows(app)
    assert row.attempts == 1 and row.sent_at is not None and row.claim_token is None


def test_worker_from_workers_celery_app_sends_each_email_once_despite_duplicate_messages(outbox, smtp_sink):
    """The production entry point (``celery -A workers.celery_app``), configured by the environment only.

    Every email is also published twice more: the claim makes the extra deliveries no-ops. This worker
    keeps the embedded broker's default polling (about two tasks a second).
    """
    app = outbox.app()
    with app.app_context():
        emails = [queue_reset_email(app, f"agent{n}@exemple.fr", f"Agent n° {n}") for n in range(4)]
        db.session.commit()
        ids = {email.id: email.message_id for email in emails}
        db.session.remove()
    task = app.extensions["celery"].tasks[services.SEND_TASK]
    for _ in range(2):
        for email_id in ids:
            task.apply_async(args=[email_id])

    worker = outbox.worker(smtp_sink.port, module="workers.celery_app", extra_args=("--queues", outbox.queue))
    received = wait_until(lambda: len(distinct_ids(smtp_sink)) == len(ids) and distinct_ids(smtp_sink), 40)
    assert received == set(ids.values()), worker.log_tail()
    assert wait_until(lambda: outbox.states(app) == {OutboxState.SENT: len(ids)}, 10), outbox.states(app)
    time.sleep(0.5)  # let the duplicate messages be consumed
    assert duplicates(smtp_sink) == {}
    assert {row.attempts for row in outbox.rows(app)} == {1}


def test_sigkill_mid_batch_then_sweep_delivers_all_200(outbox, smtp_sink):
    total = 200
    app = outbox.app()
    with app.app_context():
        for n in range(total):
            queue_reset_email(app, f"destinataire{n}@exemple.fr", f"Destinataire n° {n}")
        db.session.commit()  # one commit: 200 rows, 200 messages published after it
        db.session.remove()
    expected = {row.message_id for row in outbox.rows(app)}
    assert len(expected) == total

    first = outbox.worker(smtp_sink.port)
    reached = wait_until(lambda: len(smtp_sink.message_ids()) >= 30, 40, interval=0.005)
    first.kill()
    assert reached, f"Le premier worker n'a rien envoyé.\n{first.log_tail()}"
    received_before_kill = set(smtp_sink.message_ids())
    rows_after_kill = outbox.rows(app)
    running_after_kill = {row.message_id for row in rows_after_kill if row.state == OutboxState.RUNNING}
    assert 30 <= len(received_before_kill) < total

    # A short lease for the apps involved from now on: rows claimed by the dead worker are retaken quickly.
    app.config["OUTBOX_LEASE_SECONDS"] = 2
    killed_at = time.monotonic()
    second = outbox.worker(smtp_sink.port, OUTBOX_LEASE_SECONDS=2)

    # The new worker drains what is left in the queue; the emails whose message the dead worker had taken
    # are recovered by the sweep, run (like beat would) whenever the worker is idle and the lease is over,
    # until every row is sent.
    def finished() -> bool:
        return len(distinct_ids(smtp_sink)) == total and outbox.states(app) == {OutboxState.SENT: total}

    deadline = time.monotonic() + 60
    sweeps, last_count, last_progress = 0, -1, time.monotonic()
    while not finished() and time.monotonic() < deadline:
        count = len(smtp_sink.message_ids())
        if count != last_count:
            last_count, last_progress = count, time.monotonic()
        elif time.monotonic() - last_progress > 1.0 and time.monotonic() - killed_at > 2.2:
            outbox.sweep(app)
            sweeps += 1
            last_progress = time.monotonic()
        time.sleep(0.1)
    received = distinct_ids(smtp_sink)
    assert received == expected, (
        f"{len(received)} courriels distincts reçus sur {total} après {sweeps} balayages ; "
        f"états : {outbox.states(app)}\n{second.log_tail()}"
    )
    assert outbox.states(app) == {OutboxState.SENT: total}
    time.sleep(0.5)  # any late duplicate delivery would show up now

    # At-least-once by design: an email whose SMTP transaction finished just before the SIGKILL, but whose
    # "sent" commit did not happen, is sent again with the same Message-ID. Only such emails (received
    # before the kill and still claimed by the dead worker, at most one per worker process) may be doubled.
    doubled = duplicates(smtp_sink)
    allowed = received_before_kill & running_after_kill
    print(
        f"\nSIGKILL après {len(received_before_kill)} reçus ; {len(running_after_kill)} lignes en cours ; "
        f"{sweeps} balayages ; doublons : {len(doubled)} (admissibles : {len(allowed)})"
    )
    assert set(doubled) <= allowed, f"Doublons hors de la fenêtre envoi/commit : {set(doubled) - allowed}"
    assert all(count == 2 for count in doubled.values()), doubled
    assert len(doubled) <= 2  # --concurrency 2: at most one email in flight per killed process


def test_smtp_down_then_up_every_email_arrives_exactly_once(outbox):
    port = _free_port()  # nothing listens here yet
    app = outbox.app(OUTBOX_LEASE_SECONDS=2)
    worker = outbox.worker(port, OUTBOX_LEASE_SECONDS=2)
    with app.app_context():
        for n in range(20):
            queue_reset_email(app, f"panne{n}@exemple.fr", f"Élu n° {n}")
        db.session.commit()
        db.session.remove()

    def all_failed_transiently():
        rows = outbox.rows(app)
        return all(r.state == OutboxState.PENDING and r.attempts == 1 and r.last_error for r in rows) and rows

    rows = wait_until(all_failed_transiently, 30)
    assert rows, f"{outbox.states(app)}\n{worker.log_tail()}"
    now = utcnow()
    for row in rows:
        assert "injoignable" in row.last_error, row.last_error
        assert row.next_attempt_at > now + timedelta(seconds=5)  # backoff: 15 to 30 s after the first failure
        assert row.claim_token is None

    # Once the lease has passed the sweep could re-publish them, but they are not due yet: nothing is re-sent.
    time.sleep(max(0.0, 2.1 - (utcnow() - max(r.enqueued_at for r in rows)).total_seconds()))
    assert outbox.sweep(app) == 0

    controller, sink = start_sink("127.0.0.1", port)
    try:
        with app.app_context():
            db.session.execute(update(OutboxEmail).values(next_attempt_at=utcnow()))
            db.session.commit()
            db.session.remove()
        deadline = time.monotonic() + 30
        while len(distinct_ids(sink)) < 20 and time.monotonic() < deadline:
            outbox.sweep(app)
            time.sleep(0.5)
        assert distinct_ids(sink) == {row.message_id for row in rows}, f"{outbox.states(app)}\n{worker.log_tail()}"
        assert wait_until(lambda: outbox.states(app) == {OutboxState.SENT: 20}, 10), outbox.states(app)
        outbox.sweep(app)
        time.sleep(1.0)
        assert duplicates(sink) == {}
        assert {row.attempts for row in outbox.rows(app)} == {2}
        assert {row.last_error for row in outbox.rows(app)} == {None}
    finally:
        controller.stop()


def test_embedded_broker_worker_is_not_held_back_by_polling(outbox, smtp_sink):
    """Regression test. The bug it caught (embedded deployment):
    kombu's SQLAlchemy transport sleeps ``polling_interval`` (1 s by default)
    each time the worker's prefetch window is full (``--concurrency 2``, prefetch 1), so the production worker
    runs about two tasks a second however fast they are: 1,000 emails take eight minutes. The interval cannot
    be set through ``broker_transport_options`` (that transport passes them all to ``create_engine``)."""
    if not outbox.broker_url.startswith("sqla+"):
        pytest.skip("Redis ne scrute pas : seulement le broker embarqué.")
    total = 30
    app = outbox.app()
    with app.app_context():
        for n in range(total):
            queue_reset_email(app, f"cadence{n}@exemple.fr", f"Cadence n° {n}")
        db.session.commit()
        db.session.remove()
    worker = outbox.worker(smtp_sink.port, module="workers.celery_app", extra_args=("--queues", outbox.queue))
    assert wait_until(lambda: distinct_ids(smtp_sink), 40), worker.log_tail()
    started = time.monotonic()  # from the first email: the worker's start-up is not counted
    assert wait_until(lambda: len(distinct_ids(smtp_sink)) >= total, 30), worker.log_tail()
    elapsed = time.monotonic() - started
    # Not a speed target (benchmarks/ hold those): held back by polling, 29 emails take at least 14 s; the bound
    # sits well between that and the 2-3 s they take when the worker is not held back, so load cannot flake it.
    assert elapsed < 10, f"{total - 1} courriels en {elapsed:.1f} s ({(total - 1) / elapsed:.1f}/s)"
