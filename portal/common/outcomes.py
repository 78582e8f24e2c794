"""One way for a page to run a use case and say no: :func:`attempt`.

A service raises :class:`~portal.common.errors.DomainError` when a business rule refuses the action. The page
then rolls back and shows the French message — on the form's field the error names, or above the form
(:func:`~portal.common.forms.show_domain_error`), or flashed when the page has no form — and otherwise commits.
What follows (the success message, the redirect, the status of a re-rendered form) stays in the view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash

from portal.common.errors import DomainError
from portal.common.forms import show_domain_error
from portal.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What :func:`attempt` did: true when the action was committed (``value`` is what it returned), false when
    it was refused (``refusal`` holds the error, already shown)."""

    value: T | None = None
    refusal: DomainError | None = None

    def __bool__(self) -> bool:
        return self.refusal is None


def attempt(action: Callable[[], T], form=None) -> Outcome[T]:
    """Run ``action`` as the request's unit of work: commit if it succeeds; if a business rule refuses it, roll
    back and show the message on ``form`` (or flash it as an error when there is no form)."""
    try:
        value = action()
    except DomainError as exc:
        db.session.rollback()
        if form is None:
            flash(exc.message, "error")
        else:
            show_domain_error(form, exc)
        return Outcome(refusal=exc)
    db.session.commit()
    return Outcome(value=value)
