"""Record-state checks of the release gate (DESIGN.md §8): what an auditor reads in the records
themselves, beside the trace links that `traceability.graph` checks.

`run(product, analysis)` yields `(kind, record, Gap or None)` for every record each check
applies to (None when it passes), so the coverage rows count what was checked and
`traceability.incremental` can redo one record's checks. Four queries whatever the
size of the file (the plan's approval: `hazards.selectors.plan_approval`; its policy; hazards;
SOUP); every record's status, the controls, requirements and links come from the analysed
graph.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from hazards import risk
from hazards.models import Acceptability, Category, Hazard, RiskPolicy
from hazards.selectors import plan_approval
from riskbench.models import Status
from traceability import graph as tg
from traceability.models import SoftwareItem, SupportStatus

# kind → (label, clause, what it is checked on)
KINDS: dict[str, tuple[str, str, str]] = {
    "plan_not_approved": (
        "Scope and risk management plan not approved by signature",
        "ISO 14971 4.4; 21 CFR 11.50",
        "products",
    ),
    "policy_not_approved": (
        "Risk acceptability criteria not approved in their current version",
        "ISO 14971 4.4 d",
        "risk policies",
    ),
    "record_not_approved": (
        "Records of the risk file not approved",
        "ISO 14971 4.5; IEC 62304 5.1",
        "hazards, risk controls, requirements, test cases and software items",
    ),
    "initial_risk_not_estimated": (
        "Hazards whose initial risk is not estimated",
        "ISO 14971 5.5",
        "hazards",
    ),
    "residual_risk_not_estimated": (
        "Hazards with a risk control whose residual risk is not estimated",
        "ISO 14971 7.3",
        "hazards with a risk control",
    ),
    "residual_risk_beyond_benefit_risk": (
        "Residual risks in a region the plan does not let a benefit-risk analysis accept",
        "ISO 14971 4.4 d, 7.4",
        "hazards whose residual risk is not acceptable",
    ),
    "benefit_risk_region_mismatch": (
        "Benefit-risk justifications written for another region than the computed one",
        "ISO 14971 7.4",
        "hazards with a benefit-risk justification",
    ),
    "benefit_risk_incomplete": (
        "Benefit-risk justifications without the benefit or why further control is not practicable",
        "ISO 14971 7.4",
        "hazards with a benefit-risk justification",
    ),
    "severity_reduced_unjustified": (
        "Severity reduced by risk control without a justification",
        "ISO 14971 7.3",
        "hazards with an initial and a residual severity",
    ),
    "security_safety_estimate_missing": (
        "Security risks that can lead to harm whose safety hazard is not estimated",
        "ISO 14971 5.5; AAMI TIR57; FDA premarket cybersecurity guidance",
        "security → safety transfers",
    ),
    "residual_cvss_unjustified": (
        "Residual CVSS vectors that differ from the initial one without a rationale",
        "AAMI TIR57; ISO 14971 7.3",
        "security hazards with a residual CVSS vector",
    ),
    "soup_end_of_support": (
        "SOUP past its end of support",
        "IEC 62304 8.1.2; FDA premarket cybersecurity guidance",
        "SOUP items",
    ),
    "soup_anomaly_review_outdated": (
        "SOUP whose anomaly review predates its current version",
        "IEC 62304 7.1.3, 7.4.1",
        "SOUP items with an anomaly review",
    ),
}

HAZARD_FIELDS = (
    "pk",
    "code",
    "status",
    "category",
    "severity",
    "residual_severity",
    "initial_risk_index",
    "residual_risk_index",
    "residual_acceptability",
    "benefit_risk_justification",
    "benefit_risk_benefits",
    "further_control_not_practicable",
    "benefit_risk_region",
    "severity_reduction_rationale",
    "cvss_vector",
    "residual_cvss_vector",
    "residual_cvss_rationale",
)
REGION_NAMES = {a.value: a.label.lower() for a in Acceptability}


def _region(category: str, value: str) -> str:
    """The region as the category names it (security: controlled / uncontrolled risk)."""
    if not value:
        return "not stated"
    return risk.ACCEPTABILITY_LABELS[risk.Category(category)][risk.Acceptability(value)].lower()


def _text(value) -> bool:
    return bool((value or "").strip())


Result = tuple[str, tg.Node, tg.Gap | None]


def run(product, analysis: tg.Analysis) -> Iterator[Result]:
    """Every record-state check: (kind, record, Gap or None), kinds in `KINDS` order per
    record; the plan's and the policy's under the product's node."""
    policy = policy_of(product)
    yield from plan_and_policy(product, policy)
    yield from records(product, analysis)
    yield from hazards(product, analysis, regions_of(policy))
    yield from soup(product)


