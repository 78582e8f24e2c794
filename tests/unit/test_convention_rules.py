"""Convention rules without the app: end of term, tacit renewal, notice deadlines (month ends, leap years),
state, alerts, date validation, local contracts within their framework agreement, document checks."""

from datetime import date

import pytest

from portal.conventions import rules
from portal.conventions.rules import Deadline, DeadlineKind, State, Terms


def terms(**kw) -> Terms:
    base = {"signed_on": date(2020, 1, 1), "start_date": date(2020, 1, 1)}
    base.update(kw)
    return Terms(**base)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2015, 6, 10), 36, date(2018, 6, 9)),  # État – CNFPT ESS: 3 years
        (date(2020, 1, 1), 12, date(2020, 12, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 27)),  # 29 Feb + 1 year → 28 Feb 2025, the day before
        (date(2023, 1, 31), 1, date(2023, 2, 27)),  # 31 Jan + 1 month → 28 Feb, the day before
    ],
)
def test_end_from_duration(start, months, end):
    assert rules.end_from_duration(start, months) == end


def test_initial_end_prefers_the_end_date_then_the_duration():
    assert rules.initial_end(terms(end_date=date(2021, 6, 30))) == date(2021, 6, 30)
    assert rules.initial_end(terms(duration_months=24)) == date(2021, 12, 31)
    assert rules.initial_end(terms()) is None


@pytest.mark.parametrize(
    ("term_end", "notice", "deadline"),
    [
        (date(2025, 12, 31), 3, date(2025, 9, 30)),
        (date(2025, 5, 31), 3, date(2025, 2, 28)),  # across a month end, common year
        (date(2024, 5, 31), 3, date(2024, 2, 29)),  # leap year
        (date(2100, 5, 31), 3, date(2100, 2, 28)),  # 2100 is not a leap year
        (date(2000, 5, 31), 3, date(2000, 2, 29)),  # 2000 is
        (date(2025, 3, 31), 1, date(2025, 2, 28)),
        (date(2026, 1, 31), 2, date(2025, 11, 30)),  # across a year end
        (date(2025, 6, 30), 0, date(2025, 6, 30)),
    ],
)
def test_notice_deadline_across_month_ends_and_leap_years(term_end, notice, deadline):
    assert rules.notice_deadline(term_end, notice) == deadline


def test_tacit_renewal_rolls_the_term_forward():
    t = terms(end_date=date(2020, 12, 31), tacit_renewal=True, renewal_months=12, notice_months=3)
    assert rules.current_term_end(t, date(2020, 6, 1)) == date(2020, 12, 31)
    assert rules.current_term_end(t, date(2020, 12, 31)) == date(2020, 12, 31)
    assert rules.current_term_end(t, date(2021, 1, 1)) == date(2021, 12, 31)
    assert rules.current_term_end(t, date(2024, 3, 1)) == date(2024, 12, 31)
    assert rules.state(t, date(2023, 5, 1)) == State.IN_FORCE  # never expires while renewed


def test_tacit_renewal_from_a_leap_day():
    t = Terms(date(2024, 2, 29), date(2024, 2, 29), duration_months=12, tacit_renewal=True)
    first_end = rules.initial_end(t)
    assert first_end == date(2025, 2, 27)
    assert rules.current_term_end(t, date(2025, 3, 1)) == date(2026, 2, 27)


def test_renewal_period_defaults_to_the_first_term():
    t = terms(end_date=date(2022, 12, 31), tacit_renewal=True)
    assert rules.renewal_period(t) == 36
    assert rules.current_term_end(t, date(2023, 1, 1)) == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("kw", "today", "expected"),
    [
        ({"signed_on": None}, date(2020, 6, 1), State.DRAFT),
        ({"start_date": date(2020, 3, 1)}, date(2020, 2, 1), State.SIGNED),
        ({}, date(2030, 1, 1), State.IN_FORCE),  # open-ended
        ({"end_date": date(2022, 12, 31)}, date(2021, 1, 1), State.IN_FORCE),
        ({"end_date": date(2022, 12, 31)}, date(2022, 10, 2), State.TO_RENEW),  # 90 days before
        ({"end_date": date(2022, 12, 31)}, date(2022, 10, 1), State.IN_FORCE),  # 91 days before
        ({"end_date": date(2022, 12, 31)}, date(2023, 1, 1), State.EXPIRED),
        ({"end_date": date(2022, 12, 31), "terminated_on": date(2021, 6, 30)}, date(2021, 7, 1), State.TERMINATED),
        ({"end_date": date(2022, 12, 31), "terminated_on": date(2021, 6, 30)}, date(2021, 6, 29), State.IN_FORCE),
    ],
)
def test_state(kw, today, expected):
    assert rules.state(terms(**kw), today) == expected


