"""The hand-written iCalendar invitations, parsed back with the ``icalendar`` package and checked field by field."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from portal.training import calendar

SUMMER_START = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)  # 09:00 CEST
WINTER_START = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 09:30 CET
STAMP = datetime(2026, 5, 4, 12, 34, 56, tzinfo=UTC)


def invitation(**changes) -> calendar.Invitation:
    base = calendar.Invitation(
        uid="3f2a9c@portail.cdg47.example",
        sequence=0,
        summary="Formation des élus : Élu Numérique Rural",
        description="Élu Numérique Rural (7 h), par Organisme (agrément n° 47-001).",
        starts_at=SUMMER_START,
        ends_at=SUMMER_START + timedelta(hours=7),
        location="Maison des communes, Agen",
        organizer_name="CDG 47 — Formation des élus",
        organizer_email="ne-pas-repondre@cdg47.example",
        attendee_name="Hélène Lévêque",
        attendee_email="helene@mairie.example",
        url="https://portail.cdg47.example/formations/sessions/1",
    )
    return replace(base, **changes)


def parse(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    parsed = icalendar.Calendar.from_ical(data)
    events = parsed.walk("VEVENT")
    assert len(events) == 1
    return parsed, events[0]


def raw_lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    lines = data[:-2].split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines)  # CRLF only
    return lines


def test_request_field_by_field():
    data = calendar.build(invitation(sequence=2), method="REQUEST", dtstamp=STAMP)
    cal, event = parse(data)
    assert cal["VERSION"] == "2.0"
    assert cal["METHOD"] == "REQUEST"
    assert "Portail CDG" in str(cal["PRODID"])
    assert str(event["UID"]) == "3f2a9c@portail.cdg47.example"
    assert event["SEQUENCE"] == 2
    assert str(event["SUMMARY"]) == "Formation des élus : Élu Numérique Rural"
    assert str(event["DESCRIPTION"]) == "Élu Numérique Rural (7 h), par Organisme (agrément n° 47-001)."
    assert str(event["LOCATION"]) == "Maison des communes, Agen"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["URL"]) == "https://portail.cdg47.example/formations/sessions/1"
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:ne-pas-repondre@cdg47.example"
    assert organizer.params["CN"] == "CDG 47 — Formation des élus"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:helene@mairie.example"
    assert attendee.params["CN"] == "Hélène Lévêque"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"


def test_dtstamp_is_utc():
    data = calendar.build(invitation(), method="REQUEST", dtstamp=STAMP.astimezone(calendar.PARIS))
    _cal, event = parse(data)
    assert event.decoded("DTSTAMP") == STAMP
    assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
    assert b"DTSTAMP:20260504T123456Z\r\n" in data


def test_summer_times_in_paris_local_time_cest():
    data = calendar.build(invitation(), method="REQUEST", dtstamp=STAMP)
    _cal, event = parse(data)
    assert b"DTSTART;TZID=Europe/Paris:20260615T090000\r\n" in data
    assert b"DTEND;TZID=Europe/Paris:20260615T160000\r\n" in data
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert (start.hour, start.minute) == (9, 0) and start.utcoffset() == timedelta(hours=2)
    assert start == SUMMER_START and end == SUMMER_START + timedelta(hours=7)


def test_winter_times_in_paris_local_time_cet():
    data = calendar.build(
        invitation(starts_at=WINTER_START, ends_at=WINTER_START + timedelta(hours=3)), method="REQUEST", dtstamp=STAMP
    )
    _cal, event = parse(data)
    assert b"DTSTART;TZID=Europe/Paris:20261207T093000\r\n" in data
    assert b"DTEND;TZID=Europe/Paris:20261207T123000\r\n" in data
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute) == (9, 30) and start.utcoffset() == timedelta(hours=1)
    assert start == WINTER_START


@pytest.mark.parametrize(
    ("moment", "offset"),
    [
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), 1),  # just before the switch to summer time
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 2),
        (datetime(2026, 10, 25, 0, 59, tzinfo=UTC), 2),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 1),
        (datetime(2027, 1, 15, 12, 0, tzinfo=UTC), 1),
        (datetime(2027, 7, 15, 12, 0, tzinfo=UTC), 2),
    ],
)
def test_the_embedded_vtimezone_matches_europe_paris(moment, offset):
    cal, _event = parse(calendar.build(invitation(), method="REQUEST", dtstamp=STAMP))
    (timezone,) = cal.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Paris"
    tz = timezone.to_tz()
    assert moment.astimezone(tz).utcoffset() == timedelta(hours=offset)
    assert moment.astimezone(calendar.PARIS).utcoffset() == timedelta(hours=offset)


def test_cancel_keeps_the_uid_and_says_cancelled():
    request = calendar.build(invitation(sequence=0), method="REQUEST", dtstamp=STAMP)
    cancel = calendar.build(invitation(sequence=1), method="CANCEL", dtstamp=STAMP + timedelta(days=1))
    cal_r, event_r = parse(request)
    cal_c, event_c = parse(cancel)
    assert cal_c["METHOD"] == "CANCEL"
    assert str(event_c["UID"]) == str(event_r["UID"])
    assert event_c["SEQUENCE"] > event_r["SEQUENCE"]
    assert str(event_c["STATUS"]) == "CANCELLED"
    assert event_c["ATTENDEE"].params["PARTSTAT"] == "DECLINED"
    assert event_c.decoded("DTSTART") == event_r.decoded("DTSTART")


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="PUBLISH"):
        calendar.build(invitation(), method="PUBLISH", dtstamp=STAMP)


def test_content_type_carries_the_method():
    assert calendar.content_type("REQUEST") == "text/calendar; method=REQUEST; charset=UTF-8"
    assert calendar.content_type("CANCEL") == "text/calendar; method=CANCEL; charset=UTF-8"


def test_long_utf8_lines_are_folded_at_75_octets_and_unfold_to_the_original():
    summary = "Formation des élus : " + "Numérique rural, accès aux données € et 🇫🇷 démarches ; " * 6
    description = "é" * 200 + "\n" + "€" * 90 + "x" * 7
    data = calendar.build(invitation(summary=summary, description=description), method="REQUEST", dtstamp=STAMP)
    lines = raw_lines(data)
    assert max(len(line) for line in lines) <= 75
    assert any(len(line) >= 73 for line in lines)  # folding uses the room it has
    for line in lines:
        line.decode("utf-8")  # no character is split across two lines
    continuation = [line for line in lines if line.startswith(b" ")]
    assert len(continuation) > 10
    _cal, event = parse(data)
    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == description


@pytest.mark.parametrize("length", [74, 75, 76, 149, 150, 151])
def test_fold_boundaries(length):
    line = "X" * length
    folded = calendar.fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line
    assert (len(parts) == 1) is (length <= 75)


def test_fold_never_splits_a_multibyte_character():
    line = "A" + "€" * 40  # 1 + 120 octets: 75 would split the 25th euro sign
    parts = calendar.fold(line).split("\r\n")
    assert [len(p.encode()) for p in parts] == [73, 49]
    assert parts[0] + parts[1][1:] == line


def test_text_escaping_of_semicolons_commas_backslashes_and_newlines():
    location = "Salle du conseil; 1er étage, mairie\\annexe"
    description = "Ligne 1\nLigne 2\r\nLigne 3"
    data = calendar.build(
        invitation(location=location, description=description, summary="A, B; C"), method="REQUEST", dtstamp=STAMP
    )
    unfolded = data.replace(b"\r\n ", b"")
    assert "LOCATION:Salle du conseil\\; 1er étage\\, mairie\\\\annexe\r\n".encode() in unfolded
    assert b"DESCRIPTION:Ligne 1\\nLigne 2\\nLigne 3\r\n" in unfolded
    assert b"SUMMARY:A\\, B\\; C\r\n" in unfolded
    _cal, event = parse(data)
    assert str(event["LOCATION"]) == location
    assert str(event["DESCRIPTION"]) == "Ligne 1\nLigne 2\nLigne 3"
    assert str(event["SUMMARY"]) == "A, B; C"


def test_quotes_and_separators_in_names_stay_inside_the_parameter():
    data = calendar.build(
        invitation(attendee_name='Jean "Jeannot" Dupont, adjoint; voirie: ok'), method="REQUEST", dtstamp=STAMP
    )
    _cal, event = parse(data)
    assert event["ATTENDEE"].params["CN"] == "Jean 'Jeannot' Dupont, adjoint; voirie: ok"
    assert str(event["ATTENDEE"]) == "mailto:helene@mairie.example"


def test_without_url_there_is_no_url_property():
    _cal, event = parse(calendar.build(invitation(url=None), method="REQUEST", dtstamp=STAMP))
    assert "URL" not in event