def policy_of(product) -> RiskPolicy | None:
    return RiskPolicy.objects.filter(product=product).first()


def regions_of(policy: RiskPolicy | None):
    """Where the product's plan lets a benefit-risk analysis accept a residual risk."""
    return policy.benefit_risk_regions if policy else risk.default_benefit_risk_regions()


def plan_and_policy(product, policy) -> Iterator[Result]:
    node = ("product", product.pk)
    gap = None
    if plan_approval(product) is None:
        gap = tg.Gap(
            "plan_not_approved",
            node,
            product.slug,
            f"{product}: the scope and risk management plan carry no valid “approved” "
            "signature on their current content.",
        )
    yield "plan_not_approved", node, gap
    gap = None
    if policy is None or not policy.is_approved or policy.status != Status.APPROVED:
        state = policy.get_status_display().lower() if policy else "missing"
        gap = tg.Gap(
            "policy_not_approved",
            ("policy", policy.pk if policy else 0),
            policy.name if policy else product.slug,
            f"Risk policy of {product.slug}: {state}, its acceptability criteria are not approved.",
        )
    elif policy.has_unapproved_changes:
        gap = tg.Gap(
            "policy_not_approved",
            ("policy", policy.pk),
            policy.name,
            f"Risk policy of {product.slug}: version {policy.version} has changes not approved "
            f"(approved: version {policy.approved_version}).",
        )
    yield "policy_not_approved", node, gap


RECORD_NAMES = {
    tg.HAZARD: "hazard",
    tg.CONTROL: "risk control",
    tg.REQUIREMENT: "requirement",
    tg.TEST: "test case",
    tg.SOFTWARE_ITEM: "software item",
}
STATUS_LABELS = dict(Status.choices)


def records(product, analysis: tg.Analysis) -> Iterator[Result]:
    """Every hazard, control, requirement, test case and software item must be approved.
    Statuses come from the analysed graph: kind by kind, each in natural code order (the
    index's order), so no query and no sort of the whole file."""
    nodes, ix = analysis.graph.nodes, analysis.index
    for kind in tg.NODE_KINDS:
        what = RECORD_NAMES.get(kind)
        if what is None:
            continue
        for node in ix.nodes(kind):
            attrs = nodes[node]
            status = attrs.get("status", "")
            gap = None
            if status != Status.APPROVED:
                code = attrs.get("code") or f"{node[0]} {node[1]}"
                gap = tg.Gap(
                    "record_not_approved",
                    node,
                    code,
                    f"{code}: {what} is {STATUS_LABELS.get(status, status).lower()}, not approved.",
                )
            yield "record_not_approved", node, gap


