"""The date of the board's deliberation that set each cotisation rate (voted no later than 30 November of the
year before for the obligatory cotisation). Nullable: rates recorded before keep their reference alone.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 15:00:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contribution_rate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deliberation_date", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("contribution_rate", schema=None) as batch_op:
        batch_op.drop_column("deliberation_date")
