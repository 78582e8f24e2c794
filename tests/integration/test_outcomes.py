"""``attempt``: the one way a page runs a use case and says no — commit on success, roll back and show the
French message (on the field it names, above the form, or flashed) when a business rule refuses."""

from __future__ import annotations

from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from portal.common.errors import DomainError
from portal.common.outcomes import attempt
from portal.extensions import db
from portal.registry.models import Collectivite
from tests import factories


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Nom")


def _names() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Collectivite.name).order_by(Collectivite.name)))


def _refuse(name: str, field: str | None = None):
    def action():
        factories.collectivite(name)
        raise DomainError("Ce nom est déjà pris.", field)

    return action


def test_a_successful_action_is_committed_and_its_value_returned(app):
    with app.test_request_context():
        outcome = attempt(lambda: factories.collectivite("Agen").name)
        assert outcome and outcome.value == "Agen" and outcome.refusal is None
        db.session.rollback()  # nothing left to roll back: it was committed
        assert _names() == ["Agen"]


def test_a_refusal_rolls_back_and_is_flashed_when_the_page_has_no_form(app):
    with app.test_request_context():
        outcome = attempt(_refuse("Nérac"))
        assert not outcome and outcome.refusal.message == "Ce nom est déjà pris."
        assert get_flashed_messages(with_categories=True) == [("error", "Ce nom est déjà pris.")]
        assert _names() == []


def test_a_refusal_is_shown_on_the_field_it_names_or_above_the_form(app):
    with app.test_request_context(method="POST", data={"name": "Nérac"}):
        on_field = NameForm()
        assert not attempt(_refuse("Nérac", "name"), on_field)
        assert on_field.name.errors == ["Ce nom est déjà pris."] and on_field.form_errors == []
        above = NameForm()
        assert not attempt(_refuse("Nérac", "inconnu"), above)
        assert above.form_errors == ["Ce nom est déjà pris."]
        assert get_flashed_messages() == []  # shown on the form, not flashed as well
        assert _names() == []
