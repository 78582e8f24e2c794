"""Pure rules for accounts: the counters that throttle logins and reset requests, and password quality."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatch
from functools import cache
from importlib import resources

from portal.common.i18n import gettext as _

MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class CounterLimit:
    """A counter an attempt is counted against: at most ``limit`` attempts per window for ``scope`` and ``key``."""

    scope: str
    key: str
    limit: int


def login_counters(
    email: str, address: str, *, per_account_and_address: int, per_account: int, per_address: int
) -> list[CounterLimit]:
    """The counters a login attempt is counted against, the narrowest first.

    * Per account and address: the one a person who mistypes meets. It locks that account from that address
      only: colleagues behind the same town-hall NAT keep logging in to their own accounts, and nobody
      elsewhere can lock the account for its owner at the town hall.
    * Per account, from every address: bounds a guess spread over many addresses (OWASP ASVS 4.0.3 V2.2.1:
      no more than 100 failed attempts an hour on one account).
    * Per address, on every account: bounds a guess of a few passwords on many accounts (password spraying),
      set high enough that a town hall's own mistakes never reach it.

    An attempt refused by one counter is counted by none of them: a person who insists on a locked account
    fills no counter that others share. Every request takes the counters in this order.
    """
    email, address = email[:254], address[:45]
    return [
        CounterLimit("login-account-address", f"{address} {email}", per_account_and_address),
        CounterLimit("login-account", email, per_account),
        CounterLimit("login-address", address, per_address),
    ]


def request_counters(kind: str, email: str, address: str, *, per_email: int, per_address: int) -> list[CounterLimit]:
    """The counters a request sent from a public page (``kind``: a password reset, an access request) is counted
    against: per email address (known or not, so that the limit tells nothing about which addresses have an
    account) and per IP address."""
    return [
        CounterLimit(f"{kind}-email", email[:254], per_email),
        CounterLimit(f"{kind}-address", address[:45], per_address),
    ]


def window_over(window_started_at: datetime, now: datetime, window: timedelta) -> bool:
    """A fixed window: it starts with the first attempt counted and lasts ``window``; the next attempt after it
    starts a new one, counted from zero."""
    return window_started_at <= now - window


def throttled_until(window_started_at: datetime, window: timedelta) -> datetime:
    """A full counter takes attempts again when its window is over."""
    return window_started_at + window


_WORDLISTS = "common-passwords-*.txt"
_SEPARATORS = ".-_+"


def _normalised(password: str) -> str:
    return password.strip().casefold()


def _without_trailing_digits_and_signs(text: str) -> str:
    """``azerty123!`` → ``azerty``: the usual way of "strengthening" a common password."""
    end = len(text)
    while end and (text[end - 1].isdigit() or unicodedata.category(text[end - 1])[0] in "PSZ"):
        end -= 1
    return text[:end]


@cache
def common_passwords() -> frozenset[str]:
    """The common passwords shipped in ``portal/accounts/data`` (sources and licences in its README), normalised."""
    folder = resources.files("portal.accounts") / "data"
    words: set[str] = set()
    for entry in folder.iterdir():
        if fnmatch(entry.name, _WORDLISTS):
            words.update(_normalised(line) for line in entry.read_text(encoding="utf-8").splitlines())
    words.discard("")
    return frozenset(words)


def is_common_password(password: str, common: frozenset[str]) -> bool:
    """In the list, whatever the case, as it is or without the digits and signs added at its end."""
    text = _normalised(password)
    base = _without_trailing_digits_and_signs(text)
    return text in common or (base != "" and base in common)


def _contains_local_part(password: str, email: str) -> bool:
    local_part = _normalised(email).partition("@")[0]
    if len(local_part) < 3:
        return False
    text = _normalised(password)
    squeezed = "".join(c for c in local_part if c not in _SEPARATORS)
    return local_part in text or (len(squeezed) >= 3 and squeezed in "".join(c for c in text if c not in _SEPARATORS))


def password_problems(password: str, email: str = "", common: frozenset[str] | None = None) -> list[str]:
    """French reasons why a password is refused, all of them at once (empty list when it is acceptable).

    OWASP ASVS 4.0.3 level 2 (V2.1.1, V2.1.7, V2.1.9), like the CNIL's recommendation on passwords
    (délibération n° 2022-100 of 21 July 2022), favours length over composition rules and refuses the
    passwords attackers try first: at least 12 characters; not one of the ``common`` passwords (by default
    the lists shipped with the portal), also when digits or signs were only added at its end; nothing drawn
    from the account's address (its part before ``@`` when it has 3 characters or more, or the whole
    address); not a single repeated character.
    """
    common = common_passwords() if common is None else common
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            _(
                "Le mot de passe doit comporter au moins %(length)s caractères.",
                length=MIN_PASSWORD_LENGTH,
            )
        )
    if is_common_password(password, common):
        problems.append(
            _(
                "Ce mot de passe fait partie des plus utilisés (même avec des chiffres ou des signes ajoutés à la "
                "fin) : choisissez-en un autre."
            )
        )
    if email and _contains_local_part(password, email):
        problems.append(
            _(
                "Le mot de passe ne doit pas contenir votre identifiant (la partie de votre adresse électronique "
                "avant « @ »)."
            )
        )
    elif email and _normalised(email) in _normalised(password):
        problems.append(_("Le mot de passe ne doit pas contenir votre adresse électronique."))
    if password and len(set(password)) == 1:
        problems.append(_("Le mot de passe ne doit pas répéter un seul caractère."))
    return problems


def staff_deactivation_refusal(*, is_self: bool, other_active_staff: int) -> str | None:
    """Why a CDG agent may not switch off this agent's account, or None.

    The last active agent cannot switch himself off: nobody would be left to switch accounts on again, validate
    requests or decide affiliations (only a command on the server could)."""
    if is_self and other_active_staff == 0:
        return _(
            "Vous êtes le dernier agent du CDG dont le compte est actif : créez ou réactivez le compte d'un autre "
            "agent avant de désactiver le vôtre."
        )
    return None


def split_codes(text: str) -> list[str]:
    """The codes typed or pasted in one field (INSEE codes, SIREN), in order, each once.

    Commas, semicolons, spaces and line breaks separate them; a SIREN written in groups ("200 068 088") stays one
    code when its groups make nine digits."""
    import re

    codes: list[str] = []
    for chunk in re.split(r"[,;\n\r\t]+", text or ""):
        chunk = chunk.strip()
        if not chunk:
            continue
        joined = chunk.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
        parts = [joined] if joined.isdigit() and len(joined) == 9 else chunk.split()
        for part in parts:
            part = part.upper()
            if part not in codes:
                codes.append(part)
    return codes
