"""Writes to the IEC 62304 side of the risk file: software items and SOUP, requirements, test
cases, test runs with their evidence, and the trace links between them and the risk register.

Every function takes the acting user and a reason, runs in a transaction, validates and leaves a
history row (21 CFR 11.10(e); ISO 14971 4.5). Each save raises the record's `version`, which is
what makes the links touching it *suspect* (DESIGN.md §3) — no signal, nothing to push: the
suspicion is derived when the graph is read, and cleared by `trace_link_review`.
"""

from __future__ import annotations

import datetime as dt
import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from hazards.models import Hazard, Product, RiskControl
from riskbench.models import TraceLink
from riskbench.services import (
    delete_record,
    link_create,
    link_review,
    lock_for_edit,
    next_code,
    save_record,
)
from traceability.models import (
    LINK_MODELS,
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementTest,
    SoftwareItem,
    SoftwareItemHazard,
    TestCase,
    TestResult,
    TestRun,
    sha256_of_file,
)

SOFTWARE_ITEM_PREFIX = "SW"
REQUIREMENT_PREFIX = "SRS"
TEST_CASE_PREFIX = "TC"


def _same_product(*records) -> None:
    products = {r.product_id for r in records if r is not None}
    if len(products) > 1:
        raise ValidationError("Both ends of a link must belong to the same product.")


def _check_parent(record, parent, field_name: str = "parent") -> None:
    """A parent must be in the same product and must not be the record or one of its
    descendants (a tree, never a cycle)."""
    if parent is None:
        return
    if parent.product_id != record.product_id:
        raise ValidationError({field_name: "The parent must belong to the same product."})
    node, seen = parent, set()
    while node is not None and node.pk not in seen:
        if record.pk is not None and node.pk == record.pk:
            raise ValidationError({field_name: "An item cannot be its own ancestor."})
        seen.add(node.pk)
        node = node.parent
    return


def _apply(record, fields: dict) -> None:
    for name, value in fields.items():
        setattr(record, name, value)


def _delete_links(links, *, by, reason: str) -> None:
    """Delete links one by one through the history-keeping path before their end is deleted
    (a database cascade would leave no user or reason in the links' history)."""
    for link in links:
        delete_record(link, by=by, reason=reason)


def _protected(exc: ProtectedError, what: str) -> ValidationError:
    blockers = sorted({str(obj) for obj in exc.protected_objects})[:5]
    return ValidationError(f"{what} is still referenced by: {', '.join(blockers)}.")


# --- Software items and SOUP (IEC 62304 4.3, 5.3, 8.1.2) ----------------------------------------


@transaction.atomic
def software_item_create(*, product: Product, by, reason: str = "", **fields) -> SoftwareItem:
    """Add a software item of the architecture (IEC 62304 5.3), or a SOUP item (8.1.2), with
    the next free SW code and its safety class (4.3)."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    code = fields.pop("code", None) or next_code(product.software_items.all(), SOFTWARE_ITEM_PREFIX)
    item = SoftwareItem(product=product, code=code, **fields)
    if item.anomalies_reviewed_at and not fields.get("anomalies_reviewed_version"):
        item.anomalies_reviewed_version = item.soup_version
    _check_parent(item, item.parent)
    return save_record(item, by=by, reason=reason or "Created")


@transaction.atomic
def software_item_update(
    *, item: SoftwareItem, by, reason: str = "", expected_version: int, **fields
) -> SoftwareItem:
    """Edit an item. A SOUP update (new version) is a change to analyse (IEC 62304 7.4): the
    links to its hazards become suspect until reviewed."""
    current = lock_for_edit(item, expected_version)
    reviewed_before = current.anomalies_reviewed_at
    _apply(current, fields)
    if (
        current.anomalies_reviewed_at
        and current.anomalies_reviewed_at != reviewed_before
        and not fields.get("anomalies_reviewed_version")
    ):
        # A new anomaly review covers the version recorded now (IEC 62304 7.1.3); a later
        # version change leaves it behind, and the release gate says so.
        current.anomalies_reviewed_version = current.soup_version
    _check_parent(current, current.parent)
    return save_record(current, by=by, reason=reason)


@transaction.atomic
def software_item_delete(*, item: SoftwareItem, by, reason: str, expected_version: int) -> None:
    """Remove an item; its history stays. Like every record deletion it names the version the
    caller saw (a changed or missing one is refused) and checks the locked current row."""
    if not (reason or "").strip():
        raise ValidationError({"change_reason": "Give a reason for the deletion."})
    item = lock_for_edit(item, expected_version)
    if item.children.exists():
        raise ValidationError("Delete or move the item's sub-items first.")
    if item.requirements.exists():
        raise ValidationError("Requirements are allocated to this item; re-allocate them first.")
    _delete_links(item.hazard_links.all(), by=by, reason=reason)
    try:
        delete_record(item, by=by, reason=reason)
    except ProtectedError as exc:
        raise _protected(exc, str(item)) from exc


# --- Requirements (IEC 62304 5.2, 7.2) ---------------------------------------------------------


@transaction.atomic
def requirement_create(*, product: Product, by, reason: str = "", **fields) -> Requirement:
    """Add a requirement with the next free SRS code. Risk control measures implemented in
    software become software requirements (IEC 62304 7.2): link them with
    `control_requirement_link`."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    code = fields.pop("code", None) or next_code(product.requirements.all(), REQUIREMENT_PREFIX)
    requirement = Requirement(product=product, code=code, **fields)
    _check_parent(requirement, requirement.parent)
    _same_product(requirement, requirement.software_item)
    return save_record(requirement, by=by, reason=reason or "Created")


