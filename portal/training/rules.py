"""Training of elected officials: seats, waiting list, offers, reminders and rights, as pure functions.

Legal sources (``shared/domain.md`` §4): CGCT L2123-12 to L2123-16 (law of 3 February 1992):
- élus holding a délégation must be offered a training in the first year of their mandate;
- élus who are employees get 24 days of training leave per mandate (loi n° 2025-1249 of 22 December 2025,
  art. 24, in force 24 December 2025; 18 before), counted per élu whatever the number of mandates he holds;
- the training budget lies between 2 % and 20 % of the maximum indemnités de fonction;
- DIFE: €400 credited at the start of each year of mandate, the balance capped at €800 (arrêté of 27 March
  2023), per élu;
- only bodies holding a ministry agrément (first 2 years, renewals 4 years) are eligible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from flask_babel import gettext as _

from portal.common.formatting import days_fr, money_fr
from portal.common.titles import agree

LEAVE_DAYS_PER_MANDATE = Decimal(24)
LEAVE_DAYS_BEFORE_2025_LAW = Decimal(18)
LEAVE_LAW_IN_FORCE = date(2025, 12, 24)  # loi n° 2025-1249, art. 24
DIFE_PER_YEAR = Decimal(400)
DIFE_CAP = Decimal(800)
BUDGET_MIN_SHARE = Decimal("0.02")
BUDGET_MAX_SHARE = Decimal("0.20")
REMINDERS = {"j7": timedelta(days=7), "j1": timedelta(days=1)}


class Status(StrEnum):
    REGISTERED = "registered"
    WAITING = "waiting"
    OFFERED = "offered"
    CANCELLED = "cancelled"
    PRESENT = "present"
    ABSENT = "absent"


STATUS_LABELS = {
    Status.REGISTERED: "Inscrit",
    Status.WAITING: "En liste d'attente",
    Status.OFFERED: "Place proposée",
    Status.CANCELLED: "Annulé",
    Status.PRESENT: "Présent",
    Status.ABSENT: "Absent",
}

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


class Funding(StrEnum):
    COMMUNE = "commune"
    DIFE = "dife"
    BOTH = "both"


FUNDING_LABELS = {
    Funding.COMMUNE: "Budget de la commune",
    Funding.DIFE: "DIFE (Mon compte élu)",
    Funding.BOTH: "Budget de la commune et DIFE",
}


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


# Rights of an élu -------------------------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class FirstYear(StrEnum):
    NOT_CONCERNED = "not_concerned"
    OWED = "owed"
    DONE = "done"
    MISSED = "missed"


FIRST_YEAR_LABELS = {
    FirstYear.NOT_CONCERNED: "Non concerné (pas de délégation)",
    FirstYear.OWED: "Due : formation à suivre avant le {deadline}",
    FirstYear.DONE: "Suivie",
    FirstYear.MISSED: "Non suivie dans la première année du mandat",
}


def first_year_training(
    *, has_delegation: bool, mandate_start: date, today: date, trained_in_first_year: bool
) -> tuple[FirstYear, date]:
    """Whether the first-year training (CGCT L2123-12, all communes since loi 2019-1461) is owed.

    Returns the status and the end of the first year of the mandate.
    """
    deadline = add_years(mandate_start, 1)
    if not has_delegation:
        return FirstYear.NOT_CONCERNED, deadline
    if trained_in_first_year:
        return FirstYear.DONE, deadline
    return (FirstYear.OWED if today < deadline else FirstYear.MISSED), deadline


def is_first_year_training(*, has_delegation: bool, mandate_start: date, session_day: date) -> bool:
    return has_delegation and mandate_start <= session_day < add_years(mandate_start, 1)


def leave_days_ceiling(today: date) -> Decimal:
    """Training-leave days per mandate on ``today``: 24 since loi n° 2025-1249 came into force, 18 before."""
    return LEAVE_DAYS_PER_MANDATE if today >= LEAVE_LAW_IN_FORCE else LEAVE_DAYS_BEFORE_2025_LAW


def leave_days_problem(*, used: Decimal, requested: Decimal, ceiling: Decimal = LEAVE_DAYS_PER_MANDATE) -> str | None:
    """Training leave is limited to ``ceiling`` days per mandate, counted per élu (CGCT L2123-13)."""
    if requested < 0:
        return _("Le nombre de jours de congé de formation ne peut pas être négatif.")
    if used + requested > ceiling:
        remaining = max(ceiling - used, Decimal(0))
        left = f"il reste {days_fr(remaining)}" if remaining else "il ne reste aucun jour"
        return _(
            "Congé de formation dépassé : %(used)s déjà pris ou réservés sur %(ceiling)s pour ce mandat ; %(left)s.",
            used=days_fr(used),
            ceiling=days_fr(ceiling),
            left=left,
        )
    return None


def held_since(spans: list[tuple[date, date | None]], start: date) -> date:
    """The day an élu has held mandates without a break up to a mandate starting on ``start``.

    ``spans`` are his mandates as (start, end or None). DIFE is per élu, not per mandate (domain.md §4): it
    runs from the first of his mandates held one after the other (a re-election, a new function).
    """
    since = start
    moved = True
    while moved:
        moved = False
        for span_start, span_end in spans:
            if span_start < since and (span_end is None or span_end >= since):
                since, moved = span_start, True
    return since


def dife_credit_days(*, held_since: date, today: date) -> list[date]:
    """The days the DIFE was credited up to ``today``: the start of each year of mandate (domain.md §4)."""
    days, years = [], 0
    while (day := add_years(held_since, years)) <= today:
        days.append(day)
        years += 1
    return days


@dataclass(frozen=True)
class DifeAccount:
    credited: Decimal  # what was actually credited (a credit that would pass the cap adds only up to it)
    used: Decimal
    balance: Decimal


def dife_account(*, held_since: date, spends: Iterable[tuple[date, Decimal]], today: date) -> DifeAccount:
    """The DIFE balance an élu probably has on ``today``, replaying credits and spending in date order.

    €400 is credited at the start of each year of mandate and the *balance* is capped at €800 (not what was ever
    earned: an élu who spent €500 is credited again). ``spends`` are (day, amount) of the trainings it funds;
    those still to come count from today, since the money is committed. An estimate: the Caisse des dépôts holds
    the real balance in Mon Compte Élu."""
    events = [(day, 0, DIFE_PER_YEAR) for day in dife_credit_days(held_since=held_since, today=today)]
    events += [(min(day, today), 1, amount) for day, amount in spends if amount]
    balance = credited = used = Decimal(0)
    for _day, kind, amount in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            added = max(min(amount, DIFE_CAP - balance), Decimal(0))
            balance += added
            credited += added
        else:
            balance -= amount
            used += amount
    return DifeAccount(credited=credited, used=used, balance=max(balance, Decimal(0)))


def dife_problem(*, requested: Decimal, balance: Decimal) -> str | None:
    """A registration may not mobilise more DIFE than the élu's estimated balance."""
    if requested > balance:
        return _(
            "Le DIFE demandé (%(requested)s) dépasse le solde estimé de l'élu (%(balance)s). "
            "Vérifiez son solde sur Mon Compte Élu ou choisissez un financement mixte.",
            requested=money_fr(requested),
            balance=money_fr(balance),
        )
    return None


