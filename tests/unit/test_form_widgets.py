"""QuickSelect writes the same HTML as WTForms' Select and keeps it per field: a kept <select> changes as soon as
its options, the chosen one or its attributes change. The portal's html_params writes what WTForms' writes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from markupsafe import Markup
from wtforms import Form, SelectField
from wtforms.widgets import Select

from portal.common.forms import QuickSelect, html_params, options, wtforms_html_params


class _Filter(Form):
    kind = SelectField(
        "Type", choices=options([("", "Tous"), ("commune", "Commune"), ("cc", "Communauté <CC>")]), widget=QuickSelect()
    )
    epci = SelectField("EPCI", widget=QuickSelect())


def _stock(field, **kwargs) -> str:
    return str(Select()(field, **kwargs))


def test_same_html_as_wtforms_and_follows_the_chosen_option():
    chosen_commune = _Filter(data={"kind": "commune"})
    assert str(chosen_commune.kind()) == _stock(chosen_commune.kind)
    assert 'selected value="commune"' in str(chosen_commune.kind())
    chosen_cc = _Filter(data={"kind": "cc"})  # the same field of another form: its own chosen option
    assert 'selected value="cc"' in str(chosen_cc.kind()) and 'selected value="commune"' not in str(chosen_cc.kind())
    assert "Communauté &lt;CC&gt;" in str(chosen_cc.kind())
    assert str(chosen_cc.kind(class_="compact")) == _stock(chosen_cc.kind, class_="compact")


def test_a_kept_select_changes_with_its_options():
    form = _Filter(data={"epci": "1"})
    form.epci.choices = options([("1", "CA d'Agen"), ("2", "CC du Confluent")])
    first = str(form.epci())
    assert "CC du Confluent" in first and first == _stock(form.epci)

    renamed = _Filter(data={"epci": "1"})
    renamed.epci.choices = options([("1", "CA d'Agen"), ("2", "CC Confluent et Coteaux de Prayssas")])
    html = str(renamed.epci())
    assert "CC Confluent et Coteaux de Prayssas" in html and "CC du Confluent<" not in html


def test_the_kept_selects_are_bounded():
    widget = _Filter.kind.kwargs["widget"]
    for number in range(QuickSelect.KEPT_SELECTS + 10):
        form = _Filter()
        form.epci.choices = options([(str(number), f"EPCI {number}")])
        form.epci()
    assert len(_Filter.epci.kwargs["widget"]._kept) <= QuickSelect.KEPT_SELECTS
    assert len(widget._kept) <= QuickSelect.KEPT_SELECTS


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"id": "year", "name": "year", "type": "text", "value": 2026, "required": True, "disabled": False},
        {"class_": 'a"b<c>&', "for_": "x", "data_row_id": "7", "aria_describedby": "year-hint year-error"},
        {"value": Markup("<b>déjà sûr</b>"), "placeholder": "« Saint-Jean » & 'autres'", "maxlength": 100},
        {"min": Decimal("0.5"), "step": "any", "autofocus": True, "readonly": False},
    ],
)
def test_html_params_writes_what_wtforms_writes(attributes):
    assert html_params(**attributes) == wtforms_html_params(**attributes)
    assert isinstance(html_params(**attributes), Markup)


def test_wtforms_widgets_use_the_portal_html_params():
    from wtforms.widgets import core

    assert core.html_params is html_params
    form = _Filter(data={"kind": "cc"})
    assert str(form.kind(**{"aria_describedby": "k-hint"})).startswith('<select aria-describedby="k-hint" id="kind"')


def test_inputs_buttons_and_labels_use_the_portal_html_params(monkeypatch):
    """WTForms' inputs and buttons hold html_params as a class attribute, its labels read it from the package: each
    of them writes through the portal's."""
    from wtforms import IntegerField, SubmitField, widgets

    calls = []

    def counting(**kwargs):
        calls.append(sorted(kwargs))
        return html_params(**kwargs)

    class _Declare(Form):
        year = IntegerField("Année")
        submit = SubmitField("Enregistrer")

    assert widgets.html_params is html_params
    assert widgets.core.Input.html_params is html_params and widgets.core.Button.html_params is html_params
    form = _Declare(data={"year": 2026})
    monkeypatch.setattr(widgets, "html_params", counting)
    monkeypatch.setattr(widgets.core.Input, "html_params", staticmethod(counting))
    assert str(form.year()) == '<input id="year" name="year" type="number" value="2026">'
    assert str(form.submit()) == '<input id="submit" name="submit" type="submit" value="Enregistrer">'
    assert str(form.year.label()) == '<label for="year">Année</label>'
    assert calls == [["id", "name", "type", "value"], ["id", "name", "type", "value"], ["for"]]


def test_kept_fields_written_once_per_values_and_language_and_each_time_in_error(app):
    from werkzeug.datastructures import MultiDict
    from wtforms import IntegerField
    from wtforms.validators import InputRequired

    from portal.common.forms import kept_fields

    written = []

    def write(field):
        written.append(field.name)
        return Markup("<p>{}={}</p>").format(field.name, field._value())

    class _Counts(Form):
        year = IntegerField("Année", validators=[InputRequired()])
        count = IntegerField("Nombre")

    names = ("year", "count")
    with app.test_request_context():
        first = kept_fields(_Counts(data={"year": 2026}), names, write)
        assert kept_fields(_Counts(data={"year": 2026}), names, write) == first == "<p>year=2026</p><p>count=</p>"
        assert written == ["year", "count"]
        assert kept_fields(_Counts(data={"year": 2027}), names, write) == "<p>year=2027</p><p>count=</p>"
        assert len(written) == 4
        in_error = _Counts(formdata=MultiDict({"year": "", "count": "3"}))
        assert not in_error.validate()
        for _ in range(2):
            assert kept_fields(in_error, names, write) == "<p>year=</p><p>count=3</p>"
        assert len(written) == 8