@transaction.atomic
def requirement_update(
    *, requirement: Requirement, by, reason: str = "", expected_version: int, **fields
) -> Requirement:
    """Edit a requirement: its links to controls and tests become suspect (derived)."""
    current = lock_for_edit(requirement, expected_version)
    _apply(current, fields)
    _check_parent(current, current.parent)
    _same_product(current, current.software_item)
    return save_record(current, by=by, reason=reason)


@transaction.atomic
def requirement_delete(*, requirement: Requirement, by, reason: str, expected_version: int) -> None:
    """Remove a requirement and its links; its history stays. The version the caller saw is
    checked and the status read on the locked current row (it may have been approved since)."""
    if not (reason or "").strip():
        raise ValidationError({"change_reason": "Give a reason for the deletion."})
    requirement = lock_for_edit(requirement, expected_version)
    if requirement.status == "approved":
        raise ValidationError("An approved requirement cannot be deleted; reopen it first.")
    if requirement.children.exists():
        raise ValidationError("Delete or re-parent the requirement's child requirements first.")
    _delete_links(requirement.control_links.all(), by=by, reason=reason)
    _delete_links(requirement.test_links.all(), by=by, reason=reason)
    delete_record(requirement, by=by, reason=reason)


# --- Test cases and runs (IEC 62304 5.5–5.7, 7.3.1) --------------------------------------------


