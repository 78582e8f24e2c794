"""Pydantic models shared by every area: problems, pagination, the common query parameters.

Response models read ORM objects (``from_attributes``); request models forbid unknown fields.
Field names are French, like the rest of what the portal shows; Python code stays in English.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from portal.common.clock import paris_today
from portal.common.inputs import YEAR_MIN, date_bounds, date_problem, strip_control_characters, year_problem


def _without_control_characters(value):
    """Text sent to the portal loses NUL and the other C0 control characters (tab and line breaks kept) and lone
    surrogates, as on the web forms: PostgreSQL cannot store them."""
    return strip_control_characters(value) if isinstance(value, str) else value


def refused(message: str) -> PydanticCustomError:
    """A value the portal refuses, with its French message (see ``validation.PASSED_ON``)."""
    return PydanticCustomError("portal_refused", "{message}", {"message": message})


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class InputModel(BaseModel):
    """What a caller sends (query or body): its text loses control characters before any other check."""

    @field_validator("*", mode="before")
    @classmethod
    def without_control_characters(cls, value):
        return _without_control_characters(value)


class RequestModel(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QueryModel(InputModel):
    """Query parameters: unknown ones are ignored (a client may add its own, e.g. cache-busting)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


# Years and dates within the portal's range (portal.common.inputs), checked on the day of the request and published
# with the bounds of the day the OpenAPI document is built.


def _date_in_range(value: date) -> date:
    problem = date_problem(value)
    if problem:
        raise refused(problem)
    return value


def _date_range_schema(schema: dict) -> None:
    first, last = date_bounds()
    schema["description"] = f"{schema.get('description', '')} Entre le {first:%d/%m/%Y} et le {last:%d/%m/%Y}.".strip()


PortalDate = Annotated[date, AfterValidator(_date_in_range), Field(json_schema_extra=_date_range_schema)]


def declarable_year_max() -> int:
    """A headcount is declared for next year at the latest."""
    return paris_today().year + 1


def _declarable_year(value: int) -> int:
    problem = year_problem(value, latest=declarable_year_max())
    if problem:
        raise refused(problem)
    return value


def _declarable_year_schema(schema: dict) -> None:
    schema["minimum"], schema["maximum"] = YEAR_MIN, declarable_year_max()


DeclarableYear = Annotated[
    int, Field(strict=True, json_schema_extra=_declarable_year_schema), AfterValidator(_declarable_year)
]


class PageQuery(QueryModel):
    page: int = Field(1, ge=1, le=1_000_000, description="Numéro de la page, à partir de 1.")
    per_page: int = Field(50, ge=1, le=200, description="Nombre d'éléments par page (200 au plus).")


class PageModel(ResponseModel):
    """The envelope of every list: ``items`` of the page, its number and size, the total and the next page."""

    page: int = Field(description="Numéro de la page.")
    per_page: int = Field(description="Nombre d'éléments par page.")
    total: int = Field(description="Nombre total d'éléments, toutes pages confondues.")
    next: str | None = Field(description="Adresse de la page suivante, ou null sur la dernière page.")


class ProblemField(BaseModel):
    pointer: str | None = Field(None, description="Pointeur JSON (RFC 6901) vers le champ du corps en cause.")
    parameter: str | None = Field(None, description="Paramètre de requête en cause.")
    detail: str = Field(description="Ce qui ne va pas, en français.")


class Problem(BaseModel):
    """An error, as RFC 9457 describes it (``application/problem+json``)."""

    type: str = Field(description="Lien vers la description de ce type d'erreur.")
    title: str = Field(description="Intitulé du type d'erreur.")
    status: int = Field(description="Code HTTP.")
    detail: str = Field(description="Explication de cette occurrence, en français.")
    errors: list[ProblemField] | None = Field(None, description="Erreurs par champ (réponses 422).")
