"""Read side of the audit trail for one record: every version with who, when, why and a
field-by-field diff against the version before it (21 CFR 11.10(e): never obscures the earlier
value)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Version:
    row: object  # the historical row
    number: int | None
    user: str
    date: object
    reason: str
    action: str
    changes: list[FieldChange]


ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}


# Bookkeeping that changes on every save and says nothing about the content.
BOOKKEEPING_FIELDS = {"id", "version", "updated_at", "created_at"}


def changed_fields(old, new):
    """(field, value before, value after) for every stored field whose value differs between two
    versions of a record (model instances or history rows) — derived, non-editable fields
    included, which simple-history's `diff_against` would skip. Compares raw stored values
    (`attname`), so no related object is loaded."""
    for field in new._meta.concrete_fields:
        if field.name in BOOKKEEPING_FIELDS or field.name.startswith("history_"):
            continue
        if not hasattr(old, field.attname):
            continue
        before, after = getattr(old, field.attname), getattr(new, field.attname)
        if before != after:
            yield field, before, after


def _display(field, value) -> str:
    """A value as a person reads it: choice labels, "—" for empty, related records by key."""
    if value in (None, "", []):
        return "—"
    if field.is_relation:
        return f"{field.related_model._meta.verbose_name} #{value}"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _changed_fields(previous, row) -> list[FieldChange]:
    return [
        FieldChange(str(field.verbose_name), _display(field, before), _display(field, after))
        for field, before, after in changed_fields(previous, row)
    ]


def versions(record, limit: int | None = None) -> list[Version]:
    """All history rows of `record`, newest first, each diffed against its predecessor.

    One query for the rows (with their users); diffs are computed in memory.
    """
    rows = list(
        record.history.select_related("history_user").order_by("history_date", "history_id")
    )
    result = []
    previous = None
    for row in rows:
        changes = _changed_fields(previous, row) if previous is not None else []
        user = row.history_user
        result.append(
            Version(
                row=row,
                number=getattr(row, "version", None),
                user=(user.get_full_name() or user.username) if user else "system",
                date=row.history_date,
                reason=row.history_change_reason or "",
                action=ACTIONS.get(row.history_type, row.history_type),
                changes=changes,
            )
        )
        previous = row
    result.reverse()
    return result[:limit] if limit else result
