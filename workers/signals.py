"""Worker process hooks: a forked child must not reuse its parent's database connections."""

from celery.signals import worker_process_init


@worker_process_init.connect
def dispose_engine_after_fork(**_kwargs):
    from portal.extensions import db
    from workers.celery_app import flask_app

    with flask_app.app_context():
        db.engine.dispose(close=False)
