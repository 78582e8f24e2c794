"""What a kind of campaign is: its steps, its scope, its reference date, its templates.

The engine (``portal.campaigns.services``) knows nothing of headcounts or deliberations: a kind of campaign is a
:class:`Definition` registered here. A step is done when its ``done`` SQL condition holds for a task; a step
without one is done when the body has answered it on the portal (a document uploaded: :class:`CampaignAnswer`).
The headcount campaign (``portal.campaigns.headcount``) is the first; a groupement de commandes, the contrat groupe
d'assurance statutaire or a convention de participation need only a definition of the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import and_, exists
from sqlalchemy.sql.elements import ColumnElement

from portal.campaigns.models import CampaignAnswer, CampaignTask


class StepKind(StrEnum):
    FORM = "form"  # a form of the portal (its handler records the answer in its own area)
    DOCUMENT = "document"  # a PDF to upload (a deliberation, a signed mandate)


@dataclass(frozen=True)
class Step:
    """A step of a kind of campaign. Its texts, like the definition's, are written with ``lazy_gettext``: a
    definition is registered at import, before any application exists."""

    code: str
    label: str
    kind: StepKind
    description: str = ""
    # The SQL condition (on CampaignTask and Campaign) that says the step is done; None: an uploaded answer.
    done: Callable[[], ColumnElement[bool]] | None = None
    # For FORM steps: the partial template of the task page and the handler that builds and saves the form.
    template: str | None = None
    handler: object | None = None

    def done_condition(self) -> ColumnElement[bool]:
        if self.done is not None:
            return self.done()
        return exists().where(CampaignAnswer.task_id == CampaignTask.id, CampaignAnswer.step == self.code)


def first_of_january(year: int) -> date:
    return date(year, 1, 1)


@dataclass(frozen=True)
class Definition:
    code: str
    label: str  # "Recensement des effectifs"
    title: str  # with {year}: "Effectifs au 1er janvier {year}"
    steps: tuple[Step, ...]
    scope_kinds: tuple[str, ...]  # kinds of bodies in scope by default (staff may narrow it at opening)
    reference_date: Callable[[int], date] = first_of_january
    description: str = ""  # shown to the bodies above their task
    # A commune's CCAS and caisse des écoles can be answered in their commune's form (and by its secretaries).
    with_attached_bodies: bool = False
    one_per_year: bool = True
    email_category: str = "campaigns"
    extra: dict = field(default_factory=dict)

    def campaign_title(self, year: int) -> str:
        return str(self.title).format(year=year)


_DEFINITIONS: dict[str, Definition] = {}


def register(definition: Definition) -> Definition:
    _DEFINITIONS[definition.code] = definition
    return definition


def unregister(code: str) -> None:
    _DEFINITIONS.pop(code, None)


def get(code: str) -> Definition | None:
    return _DEFINITIONS.get(code)


def all_definitions() -> list[Definition]:
    return list(_DEFINITIONS.values())


def answered_condition(definition: Definition) -> ColumnElement[bool]:
    """Every step of the kind done, for the CampaignTask (and Campaign) of the enclosing query."""
    return and_(*(step.done_condition() for step in definition.steps))