@transaction.atomic
def test_case_create(*, product: Product, by, reason: str = "", **fields) -> TestCase:
    """Add a verification activity with the next free TC code."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    code = fields.pop("code", None) or next_code(product.test_cases.all(), TEST_CASE_PREFIX)
    test_case = TestCase(product=product, code=code, **fields)
    return save_record(test_case, by=by, reason=reason or "Created")


test_case_create.__test__ = False  # a service, not a pytest test


@transaction.atomic
def test_case_update(
    *, test_case: TestCase, by, reason: str = "", expected_version: int, **fields
) -> TestCase:
    """Edit a test case: the links from what it verifies become suspect (derived)."""
    current = lock_for_edit(test_case, expected_version)
    _apply(current, fields)
    return save_record(current, by=by, reason=reason)


test_case_update.__test__ = False


@transaction.atomic
def test_case_delete(*, test_case: TestCase, by, reason: str, expected_version: int) -> None:
    """Only a test case with no recorded runs may go: evidence is kept (21 CFR 11.10(c)). The
    version the caller saw is checked on the locked current row."""
    if not (reason or "").strip():
        raise ValidationError({"change_reason": "Give a reason for the deletion."})
    test_case = lock_for_edit(test_case, expected_version)
    if test_case.runs.exists():
        raise ValidationError("This test case has recorded runs; their evidence must be kept.")
    for related in (
        test_case.requirement_links.all(),
        test_case.implementation_control_links.all(),
        test_case.effectiveness_control_links.all(),
    ):
        _delete_links(related, by=by, reason=reason)
    delete_record(test_case, by=by, reason=reason)


test_case_delete.__test__ = False


def check_upload(file) -> None:
    """Uploaded files are hostile: refuse anything over the configured size before reading."""
    limit = settings.RISKBENCH_MAX_UPLOAD_BYTES
    if file.size is None or file.size > limit:
        raise ValidationError(
            {"evidence": f"The file is larger than the {limit // (1024 * 1024)} MB limit."}
        )
    if file.size == 0:
        raise ValidationError({"evidence": "The file is empty."})


@transaction.atomic
def test_run_record(
    *,
    test_case: TestCase,
    by,
    result: str,
    executed_at=None,
    software_version: str = "",
    notes: str = "",
    evidence=None,
    external_reference: str = "",
    executed_by=None,
    reason: str = "",
) -> TestRun:
    """Record one execution of a test case as evidence (IEC 62304 5.7.5; ISO 14971 7.2).

    The evidence file, if any, is size-checked, hashed (SHA-256) while uploaded and stored
    through Django's storage API, so the evidence manifest of the dossier can prove it unchanged.
    A run is never edited: a new execution is a new run, and the latest one is the result.
    """
    if result not in TestResult.values:
        raise ValidationError({"result": f"Unknown result {result!r}."})
    executed_at = executed_at or timezone.now()
    if executed_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"executed_at": "A run cannot be executed in the future."})
    run = TestRun(
        test_case=test_case,
        result=result,
        executed_at=executed_at,
        executed_by=executed_by or by,
        software_version=software_version,
        notes=notes,
        external_reference=external_reference,
    )
    if evidence is not None:
        check_upload(evidence)
        name = os.path.basename(evidence.name or "evidence")[:200] or "evidence"
        run.evidence_sha256 = sha256_of_file(evidence)
        run.evidence_size = evidence.size
        run.evidence_name = name
        run.evidence = evidence
    return save_record(run, by=by, reason=reason or f"Run recorded: {result}")


test_run_record.__test__ = False


@transaction.atomic
def test_run_delete(*, run: TestRun, by, reason: str) -> None:
    """Remove a run recorded in error. The run and its hash stay in history; the stored file is
    kept (evidence is never destroyed by the application)."""
    delete_record(run, by=by, reason=reason)


test_run_delete.__test__ = False


# --- Trace links -------------------------------------------------------------------------------


def _link(model, *, by, reason: str, **ends) -> TraceLink:
    _same_product(*ends.values())
    return link_create(model, by=by, reason=reason or "Linked", **ends)


@transaction.atomic
def control_requirement_link(
    *, control: RiskControl, requirement: Requirement, by, reason: str = ""
) -> ControlRequirement:
    """The control is implemented by the requirement (IEC 62304 7.2)."""
    return _link(ControlRequirement, control=control, requirement=requirement, by=by, reason=reason)


@transaction.atomic
def requirement_test_link(
    *, requirement: Requirement, test_case: TestCase, by, reason: str = ""
) -> RequirementTest:
    """The requirement is verified by the test case (IEC 62304 5.7, 7.3.1)."""
    return _link(
        RequirementTest, requirement=requirement, test_case=test_case, by=by, reason=reason
    )


@transaction.atomic
def control_implementation_test_link(
    *, control: RiskControl, test_case: TestCase, by, reason: str = ""
) -> ControlImplementationTest:
    """The test verifies that the control is implemented (ISO 14971 7.2, first part)."""
    return _link(
        ControlImplementationTest, control=control, test_case=test_case, by=by, reason=reason
    )


@transaction.atomic
def control_effectiveness_test_link(
    *, control: RiskControl, test_case: TestCase, by, reason: str = ""
) -> ControlEffectivenessTest:
    """The test verifies that the control is effective (ISO 14971 7.2, second part)."""
    return _link(
        ControlEffectivenessTest, control=control, test_case=test_case, by=by, reason=reason
    )


@transaction.atomic
def software_item_hazard_link(
    *,
    software_item: SoftwareItem,
    hazard: Hazard,
    cause_type: str,
    cause: str = "",
    by,
    reason: str = "",
) -> SoftwareItemHazard:
    """The software item can contribute to the hazardous situation through this cause
    (IEC 62304 7.1.1, 7.1.2)."""
    _same_product(software_item, hazard)
    return link_create(
        SoftwareItemHazard,
        software_item=software_item,
        hazard=hazard,
        cause_type=cause_type,
        cause=cause,
        by=by,
        reason=reason or "Linked",
    )


@transaction.atomic
def trace_link_delete(*, link: TraceLink, by, reason: str) -> None:
    """Remove a link; its history keeps who, when and why."""
    delete_record(link, by=by, reason=reason)


def trace_link_review(*, link: TraceLink, by, reason: str) -> TraceLink:
    """Clear a suspect link after checking it still holds (IEC 62304 7.4: changes analysed for
    their effect on existing risk controls). The reason is mandatory and lands in the link's
    history, with the reviewer and the versions of both ends seen now."""
    return link_review(link, by=by, reason=reason)


def _hazard_link_models():
    from hazards.models import ControlIntroducedHazard, HazardControl, HazardTransfer

    return (HazardControl, ControlIntroducedHazard, HazardTransfer)


def link_model_for(kind: str):
    """The link model for a graph edge kind (both apps' links), for views that address a link
    by kind and id."""
    models = {m.KIND: m for m in (*LINK_MODELS, *_hazard_link_models())}
    if kind not in models:
        raise ValidationError(f"Unknown link kind {kind!r}.")
    return models[kind]
