"""QuickSelect writes the same HTML as WTForms' Select and keeps it per field: a kept <select> changes as soon as
its options, the chosen one or its attributes change."""

from __future__ import annotations

from wtforms import Form, SelectField
from wtforms.widgets import Select

from portal.common.forms import QuickSelect, options


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
