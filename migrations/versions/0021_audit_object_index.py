"""The history of one object in the audit trail (an account's, a convention's) read through an index on the object,
newest first, instead of scanning the whole journal.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 18:40:00

Written by hand.
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_event_object", "audit_event", ["object_type", "object_id", "occurred_at"])


def downgrade():
    op.drop_index("ix_audit_event_object", table_name="audit_event")
