"""Pure rules of partner conventions: end of term, tacit renewal, notice deadlines, state, alerts, validation.

No Flask, no SQLAlchemy: plain dates in, plain values out. What they implement (domain.md §6 and issue 6):

* a convention runs from its start date to an end date, given or derived from a duration in months;
* with *tacit renewal* (tacite reconduction) it is renewed for the same period (or the stated renewal period)
  unless a party gives notice before the *notice deadline*, which is the term's end minus the notice period;
* its state (draft, signed, in force, to renew, expired, terminated) is computed from these dates, never stored;
* staff are warned at a configurable delay before the end date and before the notice deadline, once per
  convention, deadline kind and deadline date;
* a local contract that applies a framework agreement may not outlast it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from portal.catalogue.rules import add_months
from portal.common.i18n import gettext as _
from portal.common.labels import N_, Labels

DEFAULT_ALERT_DAYS = 90
# Tacit renewals are rolled forward at most this many times (a safety bound for the loop, not a legal rule).
MAX_RENEWALS = 200


class Kind(StrEnum):
    ACCORD_CADRE = "accord_cadre"
    CONVENTION_CADRE = "convention_cadre"
    PARTENARIAT = "partenariat"
    CONTRAT_TERRITORIALISE = "contrat_territorialise"
    ADHESION = "adhesion"


KIND_LABELS = Labels(
    {
        Kind.ACCORD_CADRE: N_("Accord-cadre"),
        Kind.CONVENTION_CADRE: N_("Convention-cadre"),
        Kind.PARTENARIAT: N_("Convention de partenariat"),
        Kind.CONTRAT_TERRITORIALISE: N_("Contrat territorialisé"),
        Kind.ADHESION: N_("Convention d'adhésion"),
    }
)


class State(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    IN_FORCE = "in_force"
    TO_RENEW = "to_renew"
    EXPIRED = "expired"
    TERMINATED = "terminated"


STATE_LABELS = Labels(
    {
        State.DRAFT: N_("Projet"),
        State.SIGNED: N_("Signée, pas encore en vigueur"),
        State.IN_FORCE: N_("En vigueur"),
        State.TO_RENEW: N_("À renouveler"),
        State.EXPIRED: N_("Expirée"),
        State.TERMINATED: N_("Résiliée"),
    }
)


class DeadlineKind(StrEnum):
    END = "end"
    NOTICE = "notice"


DEADLINE_LABELS = Labels(
    {DeadlineKind.END: N_("Fin de la convention"), DeadlineKind.NOTICE: N_("Date limite de dénonciation")}
)


@dataclass(frozen=True)
class Terms:
    """The dates and renewal terms of one convention, as the rules need them."""

    signed_on: date | None
    start_date: date | None
    end_date: date | None = None
    duration_months: int | None = None
    tacit_renewal: bool = False
    renewal_months: int | None = None
    notice_months: int | None = None
    terminated_on: date | None = None


@dataclass(frozen=True)
class Deadline:
    kind: DeadlineKind
    due: date


def end_from_duration(start: date, months: int) -> date:
    """Last day of a term of ``months`` months starting on ``start``: the day before the same date ``months``
    later (10 June 2015 + 3 years → 9 June 2018; 29 February 2024 + 12 months → 27 February 2025)."""
    if months < 1:
        raise ValueError("a duration is at least one month")
    return add_months(start, months) - timedelta(days=1)


def initial_end(terms: Terms) -> date | None:
    """The end of the first term: the end date given, else the start plus the duration, else none (open-ended)."""
    if terms.end_date is not None:
        return terms.end_date
    if terms.start_date is not None and terms.duration_months:
        return end_from_duration(terms.start_date, terms.duration_months)
    return None


def renewal_period(terms: Terms) -> int | None:
    """Months of each tacit renewal: the stated renewal period, else the initial duration (the usual clause
    "renouvelable par tacite reconduction pour une durée identique"), else the months between start and end."""
    if terms.renewal_months:
        return terms.renewal_months
    if terms.duration_months:
        return terms.duration_months
    end = initial_end(terms)
    if terms.start_date is None or end is None:
        return None
    day_after = end + timedelta(days=1)
    months = (day_after.year - terms.start_date.year) * 12 + day_after.month - terms.start_date.month
    return max(1, months)


def current_term_end(terms: Terms, today: date) -> date | None:
    """End of the term running on ``today``. Without tacit renewal, the initial end. With it, the end is rolled
    forward period by period while it is past (each renewal starts the day after the previous end)."""
    end = initial_end(terms)
    if end is None or not terms.tacit_renewal:
        return end
    period = renewal_period(terms)
    if not period:
        return end
    for _renewal in range(MAX_RENEWALS):
        if end >= today:
            break
        end = end_from_duration(end + timedelta(days=1), period)
    return end


def notice_deadline(term_end: date, notice_months: int) -> date:
    """Last day on which a party may give notice so that a tacit renewal does not take place: the term's end
    minus the notice period, clamped to the end of a shorter month (31 May − 3 months → 28 or 29 February)."""
    if notice_months < 0:
        raise ValueError("a notice period cannot be negative")
    return add_months(term_end, -notice_months)


def deadlines(terms: Terms, today: date) -> list[Deadline]:
    """The deadlines of the current term: its end, and for a tacit renewal with a notice period, the notice
    deadline. None for a draft, a terminated or an open-ended convention."""
    if terms.signed_on is None or (terms.terminated_on is not None and terms.terminated_on <= today):
        return []
    end = current_term_end(terms, today)
    if end is None:
        return []
    found = [Deadline(DeadlineKind.END, end)]
    if terms.tacit_renewal and terms.notice_months is not None:
        found.insert(0, Deadline(DeadlineKind.NOTICE, notice_deadline(end, terms.notice_months)))
    return found


def state(terms: Terms, today: date, alert_days: int = DEFAULT_ALERT_DAYS) -> State:
    """The state on ``today``, computed from the dates:

    * terminated once the termination date is reached; draft until signed; signed until the start date;
    * expired after the end of its (last) term when there is no tacit renewal;
    * to renew when the end (or, for a tacit renewal, the notice deadline) falls within ``alert_days``:
      the parties must decide whether to renew or to give notice;
    * in force otherwise (open-ended conventions included).
    """
    if terms.terminated_on is not None and terms.terminated_on <= today:
        return State.TERMINATED
    if terms.signed_on is None:
        return State.DRAFT
    if terms.start_date is not None and today < terms.start_date:
        return State.SIGNED
    end = current_term_end(terms, today)
    if end is None:
        return State.IN_FORCE
    if today > end:
        return State.EXPIRED
    decision_day = end
    if terms.tacit_renewal and terms.notice_months is not None:
        decision_day = notice_deadline(end, terms.notice_months)
        if today > decision_day:
            # Too late to give notice: the renewal will happen, nothing to decide in this term.
            return State.IN_FORCE
    if (decision_day - today).days <= alert_days:
        return State.TO_RENEW
    return State.IN_FORCE


def alerts_due(terms: Terms, today: date, delay_days: int = DEFAULT_ALERT_DAYS) -> list[Deadline]:
    """Deadlines to warn about on ``today``: those at most ``delay_days`` away and not yet past. The job
    records each (convention, kind, date) it warns about, so a deadline is warned about exactly once."""
    return [d for d in deadlines(terms, today) if 0 <= (d.due - today).days <= delay_days]


def days_left(terms: Terms, today: date) -> int | None:
    """Days until the end of the current term (negative once expired), or None if open-ended."""
    end = current_term_end(terms, today)
    return None if end is None else (end - today).days


def date_problems(terms: Terms) -> list[tuple[str, str]]:
    """(field, French message) for inconsistent dates and terms: end before start, signature after start is
    allowed (retroactive conventions exist), durations and notice periods out of range, notice without a term."""
    problems = []
    if terms.end_date and terms.start_date and terms.end_date < terms.start_date:
        problems.append(("end_date", _("La date de fin ne peut pas précéder la date de début.")))
    if terms.end_date and terms.duration_months:
        problems.append(("duration_months", _("Indiquez soit une date de fin, soit une durée, pas les deux.")))
    if terms.duration_months is not None and not (1 <= terms.duration_months <= 600):
        problems.append(("duration_months", _("La durée doit être comprise entre 1 et 600 mois.")))
    if terms.notice_months is not None and not (0 <= terms.notice_months <= 60):
        problems.append(("notice_months", _("Le préavis doit être compris entre 0 et 60 mois.")))
    if terms.tacit_renewal and initial_end(terms) is None:
        problems.append(
            ("tacit_renewal", _("Une tacite reconduction suppose une date de début et une date de fin ou une durée."))
        )
    if terms.tacit_renewal and terms.notice_months is not None and initial_end(terms) is not None:
        first_end = initial_end(terms)
        if terms.start_date and notice_deadline(first_end, terms.notice_months) < terms.start_date:
            problems.append(("notice_months", _("Le préavis est plus long que la durée de la convention.")))
    if terms.terminated_on and terms.start_date and terms.terminated_on < terms.start_date:
        problems.append(("terminated_on", _("La date de résiliation ne peut pas précéder la date de début.")))
    return problems


def outlasts(child: Terms, parent: Terms) -> bool:
    """True when a local contract would run beyond the framework agreement it applies: it starts before the
    parent, or ends after the parent's (initial) end, or is open-ended under a parent that is not. Tacit
    renewals are not counted: each renewal of the child is checked against the parent's term at the time."""
    parent_end = initial_end(parent)
    child_end = initial_end(child)
    if parent.start_date and child.start_date and child.start_date < parent.start_date:
        return True
    if parent_end is None:
        return False
    return child_end is None or child_end > parent_end


