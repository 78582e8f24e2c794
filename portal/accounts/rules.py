"""Pure rules for accounts: login throttling and password quality."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

MIN_PASSWORD_LENGTH = 12


def throttled_until(
    recent_failures: Sequence[datetime], now: datetime, max_failures: int, window: timedelta
) -> datetime | None:
    """When ``max_failures`` failures fall within ``window`` before ``now``, login is refused until
    the oldest of them leaves the window; otherwise None.

    A sliding window: an attacker gets at most ``max_failures`` guesses per window, and a user
    who mistyped waits at most ``window``.
    """
    in_window = sorted(t for t in recent_failures if now - window < t <= now)
    if len(in_window) < max_failures:
        return None
    # The (len - max_failures + 1)-th oldest failure must leave the window before another try.
    blocking = in_window[len(in_window) - max_failures]
    return blocking + window


def password_problems(password: str, email: str = "") -> list[str]:
    """French reasons why a password is refused (empty list when it is acceptable).

    ANSSI's guidance favours length over composition rules: at least 12 characters,
    not the email address, not a single repeated character.
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Le mot de passe doit comporter au moins {MIN_PASSWORD_LENGTH} caractères.")
    if email and password.strip().lower() == email.strip().lower():
        problems.append("Le mot de passe ne doit pas être votre adresse électronique.")
    if password and len(set(password)) == 1:
        problems.append("Le mot de passe ne doit pas répéter un seul caractère.")
    return problems
