"""Writes to the risk register. Each takes the acting user and a reason, runs in a transaction,
validates, and leaves a history row (ISO 14971 4.5; 21 CFR 11.10(e))."""

from __future__ import annotations

import copy
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from hazards import risk
from hazards.models import (
    Category,
    ControlIntroducedHazard,
    Hazard,
    HazardControl,
    HazardTransfer,
    Membership,
    Product,
    RiskControl,
    RiskPolicy,
)
from riskbench import audit, roles
from riskbench.models import Status
from riskbench.services import (
    claim_next_versions,
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
        if name == "asset" and category == Category.PRIVACY:
            continue  # the personal data at stake: kept apart from the hazard (GDPR Art. 35)
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
    apply_estimates(hazard, product.risk_policy.evaluation_data)
    return save_record(hazard, by=by, reason=reason or "Created")


@transaction.atomic
def hazard_update(
    *,
    hazard: Hazard,
    by,
    reason: str = "",
    expected_version: int,
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
    apply_estimates(current, current.product.risk_policy.evaluation_data)
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
    if not hazard.product.risk_policy.is_approved:
        return risk.ApprovalCheck([("severity", POLICY_NOT_APPROVED)])
    return risk.approval_check(
        hazard.initial_estimate,
        hazard.residual_estimate,
        hazard.benefit_risk_justification,
        hazard.control_links.count(),
    )


POLICY_NOT_APPROVED = (
    "Risk not evaluated: the product's risk policy is not approved (ISO 14971 4.4 d). "
    "Approve the policy with an electronic signature first."
)


@transaction.atomic
def record_set_status(
    *, record, status: str, by, reason: str = "", expected_version: int, signed: bool = False
):
    """Move a regulated record through draft → in review → approved.

    Approval of a hazard is refused while `risk.approval_check` finds problems (no residual
    estimate, missing benefit-risk justification…). Electronic signatures are added on top of
    this by the approvals feature. A risk policy is approved only as part of an "approved"
    signature (`signed=True`, passed by `riskbench.signatures.record_sign`): its approval puts
    the criteria in force for the product's risk evaluation, see `_policy_approved`.
    """
    if isinstance(record, RiskPolicy):
        _require_policy_editor(by, record)
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
    policy_approval = isinstance(current, RiskPolicy) and status == Status.APPROVED
    if policy_approval and not signed:
        raise ValidationError(
            {"status": "A risk policy is approved with an electronic signature: sign it with "
             "the meaning “Approved” (21 CFR 11.50)."}
        )  # fmt: skip
    reopening = current.status == Status.APPROVED and status != Status.APPROVED
    if reopening and hasattr(current, "revision"):
        # Reopening an approved record starts a new revision; its signatures stay on the old.
        current.revision += 1
    current.status = status
    current._approving = True
    if policy_approval:
        current.approved_criteria = current.criteria()
        current.approved_version = current.version
    save_record(
        current,
        by=by,
        reason=reason or f"Status set to {Status(status).label.lower()}",
        content_changed=False,
    )
    if policy_approval and current.product_id:
        _reevaluate_product(current, by=by)
    return current


@transaction.atomic
def hazard_delete(*, hazard: Hazard, by, reason: str, expected_version: int) -> None:
    """Remove a row; its history stays (21 CFR 11.10(e)). The caller names the version it saw:
    nobody deletes a hazard someone changed since (a missing version is refused). The status
    is checked on the locked current row, not on the caller's copy."""
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
    *, control: RiskControl, by, reason: str = "", expected_version: int, **fields
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


PRODUCT_FIELDS_NOT_HERE = {"slug", "risk_policy", "members", "memberships"}


@transaction.atomic
def product_update(
    *, product: Product, by, reason: str = "", expected_version: int, **fields
) -> Product:
    """Edit the risk management file's header and plan fields (ISO 14971 4.4, 5.2).

    The risk policy is not a field of the product any more: it is the product's own record,
    changed through `policy_update` / `policy_copy_template` (never by pointing the product
    at another policy, which would change acceptability without a signed approval)."""
    bad = sorted(set(fields) & PRODUCT_FIELDS_NOT_HERE)
    if bad:
        raise ValidationError({name: "This field cannot be changed here." for name in bad})
    _refuse_protected(Product, fields)
    current = lock_for_edit(product, expected_version)
    for name, value in fields.items():
        setattr(current, name, value)
    return save_record(current, by=by, reason=reason)


def default_template() -> RiskPolicy:
    """The template a product starts from when none is chosen: the seeded default."""
    templates = RiskPolicy.objects.filter(product__isnull=True)
    template = (
        templates.filter(name__startswith="Default risk policy").order_by("pk").first()
        or templates.order_by("pk").first()
    )
    if template is None:
        raise ValidationError({"template": "No risk policy template exists."})
    return template


@transaction.atomic
def product_create(
    *,
    by,
    reason: str = "",
    members=(),
    template: RiskPolicy | None = None,
    policy: dict | None = None,
    **fields,
) -> Product:
    """Open a product's risk management file (ISO 14971 4.5), by an administrator only.

    The product gets its own risk policy: a copy of `template` (default: the seeded default
    template), or — for an import — a new policy from the criteria in `policy` ({name,
    description, criteria…}). Either way it starts as a draft that the product's team must
    approve with a signature before any risk is evaluated. `members` get access; only an
    administrator may grant it (`membership_add`)."""
    roles.require_administrator(by)
    bad = sorted(set(fields) & {"risk_policy", "memberships", "id", "version"})
    if bad:
        raise ValidationError({name: "This field cannot be set here." for name in bad})
    if template is not None and policy is not None:
        raise ValidationError({"template": "Give a template or the policy's criteria, not both."})
    product = Product(**fields)
    save_record(product, by=by, reason=reason or "Created")
    policy_for_new_product(product, by=by, template=template, criteria=policy)
    for user in members:
        membership_add(product=product, user=user, by=by, reason="Member from the start")
    return product


@transaction.atomic
def membership_add(*, product: Product, user, by, reason: str = "") -> Membership:
    """Give `user` access to the product's risk file. Administrators only: the product's
    editors cannot grant access (ISO 14971 4.2: management assigns the people)."""
    roles.require_administrator(by)
    if Membership.objects.filter(product=product, user=user).exists():
        raise ValidationError({"members": f"{user.get_username()} is already a member."})
    membership = Membership(product=product, user=user)
    membership._history_user = by
    membership._change_reason = (reason or "Access given")[:100]
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by, reason: str) -> None:
    """Withdraw a user's access to a product's risk file (administrators only); the history
    keeps who had access when, who withdrew it and why."""
    roles.require_administrator(by)
    delete_record(membership, by=by, reason=reason or "Access withdrawn")


# --- Risk policy (ISO 14971 4.4 d) ----------------------------------------------------------


def _template(template: RiskPolicy) -> RiskPolicy:
    """The template row as stored now; a product's own policy is never a template."""
    current = RiskPolicy.objects.filter(pk=template.pk, product__isnull=True).first()
    if current is None:
        raise ValidationError({"template": "Choose a risk policy template."})
    return current


def _require_policy_editor(by, policy: RiskPolicy) -> None:
    """A product's policy is changed by that product's editors; a template by administrators.
    Checked here, in the service, whatever the route."""
    if policy.product_id is None:
        if not roles.is_administrator(by):
            raise PermissionDenied("Only administrators change risk policy templates.")
        return
    product = Product.objects.get(pk=policy.product_id)
    if not roles.can_edit(by, product):
        raise PermissionDenied("You may not change the risk policy of a product you don't edit.")


def _criteria_of(source) -> dict:
    return {name: copy.deepcopy(getattr(source, name)) for name in risk.PolicyData.POLICY_FIELDS}


def policy_for_new_product(
    product: Product, *, by, template: RiskPolicy | None = None, criteria: dict | None = None
) -> RiskPolicy:
    """The new product's own policy, as a draft: a copy of `template` (default: the default
    template), or a new policy from `criteria` ({name, description, criteria…} of a file).
    Called by the paths that create a product, inside their transaction."""
    roles.require_administrator(by)
    if criteria is not None:
        return _policy_from_criteria(product, criteria, by=by)
    template = _template(template) if template is not None else default_template()
    return _policy_from_template(product, template, by=by)


def _policy_from_template(product: Product, template: RiskPolicy, *, by) -> RiskPolicy:
    policy = RiskPolicy(
        product=product,
        name=template.name,
        description=template.description,
        template=template,
        template_version=template.version,
        **_criteria_of(template),
    )
    _validate_policy(policy)
    return save_record(
        policy, by=by, reason=f"Copied from template {template.name} v{template.version}"
    )


def _policy_from_criteria(product: Product, raw: dict, *, by) -> RiskPolicy:
    if not isinstance(raw, dict):
        raise ValidationError({"risk_policy": "Expected the policy's criteria."})
    missing = [n for n in risk.PolicyData.POLICY_FIELDS if n not in raw]
    if missing:
        raise ValidationError({"risk_policy": f"Missing criteria: {', '.join(missing)}."})
    policy = RiskPolicy(
        product=product,
        name=str(raw.get("name") or "Imported risk policy")[:200],
        description=str(raw.get("description") or ""),
        **{name: copy.deepcopy(raw[name]) for name in risk.PolicyData.POLICY_FIELDS},
    )
    _validate_policy(policy)
    return save_record(policy, by=by, reason="Created from the criteria of an imported file")


@transaction.atomic
def policy_template_create(
    *, by, name: str, source: RiskPolicy | None = None, description: str = "", reason: str = ""
) -> RiskPolicy:
    """A new template for future products (administrators): a copy of `source` (a template or
    a product's policy, e.g. one a team refined) or of the default criteria."""
    roles.require_administrator(by)
    criteria = _criteria_of(source) if source is not None else risk.PolicyData.default().criteria()
    template = RiskPolicy(
        name=name,
        description=description or (source.description if source is not None else ""),
        **copy.deepcopy(criteria),
    )
    _validate_policy(template)
    origin = f" from {source.name} v{source.version}" if source is not None else ""
    return save_record(template, by=by, reason=reason or f"Template created{origin}")


def policy_create(*, by, reason: str = "", **fields) -> RiskPolicy:
    """A new template (kept for callers of the earlier name; see `policy_template_create`)."""
    roles.require_administrator(by)
    if fields.get("product") is not None:
        raise ValidationError({"product": "A product's policy is created with the product."})
    policy = RiskPolicy(**fields)
    _validate_policy(policy)
    with transaction.atomic():
        return save_record(policy, by=by, reason=reason or "Created")


def _validate_policy(policy: RiskPolicy) -> None:
    errors = risk.validate_policy(policy.data)
    errors += risk.validate_benefit_risk_regions(policy.benefit_risk_regions)
    if errors:
        raise ValidationError({f: m for f, m in errors})


POLICY_EDITABLE = {"name", "description", "benefit_risk_regions", *risk.PolicyData.POLICY_FIELDS}


@transaction.atomic
def policy_update(
    *, policy: RiskPolicy, by, reason: str = "", expected_version: int, **fields
) -> RiskPolicy:
    """Edit the working acceptability criteria of one product's plan (ISO 14971 4.4 d).

    Only that product's editors (administrators for a template), with the version they saw.
    Risks stay evaluated against the approved criteria until this version is approved with a
    signature (then every hazard is re-evaluated, each in its own history); before any
    approval the working scales give the risk index, which is re-derived here."""
    bad = sorted(set(fields) - POLICY_EDITABLE)
    if bad:
        raise ValidationError({name: "This field cannot be changed here." for name in bad})
    _require_policy_editor(by, policy)
    current = lock_for_edit(policy, expected_version)
    for name, value in fields.items():
        setattr(current, name, value)
    _validate_policy(current)
    save_record(current, by=by, reason=reason)
    if current.product_id:
        _reevaluate_product(current, by=by)
    return current


@transaction.atomic
def policy_copy_template(
    *,
    policy: RiskPolicy,
    template: RiskPolicy,
    by,
    reason: str,
    expected_version: int,
) -> RiskPolicy:
    """Switch a product to another template: its own policy's working criteria are replaced by
    a copy of the template's (never a link to a shared row). Like any edit of the criteria it
    takes effect on risk evaluation only once approved with a signature."""
    if policy.product_id is None:
        raise ValidationError({"template": "A template is not switched to another template."})
    if not (reason or "").strip():
        raise ValidationError({"change_reason": "Say why the product changes its criteria."})
    _require_policy_editor(by, policy)
    template = _template(template)
    current = lock_for_edit(policy, expected_version)
    for name, value in _criteria_of(template).items():
        setattr(current, name, value)
    current.name = template.name
    current.description = template.description
    current.template = template
    current.template_version = template.version
    _validate_policy(current)
    save_record(
        current,
        by=by,
        reason=f"Copied from template {template.name} v{template.version}: {reason}",
    )
    _reevaluate_product(current, by=by)
    return current


def _reevaluate_product(policy: RiskPolicy, *, by) -> int:
    """Re-evaluate the product's hazards after its policy changed or was approved. Locked: the
    product row first (a concurrent `hazard_create` or import waits, then estimates under the
    new criteria), then every hazard (a concurrent edit waits, or is refused as stale)."""
    Product.objects.select_for_update().get(pk=policy.product_id)
    hazards = (
        Hazard.objects.filter(product_id=policy.product_id)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    return reevaluate_hazards(hazards, policy, by=by)


# What `apply_estimates` may write: saved together when a re-evaluation changes a row.
ESTIMATE_FIELDS = (
    "probability",
    "initial_risk_index",
    "initial_acceptability",
    "residual_probability",
    "residual_risk_index",
    "residual_acceptability",
    "cvss_base_score",
    "cvss_vector",
    "residual_cvss_vector",
    *SECURITY_FIELDS,
    *PRIVACY_FIELDS,
    *SAFETY_FIELDS,
)


def reevaluate_hazards(hazards, policy: RiskPolicy, *, by) -> int:
    """Recompute derived risk fields under `policy` (its approved criteria; its working scales,
    without evaluation, before any approval) and save the rows that change — each with a
    history row whose reason names the policy and its version (ISO 14971 4.5, 6).

    One bulk write for all of them (`bulk_update_with_history`, then chained into the product's
    audit trail): approving a policy re-evaluates every hazard of the product at once."""
    data = policy.evaluation_data
    derived = ESTIMATE_FIELDS[:6]
    if policy.is_approved:
        why = f"Re-evaluated under {policy.name} v{policy.approved_version} (approved)"
    else:
        why = f"Re-estimated under {policy.name} v{policy.version} (not approved: not evaluated)"
    now = timezone.now()
    changed, touched = [], set()
    for hazard in hazards:
        before = {f: getattr(hazard, f) for f in ESTIMATE_FIELDS}
        try:
            apply_estimates(hazard, data)
        except ValidationError:
            # The row no longer fits the scales (e.g. a level was removed): keep it visible as
            # not estimated rather than silently mapping it somewhere else.
            hazard.initial_acceptability = hazard.residual_acceptability = ""
            hazard.initial_risk_index = hazard.residual_risk_index = None
        if any(getattr(hazard, f) != before[f] for f in derived):
            hazard.version += 1
            hazard.updated_at = now
            changed.append(hazard)
            touched |= {f for f in ESTIMATE_FIELDS if getattr(hazard, f) != before[f]}
    if changed:
        claim_next_versions(Hazard, changed)
        # Only the columns that moved: a bulk UPDATE's size grows with rows × columns.
        bulk_update_with_history(
            changed,
            Hazard,
            [f for f in ESTIMATE_FIELDS if f in touched] + ["version", "updated_at"],
            batch_size=500,
            default_user=by,
            default_change_reason=why[:100],
            default_date=now,
        )
        audit.chain_pending(models=[Hazard])
    return len(changed)
