"""Read an offline vulnerability feed as untrusted input: OSV advisories from a folder, a single
JSON file or the ZIP archive that OSV publishes per ecosystem, and CISA's Known Exploited
Vulnerabilities catalogue (KEV) JSON.

A feed is hostile until proven otherwise (IEC 81001-5-1 5.3; FDA premarket cybersecurity
guidance): nothing is extracted to disk; every member's size is checked before and while it is
read; a ZIP member whose name is absolute or climbs out of the archive (`..`), or that expands
implausibly (zip bomb), makes the whole feed refused; symbolic links in a folder are not
followed; and every JSON document's nesting depth is bounded *before* it is parsed
(`riskbench.safejson`, which also refuses strings holding a NUL). Only `*.json` members are
read. Refusals raise `FeedError` naming the member; nothing is written.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from riskbench import safejson

MAX_DEPTH = 32  # OSV advisories nest 6 levels deep; database_specific blobs a few more
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024  # the largest real OSV advisory is well under 1 MB
MAX_MEMBERS = 1_000_000
MAX_RATIO = 100  # uncompressed / compressed size of one ZIP member


class FeedError(Exception):
    """The feed cannot be read safely; `where` names the member or file."""

    def __init__(self, message: str, where: str = ""):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


def max_feed_bytes() -> int:
    """Total uncompressed bytes read from one feed (default 2 GiB: OSV's largest ecosystem
    archive, npm, expands to about 1 GiB)."""
    return int(getattr(settings, "RISKBENCH_MAX_FEED_BYTES", 2 * 1024**3))


# --- JSON with a bounded depth (riskbench.safejson: the one JSON parser of every upload) ----


def load_json(data: bytes, where: str):
    """Parse one JSON document after checking its size; its depth (MAX_DEPTH) and NUL
    characters are refused by `riskbench.safejson` before and after parsing."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise FeedError(f"larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB", where)
    try:
        return safejson.loads(data, max_depth=MAX_DEPTH)
    except safejson.JSONInputError as exc:
        raise FeedError(exc.message, where) from exc


# --- Members of a feed ----------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes


class _Budget:
    def __init__(self):
        self.total = 0
        self.limit = max_feed_bytes()

    def spend(self, size: int, where: str) -> None:
        self.total += size
        if self.total > self.limit:
            raise FeedError(
                f"the feed expands beyond {self.limit // (1024 * 1024)} MB; refused", where
            )


_DRIVE = re.compile(r"^[A-Za-z]:")


def _safe_member_name(name: str) -> bool:
    """Relative, inside the archive, no NUL, no backslash, no drive letter."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return False
    return ".." not in name.split("/") and not _DRIVE.match(name)


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes, at most MAX_DOCUMENT_BYTES + 1 of them. Stored and deflated members
    (all OSV archives) are read straight from the local header with zlib and their CRC checked:
    `ZipFile.open` costs more than the JSON parse for 50,000 small advisories."""
    fp = archive.fp
    try:
        if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) and fp is not None:
            fp.seek(info.header_offset)
            header = _LOCAL_HEADER.unpack(fp.read(_LOCAL_HEADER.size))
            if header[0] != b"PK\x03\x04":
                raise FeedError("bad local header; refused", info.filename)
            fp.seek(header[10] + header[11], 1)  # name and extra field lengths
            raw = fp.read(min(info.compress_size, MAX_DOCUMENT_BYTES * MAX_RATIO))
            if info.compress_type == zipfile.ZIP_STORED:
                data = raw[: MAX_DOCUMENT_BYTES + 1]
            else:
                inflater = zlib.decompressobj(-15)
                data = inflater.decompress(raw, MAX_DOCUMENT_BYTES + 1)
            if len(data) <= MAX_DOCUMENT_BYTES and zlib.crc32(data) != info.CRC:
                raise FeedError("CRC mismatch: the archive is damaged; refused", info.filename)
            return data
        with archive.open(info) as handle:
            return handle.read(MAX_DOCUMENT_BYTES + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, zlib.error, struct.error) as exc:
        raise FeedError(f"cannot be read ({exc})", info.filename) from exc


