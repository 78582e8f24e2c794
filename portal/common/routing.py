"""URL converters."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest value of an INTEGER column on PostgreSQL


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to what an id column can hold: a larger number does not match the route (404)
    instead of failing in the database driver (500)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
