"""The worker process hook: a forked child disposes of the database connections it inherited."""

from celery.signals import worker_process_init

from portal.extensions import db
from workers import signals


def test_a_forked_worker_process_drops_the_inherited_connections(app, monkeypatch):
    disposed = []
    with app.app_context():
        engine_class = type(db.engine)
    monkeypatch.setattr(engine_class, "dispose", lambda self, close=True: disposed.append(close))
    try:
        signals.connect(app)
        signals.connect(app)  # connecting twice is connecting once
        worker_process_init.send(sender=None)
    finally:
        worker_process_init.disconnect(dispatch_uid="portal.dispose_engine_after_fork")
    # close=False: the parent's connections are forgotten, not closed under the parent's feet.
    assert disposed == [False]
