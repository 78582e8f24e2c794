"""Fixed-window rate limits on the ``limits`` library (the engine of Flask-Limiter), per token and per address.

The counters live in ``RATELIMIT_STORAGE_URI``: ``memory://`` keeps them in each process (the embedded
mode); a Redis URL shares them between gunicorn workers and machines (the scale-out mode).
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from portal.config import ConfigurationError

log = logging.getLogger(__name__)


class RateLimits:
    def __init__(self, app: Flask):
        try:
            self.per_token = parse(app.config["API_RATE_LIMIT"])
            self.per_address = parse(app.config["API_ANON_RATE_LIMIT"])
        except ValueError as exc:
            raise ConfigurationError(
                f"API_RATE_LIMIT et API_ANON_RATE_LIMIT s'écrivent « nombre/unité », par exemple 600/minute ({exc})."
            ) from exc
        self.limiter = FixedWindowRateLimiter(storage_from_string(app.config["RATELIMIT_STORAGE_URI"]))

    def retry_after(self, kind: str, key: str) -> int | None:
        """Count one request; None if it is allowed, else the seconds to wait before the window resets.

        If the storage is unreachable the request is let through (logged): an outage of Redis must not
        take the API down with it."""
        limit = self.per_token if kind == "token" else self.per_address
        try:
            if self.limiter.hit(limit, "portal-api", kind, key):
                return None
            reset_at, _remaining = self.limiter.get_window_stats(limit, "portal-api", kind, key)
        except Exception:  # noqa: BLE001 - any storage failure: fail open
            log.warning("Rate-limit storage unavailable; request let through", exc_info=True)
            return None
        return max(1, math.ceil(reset_at - time.time()))


def init_app(app: Flask) -> None:
    app.extensions["portal_rate_limits"] = RateLimits(app)


def rate_limits() -> RateLimits:
    return current_app.extensions["portal_rate_limits"]
