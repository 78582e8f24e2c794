"""Notifications: the email outbox (the database is the source of truth for work) and in-app notices."""
