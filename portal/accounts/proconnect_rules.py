"""Pure rules of the ProConnect login: which identity the portal accepts from ProConnect, and what it does with it.

No Flask, no SQLAlchemy: the view gives the claims ProConnect vouched for (the verified id_token and userinfo) and
the facts of the account found by email; these functions say what happens.

An agent is matched to an account **by email only**, never by name or SIRET: the SIRET tells which organisation
the agent declared to his identity provider, a hint for the access request, never a right to a collectivité.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

# Roles and statuses as stored (``accounts.models.Role`` and ``AccountStatus`` values).
ROLES_ALLOWED = ("staff", "secretary")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100


class Outcome(StrEnum):
    """What a ProConnect login leads to, for the account found by the agent's email."""

    LOG_IN = "log_in"  # an active account of a CDG agent or a secretary
    UNKNOWN = "unknown"  # no account: the access request is offered
    INVITED = "invited"  # the invitation must be accepted first
    DEACTIVATED = "deactivated"
    ELU = "elu"  # élus log in with their password
    SERVICE_ACCOUNT = "service_account"  # an integration's account: API tokens only


class ClaimsRefused(Exception):
    """The identity sent by the provider cannot be used: ``reason`` is a stable key for the log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Agent:
    """The identity ProConnect vouched for."""

    sub: str
    email: str
    given_name: str | None = None
    usual_name: str | None = None
    siret: str | None = None
    uid: str | None = None


def _text(value: object, limit: int = MAX_NAME_LENGTH) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:limit] or None


def plausible_email(value: object) -> bool:
    """One ``@`` with something on each side, a dot in the domain, no space, within the column's length."""
    if not isinstance(value, str) or not value or len(value) > MAX_EMAIL_LENGTH:
        return False
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain.strip(".") and "@" not in domain and not any(c.isspace() for c in value))


def email_verified(claims: Mapping) -> bool:
    """Whether the provider vouches for the email.

    ``email_verified`` false (the boolean or the string a provider may send) means the address was not checked:
    refused. ProConnect does not send the claim at all: its federation admits an identity provider only for the
    email domains it proves to own (a DNS record) and on which it authenticates every address, so an address
    transmitted by ProConnect is verified. A missing claim is therefore accepted."""
    value = claims.get("email_verified", True)
    if isinstance(value, str):
        return value.strip().lower() not in {"false", "0", "no"}
    return value is not False


def siret_hint(value: object) -> str | None:
    """The SIRET (14 digits, spaces ignored) to pre-fill the access request; anything else is dropped."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    digits = "".join(value.split())
    return digits if len(digits) == 14 and digits.isascii() and digits.isdigit() else None


def agent_from_claims(id_token_claims: Mapping, userinfo: Mapping) -> Agent:
    """The agent described by a verified id_token and the userinfo received with its access token.

    The userinfo must be about the id_token's subject (OpenID Connect Core §5.3.2); the email is taken from the
    userinfo (where ProConnect puts it), else from the id_token, and must be plausible and verified."""
    sub = id_token_claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise ClaimsRefused("missing_sub")
    if userinfo.get("sub") != sub:
        raise ClaimsRefused("sub_mismatch")
    merged = {**id_token_claims, **userinfo}
    email = merged.get("email")
    if isinstance(email, str):
        email = email.strip()
    if not plausible_email(email):
        raise ClaimsRefused("missing_email")
    if not email_verified(merged):
        raise ClaimsRefused("unverified_email")
    return Agent(
        sub=sub,
        email=email,
        given_name=_text(merged.get("given_name")),
        usual_name=_text(merged.get("usual_name") or merged.get("family_name")),
        siret=siret_hint(merged.get("siret")),
        uid=_text(merged.get("uid"), 200),
    )


def outcome_for(role: str | None, status: str | None, *, service_account: bool = False) -> Outcome:
    """What happens to the agent, given the account found by his email (``None``: no account).

    A deactivated account is refused whatever its role; an élu keeps his password (the portal's élus are not
    agents of a collectivité in ProConnect's sense, and their login is not tied to an employer); an account not
    yet activated must accept its invitation (the terms of use) first. Only an active account of a CDG agent or
    a secretary logs in."""
    if role is None:
        return Outcome.UNKNOWN
    if status == "deactivated":
        return Outcome.DEACTIVATED
    if service_account:
        return Outcome.SERVICE_ACCOUNT
    if role == "elu":
        return Outcome.ELU
    if role not in ROLES_ALLOWED:
        raise ValueError(f"unknown role {role!r}")
    if status == "invited":
        return Outcome.INVITED
    if status == "active":
        return Outcome.LOG_IN
    raise ValueError(f"unknown account status {status!r}")


def access_request_prefill(agent: Agent) -> dict[str, str]:
    """The query parameters that pre-fill the access request (item 7's form) for an unknown agent."""
    values = {"email": agent.email, "nom": agent.usual_name, "prenom": agent.given_name, "siret": agent.siret}
    return {key: value for key, value in values.items() if value}
