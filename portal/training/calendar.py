"""iCalendar invitations (RFC 5545 / RFC 5546 iTIP) for training sessions, written by the ``icalendar`` library.

One UID per registration, kept for its whole life: a REQUEST with a higher SEQUENCE updates the
event in the élu's calendar, a CANCEL with the same UID removes it. Times are written in Paris local
time with the VTIMEZONE of Europe/Paris, which the library derives from the IANA database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from icalendar import Calendar, Event, vCalAddress

from portal.common.clock import PARIS

METHODS = ("REQUEST", "CANCEL")


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


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    # A double quote cannot stand inside a quoted parameter value (RFC 5545 §3.2); few clients read RFC 6868.
    address.params["CN"] = name.replace('"', "'")
    for key, value in params.items():
        address.params[key] = value
    return address


def build(invitation: Invitation, *, method: str, dtstamp: datetime) -> bytes:
    """The .ics file of an invitation: ``method`` is REQUEST (new or changed) or CANCEL."""
    if method not in METHODS:
        raise ValueError(f"unsupported iTIP method {method}")
    requested = method == "REQUEST"
    event = Event()
    event.add("UID", invitation.uid)
    event.add("SEQUENCE", invitation.sequence)
    event.add("DTSTAMP", dtstamp.astimezone(UTC))
    event.add("DTSTART", invitation.starts_at.astimezone(PARIS))
    event.add("DTEND", invitation.ends_at.astimezone(PARIS))
    event.add("SUMMARY", invitation.summary)
    event.add("DESCRIPTION", invitation.description)
    event.add("LOCATION", invitation.location)
    event.add("ORGANIZER", _address(invitation.organizer_email, invitation.organizer_name))
    event.add(
        "ATTENDEE",
        _address(
            invitation.attendee_email,
            invitation.attendee_name,
            ROLE="REQ-PARTICIPANT",
            PARTSTAT="NEEDS-ACTION" if requested else "DECLINED",
        ),
    )
    event.add("STATUS", "CONFIRMED" if requested else "CANCELLED")
    event.add("TRANSP", "OPAQUE")
    if invitation.url:
        event.add("URL", invitation.url)

    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", "-//Portail CDG//Formations des élus//FR")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", method)
    calendar.add_component(event)
    # The VTIMEZONE of the zones the event uses, from the start of its year to the end of the next one: every
    # change of offset the event's times need, and few lines (the library lists each change it covers).
    calendar.add_missing_timezones(
        first_date=date(invitation.starts_at.year, 1, 1), last_date=date(invitation.ends_at.year + 2, 1, 1)
    )
    for timezone in calendar.walk("VTIMEZONE"):
        timezone.pop("COMMENT", None)  # the library's note on the range covered, in English
    return calendar.to_ical()


def content_type(method: str) -> str:
    return f"text/calendar; method={method}; charset=UTF-8"
