"""Login throttling and password rules: pure functions."""

from datetime import UTC, datetime, timedelta

from portal.accounts.rules import password_problems, throttled_until

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_below_the_limit_is_not_throttled():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4)]
    assert throttled_until(failures, NOW, 5, WINDOW) is None


def test_at_the_limit_waits_until_the_oldest_failure_leaves_the_window():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4, 10)]
    assert throttled_until(failures, NOW, 5, WINDOW) == NOW - timedelta(minutes=10) + WINDOW


def test_failures_outside_the_window_do_not_count():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4, 16, 20)]
    assert throttled_until(failures, NOW, 5, WINDOW) is None


def test_more_failures_than_the_limit_keep_the_block_going():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4, 5, 6, 7)]
    until = throttled_until(failures, NOW, 5, WINDOW)
    assert until == NOW - timedelta(minutes=5) + WINDOW
    assert until > NOW


def test_password_rules():
    assert password_problems("un mot de passe assez long") == []
    assert "12 caractères" in password_problems("court")[0]
    assert password_problems("aaaaaaaaaaaaaaaa")
    assert password_problems("jean.dupont@mairie.fr", "jean.dupont@mairie.fr")
