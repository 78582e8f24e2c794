"""Confirmation of a destructive action (refuse, terminate, cancel, deactivate), without JavaScript.

The button of the action posts to its view as usual. Until the request carries ``confirmed=1`` the view answers
with :func:`confirmation_page`: what is about to happen, the fields of the decision (the reason, required where the
audit needs one; what was already typed is kept) and an explicit confirm button that posts the same form again,
this time confirmed. Only then does the view validate the form and act."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import render_template, request

CONFIRMED = "confirmed"


def confirmed() -> bool:
    """The request comes from the confirm button of a confirmation page."""
    return request.form.get(CONFIRMED) == "1"


def confirmation_page(
    form,
    *,
    title: str,
    warning: str,
    action_url: str,
    back_url: str,
    button: str,
    fields: Iterable[str] = ("reason",),
    hidden: Mapping[str, str] | None = None,
    status: int = 200,
):
    """The confirmation page of an action: ``fields`` of ``form`` shown (with their errors once confirmed),
    ``hidden`` values posted again as they came (the action's name, …)."""
    return render_template(
        "_confirm.html",
        form=form,
        title=title,
        warning=warning,
        action_url=action_url,
        back_url=back_url,
        button=button,
        fields=[form[name] for name in fields],
        hidden=dict(hidden or {}),
        confirmed_name=CONFIRMED,
    ), status
