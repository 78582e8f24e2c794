"""Pure rules of access requests: how the collectivités typed by a person are split into what to look up."""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.common.text import normalise

_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$", re.IGNORECASE)
_SIREN = re.compile(r"^\d{9}$")


@dataclass(frozen=True)
class Wanted:
    """One collectivité as typed: a code to look up, or a name (normalised) to look up among the CDG's bodies."""

    typed: str
    code: str | None = None
    name: str | None = None


def split_wanted(text: str) -> list[Wanted]:
    """Each line, comma or semicolon of ``text`` names one collectivité, by INSEE code, SIREN or name.

    "47215", "200 068 088", "Pujols", "Mairie de Pujols", "commune de Pujols (47)": the words "mairie",
    "commune de" and a trailing département in brackets are dropped from names; duplicates are kept once."""
    wanted: list[Wanted] = []
    seen: set[str] = set()
    for chunk in re.split(r"[,;\n\r]+", text or ""):
        typed = " ".join(chunk.split())
        if not typed:
            continue
        compact = typed.replace(" ", "")
        if _INSEE.match(compact) or _SIREN.match(compact):
            item = Wanted(typed, code=compact.upper())
        else:
            name = re.sub(r"\s*\(\s*\d{2,3}\s*\)\s*$", "", typed)
            name = re.sub(r"^(mairie|commune)\s+(de\s+|d'|du\s+|des\s+)?", "", name, flags=re.IGNORECASE)
            item = Wanted(typed, name=normalise(name))
        key = item.code or item.name or ""
        if key and key not in seen:
            seen.add(key)
            wanted.append(item)
    return wanted
