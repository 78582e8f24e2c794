"""Turning pydantic's validation errors into French problem entries (pure: no Flask)."""

from __future__ import annotations

from pydantic import ValidationError

from portal.common.i18n import ngettext

# pydantic error type -> French message (str.format with the error's context).
MESSAGES = {
    "missing": "Ce champ est obligatoire.",
    "int_parsing": "Doit être un entier.",
    "int_type": "Doit être un entier.",
    "int_from_float": "Doit être un entier.",
    "float_parsing": "Doit être un nombre.",
    "float_type": "Doit être un nombre.",
    "finite_number": "Doit être un nombre fini.",
    "greater_than_equal": "Doit être supérieur ou égal à {ge}.",
    "greater_than": "Doit être strictement supérieur à {gt}.",
    "less_than_equal": "Doit être inférieur ou égal à {le}.",
    "less_than": "Doit être strictement inférieur à {lt}.",
    "string_type": "Doit être une chaîne de caractères.",
    "string_too_short": "Doit comporter au moins {min_length_text}.",
    "string_too_long": "Doit comporter au plus {max_length} caractères.",
    "string_pattern_mismatch": "N'a pas le format attendu.",
    "literal_error": "Doit valoir l'une de ces valeurs : {expected}.",
    "enum": "Doit valoir l'une de ces valeurs : {expected}.",
    "bool_parsing": "Doit valoir true ou false.",
    "bool_type": "Doit valoir true ou false.",
    "date_parsing": "Doit être une date au format AAAA-MM-JJ.",
    "date_from_datetime_parsing": "Doit être une date au format AAAA-MM-JJ.",
    "date_from_datetime_inexact": "Doit être une date au format AAAA-MM-JJ.",
    "date_type": "Doit être une date au format AAAA-MM-JJ.",
    "datetime_parsing": "Doit être une date et heure ISO 8601.",
    "datetime_from_date_parsing": "Doit être une date et heure ISO 8601.",
    "datetime_type": "Doit être une date et heure ISO 8601.",
    "model_type": "Doit être un objet JSON.",
    "model_attributes_type": "Doit être un objet JSON.",
    "dict_type": "Doit être un objet JSON.",
    "list_type": "Doit être une liste.",
    "too_short": "Doit contenir au moins {min_length_items}.",
    "too_long": "Doit contenir au plus {max_length} éléments.",
    "extra_forbidden": "Ce champ n'est pas attendu.",
    "json_invalid": "JSON invalide.",
    "value_error": "Valeur invalide.",
    "portal_refused": "{message}",  # a bound of the portal (year, date…), with its own French message
}
DEFAULT_MESSAGE = "Valeur invalide."


def _expected(value) -> str:
    # pydantic writes "'a', 'b' or 'c'": keep the values, in French.
    return str(value).replace(" or ", " ou ")


def french_message(error: dict) -> str:
    template = MESSAGES.get(error.get("type", ""), DEFAULT_MESSAGE)
    context = dict(error.get("ctx") or {})
    if "expected" in context:
        context["expected"] = _expected(context["expected"])
    if "min_length" in context:
        minimum = int(context["min_length"])
        context["min_length_text"] = ngettext("%(num)s caractère", "%(num)s caractères", minimum)
        context["min_length_items"] = ngettext("%(num)s élément", "%(num)s éléments", minimum)
    try:
        return template.format(**context)
    except (KeyError, IndexError, ValueError):
        return DEFAULT_MESSAGE


def json_pointer(location: tuple) -> str:
    """``("ecoles", 0, "uai")`` -> ``/ecoles/0/uai`` (RFC 6901 escaping)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def body_errors(exc: ValidationError) -> list[dict]:
    return [{"pointer": json_pointer(e["loc"]), "detail": french_message(e)} for e in exc.errors()]


def query_errors(exc: ValidationError) -> list[dict]:
    return [{"parameter": str(e["loc"][0]) if e["loc"] else "", "detail": french_message(e)} for e in exc.errors()]
