"""Shared fixtures.

The schema is built once per run by the Alembic migrations (never ``create_all``), on
SQLite by default or on the PostgreSQL database named by ``DATABASE_URL``. Every test
starts from empty tables: rows are deleted after each test, so that real commits,
Celery workers in other threads and processes, and the browser all see the same data.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text

from portal import create_app
from portal.extensions import db
from tests import clock

TEST_PASSWORD = "mot-de-passe-de-test-47"


def pytest_configure(config):
    """Every test runs under the frozen, ticking test clock (see ``tests/clock.py``)."""
    config._portal_clock = clock.start()


def pytest_unconfigure(config):
    traveller = getattr(config, "_portal_clock", None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config):
    return f"horloge des tests : {clock.chosen_instant().isoformat()} (PORTAL_TEST_TODAY pour la changer)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.sqlite3'}"


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory) -> str:
    """The real broker of the mode under test (Redis in CI's second run, else kombu's SQLAlchemy transport)."""
    return (
        os.environ.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{tmp_path_factory.mktemp('broker') / 'broker.sqlite3'}"
    )


def make_environ(database_url: str, broker: str = "memory://", **extra) -> dict:
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    environ.update({"PORTAL_ENV": "testing", "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker})
    environ[clock.ENV_OFFSET] = clock.offset_for_subprocess()  # child processes share the test's clock
    environ.update({k: str(v) for k, v in extra.items()})
    return environ


@pytest.fixture(scope="session")
def migrated(database_url):
    """Build the schema once per session by running the migrations on an empty database."""
    app = create_app({"ENVIRON": make_environ(database_url)})
    with app.app_context():
        with db.engine.begin() as connection:
            if db.engine.dialect.name == "postgresql":
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            else:
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        db.engine.dispose()
    return database_url


def clean_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - table names from the metadata


@pytest.fixture
def smtp_sink():
    """A real SMTP server (aiosmtpd) on a free local port, collecting what it receives."""
    from portal.notifications.sink import start

    port = _free_port()
    controller, handler = start("127.0.0.1", port)
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def app_factory(migrated, smtp_sink_port):
    created = []

    def factory(broker: str = "memory://", **extra):
        extra.setdefault("MAIL_PORT", smtp_sink_port)
        app = create_app({"ENVIRON": make_environ(migrated, broker, **extra)})
        created.append(app)
        return app

    yield factory
    for app in created:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def smtp_sink_port(request):
    """The port of the test's SMTP sink if it uses one, else a closed port (mail fails as unreachable)."""
    if "smtp_sink" in request.fixturenames:
        return request.getfixturevalue("smtp_sink").port
    return _free_port()


class IsolatedClient(FlaskClient):
    """The test's app context stays pushed (so tests share the session with views), but each request gets a
    fresh ``g``: otherwise Flask-Login's user and Flask-WTF's CSRF token would leak from one request (or client)
    to the next."""

    def open(self, *args, **kwargs):
        for name in list(vars(g)):
            delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(app_factory):
    """An app with Celery tasks run in place (eager): emails go straight to the SMTP sink if one is used."""
    app = app_factory(CELERY_TASK_ALWAYS_EAGER="1")
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        clean_tables()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def count_queries(app):
    """Count the SQL statements run inside a ``with count_queries() as counter:`` block."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = TEST_PASSWORD):
        page = self.client.get("/connexion")
        return self.client.post(
            "/connexion",
            data={"email": email, "password": password, "csrf_token": csrf_from(page.get_data(as_text=True))},
        )

    def logout(self):
        page = self.client.get("/mon-profil")
        return self.client.post("/deconnexion", data={"csrf_token": csrf_from(page.get_data(as_text=True))})

    def post(self, url: str, data: dict, page_url: str | None = None):
        """POST a form with the CSRF token taken from the page that shows it."""
        page = self.client.get(page_url or url)
        return self.client.post(url, data={**data, "csrf_token": csrf_from(page.get_data(as_text=True))})


@pytest.fixture
def auth(client):
    return Auth(client)


DATA_47 = Path(__file__).resolve().parent.parent / "portal" / "demo" / "data" / "decoupage-administratif-47"
NATIONAL_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "decoupage-administratif"
