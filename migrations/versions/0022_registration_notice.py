"""The notice of a registration (its invitation, its position on the waiting list, the seat offered to it) is
sent by a job after the commit: the waiting-list and offer notices are recorded once sent, and a partial index
finds the notices still due for the sweep that republishes them.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 18:00:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

NOTICE_DUE_SQL = (
    "(status = 'registered' AND NOT invitation_sent) OR (status = 'waiting' AND waiting_notice_sent_at IS NULL)"
    " OR (status = 'offered' AND offer_notice_sent_at IS NULL)"
)


def upgrade():
    with op.batch_alter_table("training_registration") as batch_op:
        batch_op.add_column(sa.Column("waiting_notice_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("offer_notice_sent_at", sa.DateTime(timezone=True), nullable=True))
    # Until now the notices were sent in the transaction that made the change: every élu already on a waiting list
    # was told his position, every seat already offered was announced.
    op.execute(
        "UPDATE training_registration SET waiting_notice_sent_at = waiting_since "
        "WHERE status = 'waiting' AND waiting_notice_sent_at IS NULL"
    )
    op.execute(
        "UPDATE training_registration SET offer_notice_sent_at = offered_at "
        "WHERE status = 'offered' AND offer_notice_sent_at IS NULL"
    )
    op.create_index(
        "ix_training_registration_notice_due",
        "training_registration",
        ["id"],
        sqlite_where=sa.text(NOTICE_DUE_SQL),
        postgresql_where=sa.text(NOTICE_DUE_SQL),
    )


def downgrade():
    op.drop_index("ix_training_registration_notice_due", table_name="training_registration")
    with op.batch_alter_table("training_registration") as batch_op:
        batch_op.drop_column("offer_notice_sent_at")
        batch_op.drop_column("waiting_notice_sent_at")
