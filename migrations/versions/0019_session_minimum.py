"""Training sessions may state a minimum number of participants: below it a week before, the session waits for a
decision on the staff's work queue.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 15:30:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("training_session") as batch_op:
        batch_op.add_column(sa.Column("minimum_participants", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("training_session") as batch_op:
        batch_op.drop_column("minimum_participants")