def hazards(product, analysis: tg.Analysis, regions, *, partial: bool = False) -> Iterator[Result]:
    """Estimation, benefit-risk, severity and CVSS checks of every hazard row (one query).
    `regions`: where the product's plan lets a benefit-risk analysis accept a residual risk.
    `partial`: the analysed graph holds part of the product; read only its hazards' rows."""
    graph, ix = analysis.graph, analysis.index
    found = Hazard.objects.filter(product=product)
    if partial:
        found = found.filter(pk__in=[node[1] for node in ix.nodes(tg.HAZARD)])
    rows = {row["pk"]: row for row in found.order_by().values(*HAZARD_FIELDS)}
    for node in ix.nodes(tg.HAZARD):
        row = rows.get(node[1])
        if row is None:
            continue
        code = row["code"]

        def gap(kind, message, node=node, code=code):
            return tg.Gap(kind, node, code, f"{code}: {message}")

        yield (
            "initial_risk_not_estimated",
            node,
            gap("initial_risk_not_estimated", "the initial risk is not estimated.")
            if row["initial_risk_index"] is None
            else None,
        )
        if ix.succ(node, tg.REDUCES):
            yield (
                "residual_risk_not_estimated",
                node,
                gap(
                    "residual_risk_not_estimated",
                    "a risk control reduces it, but its residual risk is not estimated.",
                )
                if row["residual_risk_index"] is None
                else None,
            )
        residual = row["residual_acceptability"]
        category = row["category"]
        if residual and residual != Acceptability.ACCEPTABLE:
            yield (
                "residual_risk_beyond_benefit_risk",
                node,
                None
                if risk.benefit_risk_may_accept(regions, residual)
                else gap(
                    "residual_risk_beyond_benefit_risk",
                    f"residual risk is {_region(category, residual)}, a region the risk "
                    "management plan does not let a benefit-risk analysis accept: reduce it "
                    "further.",
                ),
            )
        justified = any(
            _text(row[f])
            for f in (
                "benefit_risk_justification",
                "benefit_risk_benefits",
                "further_control_not_practicable",
            )
        )
        if justified and residual and residual != Acceptability.ACCEPTABLE:
            stated = row["benefit_risk_region"]
            yield (
                "benefit_risk_region_mismatch",
                node,
                None
                if stated == residual
                else gap(
                    "benefit_risk_region_mismatch",
                    f"the benefit-risk justification accepts a residual risk that is "
                    f"{_region(category, stated)}, but the residual risk is "
                    f"{_region(category, residual)}.",
                ),
            )
            missing = [
                what
                for field_name, what in (
                    (
                        "further_control_not_practicable",
                        "why further risk control is not practicable",
                    ),
                    ("benefit_risk_benefits", "the benefits weighed"),
                    ("benefit_risk_justification", "the conclusion"),
                )
                if not _text(row[field_name])
            ]
            yield (
                "benefit_risk_incomplete",
                node,
                gap(
                    "benefit_risk_incomplete",
                    f"the benefit-risk analysis does not record {' or '.join(missing)}.",
                )
                if missing
                else None,
            )
        if row["severity"] is not None and row["residual_severity"] is not None:
            reduced = row["residual_severity"] < row["severity"]
            yield (
                "severity_reduced_unjustified",
                node,
                gap(
                    "severity_reduced_unjustified",
                    f"severity reduced from {row['severity']} to {row['residual_severity']} "
                    "without a justification (controls usually reduce probability).",
                )
                if reduced and not _text(row["severity_reduction_rationale"])
                else None,
            )
        if category == Category.SECURITY and row["residual_cvss_vector"]:
            changed = row["residual_cvss_vector"] != row["cvss_vector"]
            yield (
                "residual_cvss_unjustified",
                node,
                gap(
                    "residual_cvss_unjustified",
                    "the residual CVSS vector differs from the initial one and no rationale "
                    "says how the controls change its exploitability.",
                )
                if changed and not _text(row["residual_cvss_rationale"])
                else None,
            )
        if category == Category.SECURITY:
            for safety in ix.succ(node, tg.CAN_LEAD_TO):
                target = rows.get(safety[1])
                missing = target is None or target["initial_risk_index"] is None
                yield (
                    "security_safety_estimate_missing",
                    node,
                    gap(
                        "security_safety_estimate_missing",
                        f"can lead to {tg.label(graph, safety)}, whose safety risk is not "
                        "estimated.",
                    )
                    if missing
                    else None,
                )


def soup(product, today=None) -> Iterator[Result]:
    """SOUP past its end of support; anomaly reviews that do not cover the current version."""
    today = today or timezone.localdate()
    items = SoftwareItem.objects.filter(product=product, is_soup=True).values(
        "pk",
        "code",
        "name",
        "soup_version",
        "anomalies_reviewed_at",
        "anomalies_reviewed_version",
        "support_status",
        "end_of_support",
    )
    for item in sorted(items, key=lambda i: tg.code_key(i["code"])):
        node = (tg.SOFTWARE_ITEM, item["pk"])
        name = f"{item['code']} {item['name']}"
        ended = item["end_of_support"] is not None and item["end_of_support"] < today
        gap = None
        if ended:
            gap = tg.Gap(
                "soup_end_of_support",
                node,
                item["code"],
                f"{name}: support ended {item['end_of_support']:%Y-%m-%d}.",
            )
        elif item["support_status"] == SupportStatus.END_OF_SUPPORT:
            gap = tg.Gap("soup_end_of_support", node, item["code"], f"{name}: no longer supported.")
        yield "soup_end_of_support", node, gap
        if item["anomalies_reviewed_at"] is not None:
            reviewed, current = item["anomalies_reviewed_version"], item["soup_version"]
            gap = None
            if reviewed != current:
                covers = f"version {reviewed}" if reviewed else "an unstated version"
                gap = tg.Gap(
                    "soup_anomaly_review_outdated",
                    node,
                    item["code"],
                    f"{name}: the known-anomaly review of "
                    f"{item['anomalies_reviewed_at']:%Y-%m-%d} covers {covers}, not the current "
                    f"version {current or '(not recorded)'}.",
                )
            yield "soup_anomaly_review_outdated", node, gap
