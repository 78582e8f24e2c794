"""Absolute addresses of the portal, for what leaves it (emails, calendar invitations)."""

from __future__ import annotations

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """``PORTAL_BASE_URL`` followed by the path of ``endpoint``.

    Never built from the request: a forged ``Host`` header must not end up in a link sent by email. Works outside
    requests too (commands, Celery tasks)."""
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    adapter = current_app.url_map.bind("portal.invalid")
    return base + adapter.build(endpoint, values)
