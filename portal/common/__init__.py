"""Pieces shared by every area and knowing none: database helpers, time, errors, security, templating, exports."""
