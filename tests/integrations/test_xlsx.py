"""The lean .xlsx reader reads cells as openpyxl's read-only mode did (issue 13 §3)."""

import datetime as dt
import io
import zipfile

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


def handmade_xlsx(sheet_xml: str) -> bytes:
    """A minimal workbook whose one sheet is `sheet_xml` (cells as other writers produce them:
    inline strings, rich text runs, cached formula values, errors)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            f'<sheet name="Tests" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/sharedStrings.xml", f'<sst xmlns="{main}"><si><t> shared </t></si></sst>'
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}"><sheetData>{sheet_xml}</sheetData></worksheet>',
        )
    return out.getvalue()


def test_cells_of_every_kind_read_as_other_writers_store_them():
    sheet = (
        '<row r="1">'
        '<c r="A1" t="inlineStr"><is><t> inline </t></is></c>'
        '<c r="B1" t="inlineStr"><is><r><t>rich </t></r><r><t>text</t></r></is></c>'
        '<c r="C1" t="s"><v>0</v></c>'
        '<c r="D1"><f>1+1</f><v>2</v></c>'
        '<c r="E1" t="e"><v>#N/A</v></c>'
        '<c r="F1" t="str"><f>A1</f><v>inline</v></c>'
        '<c r="H1" t="b"><v>1</v></c>'
        '<c r="I1"><v>3.0</v></c>'
        '<c r="J1" t="inlineStr"/>'
        "</row>"
    )
    [(title, rows)] = read_sheets(handmade_xlsx(sheet), max_rows=10)
    assert title == "Tests"
    [(number, cells)] = rows
    assert number == 1
    assert cells == ["inline", "rich text", "shared", "1+1", "#N/A", "A1", "", "TRUE", "3", ""]
    assert [type(c) is Formula for c in cells] == [False] * 3 + [True] * 3 + [False] * 4
