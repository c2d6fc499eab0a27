"""The list machinery every list page shares (pure parts)."""

import csv
import io

import pytest
from openpyxl import load_workbook

from riskbench.lists import escape_cell, parse_sort, sort_state, write_csv, write_xlsx

SORTS = {"code": ("code",), "residual": ("-residual_risk_index", "code")}


@pytest.mark.parametrize(
    ("param", "key", "reversed_", "order"),
    [
        ("code", "code", False, ("code",)),
        ("-code", "code", True, ("-code",)),
        ("residual", "residual", False, ("-residual_risk_index", "code")),
        ("-residual", "residual", True, ("residual_risk_index", "-code")),
        ("", "code", False, ("code",)),
        ("--code", "code", True, ("-code",)),
        ("-secret_field", "code", False, ("code",)),  # never an order_by on an unknown field
    ],
)
def test_sort_both_directions_with_a_safe_fallback(param, key, reversed_, order):
    sort = parse_sort(param, SORTS, "code")
    assert (sort.key, sort.reversed, sort.order_by) == (key, reversed_, order)


def test_sort_state_says_the_direction_and_the_next_click():
    assert sort_state("code", "code") == ("ascending", "-code")
    assert sort_state("-code", "code") == ("descending", "code")
    assert sort_state("code", "title") == ("none", "title")
    # Risk sorts highest first: its plain key is already descending.
    assert sort_state("residual", "residual", first_descending=True) == ("descending", "-residual")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_cells_that_a_spreadsheet_would_run_are_neutralised(text):
    assert escape_cell(text) == "'" + text


def test_csv_has_a_bom_and_escaped_cells():
    body = write_csv(["Code", "=Header"], [["HAZ-001", "=cmd"], ["HAZ-002", None]])
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["Code", "'=Header"], ["HAZ-001", "'=cmd"], ["HAZ-002", ""]]


def test_xlsx_cells_are_text_never_formulas():
    body = write_xlsx(["Code", "Title"], [["HAZ-001", "=1+1"], ["HAZ-002", "Grüße"]], "Hazards")
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet.title == "Hazards"
    assert [c.data_type for c in sheet[2]] == ["s", "s"]
    assert sheet["B2"].value == "'=1+1" and sheet["B3"].value == "Grüße"
    assert sheet.auto_filter.ref == "A1:B3"
