"""The notice of a cancellation (by the élu, his secretary or the CDG, an offer declined or expired, a session
cancelled) and of a session moved is sent by a job after the commit, like the notice of a registration: the
cancellation records which notice it owes and when it was sent, each registration the session's sequence it was
last told of; the partial index of the notices still due covers the cancellations too.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 09:00:00

Written by hand.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

NOTICE_DUE_SQL_0022 = (
    "(status = 'registered' AND NOT invitation_sent) OR (status = 'waiting' AND waiting_notice_sent_at IS NULL)"
    " OR (status = 'offered' AND offer_notice_sent_at IS NULL)"
)
NOTICE_DUE_SQL = NOTICE_DUE_SQL_0022 + " OR (status = 'cancelled' AND cancel_notice_sent_at IS NULL)"


def _notice_due_index(where: str) -> None:
    op.create_index(
        "ix_training_registration_notice_due",
        "training_registration",
        ["id"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade():
    with op.batch_alter_table("training_registration") as batch_op:
        batch_op.add_column(sa.Column("cancel_notice", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("cancel_notice_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("told_sequence", sa.Integer(), server_default=sa.text("0"), nullable=False))
    # Until now the cancellations and the changes of a session were told in the transaction that made them: every
    # cancelled élu was told, every élu knows the session as it is.
    op.execute(
        "UPDATE training_registration SET cancel_notice_sent_at = COALESCE(cancelled_at, updated_at) "
        "WHERE status = 'cancelled' AND cancel_notice_sent_at IS NULL"
    )
    op.execute(
        "UPDATE training_registration SET told_sequence = "
        "(SELECT training_session.sequence FROM training_session WHERE training_session.id = "
        "training_registration.session_id)"
    )
    op.drop_index("ix_training_registration_notice_due", table_name="training_registration")
    _notice_due_index(NOTICE_DUE_SQL)


def downgrade():
    # The index goes first: SQLite's batch mode rebuilds the table to drop a column.
    op.drop_index("ix_training_registration_notice_due", table_name="training_registration")
    with op.batch_alter_table("training_registration") as batch_op:
        batch_op.drop_column("told_sequence")
        batch_op.drop_column("cancel_notice_sent_at")
        batch_op.drop_column("cancel_notice")
    _notice_due_index(NOTICE_DUE_SQL_0022)
