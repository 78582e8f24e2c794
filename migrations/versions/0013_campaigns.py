"""Campaigns: a campaign of a kind for a year, one task per body in its scope, the answers to its steps (documents)
and the messages sent (opening, reminders), each once per task under a unique key.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09 10:00:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("reference_date", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("deadline >= reference_date", name=op.f("ck_campaign_deadline_after_reference")),
        sa.CheckConstraint("year BETWEEN 1984 AND 2200", name=op.f("ck_campaign_year_range")),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["user_account.id"],
            name=op.f("fk_campaign_opened_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_campaign_closed_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_state_kind_year", ["state", "kind", "year"], unique=False)

    op.create_table(
        "campaign_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_task_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivite.id"],
            name=op.f("fk_campaign_task_collectivite_id_collectivite"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_task")),
        sa.UniqueConstraint(
            "campaign_id", "collectivite_id", name=op.f("uq_campaign_task_campaign_id_collectivite_id")
        ),
    )
    with op.batch_alter_table("campaign_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_task_collectivite_id"), ["collectivite_id"], unique=False)

    op.create_table(
        "campaign_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("stored_name", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["campaign_task.id"], name=op.f("fk_campaign_answer_task_id_campaign_task"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["user_account.id"],
            name=op.f("fk_campaign_answer_answered_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_answer")),
    )
    with op.batch_alter_table("campaign_answer", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_answer_task_step", ["task_id", "step"], unique=False)

    op.create_table(
        "campaign_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["campaign_task.id"],
            name=op.f("fk_campaign_message_task_id_campaign_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_message")),
        sa.UniqueConstraint("task_id", "code", name=op.f("uq_campaign_message_task_id_code")),
    )


def downgrade():
    op.drop_table("campaign_message")
    with op.batch_alter_table("campaign_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_answer_task_step")
    op.drop_table("campaign_answer")
    with op.batch_alter_table("campaign_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_task_collectivite_id"))
    op.drop_table("campaign_task")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_state_kind_year")
    op.drop_table("campaign")
