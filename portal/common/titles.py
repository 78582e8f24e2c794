"""Titles that agree with the person (domain.md §8): "Adjointe au maire", "Conseillère municipale"."""

from __future__ import annotations

# function key -> (masculine or unknown, feminine)
FUNCTION_TITLES = {
    "maire": ("Maire", "Maire"),
    "adjoint": ("Adjoint au maire", "Adjointe au maire"),
    "conseiller": ("Conseiller municipal", "Conseillère municipale"),
    "conseiller_communautaire": ("Conseiller communautaire", "Conseillère communautaire"),
}


def ordinal(rank: int, sex: str | None) -> str:
    """French abbreviated ordinal: 1er / 1re, 2e, 3e…"""
    if rank == 1:
        return "1re" if sex == "F" else "1er"
    return f"{rank}e"


def function_title(function: str, sex: str | None = None, rank: int | None = None) -> str:
    """The title of a function for a person of ``sex`` ('F', 'M' or unknown: masculine, the legal default).

    An adjoint with a rank reads "1re adjointe au maire", "2e adjoint au maire".
    """
    masculine, feminine = FUNCTION_TITLES.get(function, (function, function))
    title = feminine if sex == "F" else masculine
    if function == "adjoint" and rank:
        return f"{ordinal(rank, sex)} {title[0].lower()}{title[1:]}"
    return title
