"""The migrations are the only source of the schema: they build an empty database and agree with the models."""

import os
import uuid
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from portal.accounts.models import Mandate
from portal.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_migrations_run_down_and_up_on_an_empty_sqlite_database(tmp_path):
    from portal import create_app
    from tests.conftest import make_environ

    app = create_app({"ENVIRON": make_environ(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "collectivite",
            "headcount_declaration",
            "user_account",
            "affiliation_decision",
            "outbox_email",
        } <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "collectivite" in inspect(db.engine).get_table_names()
        db.engine.dispose()


@pytest.fixture
def scratch_database_url(tmp_path):
    """An empty database of the mode under test: a SQLite file, or a PostgreSQL database made for the test."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"portal_migration_{uuid.uuid4().hex[:12]}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _old_shape(connection) -> tuple[dict, dict]:
    mandates = {
        row.id: row._asdict()
        for row in connection.execute(
            text(
                "SELECT mandate.id, mandate.user_id, user_account.full_name, mandate.collectivite_id, mandate.function,"
                " mandate.has_delegation, mandate.delegation_subject, mandate.start_date FROM mandate"
                " JOIN user_account ON user_account.id = mandate.user_id"
            )
        )
    }
    registrations = dict(connection.execute(text("SELECT id, mandate_id FROM training_registration")).all())
    return mandates, registrations


def _demo_downgraded_to(revision: str) -> None:
    """In the application's context: the schema at head, the demo loaded, then the schema taken back to
    ``revision`` with the demo's rows (the data a migration under test upgrades)."""
    from portal.demo.loader import load

    upgrade()
    load(log=lambda message: None)
    db.session.commit()
    db.session.remove()
    downgrade(revision=revision)


def test_upgrade_to_persons_keeps_every_mandate_and_registration_of_the_demo(scratch_database_url):
    """The demo is loaded, the database taken back to 0008 (one mandate per login), then upgraded: every
    mandate and registration survives, each mandate with a person named after its login, attached to it."""
    from portal import create_app
    from tests.conftest import make_environ

    app = create_app({"ENVIRON": make_environ(scratch_database_url)})
    with app.app_context():
        _demo_downgraded_to("0008")
        with db.engine.connect() as connection:
            mandates, registrations = _old_shape(connection)
        assert len(mandates) == 4 and len(registrations) == 5  # the demo's élus and registrations, at 0008

        upgrade(revision="0009")
        with db.engine.connect() as connection:
            after = {
                row.id: row
                for row in connection.execute(
                    text(
                        "SELECT mandate.id, mandate.person_id, mandate.collectivite_id, mandate.function,"
                        " mandate.has_delegation, mandate.delegation_subject, mandate.start_date, mandate.end_date,"
                        " person.given_name, person.family_name, person.sex, person.source,"
                        " user_account.id AS user_id FROM mandate JOIN person ON person.id = mandate.person_id"
                        " LEFT JOIN user_account ON user_account.person_id = person.id"
                    )
                )
            }
            registrations_after = dict(
                connection.execute(text("SELECT id, mandate_id FROM training_registration")).all()
            )
            persons = connection.execute(text("SELECT count(*) FROM person")).scalar_one()
        assert set(after) == set(mandates)
        assert persons == len(mandates)
        for mandate_id, old in mandates.items():
            new = after[mandate_id]
            assert new.user_id == old["user_id"]
            assert f"{new.given_name} {new.family_name}" == old["full_name"]
            assert (new.sex, new.source, new.end_date) == (None, "manual", None)
            assert (new.collectivite_id, new.function, bool(new.has_delegation), new.delegation_subject) == (
                old["collectivite_id"],
                old["function"],
                bool(old["has_delegation"]),
                old["delegation_subject"],
            )
            assert str(new.start_date) == str(old["start_date"])
        assert registrations_after == registrations

        # Through the models (at the newest revision): each login's current mandate is his person's.
        from portal.accounts.models import User

        upgrade()

        for user in db.session.scalars(select(User).where(User.person_id.is_not(None))):
            assert user.mandate is not None and user.mandate.person_id == user.person_id
        db.session.remove()
        db.engine.dispose()


def test_downgrade_from_persons_refuses_what_0008_cannot_hold(scratch_database_url):
    """A person with two mandates cannot go back to one mandate per login: nothing is changed."""
    from portal import create_app
    from tests import factories
    from tests.conftest import make_environ

    app = create_app({"ENVIRON": make_environ(scratch_database_url)})
    with app.app_context():
        upgrade()
        body = factories.collectivite("Agen", insee="47001")
        user = factories.elu(body)
        db.session.add(
            Mandate(
                person_id=user.person_id,
                collectivite=body,
                function="conseiller_communautaire",
                start_date=date(2026, 4, 10),
            )
        )
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the French reason and exits
            downgrade(revision="0008")
        assert "person" in inspect(db.engine).get_table_names()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM mandate")).scalar_one() == 2
        db.engine.dispose()


def test_accounts_links_keep_every_account_active_and_refuse_to_go_back_over_an_invited_one(scratch_database_url):
    """0010: the demo's accounts, all with a password, stay active; the downgrade stops, changing nothing, while
    an invited account (no password) exists, and goes back once it is gone."""
    from portal import create_app
    from portal.accounts.models import AccountStatus, User
    from portal.accounts.services import create_user
    from tests.conftest import make_environ

    app = create_app({"ENVIRON": make_environ(scratch_database_url)})
    with app.app_context():
        _demo_downgraded_to("0009")
        upgrade(revision="0010")  # the revision under test: the refused downgrade below stops at it
        users = db.session.scalars(select(User)).all()
        assert users and {user.status for user in users} == {AccountStatus.ACTIVE}
        create_user(email="invitee@mairie.fr", role="staff", full_name="Invitée")
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the French reason and exits
            downgrade(revision="0009")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0010"
            connection.execute(text("DELETE FROM outbox_email"))
            connection.execute(text("DELETE FROM user_account WHERE email = 'invitee@mairie.fr'"))
            connection.commit()
        downgrade(revision="0009")
        with db.engine.connect() as connection:
            assert "account_link" not in inspect(connection).get_table_names()
        db.session.remove()
        db.engine.dispose()


def test_registration_notices_upgrade_counts_the_waiting_lists_as_already_told(scratch_database_url):
    """Before 0022 the waiting-list notice was sent with the registration: the upgrade records it as sent, so
    the sweep of the notices still due does not tell those élus their position a second time."""
    from portal import create_app
    from portal.training.registrations import notices_due
    from tests.conftest import make_environ

    app = create_app({"ENVIRON": make_environ(scratch_database_url)})
    with app.app_context():
        _demo_downgraded_to("0021")
        with db.engine.begin() as connection:
            statuses = dict(connection.execute(text("SELECT id, status FROM training_registration")).all())
            waiting = [ident for ident, status in statuses.items() if status == "waiting"]
            assert waiting, "the demo has an élu on a waiting list"
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, status, waiting_since, waiting_notice_sent_at FROM training_registration")
            ).all()
        for row in rows:
            told = row.waiting_notice_sent_at is not None
            assert told == (row.status == "waiting"), row
            if told:
                assert str(row.waiting_notice_sent_at) == str(row.waiting_since)
        assert not set(waiting) & set(notices_due())
        db.session.remove()


def test_cancel_and_change_notices_upgrade_counts_past_cancellations_and_changes_as_told(scratch_database_url):
    """Before 0023 a cancellation and a session's change of date or place were told in the transaction that made
    them: the upgrade records them as told, so that the sweep of the notices still due tells nobody twice."""
    from portal import create_app
    from portal.training.registrations import notices_due
    from tests.conftest import make_environ

    app = create_app({"ENVIRON": make_environ(scratch_database_url)})
    with app.app_context():
        _demo_downgraded_to("0022")
        with db.engine.begin() as connection:
            live = connection.execute(
                text(
                    "SELECT id, session_id FROM training_registration WHERE status IN ('registered', 'waiting') "
                    "ORDER BY id"
                )
            ).all()
            assert len({row.session_id for row in live}) >= 2, "the demo has élus registered to two sessions"
            cancelled = live[0]
            moved = next(row.session_id for row in live if row.session_id != cancelled.session_id)
            # Told with the change, before 0023: a cancellation and a session moved twice.
            connection.execute(
                text("UPDATE training_registration SET status = 'cancelled', cancelled_at = updated_at WHERE id = :id"),
                {"id": cancelled.id},
            )
            connection.execute(text("UPDATE training_session SET sequence = 2 WHERE id = :id"), {"id": moved})
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT r.id, r.session_id, r.status, r.cancelled_at, r.cancel_notice, r.cancel_notice_sent_at, "
                    "r.told_sequence, s.sequence FROM training_registration r "
                    "JOIN training_session s ON s.id = r.session_id"
                )
            ).all()
        for row in rows:
            assert row.told_sequence == row.sequence, row
            assert (row.cancel_notice_sent_at is not None) == (row.status == "cancelled"), row
            assert row.cancel_notice is None, row
        (told,) = [row for row in rows if row.id == cancelled.id]
        assert str(told.cancel_notice_sent_at) == str(told.cancelled_at)
        assert {row.sequence for row in rows if row.session_id == moved} == {2}
        assert cancelled.id not in notices_due()  # and no change is due: every told_sequence is its session's
        db.session.remove()
