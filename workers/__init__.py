"""Celery entry points: ``celery -A workers.celery_app worker`` and ``celery -A workers.celery_app beat``."""
