"""Read side of the audit trail for one record: every version with who, when, why and a
field-by-field diff against the version before it (21 CFR 11.10(e): never obscures the earlier
value)."""

from dataclasses import dataclass

IGNORED_FIELDS = {"updated_at", "created_at"}


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


def _label(model, name):
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a field removed since; show its raw name
        return name


def _value(row, name):
    value = getattr(row, name, None)
    try:
        field = row._meta.get_field(name)
    except Exception:  # noqa: BLE001
        field = None
    if field is not None and field.choices and value not in (None, ""):
        return str(dict(field.flatchoices).get(value, value))
    if value in (None, "", []):
        return "—"
    return str(value)


def _changed_fields(model, previous, row) -> list[FieldChange]:
    """Compare two history rows field by field — including derived, non-editable fields such as
    the evaluated acceptability, which simple-history's `diff_against` would skip."""
    changes = []
    for field in model._meta.concrete_fields:
        name = field.attname
        if field.name in IGNORED_FIELDS or field.name == "version" or field.primary_key:
            continue
        before, after = getattr(previous, name, None), getattr(row, name, None)
        if before == after:
            continue
        if field.is_relation:
            # Show the key, not the related object: no query per row of the history page.
            noun = field.related_model._meta.verbose_name
            changes.append(
                FieldChange(
                    _label(model, field.name),
                    f"{noun} #{before}" if before is not None else "—",
                    f"{noun} #{after}" if after is not None else "—",
                )
            )
        else:
            changes.append(
                FieldChange(
                    _label(model, field.name),
                    _value(previous, field.name),
                    _value(row, field.name),
                )
            )
    return changes


def versions(record, limit: int | None = None) -> list[Version]:
    """All history rows of `record`, newest first, each diffed against its predecessor.

    One query for the rows (with their users); diffs are computed in memory.
    """
    rows = list(
        record.history.select_related("history_user").order_by("history_date", "history_id")
    )
    model = type(record)
    result = []
    previous = None
    for row in rows:
        changes = _changed_fields(model, previous, row) if previous is not None else []
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
