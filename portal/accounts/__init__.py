"""Accounts, roles, login, password reset."""
