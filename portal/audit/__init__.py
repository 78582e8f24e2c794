"""Audit log: logins (success and failure) and every change made by staff."""
