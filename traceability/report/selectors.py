"""Reads of the risk management report: the report a release gate looks at, and who of its
named reviewers has signed its current content."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from riskbench import signatures
from riskbench.models import Signature, SignatureMeaning
from traceability.report.models import RiskManagementReport

REVIEW_MEANINGS = {SignatureMeaning.REVIEWED, SignatureMeaning.APPROVED}


def current_report(product) -> RiskManagementReport | None:
    """The report of the version under review (`Product.model_number`); when the product names
    no version, its newest report. One query."""
    reports = RiskManagementReport.objects.filter(product=product).select_related("product")
    release = (product.model_number or "").strip()
    if release:
        return reports.filter(release=release).first()
    return reports.order_by("-created_at", "-pk").first()


@dataclass(frozen=True)
class Reviewer:
    user_id: int
    name: str
    username: str
    role: str
    signature: Signature | None  # their valid review signature on the current content

    @property
    def signed(self) -> bool:
        return self.signature is not None


@dataclass(frozen=True)
class ReportState:
    report: RiskManagementReport
    reviewers: tuple[Reviewer, ...]
    approved: bool  # status approved with a valid "approved" signature on the current content
    shown: tuple  # every signature of the report with its state

    @property
    def unsigned(self) -> tuple[Reviewer, ...]:
        return tuple(r for r in self.reviewers if not r.signed)

    @property
    def signed_off(self) -> bool:
        return bool(self.reviewers) and not self.unsigned and self.approved


def report_state(report: RiskManagementReport) -> ReportState:
    """Each named reviewer with their valid "reviewed" or "approved" signature on the current
    content (or none). Three queries (signatures, content type cached, users)."""
    shown = signatures.signatures_of(report)
    valid = [
        s.signature
        for s in shown
        if s.state == signatures.SignatureState.VALID and s.signature.meaning in REVIEW_MEANINGS
    ]
    users = get_user_model()._default_manager.in_bulk(report.reviewer_ids)
    reviewers = []
    for entry in report.reviewers:
        user = users.get(entry["user"])
        mine = [s for s in valid if s.signer_id == entry["user"]]
        reviewers.append(
            Reviewer(
                user_id=entry["user"],
                name=(user.get_full_name() or user.get_username()) if user else "(unknown user)",
                username=user.get_username() if user else "",
                role=entry["role"],
                signature=mine[-1] if mine else None,
            )
        )
    approved = report.status == "approved" and any(
        s.state == signatures.SignatureState.VALID
        and s.signature.meaning == SignatureMeaning.APPROVED
        for s in shown
    )
    return ReportState(report, tuple(reviewers), approved, tuple(shown))
