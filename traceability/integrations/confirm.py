"""The confirmation step every importer with a preview shares (DESIGN.md §7, issue 9 §1).

A preview is a plan made from the records as they were then; the user confirms *that* plan.
So the preview hands the confirmation the version of every stored record the file touches
(`encode_versions`, a hidden form field), and the confirmation — inside one transaction, with
those rows locked (`select_for_update`) before it re-reads them — refuses the whole import,
naming each record that moved (`ImportConflict`), rather than overwrite an edit made meanwhile.
"""

from __future__ import annotations

import json

from traceability.integrations.uploads import UploadError

MISSING_PLAN = (
    "Nothing was imported: the confirmation does not say which versions of the records the "
    "preview showed. Check the preview and confirm again."
)


class ImportConflict(UploadError):
    """Records the file touches changed since the plan the user confirmed: nothing was written.
    `changed` lists (code, version planned — None if it did not exist —, version now — None if
    it is gone)."""

    def __init__(self, changed: list[tuple[str, int | None, int | None]]):
        def planned(v):
            return "new" if v is None else f"v{v}"

        names = ", ".join(
            f"{code} ({planned(was)} planned, {'deleted' if now is None else f'v{now}'} now)"
            for code, was, now in changed[:20]
        )
        more = f" and {len(changed) - 20} more" if len(changed) > 20 else ""
        super().__init__(
            f"{len(changed)} record(s) changed since the preview, nothing was imported: "
            f"{names}{more}. Preview the file again to see the current values."
        )
        self.changed = changed


def version_conflicts(
    now: dict[str, int], expected: dict[str, int]
) -> list[tuple[str, int | None, int | None]]:
    """(code, planned, now) for every record whose stored version differs from the one the
    confirmed preview recorded, appeared since, or is gone."""
    moved = [(c, expected.get(c), v) for c, v in sorted(now.items()) if expected.get(c) != v]
    gone = [(c, v, None) for c, v in sorted(expected.items()) if c not in now]
    return moved + gone


def refuse_if_moved(now: dict[str, int], expected: dict[str, int] | None) -> None:
    if expected is None:
        return
    conflicts = version_conflicts(now, expected)
    if conflicts:
        raise ImportConflict(conflicts)


def lock_rows(queryset) -> None:
    """Lock the rows an import may change, in id order (the order every bulk path uses, so two
    of them cannot deadlock), before the plan reads them."""
    list(queryset.order_by("pk").select_for_update().values_list("pk", flat=True))


def encode_versions(versions: dict[str, int]) -> str:
    return json.dumps(versions, separators=(",", ":"), sort_keys=True)


def decode_versions(text: str | None) -> dict[str, int] | None:
    """The versions a confirmation form carries, or None when absent or malformed."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and type(v) is int for k, v in data.items()
    ):
        return None
    return data
