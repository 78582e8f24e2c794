"""The response cache of the pages everyone reads the same way: the registry's list for the CDG's staff, its API list.

A value is kept under the version token of the data it shows (``portal.common.versions``), the reader's scope and
the request's address (path and query string, host included for the API's absolute ``next`` links): any change to
the data replaces the token, so an entry made before it is never served again (it is only left to expire). A change
made by this process is seen by its next request; one made by another process within the second the token is kept.

Where entries are kept is chosen by ``RESPONSE_CACHE`` (portal/config.py): in each process (Flask-Caching's simple
cache, the embedded mode), in Redis (shared by the processes of a scale-out), or nowhere (``off``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from math import ceil
from typing import TypeVar

from flask import current_app, request, session

from portal.common import versions
from portal.extensions import cache

T = TypeVar("T")


def cached(name: str, scope: str, build: Callable[[], T], *, data: str = versions.REGISTRY, extra: tuple = ()) -> T:
    """``build()``, or the value it gave for the same data version, ``scope`` and request address (``extra``: what
    else the value depends on, such as the page size)."""
    if not current_app.config.get("RESPONSE_CACHE_ENABLED"):
        return build()
    token = versions.current(data)  # read before the data: a value is never kept under a newer token than its own
    if token is None:
        return build()
    address = request.url if request else ""
    key = hashlib.sha256("\x1f".join([name, token, scope, address, *map(str, extra)]).encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value)
    return value


# Views of data that changes too often for a version token: the staff work queue reads the outbox, registrations,
# requests of every area — a token bumped by each of those writes would be one row every transaction waits for.
# Such a view is kept a few seconds instead: another person's change shows within that delay, and the reader's own
# changes show at once (his last write is remembered in his session, and an entry made before it is not served).
_LAST_WRITE = "last_write_at"
wall_clock = time.time  # shared by the processes (and machines) of a scale-out; patched by tests


def remember_write(response):
    """``after_request``: a successful change made by a signed-in person (any method but GET/HEAD/OPTIONS) is
    dated in his session, so that no page kept from before it is shown to him."""
    # Only a browser session signed in through the login form (Flask-Login's key): an API call sets no cookie.
    if request.method not in {"GET", "HEAD", "OPTIONS"} and response.status_code < 400 and "_user_id" in session:
        session[_LAST_WRITE] = wall_clock()
    return response


def cached_for(
    name: str, scope: str, build: Callable[[], T], *, seconds: float, per_address: bool = True, extra: tuple = ()
) -> T:
    """``build()``, or the value it gave for the same ``scope`` (and request address, unless ``per_address`` is
    false) less than ``seconds`` ago and after the reader's last change. ``seconds`` ≤ 0 (or the cache off)
    always builds."""
    if seconds <= 0 or not current_app.config.get("RESPONSE_CACHE_ENABLED"):
        return build()
    address = request.url if request and per_address else ""
    key = hashlib.sha256("\x1f".join([name, scope, address, *map(str, extra)]).encode()).hexdigest()
    started = wall_clock()  # before reading the data: an entry is never dated later than what it saw
    entry = cache.get(key)
    if entry is not None:
        made_at, value = entry
        if started - made_at < seconds and made_at > session.get(_LAST_WRITE, 0.0):
            return value
    value = build()
    cache.set(key, (started, value), timeout=max(1, ceil(seconds)))
    return value
