"""Notification categories: which ones users may switch off by email."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    # Required by law or by the CDG: always emailed, the user cannot switch it off.
    mandatory: bool


CATEGORIES = {
    c.code: c
    for c in (
        Category("account", "Sécurité du compte (mot de passe, connexion)", True),
        Category("affiliation", "Affiliation au CDG (franchissement de seuil, décisions)", True),
        Category("headcount", "Déclarations d'effectifs", False),
        # The CDG's campaigns (headcounts, deliberations): what the CDG needs from the body, always emailed.
        Category("campaigns", "Campagnes du CDG (effectifs, délibérations)", True),
        Category("subscriptions", "Demandes et abonnements aux services", False),
        Category("training", "Formations des élus", False),
        Category("conventions", "Conventions de partenariat", False),
        Category("digest", "Récapitulatif quotidien de la liste à traiter (agents du CDG)", False),
    )
}


def is_mandatory(code: str) -> bool:
    category = CATEGORIES.get(code)
    return category is None or category.mandatory
