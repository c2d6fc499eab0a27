"""Writes to the risk register. Each takes the acting user and a reason, runs in a transaction,
validates, and leaves a history row (ISO 14971 4.5; 21 CFR 11.10(e))."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from hazards import risk
from hazards.models import (
    Category,
    ControlIntroducedHazard,
    Hazard,
    HazardControl,
    HazardTransfer,
    Product,
    RiskControl,
    RiskPolicy,
)
from riskbench.models import Status
from riskbench.services import (
    delete_record,
    link_create,
    lock_for_edit,
    next_code,
    save_record,
)

HAZARD_PREFIX = "HAZ"
CONTROL_PREFIX = "RC"

# Fields that only make sense for one category; cleared on the others so a row never carries
# stale security data after being re-categorised.
SECURITY_FIELDS = ("asset", "threat", "vulnerability", "cvss_vector", "residual_cvss_vector")
PRIVACY_FIELDS = ("data_elements", "linddun_category")
SAFETY_FIELDS = ("p1", "p2", "residual_p1", "residual_p2")


def _score_cvss(hazard: Hazard, prefix: str, policy: risk.PolicyData):
    """Score the row's (initial or residual) CVSS vector and store it in canonical form."""
    vector = getattr(hazard, f"{prefix}cvss_vector")
    if hazard.category != Category.SECURITY or not vector:
        return None
    try:
        score = risk.score_cvss(vector, policy.exploitability_levels)
    except risk.RiskError as exc:
        raise risk.RiskError(f"{prefix}{exc.field}", exc.message) from exc
    setattr(hazard, f"{prefix}cvss_vector", score.vector)
    return score


def _entered_likelihood(hazard: Hazard, prefix: str, cvss) -> int | None:
    """The likelihood axis when it is not derived from P1 × P2: the CVSS exploitability, or
    the level entered directly (privacy, or security/safety without vector or P1/P2)."""
    if cvss is not None:
        return cvss.exploitability
    if getattr(hazard, f"{prefix}p1") is not None:
        return None
    return getattr(hazard, f"{prefix}probability")


def apply_estimates(hazard: Hazard, policy: risk.PolicyData) -> None:
    """Derive probability, risk index and acceptability (initial and residual) from the inputs.

    Raises ValidationError naming the field when an input does not fit the policy.
    """
    category = hazard.category
    for name in SECURITY_FIELDS if category != Category.SECURITY else ():
        setattr(hazard, name, "")
    if category != Category.PRIVACY:
        hazard.data_elements = []
        hazard.linddun_category = ""
    if category != Category.SAFETY:
        for name in SAFETY_FIELDS:
            setattr(hazard, name, None)
    hazard.cvss_base_score = None
    try:
        # Each CVSS vector is scored once; its exploitability is the likelihood axis.
        initial_cvss = _score_cvss(hazard, "", policy)
        residual_cvss = _score_cvss(hazard, "residual_", policy)
        if initial_cvss:
            hazard.cvss_base_score = Decimal(str(initial_cvss.base_score))
        initial = risk.estimate(
            policy,
            category,
            hazard.severity,
            p1=hazard.p1,
            p2=hazard.p2,
            likelihood=_entered_likelihood(hazard, "", initial_cvss),
        )
        residual = risk.estimate(
            policy,
            category,
            hazard.residual_severity,
            p1=hazard.residual_p1,
            p2=hazard.residual_p2,
            likelihood=_entered_likelihood(hazard, "residual_", residual_cvss),
            prefix="residual_",
        )
    except risk.RiskError as exc:
        raise ValidationError({exc.field: exc.message}) from exc
    hazard.probability = initial.probability
    hazard.initial_risk_index = initial.index
    hazard.initial_acceptability = initial.acceptability or ""
    hazard.residual_probability = residual.probability
    hazard.residual_risk_index = residual.index
    hazard.residual_acceptability = residual.acceptability or ""


# Set by the services themselves, never by a caller: identity, bookkeeping, derived risk.
PROTECTED_FIELDS = {
    "id",
    "product",
    "product_id",
    "code",
    "version",
    "revision",
    "status",
    "created_at",
    "updated_at",
    "initial_risk_index",
    "initial_acceptability",
    "residual_risk_index",
    "residual_acceptability",
    "cvss_base_score",
}


def _refuse_protected(model, fields: dict) -> None:
    """Updates may change editable content only; status moves through `record_set_status`."""
    known = {f.name for f in model._meta.concrete_fields} | {
        f.attname for f in model._meta.concrete_fields
    }
    bad = sorted(set(fields) & PROTECTED_FIELDS) + sorted(set(fields) - known)
    if bad:
        raise ValidationError({name: "This field cannot be changed here." for name in bad})


