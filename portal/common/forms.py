"""Form helpers shared by the areas: the portal's base forms and the fields that bound what people type.

Every form of the portal derives from :class:`PortalForm` (a row of a ``FieldList`` from :class:`PortalSubForm`).
Their ``Meta`` binds each field once for the whole portal:

- a text field (``StringField`` and its kinds, passwords excepted) loses NUL and the other C0 control characters
  (tab and line breaks kept): PostgreSQL refuses NUL in text, the others only corrupt exports and emails;
- a date or date-and-time field refuses a date outside the portal's range (``portal.common.inputs``), with the
  range in the message.

Numbers go through :class:`IntegerField` and :class:`FrenchDecimalField`, which read digits 0-9 only and what fits
the column; a year through :class:`YearInRange`. The length of each text field is its column's (a ``Length``
validator on every text field; ``tests/unit/test_form_bounds.py`` compares them with the models).
"""

from __future__ import annotations

from collections.abc import Iterable

import wtforms.widgets
from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import DateTimeField, DecimalField, Form, PasswordField, StringField
from wtforms import IntegerField as WTFormsIntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import ValidationError
from wtforms.widgets import Select, TextInput
from wtforms.widgets import core as wtforms_widgets

from portal.common.clock import paris_today
from portal.common.inputs import InvalidNumber, date_problem, parse_decimal, parse_integer, strip_control_characters
from portal.common.inputs import year_problem as _year_problem


