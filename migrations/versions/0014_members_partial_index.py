"""Partial index on the collectivités attached to another (CCAS, caisses des écoles): parent_id and name, where
parent_id is set.

On SQLite, the statistics of ANALYZE over an almost-all-NULL parent_id make the planner prefer the name index for
the page of a commune (its attached bodies, by name) and scan the whole registry (36,000 rows, 13 to 24 ms); an
index holding only the few hundred attached bodies is chosen instead.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:00:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WHERE = sa.text("parent_id IS NOT NULL")


def upgrade():
    op.create_index(
        "ix_collectivite_parent_id_name",
        "collectivite",
        ["parent_id", "name_normalised"],
        unique=False,
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade():
    op.drop_index("ix_collectivite_parent_id_name", table_name="collectivite")
