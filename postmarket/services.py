"""Writes of the post-market records. Each takes the acting user and a reason, runs in a
transaction, locks what it changes (`lock_for_edit`), validates and leaves a history row
(21 CFR 11.10(e)); hazard changes go through `hazards.services`, so a re-estimation made after
field information is in the hazard's own history with that information as its reason."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from hazards import services as hazard_services
from hazards.models import Category, Hazard, Product
from postmarket import workflow
from postmarket.models import (
    AnalysisState,
    ChangeRequest,
    ChangeStatus,
    FieldDecision,
    FieldExposure,
    FieldRecord,
    FieldRecordHazard,
    ProblemReport,
    ProblemReportHazard,
    ProblemReportItem,
    ProblemReportRun,
    ProblemSource,
    ProblemStatus,
    RunRole,
    Vulnerability,
)
from riskbench import signatures
from riskbench.models import SignatureMeaning
from riskbench.services import (
    delete_record,
    link_create,
    link_review,
    lock_current,
    lock_for_edit,
    next_code,
)
from riskbench.services import save_record as _save
from traceability.models import SoftwareItem, TestResult, TestRun

PROBLEM_PREFIX = "PR"
CHANGE_PREFIX = "CR"
VULNERABILITY_PREFIX = "VUL"
FIELD_PREFIX = "FI"


def _fields_only(model, fields: dict, protected: set[str]) -> None:
    known = {f.name for f in model._meta.concrete_fields}
    bad = sorted((set(fields) & protected) | (set(fields) - known))
    if bad:
        raise ValidationError({name: "This field cannot be changed here." for name in bad})


def _same_product(product_id: int, *records) -> None:
    for record in records:
        if record is None:
            continue
        owner = getattr(record, "product_id", None)
        if owner is None and isinstance(record, TestRun):
            owner = record.test_case.product_id
        if owner != product_id:
            raise ValidationError(f"{record} belongs to another product.")


def _code(product: Product, model, prefix: str) -> str:
    """Next free code; the caller holds the product's row lock."""
    return next_code(
        model.objects.filter(product=product),
        prefix,
        history=model.history.filter(product_id=product.pk),
    )


def _locked_product(product: Product) -> Product:
    return Product.objects.select_for_update().get(pk=product.pk)


# --- Problem reports (IEC 62304 §9) -----------------------------------------------------------

REPORT_PROTECTED = {
    "id",
    "product",
    "code",
    "status",
    "closed_at",
    "version",
    "created_at",
    "updated_at",
}


@transaction.atomic
def problem_report_create(
    *, product: Product, by, reason: str = "", runs=(), hazards=(), items=(), **fields
) -> ProblemReport:
    """Record a problem report (IEC 62304 9.1) with the next free PR code, optionally linked to
    the failed runs that revealed it, the hazards and software items it concerns."""
    _fields_only(ProblemReport, fields, REPORT_PROTECTED)
    product = _locked_product(product)
    report = ProblemReport(
        product=product, code=_code(product, ProblemReport, PROBLEM_PREFIX), **fields
    )
    _save(report, by=by, reason=reason or "Problem reported (IEC 62304 9.1)")
    for run in runs:
        problem_report_link_run(report=report, run=run, role=RunRole.FAILURE, by=by)
    for hazard in hazards:
        problem_report_link_hazard(report=report, hazard=hazard, by=by)
    for item in items:
        problem_report_link_item(report=report, item=item, by=by)
    return report


