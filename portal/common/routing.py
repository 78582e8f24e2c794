"""URL converters: what does not fit a column or the portal's range does not match the route (404)."""

from __future__ import annotations

from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

from portal.common.inputs import INTEGER_MAX, parse_year

MAX_ID = INTEGER_MAX  # the largest value of an INTEGER column on PostgreSQL


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to what an id column can hold: a larger number does not match the route (404)
    instead of failing in the database driver (500). Digits 0-9 only: werkzeug's ``\\d`` also takes
    Arabic-Indic or full-width digits."""

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class YearConverter(BaseConverter):
    """``<year:…>``: a year within the portal's range (``portal.common.inputs``), else the route does not match
    (404) — checked before the view runs, so that a streamed export never starts on a year it cannot compute."""

    regex = r"[0-9]{1,9}"
    weight = 50

    def to_python(self, value: str) -> int:
        year = parse_year(value)
        if year is None:
            raise ValidationError()
        return year

    def to_url(self, value) -> str:
        return str(int(value))
