"""Turning pydantic's validation errors into French problem entries (pure: no Flask)."""

from __future__ import annotations

from pydantic import ValidationError

from portal.common.i18n import ngettext
from portal.common.labels import N_, Labels

# pydantic error type -> French message (str.format with the error's context).
MESSAGES = Labels(
    {
        "missing": N_("Ce champ est obligatoire."),
        "int_parsing": N_("Doit être un entier."),
        "int_type": N_("Doit être un entier."),
        "int_from_float": N_("Doit être un entier."),
        "float_parsing": N_("Doit être un nombre."),
        "float_type": N_("Doit être un nombre."),
        "finite_number": N_("Doit être un nombre fini."),
        "greater_than_equal": N_("Doit être supérieur ou égal à {ge}."),
        "greater_than": N_("Doit être strictement supérieur à {gt}."),
        "less_than_equal": N_("Doit être inférieur ou égal à {le}."),
        "less_than": N_("Doit être strictement inférieur à {lt}."),
        "string_type": N_("Doit être une chaîne de caractères."),
        "string_too_short": N_("Doit comporter au moins {min_length_text}."),
        "string_too_long": N_("Doit comporter au plus {max_length} caractères."),
        "string_pattern_mismatch": N_("N'a pas le format attendu."),
        "literal_error": N_("Doit valoir l'une de ces valeurs : {expected}."),
        "enum": N_("Doit valoir l'une de ces valeurs : {expected}."),
        "bool_parsing": N_("Doit valoir true ou false."),
        "bool_type": N_("Doit valoir true ou false."),
        "date_parsing": N_("Doit être une date au format AAAA-MM-JJ."),
        "date_from_datetime_parsing": N_("Doit être une date au format AAAA-MM-JJ."),
        "date_from_datetime_inexact": N_("Doit être une date au format AAAA-MM-JJ."),
        "date_type": N_("Doit être une date au format AAAA-MM-JJ."),
        "datetime_parsing": N_("Doit être une date et heure ISO 8601."),
        "datetime_from_date_parsing": N_("Doit être une date et heure ISO 8601."),
        "datetime_type": N_("Doit être une date et heure ISO 8601."),
        "model_type": N_("Doit être un objet JSON."),
        "model_attributes_type": N_("Doit être un objet JSON."),
        "dict_type": N_("Doit être un objet JSON."),
        "list_type": N_("Doit être une liste."),
        "too_short": N_("Doit contenir au moins {min_length_items}."),
        "too_long": N_("Doit contenir au plus {max_length} éléments."),
        "extra_forbidden": N_("Ce champ n'est pas attendu."),
        "json_invalid": N_("JSON invalide."),
        "value_error": N_("Valeur invalide."),
    }
)
# A bound of the portal (year, date…) brings its own French message, already translated (``schemas.refused``).
PASSED_ON = {"portal_refused": "{message}"}


def _expected(value) -> str:
    # pydantic writes "'a', 'b' or 'c'": keep the values, in French.
    return str(value).replace(" or ", " ou ")


def french_message(error: dict) -> str:
    kind = error.get("type", "")
    template = PASSED_ON.get(kind) or MESSAGES.get(kind) or MESSAGES["value_error"]
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
        return MESSAGES["value_error"]


def json_pointer(location: tuple) -> str:
    """``("ecoles", 0, "uai")`` -> ``/ecoles/0/uai`` (RFC 6901 escaping)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def body_errors(exc: ValidationError) -> list[dict]:
    return [{"pointer": json_pointer(e["loc"]), "detail": french_message(e)} for e in exc.errors()]


def query_errors(exc: ValidationError) -> list[dict]:
    return [{"parameter": str(e["loc"][0]) if e["loc"] else "", "detail": french_message(e)} for e in exc.errors()]
