"""Writes to the risk management report (ISO 14971 §8, §9). Each takes the acting user, a
reason and the version the writer saw, runs in a transaction and leaves a history row
(DESIGN.md §7; 21 CFR 11.10(e)). Approval is never a status change of its own: it comes with
the named reviewers' electronic signatures (`riskbench.signatures.record_sign`, which calls
`sign_check` below first)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from hazards.models import Product
from hazards.services import record_set_status
from riskbench import roles
from riskbench.models import SignatureMeaning, Status
from riskbench.services import lock_for_edit, save_record
from riskbench.signatures import SignatureRefused
from traceability.report.models import RiskManagementReport

EDITABLE = {
    "release",
    "evaluation_method",
    "data_considered",
    "overall_residual_risk_conclusion",
    "overall_residual_risk_acceptable",
    "significant_residual_risks",
    "plan_implemented",
    "plan_implemented_basis",
    "residual_risk_acceptable",
    "residual_risk_acceptable_basis",
    "post_production_methods_in_place",
    "post_production_methods_basis",
    "reviewers",
}

# (field that must be filled or confirmed, what is missing) — what a review needs (§8, §9).
REQUIRED = (
    ("evaluation_method", "the method of the overall residual risk evaluation (§8)"),
    ("data_considered", "the data considered (§8)"),
    ("overall_residual_risk_conclusion", "the conclusion on the overall residual risk (§8)"),
    (
        "overall_residual_risk_acceptable",
        "the conclusion that the overall residual risk is acceptable in relation to the "
        "benefits (§8)",
    ),
    ("plan_implemented", "the statement that the plan has been implemented (9 a)"),
    ("plan_implemented_basis", "the basis of statement 9 a"),
    (
        "residual_risk_acceptable",
        "the statement that the overall residual risk is acceptable (9 b)",
    ),
    ("residual_risk_acceptable_basis", "the basis of statement 9 b"),
    (
        "post_production_methods_in_place",
        "the statement that production and post-production methods are in place (9 c)",
    ),
    ("post_production_methods_basis", "the basis of statement 9 c"),
    ("reviewers", "the named reviewers (§9)"),
)


def report_problems(report: RiskManagementReport) -> list[tuple[str, str]]:
    """What the report still lacks before its reviewers can sign it: (field, message)."""
    problems = []
    for name, what in REQUIRED:
        value = getattr(report, name)
        if not (value.strip() if isinstance(value, str) else value):
            problems.append((name, f"Missing: {what}."))
    return problems


def _clean_reviewers(product: Product, reviewers) -> list[dict]:
    """[{"user": id, "role": text}], each a distinct person who may sign on this product (an
    editor: auditors only read) with a role in the review."""
    if not isinstance(reviewers, list):
        raise ValidationError({"reviewers": "Expected a list of reviewers."})
    cleaned, seen = [], set()
    users = get_user_model()._default_manager
    for entry in reviewers:
        if not isinstance(entry, dict):
            raise ValidationError({"reviewers": "Each reviewer is a user and a role."})
        user_id, role = entry.get("user"), str(entry.get("role") or "").strip()
        user = None
        if isinstance(user_id, int):
            user = users.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise ValidationError({"reviewers": f"No active user {user_id!r}."})
        if not role:
            raise ValidationError(
                {"reviewers": f"Give {user.get_username()}'s role in the review (4.4 b)."}
            )
        if not roles.can_edit(user, product):
            raise ValidationError(
                {"reviewers": f"{user.get_username()} cannot sign on {product.name}: a reviewer "
                 "is an editor of the product (auditors only read)."}
            )  # fmt: skip
        if user.pk in seen:
            raise ValidationError({"reviewers": f"{user.get_username()} is named twice."})
        seen.add(user.pk)
        cleaned.append({"user": user.pk, "role": role[:200]})
    return cleaned


def _check_fields(fields: dict) -> None:
    bad = sorted(set(fields) - EDITABLE)
    if bad:
        raise ValidationError({name: "This field cannot be changed here." for name in bad})


@transaction.atomic
def report_create(*, product: Product, by, reason: str = "", **fields) -> RiskManagementReport:
    """Start the risk management report of a release (ISO 14971 §8, §9), as a draft."""
    roles.require_editor(by, product)
    _check_fields(fields)
    product = Product.objects.select_for_update().get(pk=product.pk)
    fields["release"] = str(fields.get("release") or product.model_number).strip()
    if RiskManagementReport.objects.filter(product=product, release=fields["release"]).exists():
        raise ValidationError(
            {"release": f"Release {fields['release']} already has a risk management report."}
        )
    fields["reviewers"] = _clean_reviewers(product, fields.get("reviewers", []))
    report = RiskManagementReport(product=product, **fields)
    return save_record(report, by=by, reason=reason or "Created")


@transaction.atomic
def report_update(
    *,
    report: RiskManagementReport,
    by,
    reason: str = "",
    expected_version: int,
    **fields,
) -> RiskManagementReport:
    """Edit the report. A stale `expected_version` is refused; an approved report needs a
    reason and returns to review — its signatures stay on the version they signed."""
    roles.require_editor(by, report.product)
    _check_fields(fields)
    current = lock_for_edit(report, expected_version)
    if "reviewers" in fields:
        fields["reviewers"] = _clean_reviewers(current.product, fields["reviewers"])
    if "release" in fields:
        fields["release"] = str(fields["release"]).strip()
        if (
            RiskManagementReport.objects.filter(product=current.product, release=fields["release"])
            .exclude(pk=current.pk)
            .exists()
        ):
            raise ValidationError(
                {"release": f"Release {fields['release']} already has a risk management report."}
            )
    for name, value in fields.items():
        setattr(current, name, value)
    return save_record(current, by=by, reason=reason)


@transaction.atomic
def report_set_status(
    *,
    report: RiskManagementReport,
    status: str,
    by,
    reason: str = "",
    expected_version: int,
) -> RiskManagementReport:
    """Submit for review or return to draft. Approval is not a status change: the reviewers
    approve with their electronic signatures (21 CFR 11.50)."""
    roles.require_editor(by, report.product)
    if status == Status.APPROVED:
        raise ValidationError(
            {"status": "The report is approved with the reviewers' electronic signatures, "
             "meaning “Approved”."}
        )  # fmt: skip
    if status == Status.IN_REVIEW:
        current = RiskManagementReport.objects.get(pk=report.pk)
        problems = report_problems(current)
        if problems:
            raise ValidationError({"status": [message for _, message in problems]})
    return record_set_status(
        record=report, status=status, by=by, reason=reason, expected_version=expected_version
    )


def sign_check(report: RiskManagementReport, by, meaning: str) -> None:
    """Registered with `riskbench.signatures`: a review signature ("reviewed" or "approved")
    comes only from a reviewer the report names, on a complete report (§9)."""
    if meaning == SignatureMeaning.AUTHORED:
        return
    if by.pk not in report.reviewer_ids:
        raise SignatureRefused(
            "Only the reviewers named on the report sign its review (ISO 14971 9): add the "
            "reviewer with a role first."
        )
    problems = report_problems(report)
    if problems:
        raise SignatureRefused(
            "The report is not complete: " + " ".join(message for _, message in problems)
        )
