"""Column mappings as documents: read from a JSON file, saved per product, listed, downloaded
and reused (issue 13 §2: a mapping is never locked inside a web page).

A workbook mapping names, per sheet, the source column of each field and value maps that
translate source values (`{"Electrical": {"category": "safety", "hazard_type": "energy"}}`):

    {"sheets": {"Hazards": {"columns": {"id": "Ref", "category": "Type"},
                            "values": {"Type": {"Electrical": {"category": "safety",
                                                               "hazard_type": "energy"}}}}}}

A hazard-log mapping saved on the import page (field → header) is the same document with one
sheet, Hazards, and no value maps; `document()` turns either into the workbook form.
"""

from __future__ import annotations

import json
from pathlib import Path

from traceability.integrations.models import ImportMapping
from traceability.integrations.uploads import UploadError, read_path

SHEET_NAMES = ("Hazards", "Controls", "Requirements", "Tests", "Runs")


class MappingError(ValueError):
    """A mapping document that cannot be used; the message says where."""


def validate(doc) -> dict:
    """Check the shape of a workbook mapping document; return it unchanged."""
    if not isinstance(doc, dict) or not isinstance(doc.get("sheets"), dict):
        raise MappingError('A mapping is a JSON object with "sheets": {"Hazards": {...}, ...}.')
    for sheet, part in doc["sheets"].items():
        if sheet not in SHEET_NAMES:
            raise MappingError(f"Unknown sheet {sheet!r}; use {', '.join(SHEET_NAMES)}.")
        if not isinstance(part, dict) or set(part) - {"columns", "values"}:
            raise MappingError(f'Sheet {sheet}: give "columns" and/or "values" only.')
        columns = part.get("columns", {})
        if not isinstance(columns, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
        ):
            raise MappingError(f'Sheet {sheet}: "columns" maps field names to column headers.')
        values = part.get("values", {})
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise MappingError(
                f'Sheet {sheet}: "values" maps a column header to {{source value: value or '
                f"{{field: value}}}}."
            )
        for header, value_map in values.items():
            for source, target in value_map.items():
                ok = isinstance(target, str) or (
                    isinstance(target, dict) and all(isinstance(v, str) for v in target.values())
                )
                if not ok:
                    raise MappingError(
                        f"Sheet {sheet}, column {header!r}, value {source!r}: map it to a text "
                        f"or to {{field: text}}."
                    )
    return doc


def document(saved: ImportMapping) -> dict:
    """A saved mapping as a workbook mapping document."""
    if isinstance(saved.columns, dict) and "sheets" in saved.columns:
        return saved.columns
    return {"sheets": {"Hazards": {"columns": dict(saved.columns)}}}


def load(product, ref: str) -> dict:
    """The mapping `ref` names: a JSON file on disk, else a saved mapping of the product."""
    path = Path(ref)
    if path.suffix.lower() == ".json" or path.is_file():
        try:
            doc = json.loads(read_path(path).decode("utf-8-sig"))
        except (UploadError, UnicodeDecodeError) as exc:
            raise MappingError(f"Mapping file {ref}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise MappingError(f"Mapping file {ref} is not valid JSON: {exc}.") from exc
        return validate(doc)
    saved = ImportMapping.objects.filter(product=product, name=ref).first()
    if saved is None:
        raise MappingError(f"No mapping file {ref!r} and no saved mapping of that name.")
    return validate(document(saved))


def save(product, name: str, doc: dict, *, by) -> ImportMapping:
    """Save (or replace) a named mapping of the product."""
    validate(doc)
    if not name.strip() or len(name) > 100:
        raise MappingError("A mapping name has 1 to 100 characters.")
    saved, _ = ImportMapping.objects.update_or_create(
        product=product, name=name.strip(), defaults={"columns": doc, "created_by": by}
    )
    return saved


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
