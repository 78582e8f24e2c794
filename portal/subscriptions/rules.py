"""The life of a subscription as a state machine (pure).

demandée → validée → active (on its start date) → résiliée; a request can also be refused,
put on hold while the CDG asks for more information, and an active subscription suspended
and resumed. Nothing moves outside this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from portal.catalogue.rules import add_months
from portal.common.formatting import date_fr
from portal.common.i18n import gettext as _
from portal.common.labels import N_, Labels


class State(StrEnum):
    REQUESTED = "demandee"
    INFO_NEEDED = "informations_demandees"
    VALIDATED = "validee"
    ACTIVE = "active"
    SUSPENDED = "suspendue"
    ENDED = "resiliee"
    REFUSED = "refusee"


STATE_LABELS = Labels(
    {
        State.REQUESTED: N_("Demandée"),
        State.INFO_NEEDED: N_("Informations demandées"),
        State.VALIDATED: N_("Validée"),
        State.ACTIVE: N_("Active"),
        State.SUSPENDED: N_("Suspendue"),
        State.ENDED: N_("Résiliée"),
        State.REFUSED: N_("Refusée"),
    }
)


class Action(StrEnum):
    VALIDATE = "validate"
    REFUSE = "refuse"
    ASK_INFO = "ask_info"
    PROVIDE_INFO = "provide_info"
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    RESUME = "resume"
    END = "end"
    WITHDRAW = "withdraw"  # the collectivité withdraws its own request


ACTION_LABELS = Labels(
    {
        Action.VALIDATE: N_("Valider"),
        Action.REFUSE: N_("Refuser"),
        Action.ASK_INFO: N_("Demander des informations"),
        Action.PROVIDE_INFO: N_("Compléter la demande"),
        Action.ACTIVATE: N_("Activer"),
        Action.SUSPEND: N_("Suspendre"),
        Action.RESUME: N_("Reprendre"),
        Action.END: N_("Résilier"),
        Action.WITHDRAW: N_("Retirer la demande"),
    }
)

TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.REQUESTED, Action.VALIDATE): State.VALIDATED,
    (State.REQUESTED, Action.REFUSE): State.REFUSED,
    (State.REQUESTED, Action.ASK_INFO): State.INFO_NEEDED,
    (State.REQUESTED, Action.WITHDRAW): State.ENDED,
    (State.INFO_NEEDED, Action.PROVIDE_INFO): State.REQUESTED,
    (State.INFO_NEEDED, Action.REFUSE): State.REFUSED,
    (State.INFO_NEEDED, Action.WITHDRAW): State.ENDED,
    (State.VALIDATED, Action.ACTIVATE): State.ACTIVE,
    (State.VALIDATED, Action.END): State.ENDED,
    (State.ACTIVE, Action.SUSPEND): State.SUSPENDED,
    (State.ACTIVE, Action.END): State.ENDED,
    (State.SUSPENDED, Action.RESUME): State.ACTIVE,
    (State.SUSPENDED, Action.END): State.ENDED,
}

# Who may take each action: staff of the CDG, or the collectivité's secretary.
STAFF_ACTIONS = frozenset(
    {Action.VALIDATE, Action.REFUSE, Action.ASK_INFO, Action.ACTIVATE, Action.SUSPEND, Action.RESUME, Action.END}
)
SECRETARY_ACTIONS = frozenset({Action.PROVIDE_INFO, Action.WITHDRAW})

# Actions that end a request or a subscription: confirmed on a page of their own before they are taken, and the
# two decisions of the CDG among them carry a reason, told to the collectivité and kept in the history.
REQUEST_END = "request_end"  # the collectivité asks to end its subscription (with the service's notice)
CONFIRMED_ACTIONS = frozenset({Action.REFUSE, Action.END, Action.WITHDRAW, REQUEST_END})
REASON_REQUIRED = frozenset({Action.REFUSE, Action.END})

# States in which a body holds (or is asking for) the service: a second request is refused.
OPEN_STATES = frozenset({State.REQUESTED, State.INFO_NEEDED, State.VALIDATED, State.ACTIVE, State.SUSPENDED})


class IllegalTransition(ValueError):
    def __init__(self, state: str, action: str):
        label = STATE_LABELS.get(State(state), state) if state in State.__members__.values() else state
        super().__init__(
            _(
                "Action impossible : « %(action)s » n'est pas permise pour une demande à l'état « %(state)s ».",
                action=ACTION_LABELS.get(action, action),
                state=label,
            )
        )


def next_state(state: str, action: str) -> State:
    """The state after ``action``; IllegalTransition (French message) for anything outside the table."""
    try:
        return TRANSITIONS[(State(state), Action(action))]
    except (KeyError, ValueError) as exc:
        raise IllegalTransition(state, action) from exc


def allowed_actions(state: str, staff: bool) -> list[Action]:
    permitted = STAFF_ACTIONS if staff else SECRETARY_ACTIONS
    return [action for (source, action) in TRANSITIONS if source == state and action in permitted]


def due_for_activation(state: str, start: date | None, today: date) -> bool:
    """A validated subscription becomes active on its start date."""
    return state == State.VALIDATED and start is not None and start <= today


@dataclass(frozen=True)
class EndRequest:
    earliest_end: date
    explanation: str


def earliest_end(requested_on: date, notice_months: int, active_since: date | None = None) -> EndRequest:
    """The first date a subscription can end when asked on ``requested_on`` with the service's notice."""
    if notice_months < 0:
        raise ValueError("notice cannot be negative")
    end = add_months(requested_on, notice_months)
    if active_since is not None and end < active_since:
        end = active_since
    if notice_months == 0:
        return EndRequest(end, _("Résiliation possible sans préavis."))
    return EndRequest(
        end,
        _(
            "Préavis de %(months)s mois : fin possible au plus tôt le %(date)s.",
            months=notice_months,
            date=date_fr(end),
        ),
    )
