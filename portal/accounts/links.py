"""Single-use links sent by email: invitations and password resets.

The secret travels only in the email; the database keeps its SHA-256 digest. Issuing a link replaces the
previous live link of the same account and purpose; using it is a guarded update, so that of two simultaneous
submissions only one succeeds. Services only flush.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from portal.accounts.models import AccountLink, LinkPurpose, User
from portal.common.claims import claim_row
from portal.common.clock import utcnow
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.common.i18n import lazy_gettext as _l
from portal.extensions import db

_NOUNS = {
    LinkPurpose.INVITATION: _l("Ce lien d'invitation"),
    LinkPurpose.PASSWORD_RESET: _l("Ce lien de réinitialisation"),
}


class LinkRefused(DomainError):
    """The link cannot be used; ``user`` is known when the link was genuine (expired, used, replaced), so that the
    page can offer to send a new one to that account."""

    def __init__(self, message: str, user: User | None = None):
        super().__init__(message)
        self.user = user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(user: User, purpose: LinkPurpose, lifetime: timedelta, *, actor: User | None = None) -> str:
    """A new link for ``user``: returns the secret to put in the email (never stored)."""
    now = utcnow()
    db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
            AccountLink.replaced_at.is_(None),
        )
        .values(replaced_at=now)
    )
    secret = secrets.token_urlsafe(32)
    db.session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            secret_digest=_digest(secret),
            created_at=now,
            expires_at=now + lifetime,
            created_by_id=actor.id if actor is not None else None,
        )
    )
    db.session.flush()
    return secret


def check(secret: str, purpose: LinkPurpose, now: datetime | None = None) -> AccountLink:
    """The live link for ``secret``; :class:`LinkRefused` (in French) if forged, expired, used or replaced, or if
    its account was deactivated."""
    now = now or utcnow()
    noun = _NOUNS[purpose]
    link = None
    if 20 <= len(secret) <= 100:
        link = db.session.scalar(
            select(AccountLink).where(AccountLink.secret_digest == _digest(secret), AccountLink.purpose == purpose)
        )
    if link is None:
        raise LinkRefused(_("%(noun)s n'est pas valable : vérifiez qu'il a été copié en entier.", noun=noun))
    user = link.user
    if not user.active:
        raise LinkRefused(_("%(noun)s n'est plus valable : le compte a été désactivé. Contactez le CDG.", noun=noun))
    if link.used_at is not None:
        raise LinkRefused(_("%(noun)s a déjà été utilisé : il ne sert qu'une fois.", noun=noun), user)
    if link.replaced_at is not None:
        raise LinkRefused(
            _("%(noun)s a été remplacé par un lien plus récent : utilisez le dernier message reçu.", noun=noun), user
        )
    if link.expires_at <= now:
        raise LinkRefused(_("%(noun)s a expiré.", noun=noun), user)
    return link


def use(link: AccountLink) -> None:
    """Mark the link used; :class:`LinkRefused` if another request used or replaced it in the meantime."""
    if not claim_row(
        AccountLink,
        AccountLink.id == link.id,
        AccountLink.used_at.is_(None),
        AccountLink.replaced_at.is_(None),
        used_at=utcnow(),
    ):
        raise LinkRefused(
            _("%(noun)s a déjà été utilisé : il ne sert qu'une fois.", noun=_NOUNS[LinkPurpose(link.purpose)])
        )
    db.session.refresh(link)