def too_few_parties(count: int) -> bool:
    """A convention binds two parties at least."""
    return count < 2


# Documents ---------------------------------------------------------------------------------------

ALLOWED_EXTENSIONS = {
    ".pdf": "application/pdf",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAGIC = {
    ".pdf": (b"%PDF",),
    ".odt": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".doc": (b"\xd0\xcf\x11\xe0",),
    ".xls": (b"\xd0\xcf\x11\xe0",),
}


def document_problem(filename: str, head: bytes, size: int, max_bytes: int) -> str | None:
    """Why a file cannot be attached (French), or None: an extension outside PDF and office files, content
    whose first bytes do not match the extension (%PDF, a zip for OpenDocument and OOXML, OLE2 for legacy
    Office), an empty file, or more than ``max_bytes``."""
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in ALLOWED_EXTENSIONS:
        return _("Type de fichier refusé : seuls les fichiers PDF, ODT, ODS, DOC, DOCX, XLS et XLSX sont acceptés.")
    if size == 0:
        return _("Le fichier est vide.")
    if size > max_bytes:
        limit = max_bytes / (1024 * 1024)
        return _("Le fichier dépasse la taille maximale de %(size)s Mo.", size=format(limit, "g"))
    if not any(head.startswith(magic) for magic in MAGIC[extension]):
        return _("Le contenu du fichier ne correspond pas à son extension %(extension)s.", extension=extension)
    return None
