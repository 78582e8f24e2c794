"""Training pages, by audience: the sessions and registration (élus, secretaries), rights and budgets, the
staff's administration. They register on the two blueprints of :mod:`.blueprints`, which the app factory
imports from here."""

from portal.training.views import registration, rights, staff  # noqa: F401  (their routes)
from portal.training.views.blueprints import bp, commune_bp

__all__ = ["bp", "commune_bp"]
