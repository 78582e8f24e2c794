"""The OpenAPI document at ``/api/v1/openapi.json`` and the documentation page at ``/api/v1/docs``.

Both are built from the registered operations and their pydantic models (``spec.openapi_document``);
the page is rendered on the server from that same document: no script, no external asset.
"""

from __future__ import annotations

import json

from flask import current_app, render_template

from portal.api.blueprint import bp
from portal.api.spec import OPERATIONS, openapi_document
from portal.common.clock import paris_today

TITLE = "API du Portail CDG"
DESCRIPTION = (
    "API JSON du portail des services mutualisés du centre de gestion. Authentification par jeton personnel "
    "(en-tête « Authorization: Bearer <jeton> »), créé dans le portail sur la page « Mes jetons d'API ». "
    "Les erreurs suivent la RFC 9457 (application/problem+json)."
)

METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


def document() -> dict:
    """Built once a day per application: the operations do not change while it runs, but the bounds of years
    and dates follow the calendar."""
    day = paris_today()
    cached = current_app.extensions.get("portal_openapi")
    if cached is None or cached[0] != day:
        cached = current_app.extensions["portal_openapi"] = (day, openapi_document(TITLE, DESCRIPTION))
    return cached[1]


@bp.get("/openapi.json")
def openapi_json():
    body = json.dumps(document(), ensure_ascii=False, indent=1)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def describe_type(schema: dict) -> str:
    """A short French reading of a JSON Schema: « entier ≥ 0 », « liste de Declaration », « chaîne ou null »."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " ou ".join(describe_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return "une valeur parmi : " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type")
    names = {
        "integer": "entier",
        "string": "chaîne",
        "boolean": "booléen",
        "number": "nombre",
        "null": "null",
        "object": "objet",
        "array": "liste",
    }
    text = names.get(kind, str(kind or "valeur"))
    if kind == "array" and "items" in schema:
        text = f"liste de {describe_type(schema['items'])}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        text = f"objet (valeurs : {describe_type(schema['additionalProperties'])})"
    if kind == "string" and schema.get("format") in ("date", "date-time"):
        text = "date (AAAA-MM-JJ)" if schema["format"] == "date" else "date et heure ISO 8601"
    bounds = []
    if "minimum" in schema:
        bounds.append(f"≥ {schema['minimum']}")
    if "maximum" in schema:
        bounds.append(f"≤ {schema['maximum']}")
    if "maxLength" in schema:
        bounds.append(f"{schema['maxLength']} caractères au plus")
    return f"{text} ({', '.join(bounds)})" if bounds else text


def _ref_name(content: dict | None) -> str | None:
    if not content:
        return None
    schema = next(iter(content.values())).get("schema", {})
    return describe_type(schema)


def page_model(spec: dict) -> dict:
    """What the template shows, grouped by tag, in the order of registration."""
    tags: dict[str, list[dict]] = {}
    order = {op.endpoint: index for index, op in enumerate(OPERATIONS)}
    for path, methods in spec["paths"].items():
        for method, entry in methods.items():
            tags.setdefault(entry["tags"][0], []).append(
                {
                    "anchor": entry["operationId"],
                    "method": method.upper(),
                    "path": spec["servers"][0]["url"] + path,
                    "summary": entry["summary"],
                    "description": entry.get("description"),
                    "public": not entry["security"],
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": {"path": "chemin", "query": "requête"}[p["in"]],
                            "required": p["required"],
                            "type": describe_type(p["schema"]),
                            "description": p.get("description", ""),
                        }
                        for p in entry["parameters"]
                    ],
                    "body": _ref_name(entry.get("requestBody", {}).get("content")),
                    "responses": [
                        {"status": status, "description": r["description"], "schema": _ref_name(r.get("content"))}
                        for status, r in entry["responses"].items()
                    ],
                    "order": order.get(entry["operationId"], 0),
                }
            )
    for operations in tags.values():
        operations.sort(key=lambda o: o["order"])
    schemas = [
        {
            "name": name,
            "description": schema.get("description", ""),
            "properties": [
                {
                    "name": prop_name,
                    "type": describe_type(prop),
                    "required": prop_name in schema.get("required", []),
                    "description": prop.get("description", ""),
                }
                for prop_name, prop in schema.get("properties", {}).items()
            ],
        }
        for name, schema in sorted(spec["components"]["schemas"].items())
    ]
    return {"tags": tags, "schemas": schemas}


@bp.get("/docs")
def docs_page():
    spec = document()
    return render_template("api/docs.html", spec=spec, model=page_model(spec))
