"""Titles and forms of address that agree with the person (domain.md §8).

"Madame la Maire", "Adjointe au maire", "Conseillère municipale", "Secrétaire générale de mairie": every title
shown to a person (pages, PDFs, emails) comes from the tables below, never from a label written by hand.

``sex`` is ``"F"``, ``"M"`` or unknown (``None``). When it is unknown the masculine form is used, the legal
default, except where a true épicène form exists (none of the titles below has one today). The secretary's title
follows the loi n° 2023-1380, which renamed the job: "Secrétaire générale de mairie" / "Secrétaire général de
mairie"; the former "secrétaire de mairie" is not an épicène of it and is no longer written, nor is the "(e)" of
the law's text. The same rule holds for texts written by hand: a choice list names the role in the masculine
("Secrétaire général de mairie", "Agent du CDG", "Élu") and a sentence about a group uses the masculine plural,
as it does for the agents and the élus ("les secrétaires généraux de mairie"). Pure functions: no Flask, no
database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FEMININE = "F"
MASCULINE = "M"


@dataclass(frozen=True)
class Title:
    """The forms of a title: masculine, feminine and, if French has one, an épicène form for an unknown sex."""

    masculine: str
    feminine: str
    neutral: str | None = None

    def agree(self, sex: str | None) -> str:
        if sex == FEMININE:
            return self.feminine
        if sex == MASCULINE:
            return self.masculine
        return self.neutral or self.masculine


# Functions held on a council (``Mandate.function``).
FUNCTION_TITLES = {
    "maire": Title("Maire", "Maire"),
    "adjoint": Title("Adjoint au maire", "Adjointe au maire"),
    "conseiller": Title("Conseiller municipal", "Conseillère municipale"),
    "conseiller_communautaire": Title("Conseiller communautaire", "Conseillère communautaire"),
}

# Roles of accounts (``User.role``).
ROLE_TITLES = {
    "staff": Title("Agent du CDG", "Agente du CDG"),
    "secretary": Title("Secrétaire général de mairie", "Secrétaire générale de mairie"),
    "elu": Title("Élu", "Élue"),
}

# How a letter addresses the holder of a function, after "Madame" or "Monsieur".
ADDRESS_TITLES = {
    "maire": Title("le Maire", "la Maire"),
    "adjoint": Title("l'Adjoint au maire", "l'Adjointe au maire"),
    "conseiller": Title("le Conseiller municipal", "la Conseillère municipale"),
    "conseiller_communautaire": Title("le Conseiller communautaire", "la Conseillère communautaire"),
}

CIVILITIES = Title("Monsieur", "Madame", "Madame, Monsieur")

# Words whose feminine is not the masculine followed by "e".
IRREGULAR_FEMININES = {
    "agent": "agente",
    "conseiller": "conseillère",
    "premier": "première",
    "secrétaire": "secrétaire",
}


_FIRST_WORD = re.compile(r"^(\w+)")


def ordinal(rank: int, sex: str | None) -> str:
    """French abbreviated ordinal: 1er / 1re, 2e, 3e…"""
    if rank == 1:
        return "1re" if sex == FEMININE else "1er"
    return f"{rank}e"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def function_title(function: str, sex: str | None = None, rank: int | None = None) -> str:
    """The title of a function for a person of ``sex``: "Maire", "Conseillère municipale".

    An adjoint with a rank reads "1re adjointe au maire", "2e adjoint au maire". An unknown function is returned
    as given (it never happens with the functions of the register)."""
    title = FUNCTION_TITLES.get(function)
    if title is None:
        return function
    text = title.agree(sex)
    if function == "adjoint" and rank:
        return f"{ordinal(rank, sex)} {_lower_first(text)}"
    return text


def role_title(role: str, sex: str | None = None) -> str:
    """The title of an account's role: "Agente du CDG", "Secrétaire générale de mairie", "Élu"."""
    title = ROLE_TITLES.get(role)
    return title.agree(sex) if title is not None else role


def civility(sex: str | None) -> str:
    """ "Madame", "Monsieur", or "Madame, Monsieur" when the sex is unknown."""
    return CIVILITIES.agree(sex)


def address_title(function: str | None, sex: str | None) -> str | None:
    """How to address the holder of ``function``: "Madame la Maire", "Monsieur l'Adjoint au maire".

    None when the sex is unknown (a letter then opens with the person's name) or the function has no form."""
    title = ADDRESS_TITLES.get(function or "")
    if title is None or sex not in (FEMININE, MASCULINE):
        return None
    return f"{civility(sex)} {title.agree(sex)}"


def salutation(function: str | None, sex: str | None, name: str | None = None) -> str:
    """The first line of a letter or an email: "Madame la Maire,", "Monsieur le Conseiller municipal,".

    Without a known sex or function: "Bonjour Jean Dupont," (or "Madame, Monsieur," without a name)."""
    formal = address_title(function, sex)
    if formal is not None:
        return f"{formal},"
    if name:
        return f"Bonjour {name},"
    return f"{civility(sex)},"


def agree(word: str, sex: str | None) -> str:
    """A participle or adjective agreeing with the person: "Inscrit" → "Inscrite", "Élu" → "Élue".

    Only the first word of ``word`` agrees ("Inscrit le" → "Inscrite le", "Invité, n'a pas…" → "Invitée, n'a
    pas…"). The masculine is kept for an unknown
    sex. Feminine: the irregular forms of :data:`IRREGULAR_FEMININES`, else the word followed by "e" (unchanged
    if it already ends with one)."""
    match = _FIRST_WORD.match(word)
    if sex != FEMININE or match is None:
        return word
    first, rest = match.group(1), word[match.end(1) :]
    lower = first.lower()
    if lower in IRREGULAR_FEMININES:
        feminine = IRREGULAR_FEMININES[lower]
    elif lower.endswith("e"):
        feminine = lower
    else:
        feminine = lower + "e"
    if first[:1].isupper():
        feminine = feminine[:1].upper() + feminine[1:]
    return feminine + rest


# Who signs for a body, by kind of body: the maire for a commune (CGCT L2122-21), the président elsewhere (the
# maire presides the CCAS, CASF L123-6; the président of an EPCI, a syndicat, a département, a caisse des écoles).
EXECUTIVE_TITLES = {"commune": Title("Maire", "Maire")}
DEFAULT_EXECUTIVE = Title("Président", "Présidente")


@dataclass(frozen=True)
class Signatory:
    """How a document names who signs for a body: "représentée par sa Maire, Madame Anne Roux", and over the
    signature "La Maire" then the name."""

    represented_by: str
    signature_title: str
    name: str | None
    authorised: str  # "dûment autorisée" agrees with the holder


def signatory(kind: str, *, name: str | None = None, sex: str | None = None) -> Signatory:
    """The executive of a body of ``kind``, with the holder's name and sex when known (the maire, from the RNE)."""
    title = EXECUTIVE_TITLES.get(kind, DEFAULT_EXECUTIVE).agree(sex)
    possessive = "sa" if sex == FEMININE else "son"
    article = "La" if sex == FEMININE else "Le"
    represented_by = f"{possessive} {title}"
    if name:
        represented_by += f", {civility(sex)} {name}" if sex in (FEMININE, MASCULINE) else f", {name}"
    return Signatory(
        represented_by=represented_by,
        signature_title=f"{article} {title}",
        name=name,
        authorised="dûment autorisée" if sex == FEMININE else "dûment autorisé",
    )