def zip_members(source) -> Iterator[Member]:
    """The JSON members of a ZIP archive (a path or a file object), read in memory only."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedError(f"not a readable ZIP archive ({exc})") from exc
    budget = _Budget()
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise FeedError(f"more than {MAX_MEMBERS} members; refused")
        for info in infos:
            name = info.filename
            if not _safe_member_name(name):
                raise FeedError("member name is absolute or leaves the archive; refused", name)
            if info.is_dir() or not name.lower().endswith(".json"):
                continue
            if info.flag_bits & 0x1:
                raise FeedError("encrypted member; refused", name)
            if info.file_size > MAX_DOCUMENT_BYTES:
                raise FeedError(f"larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB", name)
            ratio = info.file_size / info.compress_size if info.compress_size else 0
            if ratio > MAX_RATIO and info.file_size > 64 * 1024:
                raise FeedError("implausible compression ratio (zip bomb?); refused", name)
            data = _read_member(archive, info)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise FeedError("larger than its header says; refused", name)
            budget.spend(len(data), name)
            yield Member(name, data)


def folder_members(root: Path) -> Iterator[Member]:
    """The `*.json` files under a folder, in name order; links are not followed."""
    budget = _Budget()
    count = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for filename in sorted(files):
            if not filename.lower().endswith(".json"):
                continue
            path = Path(folder) / filename
            where = str(path.relative_to(root))
            if path.is_symlink() or not path.is_file():
                continue
            count += 1
            if count > MAX_MEMBERS:
                raise FeedError(f"more than {MAX_MEMBERS} files; refused")
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise FeedError(f"larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB", where)
            with open(path, "rb") as handle:
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
            budget.spend(len(data), where)
            yield Member(where, data)


def read_feed(path) -> Iterator[Member]:
    """Members of the feed at `path`: a folder, a ZIP archive or one JSON file."""
    path = Path(path)
    if path.is_dir():
        yield from folder_members(path)
        return
    if not path.is_file():
        raise FeedError(f"no such file or folder: {path}")
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        yield from zip_members(path)
        return
    if path.stat().st_size > max_feed_bytes():
        raise FeedError("larger than the feed limit; refused", path.name)
    with open(path, "rb") as handle:
        data = handle.read()
    yield Member(path.name, data)


def read_feed_bytes(data: bytes, name: str) -> Iterator[Member]:
    """Members of an uploaded feed (ZIP or one JSON document) held in memory."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        yield from zip_members(io.BytesIO(data))
    else:
        yield Member(name, data)


def documents(member: Member) -> list:
    """The advisories of one member: a JSON object, or an array of them (a single-file feed)."""
    document = load_json(member.data, member.name)
    if isinstance(document, list):
        return document
    return [document]


# --- CISA Known Exploited Vulnerabilities -----------------------------------------------------

MAX_KEV_BYTES = 64 * 1024 * 1024


def read_kev(data: bytes, where: str = "KEV") -> dict[str, str]:
    """CVE id → date added, from CISA's KEV JSON (`{"vulnerabilities": [{"cveID": …}]}`)."""
    if len(data) > MAX_KEV_BYTES:
        raise FeedError("larger than 64 MB; refused", where)
    try:
        document = safejson.loads(data, max_depth=MAX_DEPTH)
    except safejson.JSONInputError as exc:
        raise FeedError(exc.message, where) from exc
    entries = document.get("vulnerabilities") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise FeedError('not a KEV catalogue (no "vulnerabilities" list)', where)
    found = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("cveID"), str):
            added = entry.get("dateAdded")
            found[entry["cveID"].strip().upper()] = added if isinstance(added, str) else ""
    return found
