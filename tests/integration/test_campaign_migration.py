"""Migration 0013 (campaigns) goes up and down, keeping the registry around it; its unique keys hold."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from tests.integration.test_migrations import scratch_database_url  # noqa: F401 - the fixture

TABLES = {"campaign", "campaign_task", "campaign_answer", "campaign_message"}


def test_migration_0013_up_and_down(scratch_database_url):  # noqa: F811
    from portal import create_app
    from tests.conftest import make_environ

    app = create_app({"ENVIRON": make_environ(scratch_database_url)})
    with app.app_context():
        upgrade(revision="0013")
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO collectivite (kind, name, name_normalised, source, created_at, updated_at)"
                    " VALUES ('commune', 'Agen', 'agen', 'manual', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO campaign (kind, year, title, reference_date, deadline, message, scope, state,"
                    " opened_on, opened_at) VALUES ('effectifs', 2027, 'Effectifs', '2027-01-01', '2027-03-31', '',"
                    " '{}', 'open', '2026-09-15', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO campaign_task (campaign_id, collectivite_id, created_at)"
                    " VALUES (1, 1, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text("INSERT INTO campaign_message (task_id, code, sent_at) VALUES (1, 'J+15', CURRENT_TIMESTAMP)")
            )
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO campaign_message (task_id, code, sent_at) VALUES (1, 'J+15', CURRENT_TIMESTAMP)")
            )
        with pytest.raises(IntegrityError), db.engine.begin() as connection:  # a deadline before the reference date
            connection.execute(
                text(
                    "INSERT INTO campaign (kind, year, title, reference_date, deadline, message, scope, state,"
                    " opened_on, opened_at) VALUES ('effectifs', 2028, 'E', '2028-01-01', '2027-12-31', '', '{}',"
                    " 'open', '2026-09-15', CURRENT_TIMESTAMP)"
                )
            )
        downgrade(revision="0012")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT name FROM collectivite")).scalars().all() == ["Agen"]
        upgrade(revision="0013")
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        db.session.remove()
        db.engine.dispose()
