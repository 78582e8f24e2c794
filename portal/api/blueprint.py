"""The API blueprint, on which every area module registers its operations.

Set up once, at import: the caller is loaded (token or session) and rate-limited before every request,
and every error inside the blueprint is answered as a problem (``application/problem+json``).
"""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from portal.api.auth import load_caller
from portal.api.problems import ApiProblem, from_exception

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(load_caller)
bp.register_error_handler(ApiProblem, from_exception)
bp.register_error_handler(HTTPException, from_exception)
