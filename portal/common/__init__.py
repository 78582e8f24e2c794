"""Pieces shared by every area: database helpers, errors, security, templating, authorisation."""
