"""The public JSON API under ``/api/v1``: one module per area, registered on one blueprint.

To add an area (say ``training``): write ``portal/api/training.py`` with its pydantic models and its
views decorated by :func:`portal.api.spec.operation`, and add it to ``AREAS``. Routes, authorisation,
validation, problems, pagination, rate limits and the OpenAPI document follow.
"""

from __future__ import annotations

from importlib import import_module

from flask import Flask

AREAS = ("account", "collectivites", "catalogue", "subscriptions", "conventions", "training", "docs")


def init_app(app: Flask) -> None:
    from portal.api import ratelimit
    from portal.api.blueprint import bp
    from portal.api.problems import error_response
    from portal.common.errors import register_error_responder
    from portal.extensions import csrf

    for area in AREAS:  # importing a module registers its operations on the blueprint (once per process)
        import_module(f"portal.api.{area}")
    # Token requests need no CSRF token; session requests that write are checked in auth.load_caller.
    csrf.exempt(bp)
    app.register_blueprint(bp)
    register_error_responder(app, error_response)
    ratelimit.init_app(app)
