"""iCalendar invitations (RFC 5545 / RFC 5546 iTIP) for training sessions, built without a library.

One UID per registration, kept for its whole life: a REQUEST with a higher SEQUENCE updates the
event in the élu's calendar, a CANCEL with the same UID removes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from portal.common.clock import PARIS

# Europe/Paris since 1996: CEST from the last Sunday of March at 02:00, CET from the last Sunday of October.
_VTIMEZONE = [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Paris",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
]


@dataclass(frozen=True)
class Invitation:
    uid: str
    sequence: int
    summary: str
    description: str
    starts_at: datetime
    ends_at: datetime
    location: str
    organizer_name: str
    organizer_email: str
    attendee_name: str
    attendee_email: str
    url: str | None = None


def escape(value: str) -> str:
    """TEXT escaping (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character (RFC 5545 §3.1)."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current, limit = [], b"", 75
    for char in line:
        data = char.encode("utf-8")
        if len(current) + len(data) > limit:
            parts.append(current.decode("utf-8"))
            current, limit = b"", 74  # continuation lines start with a space
        current += data
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _local(value: datetime) -> str:
    return value.astimezone(PARIS).strftime("%Y%m%dT%H%M%S")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _cn(name: str) -> str:
    return '"' + name.replace('"', "'") + '"'


def build(invitation: Invitation, *, method: str, dtstamp: datetime) -> bytes:
    """The .ics file of an invitation: ``method`` is REQUEST (new or changed) or CANCEL."""
    if method not in {"REQUEST", "CANCEL"}:
        raise ValueError(f"unsupported iTIP method {method}")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Portail CDG//Formations des élus//FR",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        *_VTIMEZONE,
        "BEGIN:VEVENT",
        f"UID:{invitation.uid}",
        f"SEQUENCE:{invitation.sequence}",
        f"DTSTAMP:{_utc(dtstamp)}",
        f"DTSTART;TZID=Europe/Paris:{_local(invitation.starts_at)}",
        f"DTEND;TZID=Europe/Paris:{_local(invitation.ends_at)}",
        f"SUMMARY:{escape(invitation.summary)}",
        f"DESCRIPTION:{escape(invitation.description)}",
        f"LOCATION:{escape(invitation.location)}",
        f"ORGANIZER;CN={_cn(invitation.organizer_name)}:mailto:{invitation.organizer_email}",
        f"ATTENDEE;CN={_cn(invitation.attendee_name)};ROLE=REQ-PARTICIPANT;"
        f"PARTSTAT={'NEEDS-ACTION' if method == 'REQUEST' else 'DECLINED'}:mailto:{invitation.attendee_email}",
        f"STATUS:{'CONFIRMED' if method == 'REQUEST' else 'CANCELLED'}",
        "TRANSP:OPAQUE",
    ]
    if invitation.url:
        lines.append(f"URL:{invitation.url}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")


def content_type(method: str) -> str:
    return f"text/calendar; method={method}; charset=UTF-8"