def test_state_of_a_tacit_renewal_follows_the_notice_deadline():
    t = terms(end_date=date(2025, 12, 31), tacit_renewal=True, notice_months=3)  # notice by 30 Sep 2025
    assert rules.state(t, date(2025, 6, 1)) == State.IN_FORCE
    assert rules.state(t, date(2025, 7, 2)) == State.TO_RENEW  # 90 days before 30 September
    assert rules.state(t, date(2025, 10, 1)) == State.IN_FORCE  # too late to give notice: it will be renewed
    assert rules.state(t, date(2026, 1, 1)) == State.IN_FORCE


def test_deadlines_and_alerts_due():
    t = terms(end_date=date(2025, 5, 31), tacit_renewal=True, renewal_months=12, notice_months=3)
    assert rules.deadlines(t, date(2025, 1, 1)) == [
        Deadline(DeadlineKind.NOTICE, date(2025, 2, 28)),
        Deadline(DeadlineKind.END, date(2025, 5, 31)),
    ]
    assert rules.alerts_due(t, date(2025, 1, 1), 60) == [Deadline(DeadlineKind.NOTICE, date(2025, 2, 28))]
    assert rules.alerts_due(t, date(2025, 3, 3), 90) == [Deadline(DeadlineKind.END, date(2025, 5, 31))]
    assert rules.alerts_due(t, date(2024, 10, 1), 30) == []
    # The next term has its own deadlines (a new date, so a new alert).
    assert rules.deadlines(t, date(2025, 6, 1))[0] == Deadline(DeadlineKind.NOTICE, date(2026, 2, 28))
    assert rules.deadlines(terms(signed_on=None, end_date=date(2025, 5, 31)), date(2025, 1, 1)) == []
    assert rules.deadlines(terms(), date(2025, 1, 1)) == []


def test_date_problems():
    assert rules.date_problems(terms(end_date=date(2021, 1, 1))) == []
    assert rules.date_problems(terms(end_date=date(2019, 12, 31))) == [
        ("end_date", "La date de fin ne peut pas précéder la date de début.")
    ]
    assert rules.date_problems(terms(end_date=date(2021, 1, 1), duration_months=12))[0][0] == "duration_months"
    assert rules.date_problems(terms(tacit_renewal=True))[0][0] == "tacit_renewal"
    assert rules.date_problems(terms(duration_months=2, tacit_renewal=True, notice_months=3))[0][0] == "notice_months"


def test_a_local_contract_may_not_outlast_its_framework_agreement():
    parent = terms(end_date=date(2022, 12, 31))
    assert not rules.outlasts(terms(start_date=date(2020, 6, 1), end_date=date(2022, 12, 31)), parent)
    assert rules.outlasts(terms(start_date=date(2020, 6, 1), end_date=date(2023, 1, 1)), parent)
    assert rules.outlasts(terms(start_date=date(2020, 6, 1)), parent)  # open-ended under a bounded parent
    assert rules.outlasts(terms(start_date=date(2019, 6, 1), end_date=date(2020, 6, 1)), parent)  # starts before
    assert not rules.outlasts(terms(start_date=date(2020, 6, 1)), terms())  # open-ended parent


def test_two_parties_at_least():
    assert rules.too_few_parties(1) and not rules.too_few_parties(2)


MB = 1024 * 1024


@pytest.mark.parametrize(
    ("name", "head", "size", "problem"),
    [
        ("convention.pdf", b"%PDF-1.7", 1000, None),
        ("convention.PDF", b"%PDF-1.4", 1000, None),
        ("annexe.docx", b"PK\x03\x04", 1000, None),
        ("annexe.ods", b"PK\x03\x04", 1000, None),
        ("ancien.doc", b"\xd0\xcf\x11\xe0\xa1\xb1", 1000, None),
        ("script.exe", b"MZ", 1000, "Type de fichier refusé"),
        ("sans-extension", b"%PDF", 1000, "Type de fichier refusé"),
        ("image.png", b"\x89PNG", 1000, "Type de fichier refusé"),
        ("faux.pdf", b"<html>", 1000, "ne correspond pas"),
        ("faux.docx", b"%PDF-1.7", 1000, "ne correspond pas"),
        ("vide.pdf", b"", 0, "vide"),
        ("gros.pdf", b"%PDF", 10 * MB + 1, "taille maximale de 10 Mo"),
        ("limite.pdf", b"%PDF", 10 * MB, None),
    ],
)
def test_document_problem(name, head, size, problem):
    found = rules.document_problem(name, head, size, 10 * MB)
    assert (found is None) if problem is None else (problem in found)
