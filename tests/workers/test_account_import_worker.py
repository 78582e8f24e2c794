"""A confirmed import of secretaries runs in a real Celery worker (subprocess, real broker, real SMTP server):
its invitations arrive once, and the same job published again changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from portal.accounts import bulk_import
from portal.accounts import import_rules as rules
from portal.accounts.import_models import AccountImport
from portal.accounts.models import User
from portal.extensions import db
from tests import factories
from tests.conftest import DATA_47
from tests.workers.conftest import wait_until

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "secretaires" / "secretaires-20-communes.csv"


def _job(app, job_id) -> tuple[str, int]:
    with app.app_context():
        try:
            job = db.session.get(AccountImport, job_id)
            return job.status, job.done
        finally:
            db.session.remove()


def test_the_import_job_runs_in_a_worker_and_sends_each_invitation_once(outbox, smtp_sink):
    app = outbox.app()
    assert app.test_cli_runner().invoke(args=["registry", "import", str(DATA_47), "-d", "47"]).exit_code == 0
    with app.app_context():
        with factories.shared_password_hash():
            staff = factories.user("staff", email="staff@cdg47.fr")
        table = rules.read_table(SAMPLE.read_bytes(), max_bytes=1024 * 1024)
        job = bulk_import.start_import(
            table,
            filename="secretaires-20-communes.csv",
            upload_token=bulk_import.new_upload_token(),
            expected_digest=None,
            departements=["47"],
            actor=staff,
        )
        job_id = job.id
        db.session.commit()  # publishes the job to the test's queue
        db.session.remove()
    outbox.worker(smtp_sink.port)
    assert wait_until(lambda: _job(app, job_id) == ("done", 16), 60), _job(app, job_id)
    assert wait_until(lambda: len(smtp_sink.messages) >= 16, 60)

    # Redelivered (or published again by the sweep): the worker finds the job finished.
    with app.app_context():
        celery_app = app.extensions["celery"]
        celery_app.send_task(bulk_import.RUN_TASK, args=[job_id], queue=celery_app.conf.task_default_queue)
    wait_until(lambda: False, 3)
    assert len(smtp_sink.messages) == 16
    assert len({m["To"].addresses[0].addr_spec for m in smtp_sink.messages}) == 16
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "secretary")) == 16
        db.session.remove()