@transaction.atomic
def problem_report_from_run(*, run: TestRun, by, reason: str = "") -> tuple[ProblemReport, bool]:
    """One click from a failed run: a problem report (source "test failure") linked to the run,
    the version it ran on and the software items its requirements are allocated to. Returns
    (report, created); a run already reported returns its report unchanged."""
    run = TestRun.objects.select_related("test_case__product").get(pk=run.pk)
    if run.result != TestResult.FAIL:
        raise ValidationError({"result": "Only a failed run is reported as a problem."})
    existing = (
        ProblemReport.objects.filter(run_links__test_run=run, run_links__role=RunRole.FAILURE)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing, False
    test_case = run.test_case
    items = SoftwareItem.objects.filter(
        product=test_case.product, requirements__test_links__test_case=test_case
    ).distinct()
    notes = run.notes.strip() or "No notes were recorded with the run."
    report = problem_report_create(
        product=test_case.product,
        by=by,
        reason=reason or f"Reported from the failed run of {test_case.code}",
        runs=[run],
        items=list(items),
        title=f"{test_case.code} failed: {test_case.title}"[:200],
        source=ProblemSource.TEST_FAILURE,
        description=(
            f"{test_case.code} ({test_case.title}) failed on "
            f"{run.executed_at:%Y-%m-%d %H:%M} UTC on software version "
            f"{run.software_version or 'not recorded'}.\n\n{notes}"
        ),
        product_versions=run.software_version[:200],
    )
    return report, True


@transaction.atomic
def problem_report_update(
    *, report: ProblemReport, by, reason: str = "", expected_version: int, **fields
) -> ProblemReport:
    """Edit a report's content. A closed report is reopened first (its closure is signed)."""
    _fields_only(ProblemReport, fields, REPORT_PROTECTED)
    current = lock_for_edit(report, expected_version)
    if current.status == ProblemStatus.CLOSED:
        raise ValidationError({"status": "This report is closed and signed: reopen it first."})
    for name, value in fields.items():
        setattr(current, name, value)
    return _save(current, by=by, reason=reason)


@transaction.atomic
def problem_report_set_status(
    *, report: ProblemReport, status: str, by, reason: str = "", expected_version: int
) -> ProblemReport:
    """Move a report along open → investigating → change → verifying; reopening a closed
    report needs a reason. Closing is `problem_report_close` (signed)."""
    current = lock_for_edit(report, expected_version)
    if status not in ProblemStatus.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if status == ProblemStatus.CLOSED:
        raise ValidationError({"status": "Closing is signed: use the closure form."})
    if not workflow.can_move(current.status, status):
        raise ValidationError(
            {
                "status": f"{current.code} cannot go from "
                f"{current.get_status_display()} to "
                f"{ProblemStatus(status).label}."
            }
        )
    if current.status == ProblemStatus.CLOSED and not (reason or "").strip():
        raise ValidationError({"reason": "Say why the closed report is reopened."})
    current.status = status
    current.closed_at = None
    return _save(
        current,
        by=by,
        content_changed=False,
        reason=reason or f"Status set to {ProblemStatus(status).label.lower()}",
    )


def closure_problems(report: ProblemReport) -> list[tuple[str, str]]:
    links = list(report.hazard_links.select_related("hazard"))
    runs = report.run_links.filter(role=RunRole.VERIFICATION).select_related("test_run")
    return workflow.closure_problems(
        status=report.status,
        investigation=report.investigation,
        safety_related=report.safety_related,
        hazard_links=[(link.hazard.code, link.re_evaluated) for link in links],
        change_requests=list(report.change_requests.values_list("code", "status")),
        verification_results=[link.test_run.result for link in runs],
    )


def problem_report_close(
    *,
    report: ProblemReport,
    by,
    username: str,
    password: str,
    reason: str = "",
    expected_version: int,
    request=None,
) -> ProblemReport:
    """Close a report with the closer's electronic signature (IEC 62304 9.8; 21 CFR 11.50):
    both signature components are checked, then — in one transaction — the closure rules
    (investigation, safety relevance, hazards re-evaluated, changes done and verified) and the
    status change, and the "approved" signature is bound to the closed content."""
    if not signatures.can_sign(by, report):
        raise signatures.SignatureRefused("Your role does not allow you to sign this record.")
    signatures.check_credentials(
        user=by, username=username, password=password, request=request, product=report.product
    )
    with transaction.atomic():
        current = lock_for_edit(report, expected_version)
        problems = closure_problems(current)
        if problems:
            raise ValidationError({field: message for field, message in problems})
        current.status = ProblemStatus.CLOSED
        current.closed_at = timezone.now()
        _save(
            current,
            by=by,
            content_changed=False,
            reason=f"Closed with electronic signature of {by.get_username()}",
        )
        signatures.signature_create(
            record=current,
            by=by,
            meaning=SignatureMeaning.APPROVED,
            reason=reason or "Problem resolved and closed (IEC 62304 9.8)",
            request=request,
        )
    return current


def _open(report: ProblemReport) -> None:
    """A closed report's links are part of what its closure signature attests: reopen first."""
    if ProblemReport.objects.filter(pk=report.pk, status=ProblemStatus.CLOSED).exists():
        raise ValidationError("This report is closed and signed: reopen it to change its links.")


def _link(model, report, *, by, reason, check_product, **ends):
    _open(report)
    _same_product(report.product_id, check_product)
    lookup = {k: v for k, v in ends.items()}
    if model.objects.filter(problem_report=report, **lookup).exists():
        raise ValidationError(f"That link exists already on {report.code}.")
    return link_create(model, by=by, reason=reason or "Linked", problem_report=report, **ends)


@transaction.atomic
def problem_report_link_hazard(*, report, hazard: Hazard, by, reason: str = ""):
    """The problem concerns this hazard (IEC 62304 9.3): it must be re-evaluated."""
    return _link(
        ProblemReportHazard, report, by=by, reason=reason, check_product=hazard, hazard=hazard
    )


@transaction.atomic
def problem_report_link_item(*, report, item: SoftwareItem, by, reason: str = ""):
    return _link(
        ProblemReportItem, report, by=by, reason=reason, check_product=item, software_item=item
    )


@transaction.atomic
def problem_report_link_run(*, report, run: TestRun, role: str, by, reason: str = ""):
    """A run that revealed the problem, or one that verifies its fix (9.7)."""
    if role not in RunRole.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if role == RunRole.FAILURE and run.result == TestResult.PASS:
        raise ValidationError({"test_run": "A passing run cannot be the failure reported."})
    return _link(
        ProblemReportRun, report, by=by, reason=reason, check_product=run, test_run=run, role=role
    )


@transaction.atomic
def problem_report_unlink(*, link, by, reason: str) -> None:
    _open(link.problem_report)
    delete_record(link, by=by, reason=reason)


def problem_hazard_review(*, link: ProblemReportHazard, by, reason: str) -> ProblemReportHazard:
    """Record that the hazard was re-evaluated in the light of the problem and its estimate
    still holds (ISO 14971 10.4): the reason is kept in the link's history."""
    return link_review(link, by=by, reason=f"Re-evaluated: {reason}")


@transaction.atomic
def change_request_create(*, report: ProblemReport, by, reason: str = "", **fields):
    """A change request that fixes the problem (IEC 62304 9.4)."""
    _fields_only(ChangeRequest, fields, {"id", "product", "code", "problem_report", "version"})
    product = _locked_product(report.product)
    if report.status == ProblemStatus.CLOSED:
        raise ValidationError("The report is closed: reopen it to add a change.")
    change = ChangeRequest(
        product=product,
        problem_report=report,
        code=_code(product, ChangeRequest, CHANGE_PREFIX),
        **fields,
    )
    return _save(change, by=by, reason=reason or f"Change requested for {report.code}")


@transaction.atomic
def change_request_update(
    *, change: ChangeRequest, by, reason: str = "", expected_version: int, **fields
) -> ChangeRequest:
    _fields_only(ChangeRequest, fields, {"id", "product", "code", "problem_report", "version"})
    current = lock_for_edit(change, expected_version)
    if fields.get("status") == ChangeStatus.IMPLEMENTED and not (
        fields.get("implemented_in") or current.implemented_in
    ):
        raise ValidationError({"implemented_in": "Say in which version it is implemented."})
    for name, value in fields.items():
        setattr(current, name, value)
    return _save(current, by=by, reason=reason)


# --- Vulnerabilities ----------------------------------------------------------------------------

FEED_FIELDS = (
    "aliases",
    "summary",
    "details",
    "advisory_modified",
    "published",
    "cvss_vector",
    "cvss_score",
    "in_kev",
    "kev_date_added",
    "withdrawn",
    "matched_version",
    "match_basis",
    "affected_ranges",
    "fixed_versions",
    "references",
)


@transaction.atomic
def vulnerability_record(
    *,
    product: Product,
    item: SoftwareItem,
    advisory_id: str,
    by,
    reason: str,
    code: str | None = None,
    **feed,
) -> Vulnerability:
    """Record a match of an advisory on a SOUP item, to be assessed (under investigation).

    `code`: a batch that already holds the product's lock (`vulncheck.apply`) numbers its
    records itself instead of re-reading every code per record."""
    bad = set(feed) - set(FEED_FIELDS)
    if bad:
        raise ValidationError({name: "Not a feed field." for name in sorted(bad)})
    _same_product(product.pk, item)
    product = _locked_product(product)
    vulnerability = Vulnerability(
        product=product,
        software_item=item,
        advisory_id=advisory_id,
        code=code or _code(product, Vulnerability, VULNERABILITY_PREFIX),
        **feed,
    )
    return _save(vulnerability, by=by, reason=reason)


@transaction.atomic
def vulnerability_refresh(*, vulnerability: Vulnerability, by, reason: str, **feed):
    """The feed says something new about a recorded vulnerability (advisory modified, listed
    in KEV, withdrawn…). Feed fields only; the assessment is untouched unless the SOUP moved
    out of every affected range, which `fixed_by_update` records as fixed."""
    fixed = feed.pop("fixed_by_update", False)
    bad = set(feed) - set(FEED_FIELDS)
    if bad:
        raise ValidationError({name: "Not a feed field." for name in sorted(bad)})
    current = lock_current(vulnerability)
    for name, value in feed.items():
        setattr(current, name, value)
    if fixed and current.analysis_state != AnalysisState.FIXED:
        current.analysis_state = AnalysisState.FIXED
        current.justification = ""
        note = f"SOUP version {current.software_item.soup_version} is outside the affected ranges."
        current.analysis_detail = f"{current.analysis_detail}\n{note}".strip()
    return _save(current, by=by, reason=reason)


@transaction.atomic
def vulnerability_assess(
    *,
    vulnerability: Vulnerability,
    by,
    reason: str = "",
    expected_version: int,
    analysis_state: str,
    justification: str = "",
    analysis_detail: str = "",
    hazard: Hazard | None = None,
    problem_report: ProblemReport | None = None,
) -> Vulnerability:
    """A person's VEX-style assessment (FDA premarket cybersecurity guidance: every known
    vulnerability assessed): affected ones are handled by a security hazard or a problem
    report; not affected ones say why (CycloneDX justification)."""
    current = lock_for_edit(vulnerability, expected_version)
    _same_product(current.product_id, hazard, problem_report)
    if hazard is not None and hazard.category != Category.SECURITY:
        raise ValidationError({"hazard": f"{hazard.code} is not a security hazard."})
    problems = workflow.assessment_problems(
        state=analysis_state,
        justification=justification,
        has_hazard=hazard is not None,
        has_problem_report=problem_report is not None,
    )
    if problems:
        raise ValidationError(dict(problems))
    current.analysis_state = analysis_state
    current.justification = justification
    current.analysis_detail = analysis_detail
    current.hazard = hazard
    current.problem_report = problem_report
    current.assessed_by = by
    current.assessed_at = timezone.now()
    return _save(
        current, by=by, reason=reason or f"Assessed: {current.get_analysis_state_display()}"
    )


def _security_hazard_fields(v: Vulnerability) -> dict:
    """A draft security hazard for the vulnerability. Its CVSS vector is quoted in the
    vulnerability text, not entered as the estimate: the estimate needs the severity of the
    harm, which only the analyst can give (AAMI TIR57)."""
    names = ", ".join([v.advisory_id, *v.cve_ids])
    text = f"{names}: {v.summary}".strip(": ")
    if v.cvss_vector:
        text += f"\nPublished CVSS: {v.cvss_score or ''} {v.cvss_vector}".rstrip()
    return {
        "category": Category.SECURITY,
        "title": f"{v.software_item.name} {v.matched_version}: {v.summary or v.advisory_id}"[:200],
        "asset": f"{v.software_item.code} {v.software_item.name}"[:200],
        "vulnerability": text,
        "hazard_type": "performance",
    }


@transaction.atomic
def vulnerability_new_hazard(
    *, vulnerability: Vulnerability, by, reason: str = "", expected_version: int
) -> Hazard:
    """Open a security hazard for an affected vulnerability (AAMI TIR57) and assess the
    vulnerability as affected, handled by it. The hazard starts as a draft to be analysed."""
    current = lock_for_edit(vulnerability, expected_version)
    hazard = hazard_services.hazard_create(
        product=current.product,
        by=by,
        reason=f"Opened for {current.code} {current.advisory_id}"[:100],
        **_security_hazard_fields(current),
    )
    vulnerability_assess(
        vulnerability=current,
        by=by,
        reason=reason or f"Affected; handled by {hazard.code}",
        analysis_state=AnalysisState.AFFECTED,
        analysis_detail=current.analysis_detail,
        hazard=hazard,
        problem_report=current.problem_report,
        expected_version=current.version,
    )
    return hazard


# --- Field information (ISO 14971 §10) ----------------------------------------------------------

FIELD_PROTECTED = {
    "id",
    "product",
    "code",
    "version",
    "reviewed_by",
    "reviewed_at",
    "problem_report",
    "decision",
    "safety_relevant",
    "review_notes",
}


@transaction.atomic
def field_record_create(*, product: Product, by, reason: str = "", hazards=(), **fields):
    """Record production or post-production information (ISO 14971 10.2)."""
    _fields_only(FieldRecord, fields, FIELD_PROTECTED)
    product = _locked_product(product)
    record = FieldRecord(product=product, code=_code(product, FieldRecord, FIELD_PREFIX), **fields)
    _save(record, by=by, reason=reason or "Field information recorded (ISO 14971 10.2)")
    for hazard in hazards:
        field_record_link_hazard(record=record, hazard=hazard, by=by)
    return record


@transaction.atomic
def field_record_update(
    *, record: FieldRecord, by, reason: str = "", expected_version: int, **fields
) -> FieldRecord:
    _fields_only(FieldRecord, fields, FIELD_PROTECTED)
    current = lock_for_edit(record, expected_version)
    for name, value in fields.items():
        setattr(current, name, value)
    return _save(current, by=by, reason=reason)


@transaction.atomic
def field_record_link_hazard(*, record: FieldRecord, hazard: Hazard, by, reason: str = ""):
    _same_product(record.product_id, hazard)
    if FieldRecordHazard.objects.filter(field_record=record, hazard=hazard).exists():
        raise ValidationError(f"{record.code} is already linked to {hazard.code}.")
    return link_create(
        FieldRecordHazard, field_record=record, hazard=hazard, by=by, reason=reason or "Linked"
    )


@transaction.atomic
def field_record_review(
    *,
    record: FieldRecord,
    by,
    reason: str = "",
    expected_version: int,
    safety_relevant: bool,
    decision: str,
    review_notes: str,
    new_hazard: dict | None = None,
) -> FieldRecord:
    """Review the information for relevance to safety (ISO 14971 10.3) and record the decision
    (10.4). "New hazard" opens it (a draft to analyse) and links it; "problem report" opens one
    linked to the record; "re-estimate" needs linked hazards, each then re-estimated with
    `field_record_reestimate` so the change is in the hazard's history."""
    current = lock_for_edit(record, expected_version)
    if decision not in FieldDecision.values:
        raise ValidationError({"decision": f"Unknown decision {decision!r}."})
    if not review_notes.strip():
        raise ValidationError({"review_notes": "Record the review (ISO 14971 10.3)."})
    if decision != FieldDecision.NO_CHANGE and not safety_relevant:
        raise ValidationError(
            {
                "decision": "Only information relevant to safety leads to an "
                "action; choose no change."
            }
        )
    if decision == FieldDecision.RE_ESTIMATE and not current.hazard_links.exists():
        raise ValidationError({"decision": "Link the hazards to re-estimate first."})
    if decision == FieldDecision.NEW_HAZARD:
        if not new_hazard or not (new_hazard.get("title") or "").strip():
            raise ValidationError({"new_hazard_title": "Name the new hazard."})
        hazard = hazard_services.hazard_create(
            product=current.product,
            by=by,
            reason=f"Identified from field information {current.code} (ISO 14971 10.4)"[:100],
            **new_hazard,
        )
        field_record_link_hazard(
            record=current, hazard=hazard, by=by, reason=f"New hazard from {current.code}"
        )
    if decision == FieldDecision.PROBLEM_REPORT and current.problem_report_id is None:
        source = {
            "vulnerability_disclosure": ProblemSource.VULNERABILITY,
            "complaint": ProblemSource.COMPLAINT,
        }.get(current.kind, ProblemSource.FIELD_REPORT)
        report = problem_report_create(
            product=current.product,
            by=by,
            reason=f"Opened from {current.code}",
            title=current.title,
            source=source,
            description=f"From {current.code} ({current.get_kind_display()}, received "
            f"{current.received_on:%Y-%m-%d}).\n\n{current.description}",
            hazards=[link.hazard for link in current.hazard_links.select_related("hazard")],
        )
        current.problem_report = report
    current.safety_relevant = safety_relevant
    current.decision = decision
    current.review_notes = review_notes
    current.reviewed_by = by
    current.reviewed_at = timezone.now()
    return _save(current, by=by, reason=reason or f"Reviewed: {current.get_decision_display()}")


REESTIMATE_FIELDS = (
    "severity",
    "p1",
    "p2",
    "probability",
    "residual_severity",
    "residual_p1",
    "residual_p2",
    "residual_probability",
    "cvss_vector",
    "residual_cvss_vector",
)


def field_record_reestimate(
    *, record: FieldRecord, hazard: Hazard, by, expected_version: int, note: str = "", **estimate
) -> Hazard:
    """Re-estimate a linked hazard after field information (ISO 14971 10.4) through
    `hazards.services.hazard_update`: the hazard's history names the field record as reason."""
    bad = set(estimate) - set(REESTIMATE_FIELDS)
    if bad:
        raise ValidationError({name: "Not an estimate field." for name in sorted(bad)})
    if not FieldRecordHazard.objects.filter(field_record=record, hazard=hazard).exists():
        raise ValidationError({"hazard": f"{hazard.code} is not linked to {record.code}."})
    reason = f"Re-estimated after {record.code} (ISO 14971 10.4){': ' + note if note else ''}"
    return hazard_services.hazard_update(
        hazard=hazard,
        by=by,
        reason=reason[:100],
        expected_version=expected_version,
        fields=estimate,
    )


@transaction.atomic
def field_exposure_create(*, product: Product, by, reason: str = "", **fields) -> FieldExposure:
    """Record the exposure (uses in the field) that the probability trend divides by."""
    _fields_only(FieldExposure, fields, {"id", "product", "version"})
    exposure = FieldExposure(product=product, **fields)
    if (
        exposure.period_end
        and exposure.period_start
        and exposure.period_end < exposure.period_start
    ):
        raise ValidationError({"period_end": "The period ends before it starts."})
    return _save(exposure, by=by, reason=reason or "Field exposure recorded")
