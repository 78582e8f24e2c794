"""Work queue claims: which CDG agent handles an item of the queue, and when an item that no action of the portal
ends (an import's rejected lines) was dealt with.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 15:40:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "work_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["user_account.id"], name=op.f("fk_work_claim_agent_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_claim")),
        sa.UniqueConstraint("kind", "object_id", name=op.f("uq_work_claim_kind_object_id")),
    )
    with op.batch_alter_table("work_claim") as batch_op:
        batch_op.create_index(batch_op.f("ix_work_claim_agent_id"), ["agent_id"], unique=False)


def downgrade():
    with op.batch_alter_table("work_claim") as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_claim_agent_id"))
    op.drop_table("work_claim")
