"""The CDG that runs the portal: its name and the départements it serves, read from configuration in one place
(``CDG_NAME``, ``CDG_DEPARTEMENTS``: see portal/config.py and .env.example)."""

from __future__ import annotations

from flask import current_app


def name() -> str:
    """The CDG's full name, as it heads its documents (conventions, statements, attestations)."""
    return current_app.config["CDG_NAME"]


def departements() -> list[str]:
    """The INSEE codes of the départements the CDG serves; empty for every département (a national federation)."""
    return current_app.config["CDG_DEPARTEMENTS"]