@transaction.atomic
def hazard_create(*, product: Product, by, reason: str = "", **fields) -> Hazard:
    """Add a row to the hazard log (ISO 14971 5.4) with the next free HAZ code."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    code = fields.pop("code", None) or next_code(
        product.hazards.all(), HAZARD_PREFIX, history=Hazard.history.filter(product_id=product.pk)
    )
    hazard = Hazard(product=product, code=code, **fields)
    apply_estimates(hazard, product.risk_policy.data)
    return save_record(hazard, by=by, reason=reason or "Created")


@transaction.atomic
def hazard_update(
    *,
    hazard: Hazard,
    by,
    reason: str = "",
    expected_version: int | None = None,
    fields: dict | None = None,
    **more_fields,
) -> Hazard:
    """Edit a row. A stale `expected_version` is refused; an approved row goes back to review.

    Pass the changes as `fields={...}` (needed for the model field named `hazard`, which would
    clash with this function's `hazard` argument) or as keyword arguments.
    """
    fields = {**(fields or {}), **more_fields}
    _refuse_protected(Hazard, fields)
    current = lock_for_edit(hazard, expected_version)
    if fields.get("category", current.category) != current.category:
        _forget_axes_of_old_category(current, fields["category"], given=fields)
    for name, value in fields.items():
        setattr(current, name, value)
    apply_estimates(current, current.product.risk_policy.data)
    return save_record(current, by=by, reason=reason)


def _forget_axes_of_old_category(hazard: Hazard, new_category: str, *, given) -> None:
    """The likelihood axis means something else in each category (probability of harm,
    exploitability, privacy likelihood), and privacy's impact is not a severity of harm: a value
    not re-entered with the new category would be a stale estimate under a new meaning (5.5).
    Left empty, the row is evaluated on severity alone or shown as not estimated."""
    stale = ["probability", "residual_probability"]
    if Category.PRIVACY in (hazard.category, new_category):
        stale += ["severity", "residual_severity"]
    for name in stale:
        if name not in given:
            setattr(hazard, name, None)


def hazard_approval_check(hazard: Hazard) -> risk.ApprovalCheck:
    return risk.approval_check(
        hazard.initial_estimate,
        hazard.residual_estimate,
        hazard.benefit_risk_justification,
        hazard.control_links.count(),
    )


@transaction.atomic
def record_set_status(*, record, status: str, by, reason: str = "", expected_version=None):
    """Move a regulated record through draft → in review → approved.

    Approval of a hazard is refused while `risk.approval_check` finds problems (no residual
    estimate, missing benefit-risk justification…). Electronic signatures are added on top of
    this by the approvals feature.
    """
    current = lock_for_edit(record, expected_version)
    if status not in Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if status == current.status:
        raise ValidationError({"status": f"{current} is already {current.get_status_display()}."})
    if status == Status.APPROVED and current.status != Status.IN_REVIEW:
        raise ValidationError(
            {"status": "Only a record in review can be approved: submit it for review first."}
        )
    if status == Status.APPROVED and isinstance(current, Hazard):
        check = hazard_approval_check(current)
        if not check.ok:
            raise ValidationError({f: m for f, m in check.problems})
    reopening = current.status == Status.APPROVED and status != Status.APPROVED
    if reopening and hasattr(current, "revision"):
        # Reopening an approved record starts a new revision; its signatures stay on the old.
        current.revision += 1
    current.status = status
    current._approving = True
    return save_record(
        current,
        by=by,
        reason=reason or f"Status set to {Status(status).label.lower()}",
        content_changed=False,
    )


@transaction.atomic
def hazard_delete(*, hazard: Hazard, by, reason: str, expected_version: int | None = None) -> None:
    """Remove a row; its history stays (21 CFR 11.10(e)). The status is checked on the locked
    current row, not on the caller's copy, which may predate an approval."""
    current = lock_for_edit(hazard, expected_version)
    if current.status == Status.APPROVED:
        raise ValidationError("An approved hazard cannot be deleted; reopen it first.")
    delete_record(current, by=by, reason=reason)


@transaction.atomic
def control_create(*, product: Product, by, reason: str = "", **fields) -> RiskControl:
    """Record a risk control measure (ISO 14971 7.1) with the next free RC code."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    code = fields.pop("code", None) or next_code(
        product.controls.all(),
        CONTROL_PREFIX,
        history=RiskControl.history.filter(product_id=product.pk),
    )
    control = RiskControl(product=product, code=code, **fields)
    return save_record(control, by=by, reason=reason or "Created")


@transaction.atomic
def control_update(
    *, control: RiskControl, by, reason: str = "", expected_version: int | None = None, **fields
) -> RiskControl:
    _refuse_protected(RiskControl, fields)
    current = lock_for_edit(control, expected_version)
    for name, value in fields.items():
        setattr(current, name, value)
    return save_record(current, by=by, reason=reason)


def _same_product(*records) -> None:
    products = {r.product_id for r in records}
    if len(products) != 1:
        raise ValidationError("Both ends of a link must belong to the same product.")


@transaction.atomic
def hazard_control_link(*, hazard: Hazard, control: RiskControl, by, reason="") -> HazardControl:
    """The control reduces the hazard's risk (7.1)."""
    _same_product(hazard, control)
    if HazardControl.objects.filter(hazard=hazard, control=control).exists():
        raise ValidationError(f"{control.code} is already linked to {hazard.code}.")
    return link_create(HazardControl, hazard=hazard, control=control, by=by, reason=reason)


@transaction.atomic
def control_introduces_link(
    *, control: RiskControl, hazard: Hazard, by, reason=""
) -> ControlIntroducedHazard:
    """The control introduces a new hazard (7.5), which needs its own analysis."""
    _same_product(hazard, control)
    if ControlIntroducedHazard.objects.filter(hazard=hazard, control=control).exists():
        raise ValidationError(f"{control.code} is already recorded as introducing {hazard.code}.")
    return link_create(
        ControlIntroducedHazard, control=control, hazard=hazard, by=by, reason=reason
    )


@transaction.atomic
def hazard_transfer_link(
    *, security_hazard: Hazard, safety_hazard: Hazard, by, reason=""
) -> HazardTransfer:
    """A security risk that can cause harm is transferred into the safety analysis."""
    _same_product(security_hazard, safety_hazard)
    if security_hazard.category != Category.SECURITY:
        raise ValidationError(f"{security_hazard.code} is not a security hazard.")
    if safety_hazard.category != Category.SAFETY:
        raise ValidationError(f"{safety_hazard.code} is not a safety hazard.")
    if HazardTransfer.objects.filter(
        security_hazard=security_hazard, safety_hazard=safety_hazard
    ).exists():
        raise ValidationError("That link exists already.")
    return link_create(
        HazardTransfer,
        security_hazard=security_hazard,
        safety_hazard=safety_hazard,
        by=by,
        reason=reason,
    )


@transaction.atomic
def link_delete(*, link, by, reason: str) -> None:
    delete_record(link, by=by, reason=reason)


@transaction.atomic
def product_update(
    *, product: Product, by, reason: str = "", expected_version: int | None = None, **fields
) -> Product:
    current = lock_for_edit(product, expected_version)
    policy_changed = "risk_policy" in fields and fields["risk_policy"] != current.risk_policy
    for name, value in fields.items():
        setattr(current, name, value)
    save_record(current, by=by, reason=reason)
    if policy_changed:
        reevaluate_hazards(current.hazards.select_for_update(), current.risk_policy, by=by)
    return current


@transaction.atomic
def product_create(*, by, reason: str = "", members=(), **fields) -> Product:
    product = Product(**fields)
    save_record(product, by=by, reason=reason or "Created")
    for user in members:
        product.memberships.create(user=user)
    return product


@transaction.atomic
def policy_create(*, by, reason: str = "", **fields) -> RiskPolicy:
    policy = RiskPolicy(**fields)
    _validate_policy(policy)
    return save_record(policy, by=by, reason=reason or "Created")


def _validate_policy(policy: RiskPolicy) -> None:
    errors = risk.validate_policy(policy.data)
    if errors:
        raise ValidationError({f: m for f, m in errors})


@transaction.atomic
def policy_update(
    *, policy: RiskPolicy, by, reason: str = "", expected_version: int | None = None, **fields
) -> RiskPolicy:
    """Edit acceptability criteria (ISO 14971 4.4 d), then re-evaluate every hazard that uses
    them, each re-evaluation in the hazard's own history with the policy version as reason."""
    current = lock_for_edit(policy, expected_version)
    for name, value in fields.items():
        setattr(current, name, value)
    _validate_policy(current)
    save_record(current, by=by, reason=reason)
    reevaluate_hazards(
        # Locked: a concurrent edit must either wait or be refused as stale, never be lost.
        Hazard.objects.filter(product__risk_policy=current)
        .select_related("product")
        .select_for_update(of=("self",)),
        current,
        by=by,
    )
    return current


def reevaluate_hazards(hazards, policy: RiskPolicy, *, by) -> int:
    """Recompute derived risk fields under `policy`; save (with history) only rows that change."""
    data = policy.data
    changed = 0
    derived = (
        "probability",
        "initial_risk_index",
        "initial_acceptability",
        "residual_probability",
        "residual_risk_index",
        "residual_acceptability",
    )
    for hazard in hazards:
        before = [getattr(hazard, f) for f in derived]
        try:
            apply_estimates(hazard, data)
        except ValidationError:
            # The row no longer fits the scales (e.g. a level was removed): keep it visible as
            # not estimated rather than silently mapping it somewhere else.
            hazard.initial_acceptability = hazard.residual_acceptability = ""
            hazard.initial_risk_index = hazard.residual_risk_index = None
        if [getattr(hazard, f) for f in derived] != before:
            hazard.version += 1
            hazard._history_user = by
            hazard._change_reason = f"Re-evaluated under {policy.name} v{policy.version}"[:100]
            hazard.save()
            changed += 1
    return changed
