"""The Celery application, built from the Flask app so that both read the same configuration."""

from portal import create_app
from workers import signals
from workers.schedule import build_schedule

flask_app = create_app()
signals.connect(flask_app)
celery_app = flask_app.extensions["celery"]

if celery_app.conf.broker_url.startswith("sqla+"):
    # kombu's SQLAlchemy transport passes every transport option to create_engine(), so its polling interval
    # can only be set on the class: without this, a worker takes about two tasks a second from the embedded broker.
    from kombu.transport import sqlalchemy as sqla_transport

    sqla_transport.Transport.polling_interval = flask_app.config["EMBEDDED_BROKER_POLLING_SECONDS"]
celery_app.conf.beat_schedule = build_schedule(flask_app.config)
app = celery_app  # ``celery -A workers.celery_app`` finds ``app``
