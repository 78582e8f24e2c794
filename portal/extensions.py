"""Unbound extension instances, imported everywhere and bound in :func:`portal.create_app`."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from celery import Celery, Task
from flask import Flask
from flask_babel import Babel
from flask_caching import Cache
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so that Alembic migrations are reproducible on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# The response cache of the pages everyone reads the same way (portal.common.page_cache).
cache = Cache()
# OpenID Connect clients (ProConnect): registered in portal.accounts.proconnect.init_app when configured.
oauth = OAuth()


def celery_init_app(app: Flask) -> Celery:
    """Bind a Celery app to the Flask app: every task runs inside an app context.

    The pattern of Flask's "Background Tasks with Celery" guide; the session is
    removed after each task so that no state leaks from one job to the next.
    """

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