def same_term(start: date, end: date | None, other_start: date, other_end: date | None) -> bool:
    """Whether a mandate (``other_…``) of the same person overlaps this one (``start``–``end``) in time: their
    registrations then count together for his rights (CGCT L2123-13: per élu, whatever his mandates)."""
    return (other_end is None or other_end > start) and (end is None or other_start < end)


@dataclass(frozen=True)
class RegistrationFacts:
    """What the rights of an élu need to know of one of his registrations (of the same term)."""

    status: str
    leave_days: Decimal
    dife_amount: Decimal
    session_day: date
    hours: Decimal


@dataclass(frozen=True)
class RightsSummary:
    hours_trained: Decimal
    first_year: FirstYear
    first_year_deadline: date
    leave_days_taken: Decimal
    leave_days_booked: Decimal
    leave_days_left: Decimal
    leave_days_ceiling: Decimal
    dife_acquired: Decimal
    dife_used: Decimal
    dife_estimate: Decimal  # the balance probably left on Mon Compte Élu (:func:`dife_account`)


_BOOKED = (Status.REGISTERED, Status.OFFERED, Status.WAITING)


def rights_summary(
    *,
    has_delegation: bool,
    mandate_start: date,
    spans: list[tuple[date, date | None]],
    registrations: Iterable[RegistrationFacts],
    today: date,
) -> RightsSummary:
    """An élu's training rights seen from one mandate: ``registrations`` are those of his mandates of the same
    term (:func:`same_term`), ``spans`` all his mandates (DIFE runs from those held without a break).

    Training leave left: the ceiling (:func:`leave_days_ceiling`) less the days taken (present) and booked
    (registered, offered, waiting); DIFE: :func:`dife_account` from :func:`held_since`, spent by present and
    booked registrations."""
    registrations = list(registrations)
    present = [r for r in registrations if r.status == Status.PRESENT]
    booked = [r for r in registrations if r.status in _BOOKED]
    first_year, deadline = first_year_training(
        has_delegation=has_delegation,
        mandate_start=mandate_start,
        today=today,
        trained_in_first_year=any(mandate_start <= r.session_day < add_years(mandate_start, 1) for r in present),
    )
    taken = sum((r.leave_days for r in present), Decimal(0))
    planned = sum((r.leave_days for r in booked), Decimal(0))
    ceiling = leave_days_ceiling(today)
    dife = dife_account(
        held_since=held_since(spans, mandate_start),
        spends=[(r.session_day, r.dife_amount) for r in present + booked],
        today=today,
    )
    return RightsSummary(
        hours_trained=sum((r.hours for r in present), Decimal(0)),
        first_year=first_year,
        first_year_deadline=deadline,
        leave_days_taken=taken,
        leave_days_booked=planned,
        leave_days_left=max(ceiling - taken - planned, Decimal(0)),
        leave_days_ceiling=ceiling,
        dife_acquired=dife.credited,
        dife_used=dife.used,
        dife_estimate=dife.balance,
    )


