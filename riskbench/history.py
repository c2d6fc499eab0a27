"""Read side of the audit trail for one record: every version with who, when, why and a
field-by-field diff against the version before it (21 CFR 11.10(e): never obscures the earlier
value)."""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from riskbench.display import show_value
from riskbench.models import AuditChainEntry, AuditSource


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


def _related_label(obj) -> str:
    if hasattr(obj, "code"):
        return obj.code
    if hasattr(obj, "get_username"):
        return obj.get_full_name() or obj.get_username()
    return str(obj)


class _Related:
    """Labels of the records foreign keys point to, one query per related model for a whole
    history (a diff shows "RC-003" or "Dana Demo", not "risk control #12")."""

    def __init__(self, pairs):
        wanted: dict = {}
        for field, value in pairs:
            if field.is_relation and value is not None:
                wanted.setdefault(field.related_model, set()).add(value)
        self.labels = {
            model: {obj.pk: _related_label(obj) for obj in model._base_manager.filter(pk__in=ids)}
            for model, ids in wanted.items()
        }

    def show(self, field, value) -> str:
        if field.is_relation:
            if value is None:
                return "—"
            label = self.labels.get(field.related_model, {}).get(value)
            return label or f"{field.related_model._meta.verbose_name} #{value} (deleted)"
        return show_value(field, value)


def _display(field, value) -> str:
    """A value as a person reads it: choice labels, local times, "—" for empty."""
    if field.is_relation:
        return "—" if value is None else f"{field.related_model._meta.verbose_name} #{value}"
    return show_value(field, value)


def labelled_changes(old, new) -> list[tuple[str, str, str]]:
    """(field, before, after) as a person reads them, e.g. for the stale-edit message."""
    diffs = list(changed_fields(old, new))
    related = _Related((f, v) for f, before, after in diffs for v in (before, after))
    return [
        (str(f.verbose_name), related.show(f, before), related.show(f, after))
        for f, before, after in diffs
    ]


def user_label(recorded: str | None, user) -> str:
    """The user as recorded when the row was written, and their current name if it changed
    since (history identifies users by id; a rename re-attributes nothing)."""
    if user is None:
        return recorded or "system"
    current = user.get_username()
    if not recorded:
        return user.get_full_name() or current
    return recorded if recorded == current else f"{recorded} (now {current})"


def versions(record, limit: int | None = None) -> list[Version]:
    """All history rows of `record`, newest first, each diffed against its predecessor.

    One query for the rows (with their users and the name each user had when the row was
    written, from its audit chain entry), one per kind of related record a changed foreign key
    points to; diffs are computed in memory.
    """
    recorded = AuditChainEntry.objects.filter(
        source=AuditSource.HISTORY,
        model_label=record._meta.label_lower,
        row_id=OuterRef("history_id"),
    ).values("user_name")[:1]
    rows = list(
        record.history.select_related("history_user")
        .annotate(recorded_user_name=Subquery(recorded))
        .order_by("history_date", "history_id")
    )
    diffs = [list(changed_fields(rows[i - 1], row)) if i else [] for i, row in enumerate(rows)]
    related = _Related(
        (f, v) for changes in diffs for f, before, after in changes for v in (before, after)
    )
    result = []
    for row, changes in zip(rows, diffs, strict=True):
        user = row.history_user
        result.append(
            Version(
                row=row,
                number=getattr(row, "version", None),
                user=user_label(row.recorded_user_name, user),
                date=row.history_date,
                reason=row.history_change_reason or "",
                action=ACTIONS.get(row.history_type, row.history_type),
                changes=[
                    FieldChange(
                        str(f.verbose_name), related.show(f, before), related.show(f, after)
                    )
                    for f, before, after in changes
                ],
            )
        )
    result.reverse()
    return result[:limit] if limit else result
