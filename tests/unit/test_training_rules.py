"""Training of élus, pure rules: seats, waiting list, offers, reminders, rights, funding (no Flask, no database)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from portal.training import rights_rules, rules
from portal.training.rights_rules import FirstYear, Funding
from portal.training.rules import Status, WaitingEntry

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def entry(registration_id: int, body: int, minutes: int) -> WaitingEntry:
    return WaitingEntry(registration_id, body, T0 + timedelta(minutes=minutes))


# Seats ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "taken", "waiting", "quota", "by_body", "expected"),
    [
        (10, 0, 0, None, 0, Status.REGISTERED),
        (10, 9, 0, None, 0, Status.REGISTERED),  # the last seat
        (10, 10, 0, None, 0, Status.WAITING),  # full
        (10, 11, 0, None, 0, Status.WAITING),  # overbooked by a lowered capacity: still full
        (10, 5, 1, None, 0, Status.WAITING),  # someone waits before the newcomer (an offer could not be made)
        (10, 5, 0, 2, 1, Status.REGISTERED),  # below the quota of the collectivité
        (10, 5, 0, 2, 2, Status.WAITING),  # the collectivité is at its quota
        (1, 0, 0, 1, 0, Status.REGISTERED),
    ],
)
def test_status_for_request(capacity, taken, waiting, quota, by_body, expected):
    assert (
        rules.status_for_request(
            capacity=capacity, seats_taken=taken, waiting=waiting, quota=quota, taken_by_body=by_body
        )
        == expected
    )


def test_seat_holding_and_active_statuses():
    assert {Status.REGISTERED, Status.OFFERED, Status.PRESENT, Status.ABSENT} == rules.SEAT_HOLDING
    assert Status.WAITING in rules.ACTIVE and Status.CANCELLED not in rules.ACTIVE
    assert set(rules.STATUS_LABELS) == set(Status)


@pytest.mark.parametrize(
    ("new", "taken", "problem"),
    [(0, 0, "au moins une place"), (-3, 0, "au moins une place"), (4, 5, "ramener la capacité à 4"), (5, 5, None)],
)
def test_capacity_problem(new, taken, problem):
    result = rules.capacity_problem(new, taken)
    if problem is None:
        assert result is None
    else:
        assert problem in result


def test_capacity_problem_says_how_many_seats_are_given():
    assert "7 places sont déjà attribuées" in rules.capacity_problem(6, 7)


# Waiting list -----------------------------------------------------------------------------------------


def test_waiting_order_is_first_in_first_out_whatever_the_input_order():
    entries = [entry(3, 1, 30), entry(1, 2, 10), entry(2, 3, 20)]
    assert [e.registration_id for e in rules.waiting_order(entries)] == [1, 2, 3]
    assert rules.waiting_positions(entries) == {1: 1, 2: 2, 3: 3}


def test_waiting_order_breaks_ties_on_the_registration_id():
    entries = [entry(9, 1, 0), entry(4, 2, 0), entry(7, 3, 0)]
    assert [e.registration_id for e in rules.waiting_order(entries)] == [4, 7, 9]


def test_priority_to_untrained_collectivites_only_when_enabled():
    entries = [entry(1, 100, 0), entry(2, 200, 5), entry(3, 100, 10), entry(4, 300, 15)]
    trained = frozenset({100})
    assert rules.waiting_positions(entries, trained_bodies=trained) == {1: 1, 2: 2, 3: 3, 4: 4}
    prioritised = rules.waiting_positions(entries, prioritise_untrained=True, trained_bodies=trained)
    # Untrained collectivités first (FIFO among them), then the trained ones (FIFO among them).
    assert prioritised == {2: 1, 4: 2, 1: 3, 3: 4}


def test_priority_with_every_collectivite_trained_is_plain_fifo():
    entries = [entry(2, 1, 5), entry(1, 2, 0)]
    assert rules.waiting_positions(entries, prioritise_untrained=True, trained_bodies=frozenset({1, 2})) == {1: 1, 2: 2}


def test_entries_to_offer_fifo_and_no_more_than_the_free_seats():
    entries = [entry(1, 1, 0), entry(2, 2, 1), entry(3, 3, 2)]
    assert rules.entries_to_offer(entries, free_seats=2) == [1, 2]
    assert rules.entries_to_offer(entries, free_seats=5) == [1, 2, 3]
    assert rules.entries_to_offer(entries, free_seats=0) == []
    assert rules.entries_to_offer([], free_seats=3) == []


def test_entries_to_offer_skips_a_collectivite_at_its_quota_which_keeps_its_place():
    entries = [entry(1, 100, 0), entry(2, 200, 1), entry(3, 100, 2), entry(4, 300, 3)]
    # Commune 100 already holds 2 seats (its quota): its élus are passed over...
    assert rules.entries_to_offer(entries, free_seats=1, quota=2, taken_by_body={100: 2}) == [2]
    # ...but keep their place: once commune 100 is below its quota, its first élu comes first again.
    assert rules.entries_to_offer(entries, free_seats=1, quota=2, taken_by_body={100: 1}) == [1]
    assert rules.waiting_positions(entries) == {1: 1, 2: 2, 3: 3, 4: 4}


def test_entries_to_offer_counts_the_seats_it_offers_against_the_quota():
    entries = [entry(1, 100, 0), entry(2, 100, 1), entry(3, 100, 2), entry(4, 200, 3)]
    assert rules.entries_to_offer(entries, free_seats=3, quota=2, taken_by_body={}) == [1, 2, 4]
    assert rules.entries_to_offer(entries, free_seats=3, quota=None, taken_by_body={100: 5}) == [1, 2, 3]


def test_entries_to_offer_does_not_modify_the_callers_counts():
    taken = {100: 1}
    rules.entries_to_offer([entry(1, 100, 0)], free_seats=1, quota=2, taken_by_body=taken)
    assert taken == {100: 1}


def test_entries_to_offer_with_priority_and_quota():
    entries = [entry(1, 100, 0), entry(2, 200, 1), entry(3, 300, 2)]
    offered = rules.entries_to_offer(
        entries,
        free_seats=2,
        quota=1,
        taken_by_body={300: 1},
        prioritise_untrained=True,
        trained_bodies=frozenset({100}),
    )
    assert offered == [2, 1]  # 200 untrained first; 300 at its quota; then 100 (trained)


# Offers -------------------------------------------------------------------------------------------------


def test_offer_expires_after_the_delay_when_the_session_is_far():
    assert rules.offer_expiry(T0, 48 * H, T0 + 10 * D) == T0 + 48 * H


def test_offer_never_expires_after_an_hour_before_the_start():
    assert rules.offer_expiry(T0, 48 * H, T0 + 30 * H) == T0 + 29 * H
    assert rules.offer_expiry(T0, 48 * H, T0 + 49 * H) == T0 + 48 * H
    assert rules.offer_expiry(T0, 48 * H, T0 + 2 * H) == T0 + H


@pytest.mark.parametrize("before_start", [timedelta(minutes=59), H, timedelta(0), -H])
def test_no_offer_when_the_session_starts_within_an_hour(before_start):
    # At exactly one hour, the offer would expire the instant it is made: nobody could answer it.
    assert rules.offer_expiry(T0, 48 * H, T0 + before_start) is None


def test_offer_just_over_an_hour_before_the_start_leaves_that_time_to_answer():
    starts = T0 + H + timedelta(minutes=1)
    assert rules.offer_expiry(T0, 48 * H, starts) == T0 + timedelta(minutes=1)


def test_offer_expired_boundaries():
    assert not rules.offer_expired(None, T0)
    assert not rules.offer_expired(T0 + timedelta(seconds=1), T0)
    assert rules.offer_expired(T0, T0)  # due at the announced time
    assert rules.offer_expired(T0 - timedelta(seconds=1), T0)


# Reminders ----------------------------------------------------------------------------------------------

STARTS = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
LONG_AGO = STARTS - 30 * D


@pytest.mark.parametrize(
    ("now", "registered", "sent", "expected"),
    [
        (STARTS - 8 * D, LONG_AGO, [], []),  # before the J-7 window
        (STARTS - 7 * D - timedelta(seconds=1), LONG_AGO, [], []),
        (STARTS - 7 * D, LONG_AGO, [], ["j7"]),  # the J-7 window opens
        (STARTS - 3 * D, LONG_AGO, [], ["j7"]),  # a late run still sends J-7
        (STARTS - 3 * D, LONG_AGO, ["j7"], []),  # once
        (STARTS - D - timedelta(seconds=1), LONG_AGO, ["j7"], []),
        (STARTS - D, LONG_AGO, ["j7"], ["j1"]),  # the J-1 window opens
        (STARTS - D, LONG_AGO, [], ["j1"]),  # J-7 missed: only J-1, never both in one run
        (STARTS - H, LONG_AGO, ["j7", "j1"], []),
        (STARTS - H, LONG_AGO, ["j1"], []),
        (STARTS, LONG_AGO, [], []),  # started
        (STARTS + H, LONG_AGO, [], []),
        # Registered inside the J-7 window: the confirmation stands for J-7, the J-1 reminder is owed.
        (STARTS - 3 * D, STARTS - 5 * D, [], []),
        (STARTS - D, STARTS - 5 * D, [], ["j1"]),
        (STARTS - 7 * D, STARTS - 7 * D, [], ["j7"]),  # registered right as the window opened
        # Registered inside the J-1 window: nothing.
        (STARTS - 2 * H, STARTS - 12 * H, [], []),
    ],
)
def test_due_reminders(now, registered, sent, expected):
    assert rules.due_reminders(starts_at=STARTS, registered_at=registered, now=now, sent=sent) == expected


# Agrément, registration window, cancellation ------------------------------------------------------------


def test_agrement_valid_bounds_included():
    start, end = date(2024, 3, 1), date(2026, 2, 28)
    assert rules.agrement_valid(start, end, start)
    assert rules.agrement_valid(start, end, end)
    assert not rules.agrement_valid(start, end, start - timedelta(days=1))
    assert not rules.agrement_valid(start, end, end + timedelta(days=1))
    assert not rules.agrement_valid(None, end, start)
    assert not rules.agrement_valid(start, None, start)


def closed(now, *, starts=STARTS, deadline=STARTS - 2 * D, published=True, cancelled=False):
    return rules.registration_closed_reason(
        now=now, starts_at=starts, deadline=deadline, published=published, cancelled=cancelled
    )


def test_registration_window():
    assert closed(STARTS - 10 * D) is None
    assert closed(STARTS - 2 * D) is None  # on the deadline itself
    assert "date limite" in closed(STARTS - 2 * D + timedelta(seconds=1))
    assert "déjà commencé" in closed(STARTS)
    assert "déjà commencé" in closed(STARTS + 30 * D)
    assert "pas ouverte" in closed(STARTS - 10 * D, published=False)
    assert "annulée" in closed(STARTS - 10 * D, cancelled=True, published=False)


def test_an_offered_seat_can_be_declined_until_the_start():
    deadline = STARTS - 2 * D
    after = deadline + H
    assert rules.can_cancel(now=after, deadline=deadline, starts_at=STARTS, by_staff=False, offered=True)
    assert not rules.can_cancel(now=STARTS, deadline=deadline, starts_at=STARTS, by_staff=False, offered=True)
    assert not rules.can_cancel(now=after, deadline=deadline, starts_at=STARTS, by_staff=False, offered=False)


def test_can_cancel_until_the_deadline_and_staff_until_the_start():
    deadline = STARTS - 2 * D
    assert rules.can_cancel(now=deadline, deadline=deadline, starts_at=STARTS, by_staff=False)
    assert not rules.can_cancel(
        now=deadline + timedelta(seconds=1), deadline=deadline, starts_at=STARTS, by_staff=False
    )
    assert rules.can_cancel(now=STARTS - timedelta(seconds=1), deadline=deadline, starts_at=STARTS, by_staff=True)
    assert not rules.can_cancel(now=STARTS, deadline=deadline, starts_at=STARTS, by_staff=True)


# Rights of an élu -------------------------------------------------------------------------------------


def test_add_years_on_29_february():
    assert rights_rules.add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert rights_rules.add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert rights_rules.add_years(date(2026, 3, 22), 1) == date(2027, 3, 22)


@pytest.mark.parametrize(
    ("delegation", "today", "trained", "expected"),
    [
        (False, date(2026, 6, 1), False, FirstYear.NOT_CONCERNED),
        (True, date(2026, 6, 1), False, FirstYear.OWED),
        (True, date(2027, 3, 21), False, FirstYear.OWED),  # the last day of the first year
        (True, date(2027, 3, 22), False, FirstYear.MISSED),  # one year after the start
        (True, date(2027, 3, 22), True, FirstYear.DONE),
        (True, date(2026, 6, 1), True, FirstYear.DONE),
    ],
)
def test_first_year_training(delegation, today, trained, expected):
    status, deadline = rights_rules.first_year_training(
        has_delegation=delegation, mandate_start=date(2026, 3, 22), today=today, trained_in_first_year=trained
    )
    assert status == expected
    assert deadline == date(2027, 3, 22)


def test_first_year_label_shows_the_deadline():
    assert "{deadline}" in rights_rules.FIRST_YEAR_LABELS[FirstYear.OWED]


@pytest.mark.parametrize(
    ("delegation", "day", "expected"),
    [
        (True, date(2026, 3, 22), True),
        (True, date(2027, 3, 21), True),
        (True, date(2027, 3, 22), False),
        (True, date(2026, 3, 21), False),  # before the mandate
        (False, date(2026, 6, 1), False),
    ],
)
def test_is_first_year_training(delegation, day, expected):
    assert (
        rights_rules.is_first_year_training(has_delegation=delegation, mandate_start=date(2026, 3, 22), session_day=day)
        is expected
    )


@pytest.mark.parametrize(
    ("used", "requested", "ok"),
    [
        ("0", "24", True),
        ("23.5", "0.5", True),  # exactly 24 days
        ("24", "0", True),
        ("24", "0.5", False),
        ("23.5", "1", False),
        ("0", "24.5", False),
        ("18", "6", True),  # the former limit of 18 days no longer applies
    ],
)
def test_leave_days_limited_to_24_per_mandate_since_the_2025_law(used, requested, ok):
    problem = rights_rules.leave_days_problem(used=Decimal(used), requested=Decimal(requested))
    assert (problem is None) is ok


def test_the_leave_ceiling_is_24_days_from_24_december_2025_and_18_before():
    assert rights_rules.leave_days_ceiling(date(2025, 12, 23)) == 18
    assert rights_rules.leave_days_ceiling(date(2025, 12, 24)) == 24
    assert rights_rules.leave_days_ceiling(date(2026, 12, 7)) == 24


def test_leave_days_message_in_french_with_the_remaining_days():
    problem = rights_rules.leave_days_problem(used=Decimal("23.5"), requested=Decimal("1"))
    assert problem == (
        "Congé de formation dépassé : 23,5 jours déjà pris ou réservés sur 24 jours pour ce mandat ; il reste 0,5 jour."
    )
    assert rights_rules.leave_days_problem(used=Decimal("24"), requested=Decimal("0.5")).endswith(
        "il ne reste aucun jour."
    )
    assert rights_rules.leave_days_problem(used=Decimal("10.0"), requested=Decimal("15")).endswith("il reste 14 jours.")
    assert "(s)" not in rights_rules.leave_days_problem(used=Decimal("1"), requested=Decimal("24"))
    assert "négatif" in rights_rules.leave_days_problem(used=Decimal(0), requested=Decimal("-1"))


START = date(2026, 3, 22)


@pytest.mark.parametrize(
    ("today", "credited"),
    [
        (date(2025, 1, 1), 0),  # before the mandate
        (date(2026, 3, 22), 400),  # credited at the start of the first year of mandate
        (date(2027, 3, 21), 400),
        (date(2027, 3, 22), 800),  # and at each anniversary
        (date(2029, 3, 22), 800),  # the balance is capped at 800 €
        (date(2032, 1, 1), 800),
    ],
)
def test_dife_is_credited_at_the_start_of_each_year_of_mandate_the_balance_capped(today, credited):
    account = rights_rules.dife_account(held_since=START, spends=[], today=today)
    assert account.credited == account.balance == Decimal(credited) and account.used == 0


def test_the_cap_applies_to_the_balance_so_an_elu_who_spent_is_credited_again():
    spends = [(date(2027, 6, 1), Decimal(500))]
    # 400 (2026) + 400 (2027) = 800; 500 spent in June 2027 leaves 300; 2028 credits 400 → 700; 2029 only 100.
    assert rights_rules.dife_account(held_since=START, spends=spends, today=date(2027, 6, 1)).balance == 300
    assert rights_rules.dife_account(held_since=START, spends=spends, today=date(2028, 3, 22)).balance == 700
    account = rights_rules.dife_account(held_since=START, spends=spends, today=date(2029, 3, 22))
    assert (account.balance, account.credited, account.used) == (Decimal(800), Decimal(1300), Decimal(500))


def test_a_training_still_to_come_commits_its_dife_from_today():
    account = rights_rules.dife_account(
        held_since=START, spends=[(date(2027, 9, 1), Decimal(300))], today=date(2026, 12, 7)
    )
    assert account.balance == 100 and account.used == 300


def test_dife_from_a_29_february():
    assert rights_rules.dife_credit_days(held_since=date(2024, 2, 29), today=date(2025, 2, 28)) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
    ]
    assert rights_rules.dife_credit_days(held_since=date(2024, 2, 29), today=date(2025, 2, 27)) == [date(2024, 2, 29)]


def test_mobilising_more_dife_than_the_estimated_balance_is_refused():
    assert rights_rules.dife_problem(requested=Decimal(400), balance=Decimal(400)) is None
    problem = rights_rules.dife_problem(requested=Decimal("450.50"), balance=Decimal(400))
    assert problem.startswith("Le DIFE demandé (450,50\u202f€) dépasse le solde estimé de l'élu (400\u202f€).")
    assert "Mon Compte Élu" in problem


# Budgets and funding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("funding", "dife", "expected"),
    [
        (Funding.COMMUNE, "0", "180.00"),
        (Funding.DIFE, "180", "0.00"),
        (Funding.BOTH, "100", "80.00"),
        (Funding.BOTH, "500", "0"),  # never negative
    ],
)
def test_commune_share(funding, dife, expected):
    share = rights_rules.commune_share(
        funding=funding, tuition=Decimal("150.00"), travel=Decimal("30.00"), dife_amount=Decimal(dife)
    )
    assert share == Decimal(expected)


@pytest.mark.parametrize(
    ("funding", "tuition", "travel", "dife", "problem"),
    [
        (Funding.COMMUNE, "150", "30", "0", None),
        (Funding.DIFE, "150", "30", "180", None),
        (Funding.BOTH, "150", "30", "100", None),
        (Funding.BOTH, "150", "30", "0.01", None),
        (Funding.BOTH, "150", "30", "179.99", None),
        ("bourse", "150", "0", "0", "inconnu"),
        (Funding.COMMUNE, "150", "-1", "0", "négatifs"),
        (Funding.BOTH, "150", "0", "-5", "négatifs"),
        (Funding.COMMUNE, "150", "0", "50", "ne mobilise pas de DIFE"),
        (Funding.BOTH, "150", "30", "0", "part DIFE"),
        (Funding.BOTH, "150", "30", "180", "part DIFE"),  # the whole cost: that is DIFE alone
        (Funding.BOTH, "1500", "0", "900", "plafonné à 800"),
        (Funding.DIFE, "900", "0", "900", "plafonné à 800"),
        (Funding.DIFE, "800", "0", "800", None),
    ],
)
def test_funding_problem(funding, tuition, travel, dife, problem):
    result = rights_rules.funding_problem(
        funding=funding, tuition=Decimal(tuition), travel=Decimal(travel), dife_amount=Decimal(dife)
    )
    if problem is None:
        assert result is None
    else:
        assert problem in result


def test_registration_cost_with_missing_amounts():
    assert rights_rules.registration_cost(tuition=Decimal("150"), travel=None) == Decimal("150")
    assert rights_rules.registration_cost(tuition=None, travel=Decimal("12.50")) == Decimal("12.50")


def test_waiting_ahead_without_quota_counts_everyone():
    assert rules.waiting_ahead(waiting_by_body={1: 2, 2: 1}, seats_by_body={1: 5}, quota=None) == 3
    assert rules.waiting_ahead(waiting_by_body={}, seats_by_body={}, quota=None) == 0


def test_waiting_ahead_passes_over_collectivites_at_their_quota():
    # Commune 1 is at its quota of 2: its élu waits for one of its own seats, not for a newcomer's.
    assert rules.waiting_ahead(waiting_by_body={1: 1}, seats_by_body={1: 2}, quota=2) == 0
    assert rules.waiting_ahead(waiting_by_body={1: 1, 2: 1}, seats_by_body={1: 2, 2: 1}, quota=2) == 1
    assert rules.waiting_ahead(waiting_by_body={1: 1}, seats_by_body={}, quota=2) == 1


def test_held_since_follows_mandates_held_without_a_break():
    from portal.training.rights_rules import held_since

    d = date
    spans = [(d(2014, 3, 30), d(2020, 5, 23)), (d(2020, 5, 23), d(2026, 3, 22)), (d(2026, 3, 22), None)]
    assert held_since(spans, d(2026, 3, 22)) == d(2014, 3, 30)
    assert held_since(spans, d(2020, 5, 23)) == d(2014, 3, 30)
    # A break of a day: the chain stops there.
    assert held_since([(d(2014, 3, 30), d(2020, 5, 22)), (d(2020, 5, 23), None)], d(2020, 5, 23)) == d(2020, 5, 23)
    assert held_since([], d(2026, 3, 22)) == d(2026, 3, 22)
