"""Migration 0012 (imports of secretaries) goes up and down, keeping the accounts around it."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portal.extensions import db
from tests.integration.test_migrations import scratch_database_url  # noqa: F401 - the fixture


def test_migration_0012_up_and_down(scratch_database_url):  # noqa: F811
    from portal import create_app
    from tests.conftest import make_environ

    app = create_app({"ENVIRON": make_environ(scratch_database_url)})
    with app.app_context():
        upgrade(revision="0012")
        tables = set(inspect(db.engine).get_table_names())
        assert {"account_import", "account_import_result"} <= tables
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO user_account (email, full_name, role, active, session_token, password_changed_at,"
                    " is_service_account, created_at, updated_at) VALUES ('staff@cdg47.fr', 'Agent', 'staff', true,"
                    " 't', CURRENT_TIMESTAMP, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO account_import (filename, upload_token, created_by_id, created_at, status, lines,"
                    " total, done) VALUES ('s.csv', 'tok', 1, CURRENT_TIMESTAMP, 'done', '[]', 0, 0)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO account_import_result (import_id, line, outcome, email, full_name, detail)"
                    " VALUES (1, 2, 'created', 'a@b.fr', 'A', '')"
                )
            )
        downgrade(revision="0011")
        tables = set(inspect(db.engine).get_table_names())
        assert "account_import" not in tables and "account_import_result" not in tables
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT email FROM user_account")).scalars().all() == ["staff@cdg47.fr"]
        upgrade(revision="0012")
        assert "account_import_result" in inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()
