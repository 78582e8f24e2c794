"""The iCalendar invitations, parsed back with the ``icalendar`` package (and dateutil, as a second reader of the
embedded VTIMEZONE) and checked field by field."""

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from dateutil import tz as dateutil_tz

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


# 2027: summer time from Sunday 28 March (02:00 CET -> 03:00 CEST), winter time from Sunday 31 October
# (03:00 CEST -> 02:00 CET). Each session: its instant in UTC, the wall-clock time in Paris, the offset.
DST_2027 = [
    (datetime(2027, 3, 27, 8, 0, tzinfo=UTC), "20270327T090000", 1),  # Saturday before: CET
    (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), "20270328T033000", 2),  # half an hour after the change
    (datetime(2027, 3, 28, 8, 0, tzinfo=UTC), "20270328T100000", 2),
    (datetime(2027, 3, 29, 7, 0, tzinfo=UTC), "20270329T090000", 2),  # Monday after: CEST
    (datetime(2027, 10, 30, 7, 0, tzinfo=UTC), "20271030T090000", 2),  # Saturday before: CEST
    (datetime(2027, 10, 31, 8, 0, tzinfo=UTC), "20271031T090000", 1),
    (datetime(2027, 11, 1, 8, 0, tzinfo=UTC), "20271101T090000", 1),  # Monday after: CET
]


@pytest.mark.parametrize(("starts_at", "local", "offset"), DST_2027)
def test_local_times_across_the_2027_daylight_saving_changes(starts_at, local, offset):
    data = calendar.build(
        invitation(starts_at=starts_at, ends_at=starts_at + timedelta(hours=3)), method="REQUEST", dtstamp=STAMP
    )
    cal, event = parse(data)
    assert f"DTSTART;TZID=Europe/Paris:{local}\r\n".encode() in data
    start = event.decoded("DTSTART")
    assert start == starts_at and start.utcoffset() == timedelta(hours=offset)
    assert event.decoded("DTEND") - start == timedelta(hours=3)

    # A calendar client reads the wall-clock time with the VTIMEZONE of the file, not with its own zone database.
    naive = datetime.strptime(local, "%Y%m%dT%H%M%S")
    (vtimezone,) = cal.walk("VTIMEZONE")
    assert naive.replace(tzinfo=vtimezone.to_tz()) == starts_at
    text = data.decode()
    vtimezone_text = text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE") + len("END:VTIMEZONE")]
    assert naive.replace(tzinfo=dateutil_tz.tzical(io.StringIO(vtimezone_text)).get()) == starts_at


def test_the_vtimezone_has_the_2027_changes_and_comes_before_the_event():
    first, last = DST_2027[0][0], DST_2027[-1][0]
    data = calendar.build(invitation(starts_at=first, ends_at=last), method="REQUEST", dtstamp=STAMP)
    cal, _event = parse(data)
    (vtimezone,) = cal.walk("VTIMEZONE")
    onsets = set()
    for sub in vtimezone.subcomponents:
        rdates = sub.get("RDATE", [])
        rdates = rdates if isinstance(rdates, list) else [rdates]
        for when in [sub.decoded("DTSTART")] + [d.dt for rdate in rdates for d in rdate.dts]:
            onsets.add((sub.name, when.date().isoformat()))
    assert {("DAYLIGHT", "2027-03-28"), ("STANDARD", "2027-10-31")} <= onsets
    assert data.index(b"BEGIN:VTIMEZONE") < data.index(b"BEGIN:VEVENT")  # defined before it is used
