"""A lean reader of .xlsx sheets as rows of text, for imports at full size.

openpyxl's read-only mode parses every sheet twice when the file has no `<dimension>` element
(openpyxl's own write-only mode writes none) and builds an object per cell: reading a
1,000-hazard workbook (≈15,000 rows) took most of the import's time (issue 13 §3 profile). This
reader streams each sheet once with lxml's `iterparse` and keeps only what the importers use —
the text of each cell — with the same rules as `hazard_table.read_sheet_rows`:

* a cell with a formula is returned as `Formula` (never evaluated; the plan rejects it);
* shared and inline strings as text; booleans TRUE / FALSE; whole numbers without ".0";
* numbers in a date or time format as ISO 8601 (`2026-03-01T00:00:00`), as openpyxl would;
* error cells (#N/A…) are returned as `Formula` too: they only come from formulas.

The archive is untrusted: entity resolution, DTD loading and network access are off, the XML
size is bounded by the upload checks (`uploads.sniff`) before this runs.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile

from lxml import etree

from traceability.integrations.uploads import UploadError

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that show a date or a time (ECMA-376 18.8.30).
DATE_FORMAT_IDS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47}
DATE_CODE = re.compile(r"[dmyhs]", re.IGNORECASE)
QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


class Formula(str):
    """A cell holding a formula (or an error a formula produced): never evaluated."""


def _parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _xml(archive: zipfile.ZipFile, name: str):
    try:
        return etree.fromstring(archive.read(name), parser=_parser())
    except KeyError:
        return None
    except etree.XMLSyntaxError as exc:
        raise UploadError(f"The Excel workbook is damaged ({name}: {exc}).") from exc


def _text(elem) -> str:
    """Text of a string item: `<t>` directly, or the runs `<r><t>` of rich text."""
    direct = elem.find(f"{MAIN}t")
    if direct is not None:
        return direct.text or ""
    return "".join(t.text or "" for t in elem.iter(f"{MAIN}t"))


def _shared_strings(archive) -> list[str]:
    root = _xml(archive, "xl/sharedStrings.xml")
    return [] if root is None else [_text(si) for si in root.iter(f"{MAIN}si")]


def _date_styles(archive) -> set[int]:
    """Indexes of the cell formats (cellXfs) that display numbers as dates or times."""
    root = _xml(archive, "xl/styles.xml")
    if root is None:
        return set()
    custom = {}
    formats = root.find(f"{MAIN}numFmts")
    for fmt in formats if formats is not None else []:
        code = QUOTED.sub("", fmt.get("formatCode", ""))
        custom[int(fmt.get("numFmtId", "0"))] = bool(DATE_CODE.search(code))
    dates = set()
    xfs = root.find(f"{MAIN}cellXfs")
    for index, xf in enumerate(xfs if xfs is not None else []):
        fmt_id = int(xf.get("numFmtId", "0"))
        if fmt_id in DATE_FORMAT_IDS or custom.get(fmt_id):
            dates.add(index)
    return dates


def _sheet_paths(archive) -> list[tuple[str, str]]:
    """(sheet title, path in the archive), in workbook order."""
    workbook = _xml(archive, "xl/workbook.xml")
    rels = _xml(archive, "xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        raise UploadError("The Excel workbook is damaged (no workbook part).")
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{PACKAGE_REL}Relationship")}
    sheets = []
    for sheet in workbook.iter(f"{MAIN}sheet"):
        target = targets.get(sheet.get(f"{REL}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        sheets.append((sheet.get("name", ""), posixpath.normpath(path)))
    return sheets


def _column(ref: str) -> int:
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + (ord(char.upper()) - 64)
    return index - 1


def _number(raw: str, date: bool, epoch: dt.datetime) -> str:
    if date:
        try:
            return (epoch + dt.timedelta(days=float(raw))).isoformat()
        except (ValueError, OverflowError):
            return raw
    try:
        value = float(raw)
    except ValueError:
        return raw
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else str(value)


def read_sheets(data: bytes, max_rows: int) -> list[tuple[str, list[tuple[int, list[str]]]]]:
    """Every sheet of the workbook as (title, [(row number, cells as text)])."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UploadError("The Excel workbook cannot be read: it is not a ZIP archive.") from exc
    with archive:
        shared = _shared_strings(archive)
        dates = _date_styles(archive)
        workbook = _xml(archive, "xl/workbook.xml")
        pr = workbook.find(f"{MAIN}workbookPr") if workbook is not None else None
        date1904 = pr is not None and pr.get("date1904") in ("1", "true")
        # Excel dates carry no time zone: naive, like openpyxl's (importers read them as UTC).
        epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)  # noqa: DTZ001
        return [
            (title, _rows(archive, path, shared, dates, epoch, max_rows))
            for title, path in _sheet_paths(archive)
        ]


def _rows(archive, path, shared, dates, epoch, max_rows) -> list[tuple[int, list[str]]]:
    try:
        stream = archive.open(path)
    except KeyError as exc:
        raise UploadError(f"The Excel workbook is damaged (no part {path}).") from exc
    rows: list[tuple[int, list[str]]] = []
    try:
        with stream:
            events = etree.iterparse(
                stream, events=("end",), tag=f"{MAIN}row", resolve_entities=False,
                no_network=True, load_dtd=False, huge_tree=False,
            )  # fmt: skip
            for _, row in events:
                number = int(row.get("r") or len(rows) + 1)
                cells: list[str] = []
                for cell in row.iterchildren(f"{MAIN}c"):
                    ref = cell.get("r")
                    position = _column(ref) if ref else len(cells)
                    if position > len(cells):
                        cells.extend([""] * (position - len(cells)))
                    cells.append(_cell(cell, shared, dates, epoch))
                rows.append((number, cells))
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]
                if len(rows) > max_rows + 1:
                    raise UploadError(f"More than {max_rows} rows; split the file.")
    except etree.XMLSyntaxError as exc:
        raise UploadError(f"The Excel workbook cannot be read: {exc}.", row=len(rows) + 1) from exc
    return rows


_F, _V, _IS = f"{MAIN}f", f"{MAIN}v", f"{MAIN}is"


def _cell(cell, shared, dates, epoch) -> str:
    kind = cell.get("t", "n")
    # One pass over the cell's children (the first <f>, <v>, <is>), not a search for each:
    # a full-size workbook has ≈100,000 cells.
    formula = value = inline = None
    for child in cell:
        tag = child.tag
        if tag == _V:
            value = child if value is None else value
        elif tag == _F:
            formula = child if formula is None else formula
        elif tag == _IS:
            inline = child if inline is None else inline
    raw = value.text or "" if value is not None else ""
    if formula is not None:
        return Formula(formula.text or raw)
    if kind == "s":
        try:
            return shared[int(raw)].strip()
        except (ValueError, IndexError) as exc:
            raise UploadError(
                "The Excel workbook is damaged (a shared string is missing)."
            ) from exc
    if kind == "inlineStr":
        return _text(inline).strip() if inline is not None else ""
    if kind == "str":
        return raw.strip()
    if kind == "b":
        return "TRUE" if raw in ("1", "true") else "FALSE"
    if kind == "e":
        return Formula(raw)
    if raw == "":
        return ""
    style = cell.get("s")
    return _number(raw, bool(style) and int(style) in dates, epoch)
