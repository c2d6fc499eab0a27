"""Shared checks for hostile uploads: every importer calls these before it parses a byte.

An uploaded file is untrusted input (FDA premarket cybersecurity guidance; IEC 81001-5-1
5.3 "secure coding"): its size is checked *before* it is read, its type is sniffed from its
content rather than trusted from its name, text must be valid UTF-8 (the error says which
row is not), and XML is parsed with entity expansion and external entities forbidden. Each
refusal raises `UploadError` with a message a quality engineer can act on; importers write
nothing when one is raised.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.conf import settings
from lxml import etree

from riskbench import safejson


class UploadError(Exception):
    """A file that cannot be imported. `row` (1-based line or spreadsheet row) and `field`
    (column or attribute) say where, when that is known."""

    def __init__(self, message: str, *, row: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.row = row
        self.field = field

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"column {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


def max_upload_bytes() -> int:
    return settings.RISKBENCH_MAX_UPLOAD_BYTES


def _human(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)  # pragma: no cover


def check_size(size: int | None) -> None:
    """Refuse an empty file or one over the limit, from its size alone (nothing read yet)."""
    limit = max_upload_bytes()
    if size is None:
        raise UploadError("The file size is unknown; upload it as a regular file.")
    if size == 0:
        raise UploadError("The file is empty.")
    if size > limit:
        raise UploadError(
            f"The file is {_human(size)}; the limit is {_human(limit)}. Nothing was read."
        )


def read_upload(file) -> bytes:
    """Read a Django UploadedFile (or any object with `.size` and `.read`) after checking its
    declared size; never reads more than the limit even if the size lied."""
    check_size(getattr(file, "size", None))
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(max_upload_bytes() + 1)
    check_size(len(data))
    return data


def read_path(path: str | os.PathLike) -> bytes:
    """Read a file from disk for a management command, checking its size on disk first."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise UploadError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    check_size(size)
    with open(path, "rb") as handle:
        data = handle.read(max_upload_bytes() + 1)
    check_size(len(data))
    return data


# --- Type sniffing ----------------------------------------------------------------------------

XLSX = "xlsx"
CSV = "csv"
XML = "xml"
JSON = "json"

# Decompressed size cap for XLSX (a ZIP): a small file must not expand into gigabytes.
MAX_XLSX_EXPANSION = 50


def sniff(data: bytes) -> str:
    """Say what a file really is from its first bytes: xlsx, xml, json or csv (text).

    Refuses legacy .xls, PDFs, images and other binaries with a message naming what was found.
    """
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                expanded = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile as exc:
            raise UploadError("The file looks like a ZIP archive but is damaged.") from exc
        if "xl/workbook.xml" not in names:
            raise UploadError("The file is a ZIP archive, not an Excel workbook (.xlsx).")
        if expanded > max(len(data), 1) * MAX_XLSX_EXPANSION and expanded > max_upload_bytes():
            raise UploadError("The workbook expands to an implausible size; refused.")
        return XLSX
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadError(
            "This is a legacy Excel 97–2003 (.xls) file; save it as .xlsx or CSV and retry."
        )
    if head.startswith(b"%PDF"):
        raise UploadError("This is a PDF document, not a data file.")
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        raise UploadError("This is an image, not a data file.")
    if b"\x00" in data[:4096]:
        raise UploadError(
            "This is a binary file (it holds a NUL byte), not text, CSV, XML or JSON. A text "
            "file saved as UTF-16 looks like this: save it as UTF-8.",
            row=data[: data.index(b"\x00")].count(b"\n") + 1,
        )
    text_head = data[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    if text_head.startswith(b"<"):
        return XML
    if text_head.startswith((b"{", b"[")):
        return JSON
    return CSV


# --- Text ---------------------------------------------------------------------------------------


def decode_utf8(data: bytes) -> str:
    """Decode UTF-8 (a byte-order mark is allowed); an invalid byte is reported with its row.

    A NUL byte is refused too, with its row: no text column of the database can hold one
    (PostgreSQL fails inside the write), and in a text file it means damage or a binary file.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise UploadError(
            f"The file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at position "
            f"{exc.start}). Save it as 'CSV UTF-8' and retry.",
            row=row,
        ) from exc
    position = text.find("\x00")
    if position >= 0:
        raise UploadError(
            f"The file contains a NUL character (position {position}); nothing was imported.",
            row=text.count("\n", 0, position) + 1,
        )
    return text


CSV_DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the header into the most columns, consistently.

    Spreadsheets saved in European locales use ';', exports from many tools use a tab.
    """
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        raise UploadError("The file is empty.")
    best, best_cols = ",", 1
    for delimiter in CSV_DELIMITERS:
        try:
            rows = list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            continue
        header_cols = len(rows[0])
        if header_cols > best_cols:
            best, best_cols = delimiter, header_cols
    return best


def parse_csv(text: str) -> list[list[str]]:
    """Rows of a CSV text with a sniffed delimiter. Cells are text: nothing is evaluated.

    Read strictly: a quote that never closes (a file cut inside a quoted cell) or text after
    a closing quote is an error naming the row, never a cell that silently swallows the rest
    of the file.
    """
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:  # one at a time: `rows` says where a bad one starts
            rows.append(row)  # noqa: PERF402
    except csv.Error as exc:
        row_number = len(rows) + 1
        if "unexpected end of data" in str(exc):
            message = (
                "A quoted cell is never closed (unterminated quote): the file may have been "
                "cut short. Nothing was imported."
            )
        else:
            message = f"The CSV row is malformed: {exc}. Nothing was imported."
        raise UploadError(message, row=row_number) from exc
    return rows


# --- JSON ---------------------------------------------------------------------------------------


def parse_json(data: bytes, *, what: str = "file"):
    """Parse an uploaded JSON file: UTF-8 and NUL checked (`decode_utf8`), nesting depth
    bounded before parsing (`riskbench.safejson`: a 100,000-deep document is refused with a
    message, not a RecursionError), NUL in a string refused naming where it is."""
    text = decode_utf8(data)
    try:
        return safejson.loads(text)
    except safejson.JSONInputError as exc:
        message = f"The {what} cannot be read: {exc.message}."
        raise UploadError(message, row=exc.line) from exc


# --- XML ----------------------------------------------------------------------------------------


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, *, what: str = "XML"):
    """Parse untrusted XML into an lxml element.

    First pass: defusedxml refuses any DTD, so no entity can be declared (billion laughs) and no
    external entity can be fetched (XXE). Second pass: lxml with entity resolution, network and
    DTD loading off, so the tree the importer walks cannot contain anything the first pass let
    through.
    """
    try:
        SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UploadError(
            f"The {what} file declares a DTD or entities (entity expansion / external entity "
            f"attack pattern); refused without processing it."
        ) from exc
    except SafeET.ParseError as exc:
        line = getattr(exc, "position", (None, None))[0]
        raise UploadError(f"The {what} file is not well-formed XML: {exc}.", row=line) from exc
    try:
        return etree.fromstring(data, parser=_hardened_parser())
    except etree.XMLSyntaxError as exc:  # pragma: no cover - the first pass catches these
        raise UploadError(f"The {what} file is not well-formed XML: {exc}.") from exc


def local_name(tag) -> str:
    """Tag name without its namespace."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]
