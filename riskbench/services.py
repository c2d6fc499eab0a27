"""Write helpers every service uses: history with actor and reason, optimistic locking,
product-scoped codes and trace links.

Services in the apps call these inside `transaction.atomic`; views never save models directly.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from riskbench.codes import code_problem
from riskbench.history import changed_fields
from riskbench.models import Status, TraceLink


class StaleEditError(Exception):
    """The record changed since the form was loaded: refuse, never overwrite (no lost update).

    `changes` lists (field verbose name, value when loaded, current value) so the user sees
    what somebody else changed.
    """

    def __init__(self, instance, expected_version: int, changes: list[tuple[str, str, str]]):
        self.instance = instance
        self.expected_version = expected_version
        self.changes = changes
        who = (
            getattr(instance.history.first(), "history_user", None)
            if hasattr(instance, "history")
            else None
        )
        super().__init__(
            f"{instance} was changed by {who or 'another user'} (now version {instance.version}, "
            f"you loaded version {expected_version}). Nothing was saved; reload and redo your edit."
        )


def diff_versions(old, new) -> list[tuple[str, str, str]]:
    """Field-by-field differences between two objects (model instances or history rows), with
    raw values: what the stale-edit message lists."""
    return [
        (str(field.verbose_name), "—" if before in (None, "") else str(before),
         "—" if after in (None, "") else str(after))
        for field, before, after in changed_fields(old, new)
    ]  # fmt: skip


MISSING_VERSION = (
    "expected_version is required: send the version of the record you loaded, so that an "
    "edit made meanwhile by somebody else is never overwritten. Nothing was saved."
)


def require_version(expected_version) -> int:
    """The version the writer saw, or a ValidationError naming `expected_version`.

    Every update path (page, API, importer, command) must say which version it edits: without
    it a write made meanwhile would be overwritten silently (a lost update; DESIGN.md §7)."""
    if expected_version is None or isinstance(expected_version, bool):
        raise ValidationError({"expected_version": MISSING_VERSION})
    try:
        return int(expected_version)
    except (TypeError, ValueError):
        raise ValidationError(
            {"expected_version": "expected_version must be a whole number."}
        ) from None


def lock_current(instance):
    """Re-read `instance` under a row lock, without a version check: for writes that are not
    an edit of what a person saw (e.g. a scanner recording a new finding)."""
    return type(instance)._default_manager.select_for_update().get(pk=instance.pk)


def lock_for_edit(instance, expected_version: int):
    """Re-read `instance` under a row lock and refuse when its version moved on.

    `expected_version` is required: a missing one is refused (`require_version`), never read
    as "skip the check"."""
    expected_version = require_version(expected_version)
    current = lock_current(instance)
    if current.version != expected_version:
        loaded = current.history.filter(version=expected_version).first()
        changes = diff_versions(loaded, current) if loaded else []
        raise StaleEditError(current, expected_version, changes)
    return current


class VersionClashError(StaleEditError):
    """A write would give a history row a version another row of the record already carries
    (two writers from one stored version): refused, as a stale edit (no lost update)."""


def claim_next_versions(model, records) -> None:
    """Guard of every content write: each record about to be saved at version n+1 must be
    stored at version n right now (re-read under a row lock, one query for all). Then no two
    history rows of a record can carry the same content version, whatever path writes — the
    services through `save_record`, the bulk paths (imports, re-evaluation) directly.
    Raises VersionClashError on the first record that moved."""
    records = [r for r in records if r.pk is not None]
    if not records:
        return
    stored = dict(
        model._base_manager.filter(pk__in=[r.pk for r in records])
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "version")
    )
    for record in records:
        if stored.get(record.pk) != record.version - 1:
            current = model._base_manager.filter(pk=record.pk).first() or record
            raise VersionClashError(current, record.version - 1, [])


def save_record(
    instance,
    *,
    by,
    reason: str,
    exclude_validation: list[str] | None = None,
    content_changed: bool = True,
):
    """Validate and save a regulated record, leaving a history row with user and reason.

    Editing an approved record needs a reason and returns it to review (its signatures stay on
    the earlier version): 21 CFR 11.10(e), ISO 14971 4.5. `version` counts *content* versions:
    a workflow-only change (status) passes `content_changed=False`, so approving a record does
    not make its trace links suspect; the status change is still in the history.
    """
    creating = instance._state.adding
    reason = (reason or "").strip()  # a blank reason is no reason
    if creating and hasattr(instance, "code"):
        # One code rule for every route (riskbench.codes): forms, API, importers, commands.
        problem = code_problem(instance.code)
        if problem:
            raise ValidationError({"code": problem})
    if not creating and content_changed:
        instance.version += 1
        claim_next_versions(type(instance), [instance])
        if getattr(instance, "status", None) == Status.APPROVED and not getattr(
            instance, "_approving", False
        ):
            if not reason:
                raise ValidationError(
                    {"change_reason": "This record is approved: give a reason for the change."}
                )
            instance.status = Status.IN_REVIEW
            if hasattr(instance, "revision"):
                instance.revision += 1
    instance.full_clean(exclude=exclude_validation)
    instance._history_user = by
    instance._change_reason = (reason or ("Created" if creating else "Edited"))[:100]
    instance.save()
    return instance


def delete_record(instance, *, by, reason: str) -> None:
    """Delete with a history row that says who and why (the earlier values stay in history)."""
    if not (reason or "").strip():
        raise ValidationError({"change_reason": "Give a reason for the deletion."})
    instance._history_user = by
    instance._change_reason = reason[:100]
    instance.delete()


CODE_RE = re.compile(r"^(?P<prefix>[A-Z]+)-(?P<number>\d+)$")


def next_code(
    queryset: models.QuerySet, prefix: str, *, history: models.QuerySet | None = None
) -> str:
    """Next free code in a product's sequence (HAZ-001, RC-001…), after the highest one used.

    Pass `history` (the model's history rows in the same scope, e.g.
    `Hazard.history.filter(product_id=…)`) so that codes of deleted or renamed records count as
    used: the audit trail keeps them bound to their old record, and a code handed out twice
    would make it ambiguous (21 CFR 11.10(e)).

    Callers hold a lock on the product row (`select_for_update`) so two concurrent creations
    cannot draw the same number; the unique constraint is the last line of defence.
    """
    highest = 0
    for source in (queryset, history) if history is not None else (queryset,):
        codes = (
            source.filter(code__startswith=f"{prefix}-").order_by().values_list("code", flat=True)
        )
        for code in codes.distinct():
            match = CODE_RE.match(code)
            if match:
                highest = max(highest, int(match["number"]))
    return f"{prefix}-{highest + 1:03d}"


def link_create(link_model: type[TraceLink], *, by, reason: str = "", **ends) -> TraceLink:
    """Create a trace link recording the current version of both ends (basis of suspicion)."""
    link = link_model(**ends)
    link.source_version = link.source.version
    link.target_version = link.target.version
    link.created_by = by
    link.full_clean()
    link._history_user = by
    link._change_reason = (reason or "Linked")[:100]
    link.save()
    return link


@transaction.atomic
def link_review(link: TraceLink, *, by, reason: str) -> TraceLink:
    """Clear a suspect link after review: record the versions seen now, who reviewed and why."""
    if not (reason or "").strip():
        raise ValidationError({"review_reason": "Say why the link still holds."})
    link = type(link)._default_manager.select_for_update().get(pk=link.pk)
    link.source_version = link.source.version
    link.target_version = link.target.version
    link.reviewed_by = by
    link.reviewed_at = timezone.now()
    link.review_reason = reason
    link._history_user = by
    link._change_reason = f"Reviewed: {reason}"[:100]
    link.save()
    return link


@transaction.atomic
def profile_update(*, user, by, reason: str = "", role_title: str, qualification: str):
    """Record a person's role and qualification (ISO 14971 4.3), by an administrator only: a
    person does not attest their own competence. Leaves a history row with who and why."""
    from riskbench import roles
    from riskbench.models import UserProfile

    roles.require_administrator(by)
    profile = UserProfile.objects.select_for_update().filter(user=user).first() or UserProfile(
        user=user
    )
    profile.role_title = (role_title or "").strip()
    profile.qualification = (qualification or "").strip()
    profile.full_clean()
    profile._history_user = by
    profile._change_reason = (reason or "Role and qualification recorded")[:100]
    profile.save()
    return profile
