"""File names that come from users and go back to them: the name an uploaded file is kept under, and the
``Content-Disposition`` header that sends any stored name back.

A browser sends whatever the user's file system allows (and a script sends anything): control characters,
a whole Windows path, decomposed accents, 300 characters. ``clean_upload_name`` makes a name fit to store
and to show. ``content_disposition`` builds the download header once for every download of the portal
(RFC 6266): an ASCII ``filename="…"`` for old clients and, when it differs, the exact name as
``filename*=UTF-8''…`` (RFC 5987). The quoting comes from Werkzeug and the percent-encoding from
``urllib``, with the attr-char set Werkzeug's ``send_file`` uses. Downloads clean the name again, so rows
stored before these rules download too.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from werkzeug.http import quote_header_value

MAX_NAME_LENGTH = 255
MAX_EXTENSION_LENGTH = 10
FALLBACK_NAME = "document"

# Control characters that separate words become spaces; every other one (C0, DEL, C1, the bidirectional
# overrides that disguise a type, "facture\u202efdp.exe") is removed.
_SPACING_CONTROLS = frozenset("\t\n\r\v\f")
# RFC 5987 attr-char besides letters and digits, as in Werkzeug's send_file.
_ATTR_CHARS = "!#$&+-.^_`|~"
# Characters that browsers treat inconsistently inside the quoted ASCII fallback (RFC 6266 appendix D):
# replaced there; the exact name goes in filename*.
_FALLBACK_UNSAFE = frozenset('"\\%')


def _without_controls(text: str) -> str:
    kept = []
    for char in text:
        if char in _SPACING_CONTROLS:
            kept.append(" ")
        elif not unicodedata.category(char).startswith("C"):
            kept.append(char)
    return "".join(kept)


def split_extension(name: str) -> tuple[str, str]:
    """``("rapport", ".pdf")``; ``(name, "")`` when the name has no stem or no short ASCII alphanumeric extension."""
    stem, dot, extension = name.rpartition(".")
    is_extension = 0 < len(extension) <= MAX_EXTENSION_LENGTH and extension.isascii() and extension.isalnum()
    if dot and stem.strip(" .") and is_extension:
        return stem, dot + extension
    return name, ""


def clean_upload_name(name: str | None, max_length: int = MAX_NAME_LENGTH) -> str:
    """The name of an uploaded file as the portal keeps and shows it, or ``""`` when nothing is left.

    Only the last path component is kept (browsers may send ``C:\\…\\file.pdf``); control characters are
    removed (tab and line breaks become spaces); the text is normalised to NFC (a decomposed "é" is one
    character, as the database and the pages expect); runs of spaces become one; spaces and dots at either end
    go. A name longer than ``max_length`` characters is cut in its stem, so that the extension stays: a
    300-character ``.pdf`` name is still a ``.pdf``.
    """
    if max_length <= MAX_EXTENSION_LENGTH + 1:
        raise ValueError(f"max_length must leave room for a stem and an extension (got {max_length})")
    text = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = unicodedata.normalize("NFC", _without_controls(text))
    text = " ".join(text.split()).strip(" .")
    if len(text) <= max_length:
        return text
    stem, extension = split_extension(text)
    return stem[: max_length - len(extension)].rstrip(" .") + extension


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The ``Content-Disposition`` value that downloads ``filename`` (or shows it, with ``inline``).

    Any string is accepted, stored names of earlier versions included: it is cleaned first, and a name with
    nothing left is sent as ``document``.
    """
    name = clean_upload_name(filename) or FALLBACK_NAME
    stem, extension = split_extension(name)
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    ascii_stem = " ".join("".join("_" if char in _FALLBACK_UNSAFE else char for char in ascii_stem).split())
    ascii_name = (ascii_stem if ascii_stem.strip(" ._-") else FALLBACK_NAME) + extension
    value = f"{'inline' if inline else 'attachment'}; filename={quote_header_value(ascii_name, allow_token=False)}"
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"
    return value
