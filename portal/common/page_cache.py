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
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request

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
