"""Training of elected officials: registration window, seats, waiting list, offers and reminders, as pure functions.

Legal sources (``shared/domain.md`` §4): CGCT L2123-12 to L2123-16 (law of 3 February 1992); only bodies holding a
ministry agrément (first 2 years, renewals 4 years) are eligible. An élu's rights (first-year training, training
leave, DIFE) and how a registration is funded are in :mod:`portal.training.rights_rules`; the bounds and carry-over
of a commune's training budget in :mod:`portal.training.budget_rules`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from portal.common.i18n import gettext as _
from portal.common.labels import N_, Labels
from portal.common.titles import agree

REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


class Status(StrEnum):
    REGISTERED = "registered"
    WAITING = "waiting"
    OFFERED = "offered"
    CANCELLED = "cancelled"
    PRESENT = "present"
    ABSENT = "absent"


STATUS_LABELS = Labels(
    {
        Status.REGISTERED: N_("Inscrit"),
        Status.WAITING: N_("En liste d'attente"),
        Status.OFFERED: N_("Place proposée"),
        Status.CANCELLED: N_("Annulé"),
        Status.PRESENT: N_("Présent"),
        Status.ABSENT: N_("Absent"),
    }
)

# Said of the élu: agrees with him or her ("Inscrite", "Présente"); the others describe the registration.
_AGREEING = frozenset({Status.REGISTERED, Status.CANCELLED, Status.PRESENT, Status.ABSENT})


def status_label(status: str, sex: str | None = None) -> str:
    """The label of a registration's status, agreeing with the élu: "Inscrit", "Inscrite", "En liste d'attente"."""
    try:
        key = Status(status)
    except ValueError:
        return status
    label = STATUS_LABELS[key]
    return agree(label, sex) if key in _AGREEING else label


# A registration in one of these states occupies a seat of the session.
SEAT_HOLDING = frozenset({Status.REGISTERED, Status.OFFERED, Status.PRESENT, Status.ABSENT})
# A registration in one of these states blocks a second registration of the same élu to the session.
ACTIVE = SEAT_HOLDING | {Status.WAITING}


# Agrément and registration window -------------------------------------------------------------


def agrement_valid(valid_from: date | None, valid_until: date | None, on: date) -> bool:
    """True when the body's ministry agrément covers ``on`` (both bounds included)."""
    if valid_from is None or valid_until is None:
        return False
    return valid_from <= on <= valid_until


def registration_closed_reason(
    *, now: datetime, starts_at: datetime, deadline: datetime, published: bool, cancelled: bool = False
) -> str | None:
    """Why nobody can register to the session now, in French; None when registration is open."""
    if cancelled:
        return _("Cette session a été annulée.")
    if not published:
        return _("Cette session n'est pas ouverte aux inscriptions.")
    if starts_at <= now:
        return _("Cette session a déjà commencé ou est passée : l'inscription n'est plus possible.")
    if deadline < now:
        return _("La date limite d'inscription à cette session est dépassée.")
    return None


def can_cancel(
    *, now: datetime, deadline: datetime, starts_at: datetime, by_staff: bool, offered: bool = False
) -> bool:
    """Participants cancel until the registration deadline; staff until the session starts.

    A seat offered to someone on the waiting list can be declined until the session starts: offers are
    made up to an hour before the start, after the deadline, and a refusal frees the seat for the next one.
    """
    return now < starts_at if by_staff or offered else now <= deadline


# Seats ------------------------------------------------------------------------------------------


def status_for_request(
    *, capacity: int, seats_taken: int, waiting: int, quota: int | None, taken_by_body: int
) -> Status:
    """Where a new request lands: a seat if one is free and nobody waits before it, else the waiting list.

    Someone already waiting keeps the priority: a seat freed while offers are pending is never
    taken by a newcomer. A collectivité at its quota waits as well.
    """
    if seats_taken < capacity and waiting == 0 and (quota is None or taken_by_body < quota):
        return Status.REGISTERED
    return Status.WAITING


