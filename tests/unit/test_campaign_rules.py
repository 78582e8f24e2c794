"""Campaign rules: reminders written J+n / J-n, which reminder is due for a task on a day, dates, progress."""

from datetime import date, timedelta

import pytest

from portal.campaigns import rules
from portal.campaigns.rules import Anchor, Reminder, TaskRow

OPENED = date(2027, 1, 4)
DEADLINE = date(2027, 3, 31)
PLAN = rules.parse_reminders("J+15, J+30, J-3")


def due(today, *, answered=False, sent=(), is_open=True, plan=PLAN, opened=OPENED, deadline=DEADLINE):
    found = rules.due_reminder(
        plan, opened_on=opened, deadline=deadline, today=today, answered=answered, sent=set(sent), is_open=is_open
    )
    return found.code if found else None


def test_parse_reminders():
    assert (Reminder(Anchor.OPENING, 15), Reminder(Anchor.OPENING, 30), Reminder(Anchor.DEADLINE, 3)) == PLAN
    assert [r.code for r in PLAN] == ["J+15", "J+30", "J-3"]
    assert rules.parse_reminders("") == ()
    assert rules.parse_reminders("j-0") == (Reminder(Anchor.DEADLINE, 0),)


@pytest.mark.parametrize(
    ("text", "message"),
    [("J+0", r"J\+0 est le jour de l.ouverture"), ("15", "n'est pas une relance"), ("J+15,J+15", "en double")],
)
def test_bad_reminders_are_refused_in_french(text, message):
    with pytest.raises(ValueError, match=message):
        rules.parse_reminders(text)


def test_each_reminder_on_its_day():
    assert due(OPENED) is None
    assert due(OPENED + timedelta(days=14)) is None
    assert due(OPENED + timedelta(days=15)) == "J+15"
    assert due(OPENED + timedelta(days=16)) == "J+15"  # the job did not run on the day: sent the day after
    assert due(OPENED + timedelta(days=16), sent={"J+15"}) is None
    assert due(OPENED + timedelta(days=30), sent={"J+15"}) == "J+30"
    assert due(DEADLINE - timedelta(days=3), sent={"J+15", "J+30"}) == "J-3"
    assert due(DEADLINE, sent={"J+15", "J+30", "J-3"}) is None


def test_only_the_latest_missed_reminder_goes_out_and_never_an_older_one():
    # The job stopped for a month: J+15 and J+30 are both past; only J+30 is sent.
    assert due(OPENED + timedelta(days=31)) == "J+30"
    # J+30 went out; J+15 never did: it is not sent late.
    assert due(OPENED + timedelta(days=31), sent={"J+30"}) is None


def test_no_reminder_when_answered_closed_or_after_the_deadline():
    day = OPENED + timedelta(days=15)
    assert due(day, answered=True) is None
    assert due(day, is_open=False) is None
    assert due(DEADLINE + timedelta(days=1)) is None


def test_a_reminder_falling_before_the_opening_is_skipped():
    # Opened two days before the deadline: J-3 is before the opening, the opening email is enough.
    assert due(DEADLINE - timedelta(days=1), opened=DEADLINE - timedelta(days=2)) is None
    # Two reminders on the same day: one email (the deadline one).
    plan = rules.parse_reminders("J+10,J-5")
    opened, deadline = date(2027, 1, 1), date(2027, 1, 16)
    assert due(date(2027, 1, 11), plan=plan, opened=opened, deadline=deadline) == "J-5"
    assert due(date(2027, 1, 12), plan=plan, opened=opened, deadline=deadline, sent={"J-5"}) is None


def test_schedule_lists_the_days_in_order():
    days = rules.schedule(PLAN, OPENED, DEADLINE)
    assert [(d, r.code) for d, r in days] == [
        (date(2027, 1, 19), "J+15"),
        (date(2027, 2, 3), "J+30"),
        (date(2027, 3, 28), "J-3"),
    ]


def test_dates_problem():
    reference, today = date(2027, 1, 1), date(2026, 9, 15)
    assert rules.dates_problem(reference_date=reference, deadline=date(2027, 3, 31), today=today) is None
    field, message = rules.dates_problem(reference_date=reference, deadline=date(2026, 9, 14), today=today)
    assert field == "deadline" and "déjà passée" in message and "14 septembre 2026" in message
    field, message = rules.dates_problem(reference_date=reference, deadline=date(2026, 12, 31), today=today)
    assert field == "deadline" and "précède la date de référence" in message and "1er janvier 2027" in message
    # The reference date itself is accepted; today is not in the past.
    assert rules.dates_problem(reference_date=reference, deadline=reference, today=today) is None
    assert rules.dates_problem(reference_date=date(2026, 1, 1), deadline=today, today=today) is None


def test_progress_counts_overall_by_epci_and_by_kind():
    rows = [
        TaskRow(True, "commune", "CA d'Agen"),
        TaskRow(False, "commune", "CA d'Agen"),
        TaskRow(False, "ccas", "CA d'Agen", has_recipient=False),
        TaskRow(True, "commune", "CC du Confluent"),
        TaskRow(True, "syndicat", None, has_recipient=False),
    ]
    result = rules.progress(rows)
    assert (result.overall.answered, result.overall.total, result.overall.missing) == (3, 5, 2)
    assert result.overall.percent == 60
    assert list(result.by_epci) == ["CA d'Agen", "CC du Confluent", None]
    assert result.by_epci["CA d'Agen"] == rules.Tally(1, 3)
    assert result.by_kind == {
        "ccas": rules.Tally(0, 1),
        "commune": rules.Tally(2, 3),
        "syndicat": rules.Tally(1, 1),
    }
    assert result.without_recipient == 1  # the syndicat answered: only the CCAS counts


def test_percent_is_rounded_down_and_empty_is_zero():
    assert rules.Tally(2, 3).percent == 66
    assert rules.Tally(0, 0).percent == 0
    assert rules.Tally(349, 350).percent == 99


def test_document_problem():
    limit = 1024
    assert rules.document_problem("deliberation.pdf", b"%PDF-1.7", 10, limit) is None
    assert rules.document_problem("deliberation.docx", b"PK", 10, limit) == "Seuls les fichiers PDF sont acceptés."
    assert rules.document_problem("d.pdf", b"", 0, limit) == "Le fichier est vide."
    assert "taille maximale" in rules.document_problem("d.pdf", b"%PDF", limit + 1, limit)
    assert rules.document_problem("d.pdf", b"MZ\x90", 10, limit) == "Le contenu du fichier n'est pas un PDF."
