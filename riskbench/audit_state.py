"""Tamper evidence on the *current* rows of every regulated model (21 CFR 11.10(e)).

The audit chain (`riskbench.audit`) proves that no history row was altered or removed. It says
nothing about the rows the application reads: a raw-SQL UPDATE of a current hazard, a status
flipped to approved, an INSERT of a forged approved record or a DELETE of a current row leave
every history row untouched. Every service save writes the current row and a history row with
the same values in one transaction, so the honest state is simple to state and to check:

(a) every current row equals its newest history row (same canonical content over the fields
    the history tracks — equal canonical values field by field, hence the same content hash);
(b) every current row has a history;
(c) a record whose newest history row is not a deletion ("-") still has its current row;
(d) one version number of a record names one content: two history rows of a record that carry
    the same version differ at most in workflow fields (status; a workflow-only change keeps
    the content version) — the trace of a lost update is two different contents under one
    version. A deletion row repeats the version it deleted and is left out.

The models are discovered from simple-history's registry (every model with
`HistoricalRecords`), not from a hand-written list, so a new regulated model is covered the day
it gets a history. Per model a fixed number of queries whatever the amount of data: the current
rows and the newest history row of each record are streamed in primary-key order
(`iterator(chunk_size=…)`: the current rows, and the history rows of which the last of each
record is the newest) and merged in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS

from riskbench.canonical import canonical_value

CHUNK = 2000

MISMATCH = "mismatch"
NO_HISTORY = "no_history"
DELETED_IN_HISTORY = "deleted_in_history"
GONE = "gone_without_deletion"
DUPLICATE_VERSION = "duplicate_version"

# A workflow-only change (submit, approve) saves the record without a new content version
# (`riskbench.services.save_record(content_changed=False)`: approving must not make trace links
# suspect), so rows of one version may differ in these fields and in no other: the status, the
# save time, and what an approval records about itself (`approved_*`, e.g. a risk policy's
# approved criteria).
WORKFLOW_FIELDS = frozenset({"status", "updated_at"})
WORKFLOW_PREFIX = "approved_"


def is_workflow_field(name: str) -> bool:
    return name in WORKFLOW_FIELDS or name.startswith(WORKFLOW_PREFIX)


@dataclass(frozen=True)
class FieldDifference:
    field: str
    stored: object  # canonical value in the current row
    history: object  # canonical value in the newest history row


@dataclass(frozen=True)
class StateFinding:
    """One way the current state disagrees with its history: table, record, field(s)."""

    kind: str
    model_label: str
    table: str
    record_id: object
    code: str
    message: str
    fields: tuple[FieldDifference, ...] = field(default_factory=tuple)

    def __str__(self):
        record = f"{self.table} record {self.record_id}" + (f" ({self.code})" if self.code else "")
        text = f"{record}: {self.message}"
        if self.fields:
            text += ": " + "; ".join(
                f"{d.field} stored {_short(d.stored)} ≠ history {_short(d.history)}"
                for d in self.fields
            )
        return text


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tracked_fields(model, history) -> list[str]:
    """Attnames of the model's stored fields that its history copies (in model order)."""
    in_history = {f.attname for f in history._meta.concrete_fields}
    return [f.attname for f in model._meta.concrete_fields if f.attname in in_history]


def _label_index(names: list[str]) -> int | None:
    for candidate in ("code", "slug", "name", "title"):
        if candidate in names:
            return names.index(candidate)
    return None


def _differences(names, stored, newest) -> tuple[FieldDifference, ...]:
    found = []
    for name, a, b in zip(names, stored, newest, strict=True):
        ca, cb = canonical_value(a), canonical_value(b)
        if ca != cb:
            found.append(FieldDifference(name, ca, cb))
    return tuple(found)


def _merge(current, newest):
    """Pairs (current row or None, newest history row or None) of two pk-ordered streams
    whose first value is the pk."""
    missing = object()
    a, b = next(current, missing), next(newest, missing)
    while a is not missing or b is not missing:
        if b is missing or (a is not missing and a[0] < b[0]):
            yield a, None
            a = next(current, missing)
        elif a is missing or b[0] < a[0]:
            yield None, b
            b = next(newest, missing)
        else:
            yield a, b
            a, b = next(current, missing), next(newest, missing)


def _newest_rows(stream, names, version_at, report_duplicate):
    """The newest history row of each record from a stream of history rows ordered by
    (record pk, history_id); reports two rows of one version that differ in content."""
    content_at = [i for i, n in enumerate(names) if not is_workflow_field(n)]
    current_pk, contents, last = object(), {}, None
    for row in stream:
        if row[0] != current_pk:
            if last is not None:
                yield last
            current_pk, contents = row[0], {}
        last = row
        if version_at is None or row[-1] == "-":
            continue
        version = row[version_at]
        content = tuple(row[i] for i in content_at)
        seen = contents.get(version)
        if seen is None:
            contents[version] = (content, row)
        elif seen[0] != content:
            report_duplicate(seen[1], row)
    if last is not None:
        yield last


def check_model(model, history, using: str = DEFAULT_DB_ALIAS, chunk_size: int = CHUNK):
    """Findings (a)–(d) of one regulated model: two streamed queries whatever its size."""
    names = tracked_fields(model, history)
    pk = model._meta.pk.attname
    # The pk first, so both streams are keyed and ordered alike.
    names = [pk] + [n for n in names if n != pk]
    label_at = _label_index(names)
    version_at = names.index("version") if "version" in names else None
    table = model._meta.db_table
    label = model._meta.label_lower
    findings = []

    def finding(kind, row, message, fields=()):
        code = str(row[label_at]) if label_at is not None and row[label_at] is not None else ""
        return StateFinding(kind, label, table, row[0], code, message, fields)

    def duplicate(first, second):
        differences = _differences(names, first[:-2], second[:-2])
        findings.append(
            finding(
                DUPLICATE_VERSION,
                second,
                f"two history rows carry version {second[version_at]} with different content "
                f"(history_id {first[-2]} and {second[-2]}): a lost update or a forged row",
                tuple(d for d in differences if not is_workflow_field(d.field)),
            )
        )

    current = model._base_manager.using(using).order_by(pk).values_list(*names)
    history_rows = (
        history._base_manager.using(using)
        .order_by(pk, "history_id")
        .values_list(*names, "history_id", "history_type")
    )
    newest = _newest_rows(
        history_rows.iterator(chunk_size=chunk_size), names, version_at, duplicate
    )
    for row, last in _merge(current.iterator(chunk_size=chunk_size), newest):
        if last is None:
            findings.append(
                finding(NO_HISTORY, row, "current row has no history (written behind the services)")
            )
        elif row is None:
            if last[-1] != "-":
                findings.append(
                    finding(
                        GONE,
                        last,
                        "row is gone but its history records no deletion "
                        "(deleted behind the services)",
                    )
                )
        elif last[-1] == "-":
            findings.append(
                finding(DELETED_IN_HISTORY, row, "history records a deletion but the row exists")
            )
        elif row != last[:-2]:
            differences = _differences(names, row, last[:-2])
            if differences:
                findings.append(
                    finding(
                        MISMATCH,
                        row,
                        "current row differs from its newest history row",
                        differences,
                    )
                )
    return findings


def check_current_state(using: str = DEFAULT_DB_ALIAS, chunk_size: int = CHUNK):
    """Findings over every model with a history (see the module docstring)."""
    from riskbench.audit import history_models

    findings = []
    for model, history in history_models():
        findings += check_model(model, history, using, chunk_size)
    return findings
