"""The release-gate check of the risk management report (`traceability.gate`, DESIGN.md §8),
registered from `ReportConfig.ready()`: a release needs its report (ISO 14971 §8, §9), approved
and signed by every reviewer it names on its current content."""

from __future__ import annotations

from traceability.graph import Gap
from traceability.report.selectors import current_report, report_state

KIND = "report_not_signed"
KINDS = {
    KIND: (
        "Risk management report not signed",
        "ISO 14971 8, 9",
        "risk management report of the release",
    )
}


def report_not_signed(product) -> list[Gap]:
    """No report for the version under review, a report naming no reviewer, a reviewer who has
    not signed its current content, or a report not approved with a signature. Four queries."""
    report = current_report(product)
    release = (product.model_number or "").strip() or "the release"
    if report is None:
        return [
            Gap(
                KIND,
                ("product", product.pk),
                product.name,
                f"No risk management report for {release}: the overall residual risk "
                "evaluation (§8) and the risk management review (§9) are not recorded.",
            )
        ]
    state = report_state(report)
    node, code = ("report", report.pk), f"Report {report.release}"
    gaps = []
    if not state.reviewers:
        gaps.append(Gap(KIND, node, code, f"{code} names no reviewer (§9)."))
    for reviewer in state.unsigned:
        gaps.append(
            Gap(
                KIND,
                node,
                code,
                f"{code}: {reviewer.name} ({reviewer.role}) has not signed its current content "
                f"(version {report.version}).",
            )
        )
    if not state.approved:
        gaps.append(
            Gap(
                KIND,
                node,
                code,
                f"{code} is {report.get_status_display().lower()}: not approved with an "
                "electronic signature on its current content.",
            )
        )
    return gaps
