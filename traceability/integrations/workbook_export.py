"""The risk file as a workbook: the same sheets and columns `workbook.py` imports, so export →
import into a new product → export gives the same workbook, cell by cell (issue 13 §1).

Every cell is text: codes, choice values (not labels), levels as numbers, times in UTC with their
offset, link cells as codes in natural order separated by "; ". Each run is on the Runs sheet
(the Tests sheet's result and date columns stay empty, so a round trip does not record a run
twice). The provenance line an import adds to a run's notes is not exported.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections import defaultdict
from pathlib import Path

import openpyxl

from hazards.models import Hazard, Product
from traceability.graph import code_key
from traceability.integrations import hazard_table
from traceability.integrations.workbook import (
    CODE,
    CODES,
    COLUMNS,
    CONTROLS,
    HAZARD_FIELDS,
    HAZARD_HEADERS,
    HAZARDS,
    ITEM,
    LINKS,
    MODELS,
    PARENT,
    REQUIREMENTS,
    RUNS,
    TESTS,
)
from traceability.models import TestRun


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


def _codes(codes) -> str:
    return "; ".join(sorted(codes, key=code_key))


def export_sheets(product: Product) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Every sheet as (headers, rows of text), in natural code order.

    Query plan: one query per record type (4), one per link type (6), runs with their test
    code (1), requirement parents come with the requirements: 11 whatever the size."""
    sheets: dict[str, tuple[list[str], list[list[str]]]] = {}
    hazards = sorted(Hazard.objects.filter(product=product), key=lambda h: code_key(h.code))
    sheets[HAZARDS] = (
        HAZARD_HEADERS,
        [[_text(getattr(h, name)) for name in HAZARD_FIELDS] for h in hazards],
    )
    linked: dict[tuple[str, str], dict[str, list[str]]] = {}
    for (sheet, name), (model, this, other) in LINKS.items():
        by_code: dict[str, list[str]] = defaultdict(list)
        for this_code, other_code in model.objects.filter(
            **{f"{this}__product": product}
        ).values_list(f"{this}__code", f"{other}__code"):
            by_code[this_code].append(other_code)
        linked[(sheet, name)] = by_code
    for sheet in (CONTROLS, REQUIREMENTS, TESTS):
        model = MODELS[sheet]
        queryset = model.objects.filter(product=product)
        if sheet == REQUIREMENTS:
            queryset = queryset.select_related("parent", "software_item")
        rows = []
        for record in sorted(queryset, key=lambda r: code_key(r.code)):
            row = []
            for col in COLUMNS[sheet]:
                if col.kind == CODE:
                    row.append(record.code)
                elif col.kind == CODES:
                    row.append(_codes(linked[(sheet, col.name)].get(record.code, [])))
                elif col.kind == PARENT:
                    row.append(record.parent.code if record.parent else "")
                elif col.kind == ITEM:
                    row.append(record.software_item.code if record.software_item else "")
                elif sheet == TESTS and col.name in ("result", "date"):
                    row.append("")  # every run is on the Runs sheet
                else:
                    row.append(_text(getattr(record, col.attr)))
            rows.append(row)
        sheets[sheet] = ([c.name for c in COLUMNS[sheet]], rows)
    runs = sorted(
        TestRun.objects.filter(test_case__product=product).values_list(
            "test_case__code", "result", "executed_at", "software_version", "notes",
            "external_reference",
        ),
        key=lambda r: (code_key(r[0]), r[2], r[1], r[3]),
    )  # fmt: skip
    sheets[RUNS] = (
        [c.name for c in COLUMNS[RUNS]],
        [[code, result, _text(when), version, _strip_provenance(notes), ref]
         for code, result, when, version, notes, ref in runs],
    )  # fmt: skip
    return sheets


def _strip_provenance(notes: str) -> str:
    """The provenance line an import adds is RiskBench's, not the source's: not exported, so a
    round trip does not grow the notes."""
    lines = [line for line in (notes or "").splitlines() if not (
        line.startswith("Recorded by import of ") and line.endswith("."))]  # fmt: skip
    return "\n".join(lines)


def export_xlsx(product: Product) -> bytes:
    """Every cell written as typed text, so Excel never evaluates one as a formula."""
    workbook = openpyxl.Workbook(write_only=True)
    for sheet, (headers, rows) in export_sheets(product).items():
        worksheet = workbook.create_sheet(sheet)
        worksheet.freeze_panes = "A2"

        def text_cell(value: str, _ws=worksheet):
            cell = openpyxl.cell.WriteOnlyCell(_ws, value=value)
            cell.data_type = "s"
            return cell

        worksheet.append([text_cell(h) for h in headers])
        for row in rows:
            worksheet.append([text_cell(v) if v else None for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_csv_files(product: Product) -> dict[str, bytes]:
    return {
        f"{sheet.lower()}.csv": hazard_table.write_csv(headers, rows)
        for sheet, (headers, rows) in export_sheets(product).items()
    }


def export_zip(product: Product) -> bytes:
    out = io.BytesIO()
    fixed = (1980, 1, 1, 0, 0, 0)  # same data ⇒ same bytes
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in export_csv_files(product).items():
            archive.writestr(zipfile.ZipInfo(name, fixed), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def export_to(product: Product, path: str | Path) -> list[Path]:
    """Write the workbook to `path`: .xlsx, .zip of CSVs, or a folder of CSV files."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(export_xlsx(product))
        return [path]
    if path.suffix.lower() == ".zip":
        path.write_bytes(export_zip(product))
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in export_csv_files(product).items():
        (path / name).write_bytes(data)
        written.append(path / name)
    return written
