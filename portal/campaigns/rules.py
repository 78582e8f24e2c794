"""Pure rules of campaigns: the dates a campaign accepts, which reminder is due for a task on a day, progress.

A campaign (the CDG's yearly headcount collection, a groupement de commandes, the contrat groupe d'assurance
statutaire…: ``../shared/domain.md`` §9) asks every body in its scope to complete steps before a deadline.
Reminders are written ``J+15`` (days after the opening) or ``J-3`` (days before the deadline).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from portal.common.formatting import date_fr
from portal.common.i18n import gettext as _
from portal.common.labels import N_, Labels

OPENING = "ouverture"  # the key of the opening message, recorded like a reminder


class State(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


STATE_LABELS = Labels({State.OPEN: N_("En cours"), State.CLOSED: N_("Close")})


class Anchor(StrEnum):
    OPENING = "opening"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class Reminder:
    """A reminder ``days`` after the opening or before the deadline; ``code`` (``J+15``) is its key."""

    anchor: Anchor
    days: int

    @property
    def code(self) -> str:
        return f"J+{self.days}" if self.anchor == Anchor.OPENING else f"J-{self.days}"

    def on(self, opened_on: date, deadline: date) -> date:
        if self.anchor == Anchor.OPENING:
            return opened_on + timedelta(days=self.days)
        return deadline - timedelta(days=self.days)


_REMINDER_RE = re.compile(r"^[Jj]\s*([+-])\s*(\d{1,3})$")


def parse_reminders(text: str) -> tuple[Reminder, ...]:
    """``"J+15, J+30, J-3"`` → reminders; ValueError (French) on anything else. ``J+0`` is the opening itself and
    is refused; ``J-0`` is the day of the deadline. Duplicates are refused."""
    reminders = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _REMINDER_RE.match(part)
        if not match:
            raise ValueError(
                f"« {part} » n'est pas une relance : écrivez J+15 (après l'ouverture) ou J-3 (avant l'échéance)."
            )
        sign, days = match.group(1), int(match.group(2))
        if sign == "+" and days == 0:
            raise ValueError("J+0 est le jour de l'ouverture, déjà annoncé par le message d'ouverture.")
        reminder = Reminder(Anchor.OPENING if sign == "+" else Anchor.DEADLINE, days)
        if reminder in reminders:
            raise ValueError(f"La relance {reminder.code} est en double.")
        reminders.append(reminder)
    return tuple(reminders)


def due_reminder(
    reminders: tuple[Reminder, ...],
    *,
    opened_on: date,
    deadline: date,
    today: date,
    answered: bool,
    sent: frozenset[str] | set[str],
    is_open: bool = True,
) -> Reminder | None:
    """The reminder to send today for one task, or None.

    Only an open campaign reminds, only a task not answered, only until the deadline (included). Of the reminders
    whose day has come (after the opening day), only the latest counts: a job that did not run for a while sends
    one reminder, not all those it missed, and never one older than a reminder already sent. A reminder already
    sent (``sent`` holds the codes) is never sent again.
    """
    if not is_open or answered or today > deadline:
        return None
    come = [r for r in reminders if opened_on < r.on(opened_on, deadline) <= today]
    if not come:
        return None
    latest_day = max(r.on(opened_on, deadline) for r in come)
    latest = [r for r in come if r.on(opened_on, deadline) == latest_day]
    if any(r.code in sent for r in latest) or any(
        r.code in sent for r in reminders if r.on(opened_on, deadline) > latest_day
    ):
        return None
    return sorted(latest, key=lambda r: (r.anchor != Anchor.DEADLINE, r.days))[0]


def schedule(reminders: tuple[Reminder, ...], opened_on: date, deadline: date) -> list[tuple[date, Reminder]]:
    """The reminders' days for a campaign, in order (those on or before the opening day never go out)."""
    days = [(r.on(opened_on, deadline), r) for r in reminders]
    return sorted((d, r) for d, r in days if opened_on < d <= deadline)


def dates_problem(*, reference_date: date, deadline: date, today: date) -> tuple[str, str] | None:
    """Why a campaign's deadline is refused: (field, French message), or None.

    A deadline in the past would make the campaign late at birth; one before the reference date would ask for
    figures before the day they describe (the headcount on 1 January cannot be declared in December)."""
    if deadline < today:
        return "deadline", _(
            "La date limite (%(deadline)s) est déjà passée : choisissez une date à venir.", deadline=date_fr(deadline)
        )
    if deadline < reference_date:
        return (
            "deadline",
            _(
                "La date limite (%(deadline)s) précède la date de référence de la campagne "
                "(%(reference_date)s) : elle doit venir après.",
                deadline=date_fr(deadline),
                reference_date=date_fr(reference_date),
            ),
        )
    return None


@dataclass(frozen=True)
class TaskRow:
    """What progress needs to know about one task."""

    answered: bool
    kind: str
    epci: str | None
    has_recipient: bool = True


@dataclass(frozen=True)
class Tally:
    answered: int
    total: int

    @property
    def missing(self) -> int:
        return self.total - self.answered

    @property
    def percent(self) -> int:
        """Whole percent answered, rounded down (100 only when every body answered)."""
        return self.answered * 100 // self.total if self.total else 0


@dataclass(frozen=True)
class Progress:
    overall: Tally
    by_epci: dict[str | None, Tally]
    by_kind: dict[str, Tally]
    without_recipient: int  # bodies not answered that nobody on the portal can answer


def progress(rows: list[TaskRow]) -> Progress:
    """Answered and total, overall, by EPCI (None: no EPCI) and by kind of body, sorted by name."""
    totals_epci, answered_epci = Counter(), Counter()
    totals_kind, answered_kind = Counter(), Counter()
    for row in rows:
        totals_epci[row.epci] += 1
        totals_kind[row.kind] += 1
        if row.answered:
            answered_epci[row.epci] += 1
            answered_kind[row.kind] += 1
    answered = sum(1 for r in rows if r.answered)
    return Progress(
        overall=Tally(answered, len(rows)),
        by_epci={
            e: Tally(answered_epci[e], totals_epci[e]) for e in sorted(totals_epci, key=lambda e: (e is None, e or ""))
        },
        by_kind={k: Tally(answered_kind[k], totals_kind[k]) for k in sorted(totals_kind)},
        without_recipient=sum(1 for r in rows if not r.answered and not r.has_recipient),
    )


MAX_DOCUMENT_BYTES_DEFAULT = 10 * 1024 * 1024


def document_problem(filename: str, head: bytes, size: int, max_bytes: int) -> str | None:
    """Why an uploaded step document (a deliberation, a signed form) is refused, or None: PDF only (what a
    council's certified deliberation is sent as), not empty, not above ``max_bytes``, content starting ``%PDF``."""
    if not filename.lower().endswith(".pdf"):
        return _("Seuls les fichiers PDF sont acceptés.")
    if size == 0:
        return _("Le fichier est vide.")
    if size > max_bytes:
        return _("Le fichier dépasse la taille maximale de %(size)s Mo.", size=format(max_bytes / (1024 * 1024), "g"))
    if not head.startswith(b"%PDF"):
        return _("Le contenu du fichier n'est pas un PDF.")
    return None
