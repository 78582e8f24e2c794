"""The email in flight: what a worker killed or held up in the middle of an SMTP send may send twice.

A worker claims the emails it sends for ``OUTBOX_LEASE_SECONDS``; once a claim is older than that,
beat's sweep hands the email to another worker. The SMTP server may have stored an email whose
"sent" mark the worker never wrote (killed between DATA and the commit, or still waiting for the
server's answer when its lease ran out): that email, and only that one per worker process, is sent
a second time, with the same Message-ID so that mail clients show it once. These tests hold a
real worker subprocess in that window with an SMTP server that stores a message but delays its
answer. Run on SQLite with the embedded broker and on PostgreSQL with Redis, as the other worker tests.
"""

from __future__ import annotations

import time

from portal.extensions import db
from portal.notifications.models import OutboxState
from tests.workers.conftest import copies_by_address, queue_reset_email, wait_until

LEASE = 2  # seconds, for the web side (the sweep) and the workers alike


def _queue_batch(app, count: int) -> dict[str, str]:
    """``count`` emails in one commit, so published as one batch message; returns {address: Message-ID}."""
    with app.app_context():
        emails = [queue_reset_email(app, f"envoi{n}@exemple.fr", f"Destinataire n° {n}") for n in range(count)]
        db.session.commit()
        expected = {email.to_address: email.message_id for email in emails}
        db.session.remove()
    return expected


def _sweep_until_all_sent(outbox, app, total: int, timeout: float = 40) -> bool:
    """Run beat's sweep every half second, as beat would, until the ``total`` rows are sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if outbox.states(app) == {OutboxState.SENT: total}:
            return True
        outbox.sweep(app)
        time.sleep(0.5)
    return outbox.states(app) == {OutboxState.SENT: total}


def test_sigkill_mid_send_resends_only_the_email_in_flight_with_the_same_message_id(outbox, stalling_sink):
    sink = stalling_sink(stall_on=3)
    app = outbox.app(OUTBOX_LEASE_SECONDS=LEASE)
    expected = _queue_batch(app, 6)

    first = outbox.worker(sink.port, OUTBOX_LEASE_SECONDS=LEASE)
    assert sink.stalled.wait(40), f"Le worker n'a pas envoyé trois courriels.\n{first.log_tail()}"
    in_flight = sink.stalled_address()
    # SIGKILL to the worker and its pool processes while the server holds its answer to the third email.
    first.kill()
    states = {row.to_address: row.state for row in outbox.rows(app)}
    assert states[in_flight] == OutboxState.RUNNING
    # Two emails sent and marked; the one in flight and the three after it claimed by the dead worker.
    assert sorted(states.values()) == [OutboxState.RUNNING] * 4 + [OutboxState.SENT] * 2, states
    sink.release()

    # A new worker; once the lease is over, the sweep gives it the emails the dead worker held.
    second = outbox.worker(sink.port, OUTBOX_LEASE_SECONDS=LEASE)
    assert _sweep_until_all_sent(outbox, app, len(expected)), f"{outbox.states(app)}\n{second.log_tail()}"
    time.sleep(1.0)  # a late copy would show up now

    copies = copies_by_address(sink)
    # Delivered, twice at most, both copies with the Message-ID of its row.
    assert copies[in_flight] == [expected[in_flight]] * 2
    # No other email is duplicated, the three the dead worker had claimed but not started included.
    assert {address: ids for address, ids in copies.items() if address != in_flight} == {
        address: [message_id] for address, message_id in expected.items() if address != in_flight
    }
    attempts = {row.to_address: row.attempts for row in outbox.rows(app)}
    assert attempts[in_flight] == 2


def test_worker_whose_lease_ran_out_mid_batch_leaves_the_rest_of_its_batch_to_the_new_holder(outbox, stalling_sink):
    """Regression test. The bug it caught:
    a worker sent every email of its batch (up to 20, claimed together) without checking that it still held
    them. Held up on one email longer than the lease (a slow SMTP server), it came back to find the rest of its
    batch handed to another worker by the sweep, and sent them all again: a duplicate of every email after the
    one in flight, not only of that one."""
    sink = stalling_sink(stall_on=3)
    app = outbox.app(OUTBOX_LEASE_SECONDS=LEASE)
    expected = _queue_batch(app, 6)

    # --concurrency 2: while one pool process waits for the server, the other is free to take over.
    worker = outbox.worker(sink.port, OUTBOX_LEASE_SECONDS=LEASE, MAIL_TIMEOUT_SECONDS=60)
    assert sink.stalled.wait(40), f"Le worker n'a pas envoyé trois courriels.\n{worker.log_tail()}"
    in_flight = sink.stalled_address()
    # The lease runs out while the server holds its answer: the sweep hands the email in flight and the three
    # after it to the worker's other process, which sends them.
    assert _sweep_until_all_sent(outbox, app, len(expected)), f"{outbox.states(app)}\n{worker.log_tail()}"
    assert sorted(copies_by_address(sink)) == sorted(expected)

    # The server answers at last: the held-up process goes back to its batch.
    sink.release()

    def duplicated_besides_the_one_in_flight() -> set[str]:
        return {address for address, ids in copies_by_address(sink).items() if len(ids) > 1} - {in_flight}

    assert wait_until(duplicated_besides_the_one_in_flight, 3.0) == set(), worker.log_tail()
    copies = copies_by_address(sink)
    assert copies[in_flight] == [expected[in_flight]] * 2
    assert {address: len(ids) for address, ids in copies.items()} == {
        address: 2 if address == in_flight else 1 for address in expected
    }
    assert outbox.states(app) == {OutboxState.SENT: len(expected)}
