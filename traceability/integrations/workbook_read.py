"""Reading a risk file workbook: an .xlsx (sheets Hazards, Controls, Requirements, Tests, Runs),
a .zip of CSV files, or a folder of them, into one table per sheet (`Source`). Nothing is
interpreted here; `workbook.py` maps and plans.

A .zip is untrusted: it is read in memory, never extracted, and refused when it has too many
entries, paths (`../x`, `/x`, `dir/x`), encrypted entries, entries larger than the upload limit or
compressed implausibly (a zip bomb).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from traceability.integrations import hazard_table
from traceability.integrations.hazard_table import Table, normalise_header
from traceability.integrations.uploads import (
    CSV,
    XLSX,
    UploadError,
    check_size,
    decode_utf8,
    max_upload_bytes,
    parse_csv,
    read_path,
    sniff,
)
from traceability.integrations.xlsx import read_sheets

HAZARDS, CONTROLS, REQUIREMENTS, TESTS, RUNS = (
    "Hazards",
    "Controls",
    "Requirements",
    "Tests",
    "Runs",
)
SHEETS = (HAZARDS, CONTROLS, REQUIREMENTS, TESTS, RUNS)
CSV_NAMES = {f"{sheet.lower()}.csv": sheet for sheet in SHEETS}
# A .zip of CSVs is untrusted: few entries, bounded sizes, no paths (never extracted to disk).
MAX_ZIP_ENTRIES = 20
MAX_ZIP_RATIO = 100


@dataclass
class Source:
    """The sheets of a workbook as tables, keyed by sheet name, and where they came from."""

    name: str
    tables: dict[str, Table]
    ignored: list[str] = field(default_factory=list)  # sheets or files not read, and why


def _table(raw_rows, kind: str, sheet: str) -> Table:
    try:
        return hazard_table.table_from_rows(raw_rows, kind, allow_empty=True)
    except UploadError as exc:
        raise UploadError(f"Sheet {sheet}: {exc.message}", row=exc.row, field=exc.field) from exc


def _csv_table(data: bytes, sheet: str) -> Table:
    check_size(len(data))
    rows = parse_csv(decode_utf8(data))
    return _table(list(enumerate(rows, start=1)), CSV, sheet)


def _sheet_for(name: str) -> str | None:
    wanted = normalise_header(name)
    return next((s for s in SHEETS if normalise_header(s) == wanted), None)


def read_xlsx(data: bytes, name: str = "workbook.xlsx") -> Source:
    """The known sheets of a workbook, streamed once by the lean reader (`xlsx.py`)."""
    tables, ignored = {}, []
    for title, rows in read_sheets(data, hazard_table.MAX_ROWS):
        sheet = _sheet_for(title)
        if sheet is None:
            ignored.append(f"Sheet {title!r} is not read (not one of {', '.join(SHEETS)}).")
            continue
        tables[sheet] = _table(rows, XLSX, sheet)
    return _source(name, tables, ignored)


def _source(name: str, tables: dict[str, Table], ignored: list[str]) -> Source:
    if not tables:
        raise UploadError(
            f"{name} holds none of the sheets {', '.join(SHEETS)} (or files "
            f"{', '.join(CSV_NAMES)}); nothing to import."
        )
    return Source(name=name, tables=tables, ignored=ignored)


def read_zip(data: bytes, name: str = "workbook.zip") -> Source:
    """CSV files of a .zip, read in memory. Hostile archives are refused: too many entries,
    paths (`../x`, `/x`, `dir/x`), entries larger than the upload limit or compressed more than
    `MAX_ZIP_RATIO` times (a zip bomb), a total beyond the upload limit, encrypted entries."""
    check_size(len(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UploadError(f"{name} is not a readable ZIP archive.") from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_ZIP_ENTRIES:
            raise UploadError(f"{name} has {len(infos)} entries; at most {MAX_ZIP_ENTRIES}.")
        limit, total = max_upload_bytes(), 0
        tables, ignored = {}, []
        for info in infos:
            entry = info.filename
            if "/" in entry or "\\" in entry or entry.startswith(".") or ".." in entry:
                raise UploadError(
                    f"{name}: entry {entry!r} has a path; put the CSV files at the top of the "
                    f"archive (paths are refused)."
                )
            if info.flag_bits & 0x1:
                raise UploadError(f"{name}: entry {entry!r} is encrypted.")
            total += info.file_size
            if info.file_size > limit or total > limit:
                raise UploadError(f"{name}: the CSV files expand beyond the upload limit.")
            if info.file_size > max(info.compress_size, 1) * MAX_ZIP_RATIO:
                raise UploadError(f"{name}: entry {entry!r} is compressed implausibly; refused.")
            sheet = CSV_NAMES.get(entry.lower())
            if sheet is None:
                ignored.append(f"File {entry!r} is not read (not one of {', '.join(CSV_NAMES)}).")
                continue
            with archive.open(info) as handle:
                content = handle.read(limit + 1)  # never more than declared-and-checked
            if len(content) != info.file_size:
                raise UploadError(f"{name}: entry {entry!r} is not the size it declares.")
            tables[sheet] = _csv_table(content, sheet)
    return _source(name, tables, ignored)


def read_folder(path: Path) -> Source:
    tables, ignored = {}, []
    for child in sorted(path.iterdir()):
        sheet = CSV_NAMES.get(child.name.lower())
        if sheet is None:
            if child.is_file():
                ignored.append(f"File {child.name!r} is not read.")
            continue
        tables[sheet] = _csv_table(read_path(child), sheet)
    return _source(str(path), tables, ignored)


def read_bytes(data: bytes, name: str) -> Source:
    """An uploaded .xlsx or .zip of CSVs, told apart by content, not by name."""
    check_size(len(data))
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                is_xlsx = "xl/workbook.xml" in archive.namelist()
        except zipfile.BadZipFile as exc:
            raise UploadError(f"{name} looks like a ZIP archive but is damaged.") from exc
        if is_xlsx:
            sniff(data)  # the expansion check of every XLSX upload
            return read_xlsx(data, name)
        return read_zip(data, name)
    raise UploadError(
        f"{name} is neither an Excel workbook (.xlsx) nor a .zip of CSV files; a folder of CSV "
        f"files can be imported from the command line."
    )


def read_source(path: str | Path) -> Source:
    path = Path(path)
    if path.is_dir():
        return read_folder(path)
    return read_bytes(read_path(path), path.name)
