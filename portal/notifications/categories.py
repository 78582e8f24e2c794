"""Notification categories: which ones users may switch off by email."""

from __future__ import annotations

from dataclasses import dataclass

from portal.common.i18n import gettext
from portal.common.labels import N_


@dataclass(frozen=True)
class Category:
    code: str
    name: str  # a msgid marked with N_: the table is built at import, the name is translated when read (label)
    # Required by law or by the CDG: always emailed, the user cannot switch it off.
    mandatory: bool

    @property
    def label(self) -> str:
        return gettext(self.name)


CATEGORIES = {
    c.code: c
    for c in (
        Category("account", N_("Sécurité du compte (mot de passe, connexion)"), True),
        Category("affiliation", N_("Affiliation au CDG (franchissement de seuil, décisions)"), True),
        Category("headcount", N_("Déclarations d'effectifs"), False),
        # The CDG's campaigns (headcounts, deliberations): what the CDG needs from the body, always emailed.
        Category("campaigns", N_("Campagnes du CDG (effectifs, délibérations)"), True),
        Category("subscriptions", N_("Demandes et abonnements aux services"), False),
        Category("training", N_("Formations des élus"), False),
        Category("conventions", N_("Conventions de partenariat"), False),
        Category("digest", N_("Récapitulatif quotidien de la liste à traiter (agents du CDG)"), False),
    )
}


def is_mandatory(code: str) -> bool:
    category = CATEGORIES.get(code)
    return category is None or category.mandatory
