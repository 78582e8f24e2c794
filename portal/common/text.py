"""Text helpers shared by search and import: normalised names, names split in two, département codes."""

from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    """Lower-case, accent-free, single-spaced, with hyphens and apostrophes as spaces: for search."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    for ch in "-'’`":
        stripped = stripped.replace(ch, " ")
    return " ".join(stripped.lower().split())


def split_full_name(full_name: str) -> tuple[str, str]:
    """(given name, family name) from a name written "Given Family": the first word is the given name.

    A compound given name cannot be told from a compound family name without more data; the first word is the
    usual reading ("Jean Dupont", "Marie-Claire de La Tour" -> "Marie-Claire", "de La Tour"). A single word is
    taken as the family name. Joining the two parts with a space gives back the name, spaces normalised.
    """
    words = full_name.split()
    if not words:
        return "", ""
    if len(words) == 1:
        return "", words[0]
    return words[0], " ".join(words[1:])


def departement_code(text: str) -> str:
    """ "047", "47 " -> "47"; "2A" stays."""
    text = text.strip().upper()
    return f"{int(text):02d}" if text.isdigit() else text