def waiting_ahead(*, waiting_by_body: dict[int, int], seats_by_body: dict[int, int], quota: int | None) -> int:
    """How many people on the waiting list could take a free seat before a newcomer (``waiting`` of
    :func:`status_for_request`): with a quota, those of a collectivité at its quota are passed over
    (:func:`entries_to_offer`), so they must not send a newcomer of another collectivité to the list."""
    if quota is None:
        return sum(waiting_by_body.values())
    return sum(count for body, count in waiting_by_body.items() if seats_by_body.get(body, 0) < quota)


def capacity_problem(new_capacity: int, seats_taken: int) -> str | None:
    if new_capacity < 1:
        return _("La capacité doit être d'au moins une place.")
    if new_capacity < seats_taken:
        return _(
            "Impossible de ramener la capacité à %(new_capacity)s : %(seats_taken)s places sont "
            "déjà attribuées. Annulez d'abord des inscriptions.",
            new_capacity=new_capacity,
            seats_taken=seats_taken,
        )
    return None


@dataclass(frozen=True)
class WaitingEntry:
    registration_id: int
    collectivite_id: int
    waiting_since: datetime


def waiting_order(
    entries: Iterable[WaitingEntry], *, prioritise_untrained: bool = False, trained_bodies: frozenset[int] = frozenset()
) -> list[WaitingEntry]:
    """The waiting list in the order seats are offered: first in, first out.

    With ``prioritise_untrained``, élus of collectivités that have no trained élu yet come first,
    still first in, first out among themselves.
    """

    def key(entry: WaitingEntry):
        late = prioritise_untrained and entry.collectivite_id in trained_bodies
        return (late, entry.waiting_since, entry.registration_id)

    return sorted(entries, key=key)


def waiting_positions(
    entries: Iterable[WaitingEntry], *, prioritise_untrained: bool = False, trained_bodies: frozenset[int] = frozenset()
) -> dict[int, int]:
    """Registration id → position on the waiting list (1 = next to be offered a seat)."""
    ordered = waiting_order(entries, prioritise_untrained=prioritise_untrained, trained_bodies=trained_bodies)
    return {entry.registration_id: position for position, entry in enumerate(ordered, start=1)}


def entries_to_offer(
    entries: Sequence[WaitingEntry],
    *,
    free_seats: int,
    quota: int | None = None,
    taken_by_body: dict[int, int] | None = None,
    prioritise_untrained: bool = False,
    trained_bodies: frozenset[int] = frozenset(),
) -> list[int]:
    """The registrations to offer the ``free_seats`` seats to, in waiting-list order.

    An entry whose collectivité has reached its quota is passed over and keeps its place.
    """
    taken = dict(taken_by_body or {})
    chosen: list[int] = []
    for entry in waiting_order(entries, prioritise_untrained=prioritise_untrained, trained_bodies=trained_bodies):
        if len(chosen) >= free_seats:
            break
        if quota is not None and taken.get(entry.collectivite_id, 0) >= quota:
            continue
        chosen.append(entry.registration_id)
        taken[entry.collectivite_id] = taken.get(entry.collectivite_id, 0) + 1
    return chosen


def offer_expiry(now: datetime, delay: timedelta, starts_at: datetime) -> datetime | None:
    """When a seat offered now must be confirmed by: after ``delay``, but never after the session starts.

    None when the session starts too soon for anyone to answer (an hour or less: at exactly one hour
    the offer would expire the instant it is made).
    """
    if starts_at - now <= timedelta(hours=1):
        return None
    return min(now + delay, starts_at - timedelta(hours=1))


def offer_expired(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at <= now


# Reminders --------------------------------------------------------------------------------------


def due_reminders(*, starts_at: datetime, registered_at: datetime, now: datetime, sent: Iterable[str]) -> list[str]:
    """The reminders to send now: 7 days and 1 day before the start.

    A reminder is owed only to someone registered before its window opened: an élu who registers
    three days before the session has just received his confirmation and gets only the J-1 reminder.
    Only the latest window is kept, so a late run never sends J-7 and J-1 together.
    """
    if now >= starts_at:
        return []
    already = set(sent)
    for code, before in sorted(REMINDERS.items(), key=lambda item: item[1]):
        opens = starts_at - before
        if now >= opens:
            if code in already or registered_at > opens:
                return []
            return [code]
    return []
