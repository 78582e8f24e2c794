"""Persons holding mandates (élus) and their import from the Répertoire national des élus."""
