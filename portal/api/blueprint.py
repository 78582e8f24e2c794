"""The API blueprint, on which every area module registers its operations.

Set up once, at import: a query string longer than any operation needs is refused (414), the caller is loaded
(token or session) and rate-limited before every request, and every error inside the blueprint is answered as a
problem (``application/problem+json``).
"""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from portal.api.auth import load_caller
from portal.api.problems import ApiProblem, from_exception

# The longest query an operation takes (a search of 100 characters and a few filters, percent-encoded) is far
# shorter; the front server's own limit (gunicorn: 4 094 bytes for the request line) answers in HTML, not JSON.
MAX_QUERY_BYTES = 2048


def refuse_long_queries() -> None:
    if len(request.query_string) > MAX_QUERY_BYTES:
        raise ApiProblem(414, f"Les paramètres de la requête dépassent {MAX_QUERY_BYTES} octets.")


bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(refuse_long_queries)
bp.before_request(load_caller)
bp.register_error_handler(ApiProblem, from_exception)
bp.register_error_handler(HTTPException, from_exception)
