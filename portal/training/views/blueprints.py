"""The training area's two blueprints (``/formations`` and the commune's training page) and its template filters."""

from __future__ import annotations

from flask import Blueprint

from portal.training import notices
from portal.training.models import TrainingSession

bp = Blueprint("training", __name__, url_prefix="/formations")
commune_bp = Blueprint("training_commune", __name__)


@bp.app_template_filter("session_when")
def session_when(training_session: TrainingSession) -> str:
    """« 12/03/2027, de 09 h 00 à 17 h 00 » in Paris time."""
    return notices.describe_when(training_session)


@bp.app_template_filter("hours_fr")
def hours_fr(value) -> str:
    return notices.describe_hours(value)
