"""The lean .xlsx reader reads cells as openpyxl's read-only mode did (issue 13 §3)."""

import datetime as dt
import io

import openpyxl
import pytest

from traceability.integrations.uploads import UploadError
from traceability.integrations.xlsx import Formula, read_sheets


def workbook_bytes(build, **kwargs) -> bytes:
    book = openpyxl.Workbook()
    build(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_cells_read_as_text_with_formulas_kept_unevaluated():
    def build(book):
        sheet = book.active
        sheet.title = "Tests"
        sheet.append(["id", "date", "n", "flag", "sum", "half"])
        sheet.append(["T.1", dt.datetime(2026, 3, 1, 10, 30), 4, True, "=1+1", 2.5])
        sheet["A4"] = "  GIP 1.1  "  # a gap row, then a cell with spaces
        book.create_sheet("Runs").append(["test_id"])

    sheets = read_sheets(workbook_bytes(build), max_rows=10)
    assert [title for title, _ in sheets] == ["Tests", "Runs"]
    rows = sheets[0][1]
    assert rows[0] == (1, ["id", "date", "n", "flag", "sum", "half"])
    number, cells = rows[1]
    assert number == 2
    assert cells[:4] == ["T.1", "2026-03-01T10:30:00", "4", "TRUE"]
    assert isinstance(cells[4], Formula) and cells[5] == "2.5"
    assert rows[2] == (4, ["GIP 1.1"])


def test_too_many_rows_are_refused():
    def build(book):
        for i in range(20):
            book.active.append([f"H-{i}"])

    with pytest.raises(UploadError, match="More than 5 rows"):
        read_sheets(workbook_bytes(build), max_rows=5)
