"""The Celery application, built from the Flask app so that both read the same configuration."""

from portal import create_app
from workers import signals  # noqa: F401  (process hooks)
from workers.schedule import build_schedule

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.conf.beat_schedule = build_schedule(flask_app.config)
app = celery_app  # ``celery -A workers.celery_app`` finds ``app``
