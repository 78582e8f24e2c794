"""Pure pieces of the API: token secrets and their hash, the ``Authorization`` header, pagination bounds.

No Flask, no SQLAlchemy.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.common.i18n import gettext as _

# A token reads "cdg_<43 url-safe characters>": the prefix tells a secret scanner (and a human) what it is.
TOKEN_MARK = "cdg_"  # noqa: S105 - a public marker
PREFIX_LENGTH = 12  # "cdg_" and 8 characters of the secret: enough to recognise a token in a list
MAX_LIFETIME = timedelta(days=366)
MAX_PER_PAGE = 200
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewSecret:
    secret: str
    prefix: str
    digest: str


def hash_secret(secret: str) -> str:
    """SHA-256 of the secret, in hexadecimal.

    A fast hash is right here, unlike for passwords: the secret is 32 random bytes (256 bits) drawn by
    ``secrets``, so no dictionary or brute force can find it from its hash; a slow hash would only make
    every API request slower. The hash also lets the token be found in one indexed query.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> NewSecret:
    secret = TOKEN_MARK + secrets.token_urlsafe(32)
    return NewSecret(secret=secret, prefix=secret[:PREFIX_LENGTH], digest=hash_secret(secret))


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None when there is no such header.

    An empty string when the header says Bearer but carries no usable token (the caller answers 401)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value or " " in value or len(value) > 200:
        return ""
    return value


def lifetime_problem(expires_at: datetime, now: datetime) -> str | None:
    """French message when an expiry date is not allowed (past, or more than a year away)."""
    if expires_at <= now:
        return _("La date d'expiration doit être dans le futur.")
    if expires_at - now > MAX_LIFETIME:
        return _("Un jeton est valable un an au plus.")
    return None


def should_touch(last_used_at: datetime | None, now: datetime) -> bool:
    """Record the last use at most once a minute: no write on every request."""
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION
