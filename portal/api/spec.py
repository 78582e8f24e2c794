"""Operations of the API: one decorator registers the route and describes it for the OpenAPI document.

``@operation(...)`` adds the Flask route on the API blueprint, checks the caller (token or session, write
scope), parses the query parameters and the JSON body with the given pydantic models (422 in French on
bad input) and serialises a returned pydantic model. The same description feeds :func:`openapi_document`:
the published schemas are those that validate the data, never a hand-written copy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import wraps

from flask import current_app, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from portal.api import auth, validation
from portal.api.blueprint import bp
from portal.api.problems import DETAILS, MEDIA_TYPE, TITLES, ApiProblem
from portal.api.schemas import Problem
from portal.common.routing import MAX_ID

API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
PATH_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    tag: str
    description: str
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    public: bool
    write: bool

    @property
    def path(self) -> str:
        return PATH_PARAMETER.sub(lambda m: "{" + m.group(2) + "}", self.rule)

    def error_statuses(self) -> list[int]:
        statuses = set(self.errors) | {414, 429}  # a query string too long; too many requests
        if not self.public:
            statuses.add(401)
        if self.write:
            statuses |= {400, 403}  # 400: a write through the portal's session without its CSRF token
        if self.query is not None:
            statuses.add(422)
        if self.body is not None:
            statuses |= {400, 413, 422}  # 413: a body larger than MAX_CONTENT_LENGTH
        if PATH_PARAMETER.search(self.rule):
            statuses |= {404, 405}  # an id out of range fails the route's converter: werkzeug may answer 405
        return sorted(statuses)


OPERATIONS: list[Operation] = []


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    description: str = "",
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    public: bool = False,
    write: bool = False,
):
    """Register ``view`` as an API operation. The view receives the path arguments, and ``user``, ``query``
    and ``body`` when they apply; it returns a pydantic model (serialised with ``status``) or a response."""

    def decorator(view):
        described = Operation(
            method.upper(),
            rule,
            view.__name__,
            summary,
            tag,
            description,
            query,
            body,
            response,
            status,
            tuple(errors),
            public,
            write,
        )

        @wraps(view)
        def wrapped(**kwargs):
            if not public:
                kwargs["user"] = auth.require_user()
            if write:
                auth.require_write()
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body)
            result = view(**kwargs)
            if isinstance(result, BaseModel):
                return json_response(result, status)
            return result

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapped, methods=[described.method])
        OPERATIONS.append(described)
        return wrapped

    return decorator


def json_response(model: BaseModel, status: int = 200):
    return current_app.response_class(model.model_dump_json(), status=status, mimetype="application/json")


def raw_json_response(data: dict, status: int = 200):
    """For the hot list paths: ``data`` already has the shape of the operation's response model (plain values
    read from the database, checked against the published schema by the schemathesis test), so it is dumped by
    the C encoder of the standard library rather than through thousands of pydantic objects."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(body, status=status, mimetype="application/json")


def parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiProblem(422, errors=validation.query_errors(exc)) from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    data = request.get_json(silent=True)
    if data is None:
        raise ApiProblem(400, "Le corps de la requête doit être un document JSON (Content-Type: application/json).")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiProblem(422, errors=validation.body_errors(exc)) from None


# The OpenAPI 3.1 document -------------------------------------------------------------------------


def _parameters(described: Operation) -> list[dict]:
    parameters = []
    for converter, name in PATH_PARAMETER.findall(described.rule):
        schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID} if converter == "int" else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if described.query is not None:
        schema = described.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = {k: v for k, v in prop.items() if k != "title"}
            description = prop.pop("description", None)
            parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if description:
                parameter["description"] = description
            parameters.append(parameter)
    return parameters


def _error_response(status: int) -> dict:
    return {
        "description": f"{TITLES.get(status, '')} — {DETAILS.get(status, '')}",
        "content": {MEDIA_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}},
        **({"headers": {"Retry-After": {"schema": {"type": "integer"}}}} if status == 429 else {}),
    }


def openapi_document(title: str, description: str) -> dict:
    """The OpenAPI 3.1 description of every registered operation, with the JSON Schemas of its models."""
    models: list[tuple[type[BaseModel], str]] = [(Problem, "serialization")]
    for described in OPERATIONS:
        if described.body is not None:
            models.append((described.body, "validation"))
        if described.response is not None:
            models.append((described.response, "serialization"))
    key_map, definitions = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    paths: dict[str, dict] = {}
    for described in OPERATIONS:
        entry = {
            "operationId": described.endpoint,
            "summary": described.summary,
            "tags": [described.tag],
            "parameters": _parameters(described),
            "responses": {},
            "security": [] if described.public else [{"jeton": []}, {"session": []}],
        }
        if described.description:
            entry["description"] = described.description
        if described.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": key_map[(described.body, "validation")]}},
            }
        success = {"description": "Succès"}
        if described.response is not None:
            success["content"] = {"application/json": {"schema": key_map[(described.response, "serialization")]}}
        entry["responses"][str(described.status)] = success
        for status in described.error_statuses():
            entry["responses"][str(status)] = _error_response(status)
        paths.setdefault(described.path, {})[described.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": API_VERSION, "description": description},
        "servers": [{"url": bp.url_prefix}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "jeton": {"type": "http", "scheme": "bearer", "description": "Jeton d'API personnel."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session", "description": "Session du portail."},
            },
        },
    }