def html_params(**kwargs) -> Markup:
    """WTForms' ``html_params`` (every widget writes its attributes with it), the same output without
    ``Markup.format``, which costs three quarters of it: a page with a form of five fields spends a fifth of its
    rendering there. Installed in place of WTForms' own below; tests/unit/test_form_widgets.py compares both."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = escape(wtforms_widgets.clean_key(key))
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{key}="{escape(value)}"')
    # Plain strings joined, then marked once: ``Markup.join`` would escape each part again.
    return Markup(" ".join(params))  # noqa: S704 - every key and value escaped above


wtforms_html_params = wtforms_widgets.html_params
wtforms_widgets.html_params = html_params  # the widgets of wtforms.widgets.core look it up in their module
# ...except the inputs and buttons, which hold it as a class attribute bound at import (``self.html_params``), and
# the labels, which read it from the ``wtforms.widgets`` package.
wtforms_widgets.Input.html_params = staticmethod(html_params)
wtforms_widgets.Button.html_params = staticmethod(html_params)
wtforms.widgets.html_params = html_params


def options(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class QuickSelect(Select):
    """WTForms' ``<select>``, its plain options (a text value, no attributes of their own) written by one f-string
    instead of ``html_params``: the same HTML, for the filters whose lists run to tens of options on every page.

    A list filter shows the same ``<select>`` on most requests (the same options, the same one chosen): its HTML is
    kept by the widget, under everything it is made of (name, attributes, each option's value, text and state)."""

    KEPT_SELECTS = 256  # per field of a form class: enough for the choices a filter shows

    def __init__(self, multiple=False):
        super().__init__(multiple=multiple)
        self._kept: dict[tuple, Markup] = {}

    def __call__(self, field, **kwargs):
        if self.multiple or field.has_groups():
            return super().__call__(field, **kwargs)
        options = tuple(field._iter_choices_normalized())
        if any(choice.render_kw or not isinstance(choice.value, str) for choice in options):
            return super().__call__(field, **kwargs)
        flags = getattr(field, "flags", None)
        key = (
            field.id,
            field.name,
            tuple(sorted((name, str(value)) for name, value in kwargs.items())),
            bool(getattr(flags, "required", False)),
            bool(getattr(flags, "disabled", False)),
            tuple((choice.value, str(choice.label or choice.value), bool(choice.selected)) for choice in options),
        )
        html = self._kept.get(key)
        if html is None:
            html = super().__call__(field, **kwargs)
            if len(self._kept) >= self.KEPT_SELECTS:
                self._kept.clear()
            self._kept[key] = html
        return html

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or not isinstance(choice.value, str):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        value, label = escape(choice.value), escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{value}">{label}</option>')  # noqa: S704 - both escaped


KEPT_FIELDS = 512  # per process: forms shown afresh, by language and values


_kept_fields: dict[tuple, Markup] = {}


def kept_fields(form, names: Iterable[str], write) -> Markup:
    """``write(field)`` (the ``field`` macro of templates/_macros/forms.html) for ``form``'s fields ``names``, kept
    per process while none of them is in error.

    For the forms whose fields are entirely the class's (labels, hints, validators and attributes written in the
    class, never set per request): shown afresh, such a form writes the same HTML on every page but for the values
    of its fields and the language, which make the key. A field in error is written each time."""
    fields = [form[name] for name in names]
    if any(field.errors for field in fields):
        return Markup("").join(write(field) for field in fields)
    key = (
        type(form),
        getattr(write, "name", write),
        str(get_locale()),
        tuple((field.id, field.name, repr(field.data), field._value()) for field in fields),
    )
    html = _kept_fields.get(key)
    if html is None:
        html = Markup("").join(write(field) for field in fields)
        if len(_kept_fields) >= KEPT_FIELDS:
            _kept_fields.clear()
        _kept_fields[key] = html
    return html


def show_domain_error(form, exc) -> None:
    """Show a refused action's French message on the field it names, or above the form.

    A list of rows (FieldList) or an unknown field name takes the message above the form, where the
    error summary shows it. Field errors may be a tuple before validation: rebuild them as a list."""
    target = getattr(form, exc.field, None) if getattr(exc, "field", None) else None
    if target is not None and hasattr(target, "errors") and not hasattr(target, "entries"):
        target.errors = [*target.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


# Bounds added to every field ------------------------------------------------------------------------


def remove_control_characters(value):
    """WTForms filter: text without control characters (other values unchanged)."""
    return strip_control_characters(value) if isinstance(value, str) else value


class DateInRange:
    """A date (or the day of a date and time) within the portal's range; an empty value is left to
    ``InputRequired``/``Optional``."""

    def __call__(self, form, field) -> None:
        problem = date_problem(field.data)
        if problem:
            raise ValidationError(problem)


class InputMeta:
    """``Meta`` of the portal's forms: the bounds above, added to each field as it is bound."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField) and not isinstance(field, PasswordField):
            field.filters = (*field.filters, remove_control_characters)
        elif isinstance(field, DateTimeField):  # DateField and DateTimeLocalField are kinds of it
            field.validators = [*field.validators, DateInRange()]
        return field


# WTForms' own messages ("Not a valid choice.") in French, read once per process and locale: Flask-WTF reads and
# parses the catalogue from disk again on every request.
_wtforms_translations: dict[str, support.Translations] = {}


def wtforms_translations() -> support.Translations:
    locale = str(get_locale() or "fr")
    found = _wtforms_translations.get(locale)
    if found is None:
        found = _wtforms_translations[locale] = support.Translations.load(messages_path(), [locale], domain="wtforms")
    return found


class PortalForm(FlaskForm):
    """The base of every form of the portal (CSRF from Flask-WTF, bounds from :class:`InputMeta`, WTForms' messages
    in French from :func:`wtforms_translations`)."""

    class Meta(InputMeta):
        def get_translations(self, form):
            return wtforms_translations()


class PortalSubForm(Form):
    """A row of a ``FieldList`` (no CSRF token of its own), with the same bounds."""

    class Meta(InputMeta):
        pass


# Numbers and years ----------------------------------------------------------------------------------


class IntegerField(WTFormsIntegerField):
    """An integer in digits 0-9 (spaces between thousands allowed) that fits an INTEGER column; WTForms' own
    takes whatever ``int()`` takes: ``٣``, ``３``, ``1_000``."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_integer(valuelist[0])
        except InvalidNumber as exc:
            self.data = None
            raise ValueError(exc.message) from None


class FrenchDecimalField(DecimalField):
    """A decimal typed the French way (0,8) or the English way (0.8), with at most ``places`` decimals and
    ``max_digits`` digits: the ``Numeric(max_digits, places)`` of its column. ``NaN``, ``Infinity``, ``1e-30``
    and digits other than 0-9 are refused with a French message; what was typed stays in the field."""

    widget = TextInput()  # a number input would refuse « 1 250,50 » in some browsers

    def __init__(self, label=None, validators=None, *, places: int = 2, max_digits: int = 12, **kwargs):
        kwargs["render_kw"] = {"inputmode": "decimal", **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, places=places, **kwargs)
        self.max_digits = max_digits

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_decimal(valuelist[0], places=self.places, max_digits=self.max_digits)
        except InvalidNumber as exc:
            self.data = None
            raise ValueError(exc.message) from None


class YearInRange:
    """A year within the portal's range; ``ahead`` narrows its end to this year + ``ahead`` (a headcount is
    declared at most for next year), read on the day of the request."""

    def __init__(self, ahead: int | None = None):
        self.ahead = ahead

    def __call__(self, form, field) -> None:
        if field.data is None:
            return
        latest = paris_today().year + self.ahead if self.ahead is not None else None
        problem = _year_problem(field.data, latest=latest)
        if problem:
            raise ValidationError(problem)
