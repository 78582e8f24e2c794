"""Text helpers shared by search and import."""

from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    """Lower-case, accent-free, single-spaced, with hyphens and apostrophes as spaces: for search."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    for ch in "-'’`":
        stripped = stripped.replace(ch, " ")
    return " ".join(stripped.lower().split())
