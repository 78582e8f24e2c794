"""The migrations are the only source of the schema: they build an empty database and agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

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
