"""Jinja filters and globals: French dates and numbers, labels."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from babel import Locale
from flask import Flask, current_app, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_login import current_user
from markupsafe import Markup

from portal.common import cdg, formatting, forms, i18n, titles
from portal.common.clock import PARIS


def _date(value: date | datetime | None, fmt: str = "long") -> str:
    if value is None:
        return "—"
    # Babel through Flask-Babel, for the portal's time zone (Paris); "1er" for the first day of a month.
    if isinstance(value, datetime):
        return _datetime(value)
    return formatting.first_of_month(format_date(value, fmt), value.day) if fmt == "long" else format_date(value, fmt)


def _datetime(value: datetime) -> str:
    """ "7 décembre 2026 à 09:05" in the portal's time zone: Babel's pattern "d MMMM y 'à' HH:mm" written out with
    the locale's month names, without Babel's pattern machinery (a tenth of a millisecond a call, 50 rows a page);
    the same text, tested against Babel. The portal has one locale and one time zone (``create_app`` gives
    Flask-Babel constant selectors): both are read once, not looked up in the request's context at each call."""
    local = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(PARIS)
    text = f"{local.day} {_month_names()[local.month]} {local.year} à {local.hour:02d}:{local.minute:02d}"
    return formatting.first_of_month(text, local.day)


@functools.cache
def _month_names() -> dict[int, str]:
    """The locale's month names, as dates write them ("décembre")."""
    return dict(Locale.parse(i18n.LOCALE).months["format"]["wide"])


# French grouping (CLDR "fr"): a narrow no-break space between thousands.
FRENCH_GROUP_SEPARATOR = "\u202f"


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        # Same output as Babel for integers, without its cost (50 rows a page).
        return f"{value:,}".replace(",", FRENCH_GROUP_SEPARATOR)
    return formatting.decimal_fr(value)


def _money(value, cents: bool | None = None) -> str:
    """An amount in euros, the French way, sign included: "2 000 €", "12,50 €"; ``cents=True`` for accounting
    documents ("2 000,00 €")."""
    if value is None:
        return "—"
    return formatting.money_fr(value, cents=cents)


def _percent(value) -> str:
    return "—" if value is None else formatting.percent_fr(value)


def _days(value) -> str:
    return "—" if value is None else formatting.days_fr(value)


# Werkzeug's encoding of a URL's query arguments (werkzeug.urls), so that a link is written as url_for writes it.
_QUERY_SAFE = "!$'()*,/:;?@"


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (for sort and pagination links): what
    ``url_for(request.endpoint, **view_args, **args)`` gives, its path built once per request (a list page has a
    dozen of these links)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    view_args = request.view_args or {}
    if any(key in view_args for key in args):  # an argument of the route's path changed: url_for places it
        return url_for(request.endpoint, **{**view_args, **args})
    # The path is kept on the request itself, not in g: one application context may serve several test requests.
    current = request._get_current_object()
    path = getattr(current, "_url_with_path", None)
    if path is None:
        path = current._url_with_path = url_for(request.endpoint, **view_args)
    query = urlencode(list(args.items()), safe=_QUERY_SAFE)
    return f"{path}?{query}" if query else path


def export_url(endpoint: str, fmt: str) -> str:
    """The export of the current list in ``fmt``, with the list's filters (the page number dropped)."""
    args = {k: v for k, v in request.args.items() if k != "page"}
    return url_for(endpoint, fmt=fmt, **args)


# The main navigation is the same HTML for everyone of a role on a given page: about thirty url_for and gettext
# calls, a fifth of a kept page's cost, made once per process for each (role, page, language, mounting point).
# An élu's link to his own page makes his mandate part of the key; the bound keeps a process's memory small.
NAV_CACHE_SIZE = 2048


def main_nav() -> Markup:
    """The main navigation of the signed-in person, for the current page (``templates/_nav.html``)."""
    user = current_user._get_current_object()
    elu_mandate_id = user.mandate.id if user.is_elu and user.mandate is not None else None
    variables = {
        "is_staff": user.is_staff,
        "is_secretary": user.is_secretary,
        "elu_mandate_id": elu_mandate_id,
        "endpoint": request.endpoint,
        "blueprint": request.blueprint,
    }
    key = (str(get_locale()), request.script_root, *variables.values())
    kept = current_app.extensions.setdefault("portal_main_nav", {})
    nav = kept.get(key)
    if nav is None:
        nav = Markup(render_template("_nav.html", **variables))  # noqa: S704 - rendered by Jinja, escaped there
        if len(kept) >= NAV_CACHE_SIZE:
            kept.clear()
        kept[key] = nav
    return nav


def register(app: Flask) -> None:
    app.jinja_env.filters["date_fr"] = _date
    app.jinja_env.filters["number_fr"] = _number
    app.jinja_env.filters["money_fr"] = _money
    app.jinja_env.filters["percent_fr"] = _percent
    app.jinja_env.filters["days_fr"] = _days
    app.jinja_env.globals["url_with"] = url_with
    # Titles and agreement with the person (portal/common/titles.py): never a hand-written "Élu" or "inscrit".
    app.jinja_env.globals["agree"] = titles.agree
    app.jinja_env.globals["civility"] = titles.civility
    app.jinja_env.globals["function_title"] = titles.function_title
    app.jinja_env.globals["role_title"] = titles.role_title
    # No ``salutation`` global: the notification emails' optional ``salutation`` (a text in their context) would
    # fall back on it when absent, and show « <function salutation at 0x…> » instead of « Bonjour … ».
    app.jinja_env.globals["export_url"] = export_url
    app.jinja_env.globals["main_nav"] = main_nav
    app.jinja_env.globals["kept_fields"] = forms.kept_fields
    app.jinja_env.globals["portal_env"] = app.config["PORTAL_ENV"]
    # The CDG's names and territory, from configuration (portal.common.cdg): no page names the CDG by itself.
    app.jinja_env.globals["cdg"] = cdg.identity(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # The portal's single locale: the French catalogue read once per process (portal.common.i18n), instead of
    # Flask-Babel's lookup of the request's translations on each of the 80 to 100 calls of a page. Its plural rule
    # is French (0 and 1 take the singular), in pages and emails alike.
    app.jinja_env.install_gettext_translations(i18n.translations(), newstyle=True)
    # Labels that belong to an area are registered by that area's blueprint (``status_label`` by affiliation,
    # ``kind_label`` by registry), the header's unread count by notifications: this layer knows no area.
