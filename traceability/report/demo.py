"""Demo data of the plan (ISO 14971 4.4 b, c), competence (4.3) and the risk management report
(§8, §9), registered as a `traceability.demo.EXTENSIONS` hook so `loaddemo` stays one command.

* Two more demo logins, both quality engineers and members of every demo product, who hold the
  authority the plans name: ``riley`` (Riley Reviewer, head of quality) and ``sam`` (Sam
  Clinician, clinical safety officer). With the demo login ``demo`` (Dana Demo, the risk
  manager who writes the files) their role and qualification are recorded by the demo's
  administrator.
* Every demo product's plan gains its responsibilities and authorities (4.4 b) and its
  requirements for review (4.4 c), written by Dana.
* Every plan is approved by Riley's signature (who did not write it).
* The releasable product (the Cadence pacemaker): its risk management report for the version
  under review, written by Dana and signed by Riley and Sam — never by its author (segregation
  of duties, `RISKBENCH_SEGREGATION_OF_DUTIES`).
* The Aurora pump: a report still in draft, its reviewers named, unsigned — the release gate
  reports it. The Vela pump has no report yet — the gate reports that too.

Without demo logins (no signer) only the plan texts and the draft reports are written: nobody
can sign. Idempotent: each step is skipped when its result exists, so a second run writes
nothing.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from hazards import services as hazard_services
from hazards.models import Membership, Product
from hazards.selectors import plan_approval
from riskbench import roles, signatures
from riskbench.models import SignatureMeaning, Status, UserProfile
from riskbench.services import profile_update
from traceability.report import services
from traceability.report.models import RiskManagementReport

RELEASABLE = "cadence-pacemaker"
DRAFT_REPORT = "aurora-insulin-pump"

# username, password, first name, last name, role, qualification
REVIEWERS = (
    ("riley", "Residual-review-2019", "Riley", "Reviewer", "Head of quality and regulatory affairs",
     "MSc biomedical engineering; 15 years of active implantable device quality management; "
     "ISO 14971 and ISO 13485 lead auditor training"),
    ("sam", "Benefit-weighed-74", "Sam", "Clinician", "Clinical safety officer",
     "MD, cardiologist; 10 years of device follow-up of pacemaker patients; "
     "IEC 62366-1 usability training"),
)  # fmt: skip
AUTHOR_COMPETENCE = (
    "Risk manager",
    "Dipl.-Ing. electrical engineering; 8 years of ISO 14971 risk management of connected "
    "medical devices; IEC 62304 and IEC 81001-5-1 training",
)

RESPONSIBILITIES = (
    "Risk manager (Dana Demo): plans and performs the risk analysis, evaluation and control, "
    "keeps the risk management file. Head of quality and regulatory affairs (Riley Reviewer): "
    "approves the plan, the acceptability criteria and the risk management report, with "
    "authority to stop a release. Clinical safety officer (Sam Clinician): weighs residual risks "
    "against the clinical benefit and co-signs the report. Software lead: software items, "
    "their safety class and the software risk controls (IEC 62304 7). Approval is never given "
    "by the author of the content approved."
)
REVIEW_REQUIREMENTS = (
    "Design reviews at the end of each phase check that the plan's activities for that phase "
    "are done. Before each release the risk management review (ISO 14971 9) is held by the "
    "head of quality and the clinical safety officer: plan implemented, overall residual risk "
    "acceptable, production and post-production methods in place; its result is the signed risk "
    "management report of the release. Post-production information is reviewed monthly."
)

CADENCE_REPORT = {
    "evaluation_method": (
        "As the plan sets it (4.4 f): every residual risk evaluated acceptable, or accepted by a "
        "documented benefit-risk analysis; then the residual risks weighed together — by harm, "
        "by use scenario and across the safety, security and privacy analyses, including risks "
        "transferred from security to safety — against the clinical benefit of bradycardia "
        "pacing with remote follow-up, compared with the state of the art (predecessor CDR-6 "
        "and comparable dual-chamber pacemakers with remote monitoring)."
    ),
    "data_considered": (
        "The hazard analysis of this file with its risk controls and verification results; "
        "software verification of firmware 4.1.0 and HomeLink 2.3; the SOUP list and its anomaly "
        "and vulnerability reviews; five years of complaint and field data of CDR-6; published "
        "remote-monitoring outcome studies; the security risk assessment of the HomeLink link."
    ),
    "overall_residual_risk_conclusion": (
        "No residual risk remains in the unacceptable region; the accumulated residual risks of "
        "loss of pacing, of inappropriate therapy change and of data disclosure are each low and "
        "do not add up to a dominant harm. Against the benefit of bradycardia pacing and of "
        "earlier detection of lead and battery problems by remote follow-up, the overall "
        "residual risk is acceptable."
    ),
    "overall_residual_risk_acceptable": True,
    "significant_residual_risks": (
        "Electromagnetic interference near strong magnetic fields and the need for a follow-up "
        "visit when HomeLink cannot connect: physician's manual sections 5 and 9, patient "
        "booklet section 3."
    ),
    "plan_implemented": True,
    "plan_implemented_basis": (
        "Each activity of plan RMF-PM-001 has its record in this file: analysis, evaluation, "
        "controls with verification of implementation and effectiveness, residual risk and "
        "benefit-risk evaluation; the release gate reports no open gap."
    ),
    "residual_risk_acceptable": True,
    "residual_risk_acceptable_basis": "The overall residual risk evaluation above (§8).",
    "post_production_methods_in_place": True,
    "post_production_methods_basis": (
        "Complaint handling and vigilance procedures, HomeLink fleet telemetry review, SOUP "
        "vulnerability monitoring against the SBOM, and the monthly review of production and "
        "post-production information (ISO 14971 10) recorded in this tool."
    ),
}
AURORA_REPORT = {
    "evaluation_method": CADENCE_REPORT["evaluation_method"].replace(
        "bradycardia pacing with remote follow-up, compared with the state of the art "
        "(predecessor CDR-6 and comparable dual-chamber pacemakers with remote monitoring)",
        "insulin delivery with remote bolus dosing, compared with the state of the art",
    ),
    "data_considered": "Hazard analysis and verification so far; the failed run of TC-001 and "
    "problem report PR-001 are still open.",
}


def load(*, by, signer) -> dict[str, int]:
    """Write the plan texts, the reviewers and the reports (see the module docstring)."""
    created: dict[str, int] = {}
    products = {p.slug: p for p in Product.objects.filter(slug__in=_demo_slugs())}
    if not products:
        return created
    admin = _administrator()
    with transaction.atomic():
        reviewers = _reviewers(products.values(), admin, created) if signer else []
        if signer and admin is not None:
            _competence(signer.user, admin, AUTHOR_COMPETENCE, created)
        for product in products.values():
            _plan_texts(product, by, created)
            if reviewers:
                _approve_plan(product, reviewers[0], created)
        release = products.get(RELEASABLE)
        if release is not None:
            report = _report(release, by, reviewers, CADENCE_REPORT, created)
            if reviewers:
                _sign_report(report, by, reviewers, created)
        draft = products.get(DRAFT_REPORT)
        if draft is not None:
            _report(draft, by, reviewers, AURORA_REPORT, created)
    return created


def _demo_slugs() -> list[str]:
    from traceability.demo import PRODUCTS

    return [module.PRODUCT["slug"] for module in PRODUCTS]


def _administrator():
    from traceability.management.commands.loaddemo import SYSTEM_USERNAME

    return get_user_model()._default_manager.filter(username=SYSTEM_USERNAME).first()


def _count(created: dict, kind: str) -> None:
    created[kind] = created.get(kind, 0) + 1


def _reviewers(products, admin, created) -> list[tuple]:
    """The two reviewer logins (user, password), members of every demo product."""
    from traceability.management.commands.loaddemo import ensure_login

    people = []
    for username, password, first, last, role, qualification in REVIEWERS:
        existed = get_user_model()._default_manager.filter(username=username).exists()
        user, shown = ensure_login(username, password, roles.QUALITY_ENGINEER, first, last)
        if not existed:
            _count(created, "reviewer_logins")
        for product in products:
            if not Membership.objects.filter(product=product, user=user).exists():
                hazard_services.membership_add(
                    product=product, user=user, by=admin, reason="Reviewer named by the plan"
                )
                _count(created, "memberships")
        _competence(user, admin, (role, qualification), created)
        if shown is None:  # an account loaddemo did not create: we cannot sign for it
            continue
        people.append((get_user_model()._default_manager.get(pk=user.pk), shown, role))
    return people


def _competence(user, admin, competence, created) -> None:
    role, qualification = competence
    if UserProfile.objects.filter(user=user).exists():
        return
    profile_update(
        user=user,
        by=admin,
        reason="Competence on record (ISO 14971 4.3)",
        role_title=role,
        qualification=qualification,
    )
    _count(created, "competence_records")


def _plan_texts(product, by, created) -> None:
    if product.responsibilities_and_authorities or product.review_requirements:
        return
    hazard_services.product_update(
        product=product,
        by=by,
        reason="Plan: responsibilities, authorities and reviews (ISO 14971 4.4 b, c)",
        expected_version=product.version,
        responsibilities_and_authorities=RESPONSIBILITIES,
        review_requirements=REVIEW_REQUIREMENTS,
    )
    _count(created, "plan_updates")


def _approve_plan(product, reviewer, created) -> None:
    product = Product.objects.get(pk=product.pk)
    if plan_approval(product) is not None:
        return
    user, password, _ = reviewer
    signatures.record_sign(
        record=product,
        by=user,
        username=user.get_username(),
        password=password,
        meaning=SignatureMeaning.APPROVED,
        reason=f"Risk management plan {product.document_number} approved (ISO 14971 4.4)",
        expected_version=product.version,
    )
    _count(created, "plan_approvals")


def _report(product, by, reviewers, content, created) -> RiskManagementReport:
    release = (product.model_number or "").strip()
    report = RiskManagementReport.objects.filter(product=product, release=release).first()
    if report is not None:
        return report
    report = services.report_create(
        product=product,
        by=by,
        reason=f"Risk management report of {release} ({product.document_number})",
        release=release,
        reviewers=[
            {"user": user.pk, "role": "Chair of the review" if i == 0 else role}
            for i, (user, _, role) in enumerate(reviewers)
        ],
        **content,
    )
    _count(created, "reports")
    return report


def _sign_report(report, by, reviewers, created) -> None:
    report = RiskManagementReport.objects.get(pk=report.pk)
    if report.status == Status.DRAFT:
        report = services.report_set_status(
            report=report,
            status=Status.IN_REVIEW,
            by=by,
            reason="Submitted to the risk management review (ISO 14971 9)",
            expected_version=report.version,
        )
    signed = {s.signature.signer_id for s in signatures.signatures_of(report)}
    for user, password, _ in reviewers:
        if user.pk in signed:
            continue
        signatures.record_sign(
            record=report,
            by=user,
            username=user.get_username(),
            password=password,
            meaning=SignatureMeaning.APPROVED,
            reason="Risk management review held: the three statements of ISO 14971 9 hold",
            expected_version=report.version,
        )
        report = RiskManagementReport.objects.get(pk=report.pk)
        _count(created, "report_signatures")