def budget_bounds(max_indemnities: Decimal) -> tuple[Decimal, Decimal]:
    """Lower (2 %) and upper (20 %) bounds of the training budget, for information."""
    cents = Decimal("0.01")
    return (
        (max_indemnities * BUDGET_MIN_SHARE).quantize(cents, ROUND_HALF_UP),
        (max_indemnities * BUDGET_MAX_SHARE).quantize(cents, ROUND_HALF_UP),
    )


def registration_cost(*, tuition: Decimal, travel: Decimal) -> Decimal:
    return (tuition or Decimal(0)) + (travel or Decimal(0))


def commune_share(*, funding: str, tuition: Decimal, travel: Decimal, dife_amount: Decimal) -> Decimal:
    """What the commune's budget pays for one registration: the whole cost, less what the DIFE covers."""
    total = registration_cost(tuition=tuition, travel=travel)
    if funding == Funding.DIFE:
        return Decimal("0.00")
    if funding == Funding.BOTH:
        return max(total - (dife_amount or Decimal(0)), Decimal(0))
    return total


def funding_problem(*, funding: str, tuition: Decimal, travel: Decimal, dife_amount: Decimal) -> str | None:
    if funding not in {f.value for f in Funding}:
        return _("Mode de financement inconnu.")
    if dife_amount < 0 or travel < 0:
        return _("Les montants ne peuvent pas être négatifs.")
    total = registration_cost(tuition=tuition, travel=travel)
    if funding == Funding.COMMUNE and dife_amount:
        return _("Un financement par le seul budget communal ne mobilise pas de DIFE.")
    if funding == Funding.BOTH and not 0 < dife_amount < total:
        return _("Avec un financement mixte, la part DIFE doit être positive et inférieure au coût total.")
    if dife_amount > DIFE_CAP:
        return _("Le solde du DIFE est plafonné à %(dife_cap)s.", dife_cap=money_fr(DIFE_CAP))
    return None
