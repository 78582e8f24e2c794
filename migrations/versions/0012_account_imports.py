"""Bulk import of secretaries: the confirmed imports (a Celery job each) and the result of each of their lines.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 12:20:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("upload_token", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_account_import_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_import")),
        sa.UniqueConstraint("upload_token", name=op.f("uq_account_import_upload_token")),
    )
    with op.batch_alter_table("account_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_import_status"), ["status"], unique=False)

    op.create_table(
        "account_import_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["account_import.id"],
            name=op.f("fk_account_import_result_import_id_account_import"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_account_import_result_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_import_result")),
        sa.UniqueConstraint("import_id", "line", name=op.f("uq_account_import_result_import_id_line")),
    )


def downgrade():
    op.drop_table("account_import_result")
    with op.batch_alter_table("account_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_import_status"))
    op.drop_table("account_import")
