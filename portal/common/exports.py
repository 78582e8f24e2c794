"""Streamed CSV and XLSX files: rows come from a generator and leave in chunks, so memory stays bounded
whatever the number of rows (the whole country's registry included).

CSV: UTF-8 with a byte order mark and ``;`` as separator, as French Excel expects; numbers with a decimal
comma (``-12,50``). A text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) gets a leading apostrophe, as OWASP advises against CSV injection; numbers
are not text and stay numbers. Every CSV file of the portal is written here, so every one is protected.
XLSX: XlsxWriter in ``constant_memory`` mode writes each row to a temporary file as it comes (bounded
memory), text always as text (never a formula); the finished file is then sent in chunks and deleted.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from flask import Response, stream_with_context

from portal.common.clock import PARIS
from portal.common.files import content_disposition

FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CSV_BATCH_ROWS = 500
CHUNK_BYTES = 64 * 1024


def _paris(value: datetime) -> datetime:
    """Instants are stored in UTC; files show the time of Paris, as the pages do (naive for XLSX)."""
    return value.astimezone(PARIS).replace(tzinfo=None) if value.tzinfo is not None else value


# OWASP "CSV Injection": what spreadsheets read as the start of a formula (or of a DDE call).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value, decimal_separator: str = ","):
    """A value as a CSV cell: French dates, oui/non, numbers as numbers, text that cannot run as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _paris(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return f"{value:f}".replace(".", decimal_separator)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence], *, decimal_separator: str = ",") -> Iterator[bytes]:
    """The CSV file in chunks of a few hundred rows. ``decimal_separator="."`` for files read by software
    that expects a decimal point."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for index, row in enumerate(rows, start=1):
        writer.writerow([_cell(v, decimal_separator) for v in row])
        if index % CSV_BATCH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_chunks(header: Sequence[str], rows: Iterable[Sequence], sheet: str = "Export") -> Iterator[bytes]:
    """The XLSX file, written row by row to a temporary file (constant memory), then read back in chunks."""
    import xlsxwriter

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="portal-export-")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        dates = workbook.add_format({"num_format": "dd/mm/yyyy"})
        datetimes = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        worksheet.write_row(0, 0, list(header), bold)
        worksheet.freeze_panes(1, 0)
        for index, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                if isinstance(value, datetime):
                    worksheet.write_datetime(index, column, _paris(value), datetimes)
                elif isinstance(value, date):
                    worksheet.write_datetime(index, column, datetime(value.year, value.month, value.day), dates)
                elif isinstance(value, Decimal):
                    worksheet.write_number(index, column, float(value))
                elif isinstance(value, bool):
                    worksheet.write_string(index, column, "oui" if value else "non")
                elif isinstance(value, int | float):
                    worksheet.write_number(index, column, value)
                elif value is not None:
                    worksheet.write_string(index, column, str(value))
        workbook.close()
        with open(path, "rb") as produced:
            while chunk := produced.read(CHUNK_BYTES):
                yield chunk
    finally:
        os.unlink(path)


def response(
    fmt: str,
    filename: str,
    header: Sequence[str],
    rows: Iterable[Sequence],
    sheet: str = "Export",
    *,
    decimal_separator: str = ",",
):
    """A streamed download of ``rows`` as ``filename.<fmt>``; the rows are read while the response is sent."""
    if fmt == "csv":
        chunks = csv_chunks(header, rows, decimal_separator=decimal_separator)
    else:
        chunks = xlsx_chunks(header, rows, sheet)
    result = Response(stream_with_context(chunks), mimetype=MIMETYPES[fmt])
    result.headers["Content-Disposition"] = content_disposition(f"{filename}.{fmt}")
    return result
