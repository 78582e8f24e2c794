"""The one after-commit publisher (portal.common.after_commit) and its guarantees, for every channel that uses it:
nothing is published on rollback, everything is published once on commit, only the outermost transaction
decides, a failing channel never fails the commit nor the other channels, and what a broker that is down could
not take is published later by the outbox sweep."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.common import after_commit, jobs, stored_files
from portal.extensions import db
from portal.notifications import services as notifications
from portal.notifications.models import OutboxEmail
from tests.conftest import _free_port, clean_tables
from tests.workers.conftest import queue_reset_email

SEEN: list[tuple[str, list]] = []


@after_commit.channel("test-a", on_rollback=lambda items: SEEN.append(("rollback-a", items)))
def _channel_a(items):
    SEEN.append(("a", items))


@after_commit.channel("test-b")
def _channel_b(items):
    SEEN.append(("b", items))


@after_commit.channel("test-failing")
def _channel_failing(items):
    raise ConnectionRefusedError("broker unreachable")


@pytest.fixture
def seen(app):
    SEEN.clear()
    yield SEEN
    SEEN.clear()


def test_items_are_handed_once_on_commit_in_order_per_channel(seen):
    after_commit.publish_after_commit("test-a", 1)
    after_commit.publish_after_commit("test-b", "x")
    after_commit.publish_after_commit("test-a", 2)
    assert seen == []  # nothing before the commit
    db.session.commit()
    assert seen == [("a", [1, 2]), ("b", ["x"])]
    db.session.commit()  # a second commit has nothing left to publish
    assert seen == [("a", [1, 2]), ("b", ["x"])]


def test_a_rollback_publishes_nothing_and_undoes_what_the_channel_did(seen):
    after_commit.publish_after_commit("test-a", 1)
    after_commit.publish_after_commit("test-b", "x")
    db.session.rollback()
    assert seen == [("rollback-a", [1])]
    db.session.commit()
    assert seen == [("rollback-a", [1])]  # the rolled-back items are gone for good


def test_only_the_outermost_transaction_decides(seen):
    with db.session.begin_nested():
        after_commit.publish_after_commit("test-a", "in a released savepoint")
    assert seen == []  # a savepoint released is not a commit
    savepoint = db.session.begin_nested()
    after_commit.publish_after_commit("test-b", "in a rolled-back savepoint")
    savepoint.rollback()
    assert seen == []  # nor is a savepoint rolled back a rollback of the whole
    db.session.commit()
    assert seen == [("a", ["in a released savepoint"]), ("b", ["in a rolled-back savepoint"])]


def test_a_failing_channel_neither_fails_the_commit_nor_stops_the_others(seen, app):
    from portal.registry.models import Collectivite

    db.session.add(Collectivite(kind="commune", name="Engagée", name_normalised="engagee", source="manual"))
    after_commit.publish_after_commit("test-failing", 1)
    after_commit.publish_after_commit("test-a", 2)
    db.session.commit()  # does not raise
    assert seen == [("a", [2])]
    assert db.session.scalar(select(Collectivite.name)) == "Engagée"


def test_an_unknown_channel_is_a_programming_error():
    with pytest.raises(KeyError):
        after_commit.publish_after_commit("no-such-channel", 1)


def test_celery_tasks_are_published_once_after_commit_and_never_after_rollback(app, monkeypatch):
    published = []
    task = app.extensions["celery"].tasks["notifications.sweep"]
    monkeypatch.setattr(task, "apply_async", lambda args: published.append(tuple(args)))
    jobs.enqueue_after_commit("notifications.sweep")
    jobs.enqueue_after_commit("notifications.sweep")  # asked twice in one transaction: published once
    assert after_commit.pending(jobs.CHANNEL) == [("notifications.sweep", ()), ("notifications.sweep", ())]
    db.session.commit()
    assert published == [()]
    jobs.enqueue_after_commit("notifications.sweep")
    db.session.rollback()
    db.session.commit()
    assert published == [()]


def test_files_written_in_a_transaction_are_removed_on_rollback_and_kept_on_commit(app, tmp_path):
    kept, dropped = tmp_path / "gardé.pdf", tmp_path / "abandonné.pdf"
    kept.write_bytes(b"%PDF")
    stored_files.written_in_transaction(kept)
    db.session.commit()
    dropped.write_bytes(b"%PDF")
    stored_files.written_in_transaction(dropped)
    db.session.rollback()
    assert kept.exists() and not dropped.exists()


def test_outbox_emails_are_published_after_commit_and_dropped_on_rollback(app, monkeypatch):
    published = []
    celery_tasks = app.extensions["celery"].tasks
    monkeypatch.setattr(celery_tasks[notifications.SEND_TASK], "apply_async", lambda args: published.append(args))
    queue_reset_email(app, "annule@exemple.fr", "Annulé")
    db.session.rollback()
    assert published == [] and db.session.scalars(select(OutboxEmail)).all() == []
    email = queue_reset_email(app, "envoye@exemple.fr", "Envoyé")
    assert after_commit.pending(notifications.OUTBOX_CHANNEL) == [email.id]
    db.session.commit()
    assert published == [[email.id]]


def test_what_the_broker_could_not_take_at_commit_is_published_by_the_sweep(app_factory):
    app = app_factory(broker=f"redis://127.0.0.1:{_free_port()}/0", CELERY_TASK_ALWAYS_EAGER="0")
    with app.app_context():
        try:
            queue_reset_email(app, "panne@exemple.fr", "Panne")
            db.session.commit()  # the broker is down: the row is committed, its message not published
            [row] = db.session.scalars(select(OutboxEmail)).all()
            assert row.enqueued_at is None
            row_id = row.id
            db.session.remove()
        finally:
            pass
    # The broker is back: the beat's sweep publishes the row that the commit could not.
    back = app_factory(CELERY_TASK_ALWAYS_EAGER="0")
    with back.app_context():
        try:
            republished = []
            task = back.extensions["celery"].tasks[notifications.SEND_TASK]
            task.apply_async = lambda *args, **kwargs: republished.append(kwargs["args"][0])
            try:
                back.extensions["celery"].set_current()
                back.extensions["celery"].tasks["notifications.sweep"]()
            finally:
                del task.apply_async
            assert republished == [row_id]
        finally:
            db.session.remove()
            clean_tables()
