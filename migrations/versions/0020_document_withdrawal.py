"""A convention's wrong document is withdrawn, not deleted: when, by whom and why are kept with its row.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 16:00:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("convention_document") as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            "fk_convention_document_withdrawn_by_id_user_account",
            "user_account",
            ["withdrawn_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("convention_document") as batch_op:
        batch_op.drop_constraint("fk_convention_document_withdrawn_by_id_user_account", type_="foreignkey")
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
