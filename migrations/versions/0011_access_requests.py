"""Access requests: a person without an account asks for one; staff accept (invitation) or refuse (reason).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:10:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "access_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("job_title", sa.String(length=120), nullable=False),
        sa.Column("collectivites_text", sa.String(length=1000), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=True),
        sa.Column("siret_hint", sa.String(length=14), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("refusal_reason", sa.String(length=1000), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_request_decided_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_access_request_user_id_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_request")),
    )
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_request_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_request_state"), ["state"], unique=False)

    op.create_table(
        "access_request_collectivite",
        sa.Column("access_request_id", sa.Integer(), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["access_request_id"],
            ["access_request.id"],
            name=op.f("fk_access_request_collectivite_access_request_id_access_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivite.id"],
            name=op.f("fk_access_request_collectivite_collectivite_id_collectivite"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("access_request_id", "collectivite_id", name=op.f("pk_access_request_collectivite")),
    )
    with op.batch_alter_table("access_request_collectivite", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_request_collectivite_collectivite_id"), ["collectivite_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("access_request_collectivite", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_request_collectivite_collectivite_id"))
    op.drop_table("access_request_collectivite")
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_request_state"))
        batch_op.drop_index(batch_op.f("ix_access_request_email"))
    op.drop_table("access_request")
