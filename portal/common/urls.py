"""Addresses of the portal: absolute ones for what leaves it (emails, calendar invitations, the redirections of
single sign-on), and the local paths a login may send the browser back to."""

from __future__ import annotations

from collections.abc import Iterable
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


# An integer no id reaches, put in a URL in place of an id: its digits are then replaced by each id's.
_MARK = 7_391_046_528_193_650_000


def urls_for(targets: Iterable[tuple[str, dict]]) -> list[str]:
    """``url_for(endpoint, **values)`` of each (endpoint, values), with one ``url_for`` per endpoint and set of
    arguments that are not integers: the integers (ids) are put into a URL built once with marks in their place,
    as Werkzeug writes them (their digits, in the path or the query string alike). A page of fifty links to a few
    kinds of object builds a few URLs instead of fifty."""
    patterns: dict[tuple, tuple[list[str], tuple[str, ...]] | None] = {}
    urls = []
    for endpoint, values in targets:
        ids = tuple(k for k, v in values.items() if type(v) is int and v >= 0)
        key = (endpoint, ids, tuple((k, v) for k, v in values.items() if k not in ids))
        if key not in patterns:
            patterns[key] = _pattern(endpoint, values, ids)
        pattern = patterns[key]
        if pattern is None:
            urls.append(url_for(endpoint, **values))
            continue
        urls.append(_filled(pattern, values))
    return urls


def _filled(pattern: tuple[list[str], tuple[str, ...]], values: dict) -> str:
    pieces, order = pattern
    url = pieces[0]
    for name, piece in zip(order, pieces[1:], strict=True):
        url += str(values[name]) + piece
    return url


def _pattern(endpoint: str, values: dict, ids: tuple[str, ...]) -> tuple[list[str], tuple[str, ...]] | None:
    """The URL of ``endpoint`` cut around the marks of ``ids`` (pieces, and the id of each cut, in order); None
    when a converter does not write an id as its digits (a mark not found once, or a small id written otherwise,
    such as zero-padded): then each URL is built whole."""
    marks = {name: str(_MARK + n) for n, name in enumerate(ids)}
    url = url_for(endpoint, **{**values, **{name: int(mark) for name, mark in marks.items()}})
    if any(url.count(mark) != 1 for mark in marks.values()):
        return None
    cuts = sorted((url.index(mark), name) for name, mark in marks.items())
    pieces, start = [], 0
    for at, name in cuts:
        pieces.append(url[start:at])
        start = at + len(marks[name])
    pieces.append(url[start:])
    pattern = pieces, tuple(name for _at, name in cuts)
    small = {**values, **dict.fromkeys(ids, 1)}
    return pattern if _filled(pattern, small) == url_for(endpoint, **small) else None
