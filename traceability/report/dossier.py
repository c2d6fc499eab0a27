"""The dossier section of the risk management report (ISO 14971 §8, §9), registered with
`traceability.dossier.extensions`: the §8 evaluation and the three §9 statements as text, the
named reviewers with their role, their qualification (4.3) and their signature as rows."""

from __future__ import annotations

from riskbench.competence import competence_at
from riskbench.models import SignatureMeaning
from riskbench.signatures import SignatureState, record_content_sha256
from traceability.dossier import data as d
from traceability.report.selectors import current_report, report_state

TITLE = "Risk management report"
CLAUSE = "ISO 14971 8, 9"


def _yes(value: bool, statement: str) -> str:
    return ("Confirmed: " if value else "NOT confirmed: ") + statement


def report_section(product) -> d.ExtraSection:
    """Five queries: the report, its signatures (content type cached), the reviewers, their
    competence."""
    report = current_report(product)
    if report is None:
        release = (product.model_number or "").strip() or "this release"
        return d.ExtraSection(
            title=TITLE,
            clause=CLAUSE,
            note="",
            header=(),
            rows=(),
            empty=f"No risk management report has been recorded for {release}: the overall "
            "residual risk evaluation (§8) and the risk management review (§9) are open.",
            section="report",
        )
    state = report_state(report)
    competence = competence_at(
        [(r.user_id, r.signature.signed_at) for r in state.reviewers if r.signature]
    )
    fields = (
        ("Release", report.release),
        ("Status", f"{report.get_status_display()}, version {report.version}"),
        ("Content SHA-256 (what the signatures cover)", record_content_sha256(report)),
        ("Method of the overall residual risk evaluation (§8, plan 4.4 f)",
         report.evaluation_method),
        ("Data considered (§8)", report.data_considered),
        ("Overall residual risk (§8)", _yes(
            report.overall_residual_risk_acceptable,
            "the overall residual risk is acceptable in relation to the benefits of the "
            "intended use.",
        ) + ("\n" + report.overall_residual_risk_conclusion
             if report.overall_residual_risk_conclusion else "")),
        ("Significant residual risks disclosed (§8)", report.significant_residual_risks),
        ("9 a — risk management plan", _yes(
            report.plan_implemented, "the risk management plan has been appropriately "
            "implemented.") + "\n" + report.plan_implemented_basis),
        ("9 b — overall residual risk", _yes(
            report.residual_risk_acceptable, "the overall residual risk is acceptable.")
            + "\n" + report.residual_risk_acceptable_basis),
        ("9 c — production and post-production", _yes(
            report.post_production_methods_in_place,
            "appropriate methods are in place to collect and review information in the "
            "production and post-production phases.") + "\n"
            + report.post_production_methods_basis),
    )  # fmt: skip
    rows = []
    for reviewer in state.reviewers:
        s = reviewer.signature
        held = competence.get((reviewer.user_id, s.signed_at)) if s else None
        rows.append(
            (
                reviewer.name,
                reviewer.role,
                str(held) if held else "",
                f"{s.get_meaning_display()} {s.signed_at:%Y-%m-%d %H:%M:%S} UTC" if s else "",
                s.content_sha256 if s else "NOT SIGNED on the current content",
            )
        )
    approved = [
        s.signature
        for s in state.shown
        if s.state == SignatureState.VALID and s.signature.meaning == SignatureMeaning.APPROVED
    ]
    note = (
        "Review of the risk management before release (ISO 14971 9), by the people the plan "
        "names (4.4 b). Each reviewer signs the report's current content with an electronic "
        "signature (21 CFR 11.50); a signature on an earlier version does not count. "
        + (
            f"Approved: {', '.join(s.printed_name for s in approved)}."
            if state.approved
            else "The report is not approved with a signature on its current content."
        )
    )
    return d.ExtraSection(
        title=TITLE,
        clause=CLAUSE,
        note=note,
        header=("Reviewer", "Role in the review", "Role and qualification at signing (4.3)",
                "Signature", "Signed content SHA-256"),
        rows=tuple(rows),
        empty="The report names no reviewer.",
        weights=(1.2, 1.2, 1.8, 1.4, 2.4),
        fields=fields,
        section="report",
    )  # fmt: skip
