"""Decision reasons: why a training session was cancelled, why a convention was terminated, stored where the
decision is shown (the audit log keeps them as well; an account's deactivation keeps its reason there only).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 10:00:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("training_session", sa.Column("cancel_reason", sa.Text(), nullable=True))
    op.add_column("convention", sa.Column("termination_reason", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("convention", "termination_reason")
    op.drop_column("training_session", "cancel_reason")
