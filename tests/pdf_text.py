"""What a reader sees in a PDF, as pypdf extracts it: the lines of its pages, for golden tests on documents."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_lines(data: bytes) -> list[str]:
    """The non-empty lines of every page, in order, each with its runs of ordinary spaces collapsed; the narrow
    no-break space of French amounts and the no-break space are kept, as the reader sees them."""
    lines = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for line in page.extract_text().splitlines():
            line = " ".join(part for part in line.split(" ") if part).strip()
            if line:
                lines.append(line)
    return lines


def pdf_text(data: bytes) -> str:
    """The whole text on one line, every kind of space read as one ordinary space (for containment checks)."""
    return " ".join(" ".join(pdf_lines(data)).replace("\u202f", " ").replace("\xa0", " ").split())
