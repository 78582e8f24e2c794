"""Pure rules of the work queue: what an item is, the kinds and their French labels, ordering and counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from portal.common.labels import Nn_, PluralLabels


class Kind(StrEnum):
    SUBSCRIPTION_REQUEST = "demande-adhesion"
    AFFILIATION_DECISION = "decision-affiliation"
    ACCESS_REQUEST = "demande-acces"
    FAILED_EMAIL = "courriel-echec"
    EXPIRING_OFFER = "place-proposee"
    ATTENDANCE_TO_RECORD = "emargement"
    CONVENTION_DEADLINE = "echeance-convention"
    IMPORT_REJECTED = "import-rejets"
    SESSION_BELOW_MINIMUM = "session-sous-minimum"


# Plural labels for the filter and the counts, singular for one item.
KIND_LABELS = PluralLabels(
    {
        Kind.SUBSCRIPTION_REQUEST: Nn_("Demande d'adhésion à valider", "Demandes d'adhésion à valider"),
        Kind.AFFILIATION_DECISION: Nn_("Décision d'affiliation", "Décisions d'affiliation"),
        Kind.ACCESS_REQUEST: Nn_("Demande d'accès", "Demandes d'accès"),
        Kind.FAILED_EMAIL: Nn_("Courriel en échec", "Courriels en échec"),
        Kind.EXPIRING_OFFER: Nn_("Place proposée qui expire sous 24 h", "Places proposées qui expirent sous 24 h"),
        Kind.ATTENDANCE_TO_RECORD: Nn_("Émargement à saisir", "Émargements à saisir"),
        Kind.CONVENTION_DEADLINE: Nn_("Échéance de convention", "Échéances de conventions"),
        Kind.IMPORT_REJECTED: Nn_("Import avec des lignes refusées", "Imports avec des lignes refusées"),
        Kind.SESSION_BELOW_MINIMUM: Nn_("Session sous son minimum", "Sessions sous leur minimum"),
    }
)

# Items that no action of the portal ends (an import's refused lines are fixed in the file, then imported again):
# an agent marks them dealt with.
RESOLVABLE_KINDS = frozenset({Kind.IMPORT_REJECTED})


class AgentFilter(StrEnum):
    MINE = "moi"
    NOBODY = "personne"


def filter_by_agent(items: list[WorkItem], claims: dict[tuple[str, int], int], agent: str, me: int) -> list[WorkItem]:
    """Items taken in hand by ``agent``: "moi" (``me``), "personne" (nobody yet) or an agent's id; "" keeps all.
    ``claims`` maps (kind, object id) to the id of the agent who took the item."""
    if not agent:
        return items
    if agent == AgentFilter.NOBODY:
        return [item for item in items if (item.kind.value, item.object_id) not in claims]
    wanted = me if agent == AgentFilter.MINE else int(agent) if agent.isdigit() else None
    return [item for item in items if claims.get((item.kind.value, item.object_id)) == wanted]


@dataclass(frozen=True)
class WorkItem:
    """One thing that waits for a human: what, for which body, since when, and where to act."""

    kind: StrEnum  # a Kind of the staff queue, or a kind of a secretary's « à faire »
    object_id: int
    title: str
    since: datetime
    endpoint: str
    url_values: dict = field(default_factory=dict, hash=False, compare=False)
    body_name: str | None = None
    due: datetime | None = None  # a deadline, when the item has one (offer expiry, convention notice)


def order_items(items: list[WorkItem], *, newest_first: bool = False) -> list[WorkItem]:
    """Oldest first by default (they have waited longest), the kind and the id breaking ties for a stable page."""
    return sorted(items, key=lambda i: (i.since, i.kind.value, i.object_id), reverse=newest_first)


def counts_by_kind(items: list[WorkItem]) -> dict[Kind, int]:
    """Every kind with its count, zero included, in the order of ``Kind``."""
    counted = Counter(item.kind for item in items)
    return {kind: counted.get(kind, 0) for kind in Kind}


def age_in_days(since: datetime, now: datetime) -> int:
    """Whole days waited (0 the first day)."""
    return max(0, (now - since).days)
