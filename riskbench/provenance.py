"""Provenance text of imported records (issue 9 §2 "Imports cannot forge"; DESIGN.md §7).

Importers call `claims_text` to turn what a file asserted (status, approvals, attribution) into
one readable line, reset those fields on the record, and `record_provenance` after the records
are saved; detail pages show `provenance_of(record)` under "Provenance", as the source's words.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from riskbench.models import Provenance


def claims_text(claims: dict[str, object]) -> str:
    """The claims that say something, as one line ("status: approved; executed by: alice")."""
    return "; ".join(
        f"{name}: {value}" for name, value in claims.items() if value not in (None, "", [], {})
    )


def record_provenance(pairs, *, source: str, by) -> int:
    """Store (record, text) pairs with text, in one insert. Returns how many were stored."""
    rows = []
    types: dict[type, ContentType] = {}
    for record, text in pairs:
        if not text:
            continue
        model = type(record)
        if model not in types:
            types[model] = ContentType.objects.get_for_model(model, for_concrete_model=False)
        rows.append(
            Provenance(
                content_type=types[model],
                object_id=record.pk,
                source=source[:255],
                text=text,
                recorded_by=by,
            )
        )
    Provenance.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def provenance_of(record) -> list[Provenance]:
    content_type = ContentType.objects.get_for_model(type(record), for_concrete_model=False)
    return list(
        Provenance.objects.filter(content_type=content_type, object_id=record.pk).select_related(
            "recorded_by"
        )
    )
