"""Persons apart from logins: a person holds mandates (closed, never deleted); a login may belong to a person.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:30:00

Data: every login having a mandate gets one person, named from the login's full name (first word the given
name, the rest the family name), sex unknown (never recorded before), source "manual"; his mandate moves to
that person and the login is attached to him. The downgrade goes back only when each person with mandates has
exactly one mandate and a login (the former shape); otherwise it stops and changes nothing.

Written by hand.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _split(full_name):
    """The same reading as portal.people.rules.split_full_name, frozen here as of this revision."""
    words = (full_name or "").split()
    if not words:
        return "", ""
    if len(words) == 1:
        return "", words[0]
    return words[0], " ".join(words[1:])


def upgrade():
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_key", sa.String(length=300), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("source", "source_key", name=op.f("uq_person_source_source_key")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_user_account_person_id"), ["person_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_user_account_person_id_person"), "person", ["person_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("mandate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("function_start_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("end_date", sa.Date(), nullable=True))
        batch_op.alter_column("function", existing_type=sa.String(length=20), type_=sa.String(length=30))

    connection = op.get_bind()
    person = sa.table(
        "person",
        sa.column("id", sa.Integer),
        sa.column("given_name", sa.String),
        sa.column("family_name", sa.String),
        sa.column("source", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    rows = connection.execute(
        sa.text(
            "SELECT mandate.id, mandate.user_id, user_account.full_name FROM mandate "
            "JOIN user_account ON user_account.id = mandate.user_id ORDER BY mandate.id"
        )
    ).all()
    for mandate_id, user_id, full_name in rows:
        given_name, family_name = _split(full_name)
        person_id = connection.execute(
            person.insert()
            .values(given_name=given_name, family_name=family_name, source="manual", created_at=now, updated_at=now)
            .returning(person.c.id)
        ).scalar_one()
        connection.execute(
            sa.text("UPDATE mandate SET person_id = :person WHERE id = :mandate"),
            {"person": person_id, "mandate": mandate_id},
        )
        connection.execute(
            sa.text("UPDATE user_account SET person_id = :person WHERE id = :user"),
            {"person": person_id, "user": user_id},
        )

    with op.batch_alter_table("mandate", schema=None) as batch_op:
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_mandate_user_id", type_="unique")
        batch_op.drop_constraint("fk_mandate_user_id_user_account", type_="foreignkey")
        batch_op.drop_column("user_id")
        batch_op.create_index(batch_op.f("ix_mandate_person_id"), ["person_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_mandate_person_id_person"), "person", ["person_id"], ["id"], ondelete="CASCADE"
        )


def downgrade():
    connection = op.get_bind()
    unrepresentable = connection.execute(
        sa.text(
            "SELECT count(*) FROM person WHERE id IN (SELECT person_id FROM mandate) AND ("
            " (SELECT count(*) FROM mandate WHERE mandate.person_id = person.id) > 1"
            " OR NOT EXISTS (SELECT 1 FROM user_account WHERE user_account.person_id = person.id))"
        )
    ).scalar_one()
    if unrepresentable:
        raise RuntimeError(
            f"Personnes ayant plusieurs mandats ou aucun compte : {unrepresentable}. La révision 0008 ne peut pas "
            "les représenter (un mandat par compte). Rien n'a été modifié."
        )
    with op.batch_alter_table("mandate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
    connection.execute(
        sa.text(
            "UPDATE mandate SET user_id = "
            "(SELECT user_account.id FROM user_account WHERE user_account.person_id = mandate.person_id)"
        )
    )
    with op.batch_alter_table("mandate", schema=None) as batch_op:
        batch_op.drop_constraint("fk_mandate_person_id_person", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_mandate_person_id"))
        batch_op.drop_column("person_id")
        batch_op.drop_column("end_date")
        batch_op.drop_column("function_start_date")
        batch_op.drop_column("rank")
        batch_op.alter_column("function", existing_type=sa.String(length=30), type_=sa.String(length=20))
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_mandate_user_id", ["user_id"])
        batch_op.create_foreign_key(
            "fk_mandate_user_id_user_account", "user_account", ["user_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint("fk_user_account_person_id_person", type_="foreignkey")
        batch_op.drop_constraint("uq_user_account_person_id", type_="unique")
        batch_op.drop_column("person_id")
    op.drop_table("person")
