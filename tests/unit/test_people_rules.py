"""Pure rules about persons: names, titles that agree with the person."""

import pytest

from portal.common.titles import function_title
from portal.people import rules


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Sophie Vidal", ("Sophie", "Vidal")),
        ("  Marie-Claire   de La Tour ", ("Marie-Claire", "de La Tour")),
        ("Castaing", ("", "Castaing")),
        ("", ("", "")),
    ],
)
def test_split_full_name(full_name, expected):
    assert rules.split_full_name(full_name) == expected


@pytest.mark.parametrize(
    ("function", "sex", "rank", "title"),
    [
        ("maire", "F", None, "Maire"),
        ("maire", "M", None, "Maire"),
        ("adjoint", "F", None, "Adjointe au maire"),
        ("adjoint", "M", None, "Adjoint au maire"),
        ("adjoint", "F", 1, "1re adjointe au maire"),
        ("adjoint", "M", 1, "1er adjoint au maire"),
        ("adjoint", "F", 3, "3e adjointe au maire"),
        ("conseiller", "F", None, "Conseillère municipale"),
        ("conseiller", None, None, "Conseiller municipal"),
        ("conseiller_communautaire", "F", None, "Conseillère communautaire"),
    ],
)
def test_function_titles_agree_with_the_person(function, sex, rank, title):
    assert function_title(function, sex, rank) == title
