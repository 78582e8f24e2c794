"""Addresses of the portal: absolute ones for what leaves it (emails, calendar invitations, the redirections of
single sign-on), and the local paths a login may send the browser back to."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """``PORTAL_BASE_URL`` followed by the path of ``endpoint``.

    Never built from the request: a forged ``Host`` header must not end up in a link sent by email. Works outside
    requests too (commands, Celery tasks)."""
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    adapter = current_app.url_map.bind("portal.invalid")
    return base + adapter.build(endpoint, values)


def safe_next(target: str | None) -> str:
    """``target`` if it is a path of the portal, else the dashboard: a ``next`` parameter must not send the browser
    to another site after login. Browsers treat a backslash as a slash, so a path starting with slash-backslash
    leads to another host."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("main.dashboard")
