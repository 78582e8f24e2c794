"""Form helpers shared by the areas."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice


def options(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def show_domain_error(form, exc) -> None:
    """Show a refused action's French message on the field it names, or above the form.

    A list of rows (FieldList) or an unknown field name takes the message above the form, where the
    error summary shows it. Field errors may be a tuple before validation: rebuild them as a list."""
    target = getattr(form, exc.field, None) if getattr(exc, "field", None) else None
    if target is not None and hasattr(target, "errors") and not hasattr(target, "entries"):
        target.errors = [*target.errors, exc.message]
    else:
        form.form_errors.append(exc.message)
