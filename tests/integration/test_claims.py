"""The one row-claim helper (portal.common.claims): a guarded UPDATE taken once, whoever asks second."""

from __future__ import annotations

from sqlalchemy import select

from portal.common.claims import claim_row
from portal.extensions import db
from portal.notifications.models import OutboxEmail, OutboxState


def _email() -> OutboxEmail:
    email = OutboxEmail(
        message_id="<claim@test>",
        category="account",
        to_address="secretariat@mairie.fr",
        template="invitation",
        context={},
        state=OutboxState.PENDING,
    )
    db.session.add(email)
    db.session.commit()
    return email


def test_a_row_is_taken_once_and_only_while_its_condition_holds(app):
    email = _email()
    pending = (OutboxEmail.id == email.id, OutboxEmail.claim_token.is_(None))
    assert claim_row(OutboxEmail, *pending, claim_token="premier") is True
    assert claim_row(OutboxEmail, *pending, claim_token="second") is False  # the condition no longer holds
    db.session.commit()
    assert db.session.scalar(select(OutboxEmail.claim_token).where(OutboxEmail.id == email.id)) == "premier"


def test_a_claim_matching_no_row_takes_nothing(app):
    email = _email()
    assert claim_row(OutboxEmail, OutboxEmail.id == email.id + 1000, claim_token="x") is False
    assert (
        claim_row(OutboxEmail, OutboxEmail.id == email.id, OutboxEmail.state == OutboxState.SENT, claim_token="x")
        is False
    )
