"""Login throttling under concurrency, on SQLite and on PostgreSQL: simultaneous wrong passwords never get more
password checks than the limit.

Each thread is a login request: its own app context, so its own SQLAlchemy session and connection; all start
together (a barrier), and each commits as the login view does.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal import create_app
from portal.accounts import services
from portal.extensions import db
from tests import factories
from tests.conftest import TEST_PASSWORD, clean_tables, make_environ


@pytest.fixture
def web_app(migrated, monkeypatch):
    """An app like a web process, with a connection pool for 40 request threads (see test_training_concurrency)."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    app = create_app(
        {
            "ENVIRON": make_environ(migrated),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 50, "max_overflow": 20},
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        clean_tables()
        db.engine.dispose()


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """The passwords checked against a hash, whichever thread checked them."""
    checked: list[str] = []
    lock = threading.Lock()
    real = services.verify_password

    def counting(user, password):
        with lock:
            checked.append(password)
        return real(user, password)

    monkeypatch.setattr(services, "verify_password", counting)
    return checked


def log_in_together(app, count: int, password_for, address_for) -> list[str]:
    """``count`` login requests released at the same moment; the outcome of each."""
    barrier = threading.Barrier(count)

    def request(i: int) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                services.authenticate("agent@cdg47.fr", password_for(i), address_for(i))
                outcome = "logged in"
            except services.LoginThrottled:
                outcome = "throttled"
            except services.InvalidCredentials:
                outcome = "refused"
            except Exception as exc:  # noqa: BLE001 - reported by the test, with the error
                db.session.rollback()
                return f"error: {exc!r}"
            finally:
                db.session.commit()
                db.session.remove()
            return outcome

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(request, range(count)))


def test_forty_simultaneous_wrong_passwords_get_no_more_checks_than_the_limit(web_app, password_checks):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    limit = web_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]

    results = log_in_together(web_app, 40, lambda i: f"mauvais mot de passe n° {i}", lambda i: "192.0.2.10")

    assert [r for r in results if r.startswith("error")] == []  # no "database is locked", no deadlock
    assert Counter(results) == {"refused": limit, "throttled": 40 - limit}
    assert len(password_checks) == limit
    # The right password waits too, until the window is over.
    (late,) = log_in_together(web_app, 1, lambda i: TEST_PASSWORD, lambda i: "192.0.2.10")
    assert late == "throttled" and len(password_checks) == limit


def test_simultaneous_attempts_from_many_addresses_stop_at_the_account_limit(web_app, password_checks):
    """A distributed guess (one attempt per address) is bounded by the limit of the account, all addresses."""
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    web_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 7

    results = log_in_together(web_app, 30, lambda i: f"mauvais mot de passe n° {i}", lambda i: f"198.51.100.{i}")

    assert [r for r in results if r.startswith("error")] == []
    assert Counter(results) == {"refused": 7, "throttled": 23}
    assert len(password_checks) == 7
