"""Kinds of collectivités and établissements publics, with their French labels."""

from __future__ import annotations

from enum import StrEnum

from portal.common.labels import N_, Labels


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


LABELS: Labels[Kind] = Labels(
    {
        Kind.COMMUNE: N_("Commune"),
        Kind.CC: N_("Communauté de communes"),
        Kind.CA: N_("Communauté d'agglomération"),
        Kind.CU: N_("Communauté urbaine"),
        Kind.METROPOLE: N_("Métropole"),
        Kind.CCAS: N_("Centre communal d'action sociale (CCAS)"),
        Kind.CAISSE_ECOLES: N_("Caisse des écoles"),
        Kind.SYNDICAT: N_("Syndicat"),
        Kind.DEPARTEMENT: N_("Département"),
        Kind.REGION: N_("Région"),
        Kind.EP_DEPARTEMENTAL: N_("Établissement public départemental ou interdépartemental (SDIS…)"),
        Kind.SYNDICAT_MIXTE: N_("Syndicat mixte composé uniquement de collectivités"),
        Kind.ETABLISSEMENT_PUBLIC: N_("Autre établissement public"),
    }
)

EPCI_KINDS = frozenset({Kind.CC, Kind.CA, Kind.CU, Kind.METROPOLE})
# Bodies attached to a commune whose headcount is counted with it (réponse ministérielle n° 09035).
COMMUNE_ATTACHED_KINDS = frozenset({Kind.CCAS, Kind.CAISSE_ECOLES})

# Etalab's EPCI "type" values.
EPCI_TYPE_FROM_ETALAB = {"CC": Kind.CC, "CA": Kind.CA, "CU": Kind.CU, "METRO": Kind.METROPOLE, "MET69": Kind.METROPOLE}


def label(kind: str) -> str:
    # A StrEnum member hashes and compares as its value: the key read as it is, without building the member.
    return LABELS.get(kind, kind)


class KindFacts:
    """What a body's kind says of it, for any object with a ``kind`` (the ORM entity, the plain sheet of its
    page)."""

    @property
    def kind_label(self) -> str:
        return label(self.kind)

    @property
    def is_epci(self) -> bool:
        return self.kind in EPCI_KINDS

    @property
    def is_commune(self) -> bool:
        return self.kind == Kind.COMMUNE
