"""Canonical serialisation: the same content always gives the same bytes, hence the same SHA-256.

Signatures (21 CFR 11.70), the audit chain (11.10(e)) and baselines (ISO 14971 4.5) all hash
record content. A hash is only useful if it is *stable*: it must not change when nothing changed
(re-reading a row, another Python process, SQLite vs PostgreSQL) and must change when anything did.
The rules, applied by `canonical_value`:

* datetimes → UTC ISO 8601 with microseconds and a ``Z`` (``2025-01-31T09:15:00.000000Z``);
  naive datetimes are refused (the project stores aware datetimes only);
* dates and times → ISO 8601;
* decimals → plain notation without exponent or trailing zeros (``7.50`` and ``7.5`` → ``"7.5"``);
  PostgreSQL and SQLite return the same number with different scales;
* floats stay JSON numbers, written as ``repr`` (shortest round-trip form); NaN/inf refused;
* UUIDs → str; bytes → lowercase hex; sets/tuples → sorted lists / lists;
* dicts → keys as strings, sorted (JSON ``sort_keys``); model instances are refused — callers
  pass natural keys or primary keys, never objects.

`canonical_json` then dumps with sorted keys, no whitespace and ``ensure_ascii=False`` in UTF-8.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import uuid
from decimal import Decimal
from typing import Any

from django.db.models.fields.files import FieldFile


class CanonicalError(TypeError):
    """A value that has no canonical form (a naive datetime, NaN, a model instance…)."""


def canonical_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise CanonicalError(f"Non-finite decimal {value!r} has no canonical form.")
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def canonical_value(value: Any) -> Any:
    """Turn a Python value into plain JSON data (str, int, bool, None, list, dict)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime):
        offset = value.utcoffset() if value.tzinfo is not None else None
        if offset is None:
            raise CanonicalError(f"Naive datetime {value!r}: store aware datetimes only.")
        if offset:
            value = value.astimezone(dt.UTC)
        if value.year >= 1000:
            # Same text as the strftime below, several times faster (verification formats
            # every stored datetime); strftime pads years below 1000 differently per platform.
            return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return canonical_decimal(
            Decimal(value.days * 86400 + value.seconds)
            + Decimal(value.microseconds) / Decimal(10**6)
        )
    if isinstance(value, Decimal):
        return canonical_decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CanonicalError(f"Non-finite float {value!r} has no canonical form.")
        return value  # json.dumps writes repr(): the shortest text that reads back the same
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(
            (canonical_value(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True)
        )
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        raise CanonicalError(f"Model instance {value!r}: pass a natural key or a primary key.")
    raise CanonicalError(f"No canonical form for {type(value).__name__}: {value!r}")


def canonical_json(data: Any) -> str:
    """The canonical JSON text of `data` (see module docstring)."""
    return json.dumps(
        canonical_value(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_sha256(data: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `data`."""
    return sha256_hex(canonical_json(data))


def field_values(instance, names) -> dict[str, Any]:
    """Canonical values of the named concrete fields (by attname: foreign keys as their ids)."""
    return {name: canonical_value(getattr(instance, name)) for name in names}
