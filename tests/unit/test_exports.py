"""Cells of the CSV and XLSX exports: instants stored in UTC are shown in Paris time."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

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
