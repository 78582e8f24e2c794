"""Accounts are created invited: single-use links (invitation, password reset) and the invited state.

An invited account has no password yet (``password_hash`` empty) until its holder follows the invitation link,
chooses a password and accepts the terms of use (``terms_accepted_at``). Links are stored as a SHA-256 digest
of the secret sent by email, with their expiry and the moment they were used or replaced.

Data: existing accounts all have a password and stay active; they are not asked to accept the terms again.
The downgrade stops, changing nothing, when an account is still invited (it would have no password).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:10:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_account_link_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_account_link_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_link")),
        sa.UniqueConstraint("secret_digest", name=op.f("uq_account_link_secret_digest")),
    )
    with op.batch_alter_table("account_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_link_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=200), nullable=True)
        batch_op.add_column(sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("terms_accepted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    connection = op.get_bind()
    invited = connection.execute(sa.text("SELECT count(*) FROM user_account WHERE password_hash IS NULL")).scalar()
    if invited:
        raise RuntimeError(
            f"{invited} compte(s) invité(s) sans mot de passe : la version précédente exige un mot de passe. "
            "Supprimez ou activez ces comptes avant de revenir en arrière."
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("terms_accepted_at")
        batch_op.drop_column("invited_at")
        batch_op.alter_column("password_hash", existing_type=sa.String(length=200), nullable=False)
    with op.batch_alter_table("account_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_link_user_id"))
    op.drop_table("account_link")
