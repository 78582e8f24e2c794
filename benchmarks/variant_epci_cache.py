"""Experiment: the portal with the EPCI filter's options cached, to measure fix 1 of README.md.

Not a fix: it monkeypatches the registry at start-up, so that the benchmark can compare the page
with and without the cost of rendering 1,255 ``<option>`` per request:

    PYTHONPATH=benchmarks .venv/bin/python benchmarks/web_pages.py --app 'variant_epci_cache:create_app()'

- ``services.epci_choices()`` (all EPCI) is kept 5 minutes per process;
- the ``<option>`` list is built once per process, and ``selected`` is put on the chosen one.
"""

from __future__ import annotations

import time

from markupsafe import Markup
from wtforms.widgets import Select

import portal.registry.forms as forms
import portal.registry.services as services
from portal import create_app as portal_create_app

TTL_SECONDS = 300
_original_epci_choices = services.epci_choices
_choices: dict = {"at": 0.0, "value": None}
_options_html: dict[int, Markup] = {}


def cached_epci_choices(departement: str | None = None):
    if departement is not None:
        return _original_epci_choices(departement)
    if _choices["value"] is None or time.monotonic() - _choices["at"] > TTL_SECONDS:
        _choices.update(at=time.monotonic(), value=_original_epci_choices())
    return _choices["value"]


class CachedOptionsSelect(Select):
    def __call__(self, field, **kwargs):
        key = id(_choices["value"])
        if key not in _options_html:
            _options_html.clear()
            _options_html[key] = Markup("").join(
                Markup('<option value="{}">{}</option>').format(choice[0], choice[1]) for choice in field.iter_choices()
            )
        options = _options_html[key]
        if field.data not in (None, ""):
            # Markup arguments are not escaped again: a plain textual replace.
            needle = Markup('<option value="{}">').format(str(field.data))
            options = options.replace(needle, Markup('<option value="{}" selected>').format(str(field.data)), 1)
        return Markup('<select id="{}" name="{}">{}</select>').format(field.id, field.name, options)


services.epci_choices = cached_epci_choices
forms.FilterForm.epci.kwargs["widget"] = CachedOptionsSelect()


def create_app():
    return portal_create_app()
