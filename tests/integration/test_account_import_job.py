"""The import job of secretaries is safe to run twice: redelivered, taken up after its worker died, or overtaken
while stalled, it never applies a line twice and never sends an invitation twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from portal.accounts import bulk_import, tasks
from portal.accounts import import_rules as rules
from portal.accounts.import_models import AccountImport, AccountImportResult
from portal.accounts.models import User
from portal.common.clock import utcnow
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.conftest import DATA_47
from workers.schedule import build_schedule

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "secretaires" / "secretaires-20-communes.csv"


@pytest.fixture
def job_id(app):
    assert app.test_cli_runner().invoke(args=["registry", "import", str(DATA_47), "-d", "47"]).exit_code == 0
    with factories.shared_password_hash():
        staff = factories.user("staff", email="staff@cdg47.fr")
    table = rules.read_table(SAMPLE.read_bytes(), max_bytes=1024 * 1024)
    job = bulk_import.start_import(
        table,
        filename="secretaires.csv",
        upload_token=bulk_import.new_upload_token(),
        expected_digest=None,
        departements=["47"],
        actor=staff,
        publish=False,
    )
    db.session.commit()
    return job.id


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def job(job_id) -> AccountImport:
    db.session.expire_all()
    return db.session.get(AccountImport, job_id)


def test_a_job_run_twice_applies_once(job_id):
    assert tasks.run_import(job_id) == "done"
    assert tasks.run_import(job_id) == "skipped"
    assert tasks.run_account_import.apply(args=[job_id]).get() == "skipped"
    assert count(User) == 17 and count(OutboxEmail) == 16 and count(AccountImportResult) == 16
    assert (job(job_id).status, job(job_id).done) == ("done", 16)


def test_a_job_whose_worker_died_is_taken_up_where_it_stopped(job_id):
    token = bulk_import.claim(job_id)
    db.session.commit()
    for entry in bulk_import.remaining_lines(job_id)[:5]:
        assert bulk_import.apply_line(job_id, token, entry, ["47"])
        db.session.commit()
    # The worker dies here. While its lease runs, nobody else takes the job.
    assert tasks.run_import(job_id) == "skipped"
    assert bulk_import.stale_jobs() == []
    db.session.execute(
        update(AccountImport).where(AccountImport.id == job_id).values(heartbeat_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    assert bulk_import.stale_jobs() == [job_id]
    assert tasks.sweep_imports.apply().get() == 1  # eager: the republished job runs at once
    assert (job(job_id).status, job(job_id).done) == ("done", 16)
    assert count(User) == 17 and count(OutboxEmail) == 16 and count(AccountImportResult) == 16
    assert set(db.session.scalars(select(AccountImportResult.outcome))) == {"created"}


def test_a_stalled_worker_overtaken_writes_nothing_more(job_id):
    first = bulk_import.claim(job_id)
    db.session.commit()
    db.session.execute(
        update(AccountImport).where(AccountImport.id == job_id).values(heartbeat_at=utcnow() - timedelta(hours=1))
    )
    second = bulk_import.claim(job_id)
    db.session.commit()
    assert first and second and first != second
    entry = bulk_import.remaining_lines(job_id)[0]
    assert bulk_import.apply_line(job_id, first, entry, ["47"]) is False
    db.session.rollback()
    assert count(User) == 1 and count(OutboxEmail) == 0
    assert bulk_import.apply_line(job_id, second, entry, ["47"]) is True
    db.session.commit()
    # The same line again (a redelivered copy of the same worker's work): recorded once, applied once.
    assert bulk_import.apply_line(job_id, second, entry, ["47"]) is True
    db.session.commit()
    assert count(User) == 2 and count(OutboxEmail) == 1 and job(job_id).done == 1


def test_a_pending_job_whose_message_was_lost_is_published_again(job_id):
    assert bulk_import.stale_jobs() == []  # just created: its message is on its way
    db.session.execute(
        update(AccountImport).where(AccountImport.id == job_id).values(created_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    assert bulk_import.stale_jobs() == [job_id]


def test_an_unexpected_error_stops_the_job_with_a_french_message(job_id, monkeypatch):
    real = bulk_import.apply_line
    calls = []

    def failing(import_id, token, entry, departements):
        calls.append(entry["line"])
        if len(calls) == 3:
            raise RuntimeError("database gone")
        return real(import_id, token, entry, departements)

    monkeypatch.setattr(bulk_import, "apply_line", failing)
    assert tasks.run_import(job_id) == "failed"
    failed = job(job_id)
    assert failed.status == "failed" and failed.done == 2
    assert failed.error.startswith("L'import s'est interrompu à la ligne 4 (RuntimeError).")
    assert count(User) == 3 and count(OutboxEmail) == 2


def test_the_beat_schedule_sweeps_imports(app):
    names = {entry["task"] for entry in build_schedule(app.config).values()}
    assert "accounts.sweep_imports" in names and "accounts.sweep_imports" in app.extensions["celery"].tasks
    assert bulk_import.RUN_TASK in app.extensions["celery"].tasks
