"""Pure rules about persons."""

from __future__ import annotations


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
