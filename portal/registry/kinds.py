"""Kinds of collectivités and établissements publics, with their French labels."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    COMMUNE = "commune"
    CC = "cc"
    CA = "ca"
    CU = "cu"
    METROPOLE = "metropole"
    CCAS = "ccas"
    CAISSE_ECOLES = "caisse_ecoles"
    SYNDICAT = "syndicat"
    DEPARTEMENT = "departement"
    REGION = "region"
    # Établissement public départemental or interdépartemental: a SDIS, for instance.
    EP_DEPARTEMENTAL = "ep_departemental"
    # Syndicat mixte made only of collectivités (and their groupements).
    SYNDICAT_MIXTE = "syndicat_mixte"
    ETABLISSEMENT_PUBLIC = "etablissement_public"


LABELS: dict[Kind, str] = {
    Kind.COMMUNE: "Commune",
    Kind.CC: "Communauté de communes",
    Kind.CA: "Communauté d'agglomération",
    Kind.CU: "Communauté urbaine",
    Kind.METROPOLE: "Métropole",
    Kind.CCAS: "Centre communal d'action sociale (CCAS)",
    Kind.CAISSE_ECOLES: "Caisse des écoles",
    Kind.SYNDICAT: "Syndicat",
    Kind.DEPARTEMENT: "Département",
    Kind.REGION: "Région",
    Kind.EP_DEPARTEMENTAL: "Établissement public départemental ou interdépartemental (SDIS…)",
    Kind.SYNDICAT_MIXTE: "Syndicat mixte composé uniquement de collectivités",
    Kind.ETABLISSEMENT_PUBLIC: "Autre établissement public",
}

EPCI_KINDS = frozenset({Kind.CC, Kind.CA, Kind.CU, Kind.METROPOLE})
# Bodies attached to a commune whose headcount is counted with it (réponse ministérielle n° 09035).
COMMUNE_ATTACHED_KINDS = frozenset({Kind.CCAS, Kind.CAISSE_ECOLES})

# Etalab's EPCI "type" values.
EPCI_TYPE_FROM_ETALAB = {"CC": Kind.CC, "CA": Kind.CA, "CU": Kind.CU, "METRO": Kind.METROPOLE, "MET69": Kind.METROPOLE}


def label(kind: str) -> str:
    try:
        return LABELS[Kind(kind)]
    except ValueError:
        return kind
