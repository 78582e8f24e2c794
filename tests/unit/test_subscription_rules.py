"""The subscription state machine refuses every transition outside its table."""

from datetime import date
from itertools import product

import pytest

from portal.subscriptions import rules
from portal.subscriptions.rules import Action, State


def test_the_happy_path():
    state = State.REQUESTED
    for action in (Action.VALIDATE, Action.ACTIVATE, Action.END):
        state = rules.next_state(state, action)
    assert state == State.ENDED


@pytest.mark.parametrize(("state", "action"), list(product(State, Action)))
def test_every_pair_outside_the_table_is_refused(state, action):
    if (state, action) in rules.TRANSITIONS:
        assert rules.next_state(state, action) == rules.TRANSITIONS[(state, action)]
    else:
        with pytest.raises(rules.IllegalTransition, match="Action impossible"):
            rules.next_state(state, action)


def test_final_states_allow_nothing():
    for final in (State.ENDED, State.REFUSED):
        assert rules.allowed_actions(final, staff=True) == []
        assert rules.allowed_actions(final, staff=False) == []


def test_roles_take_their_own_actions():
    assert set(rules.allowed_actions(State.REQUESTED, staff=True)) == {Action.VALIDATE, Action.REFUSE, Action.ASK_INFO}
    assert rules.allowed_actions(State.REQUESTED, staff=False) == [Action.WITHDRAW]
    assert set(rules.allowed_actions(State.INFO_NEEDED, staff=False)) == {Action.PROVIDE_INFO, Action.WITHDRAW}


def test_unknown_state_or_action_is_refused():
    with pytest.raises(rules.IllegalTransition):
        rules.next_state("inconnu", Action.VALIDATE)
    with pytest.raises(rules.IllegalTransition):
        rules.next_state(State.REQUESTED, "teleport")


def test_activation_on_the_start_date():
    assert rules.due_for_activation(State.VALIDATED, date(2026, 1, 1), date(2026, 1, 1))
    assert not rules.due_for_activation(State.VALIDATED, date(2026, 1, 2), date(2026, 1, 1))
    assert not rules.due_for_activation(State.REQUESTED, date(2026, 1, 1), date(2026, 1, 2))


def test_notice_period():
    end = rules.earliest_end(date(2026, 11, 30), 3)
    assert end.earliest_end == date(2027, 2, 28) and "28 février 2027" in end.explanation
    assert rules.earliest_end(date(2026, 5, 10), 0).earliest_end == date(2026, 5, 10)
