"""Pydantic models shared by every area: problems, pagination, the common query parameters.

Response models read ORM objects (``from_attributes``); request models forbid unknown fields.
Field names are French, like the rest of what the portal shows; Python code stays in English.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QueryModel(BaseModel):
    """Query parameters: unknown ones are ignored (a client may add its own, e.g. cache-busting)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


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
