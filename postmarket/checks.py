"""The post-market checks of the release gate (`traceability.gate`, DESIGN.md §8), each a
function `check(product) -> list[traceability.graph.Gap]` registered from
`PostmarketConfig.ready()`; each reads a fixed number of queries whatever the size of the file.

* a test whose latest run failed, with no problem report on that failure (IEC 62304 9.1);
* a safety-related problem report whose hazards were not re-evaluated (IEC 62304 9.3;
  ISO 14971 10.4) — or that names no hazard at all;
* an open problem report without the evaluation that, as a known residual anomaly of the
  release, it does not contribute to an unacceptable risk (IEC 62304 5.8.2–5.8.3);
* a SOUP vulnerability not assessed (under investigation), or affected with neither a security
  hazard nor a problem report (FDA premarket cybersecurity guidance 2023; AAMI TIR57);
* a SOUP item past its end of support — only where the gate does not check it itself.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from postmarket.models import (
    AnalysisState,
    ProblemReport,
    ProblemReportHazard,
    ProblemReportRun,
    ProblemStatus,
    RunRole,
    Vulnerability,
)
from traceability.graph import Gap, code_key
from traceability.models import SoftwareItem, TestCase, TestResult, TestRun

TEST = "test"
PROBLEM_REPORT = "problem_report"
VULNERABILITY = "vulnerability"
SOFTWARE_ITEM = "software_item"

# kind → (label, clause, what it is checked on)
KINDS: dict[str, tuple[str, str, str]] = {
    "failed_run_without_problem_report": (
        "Failed latest test runs without a problem report",
        "IEC 62304 9.1",
        "test cases whose latest run failed",
    ),
    "safety_problem_not_reevaluated": (
        "Safety-related problem reports whose hazards were not re-evaluated",
        "IEC 62304 9.3; ISO 14971 10.4",
        "safety-related problem reports",
    ),
    "known_anomaly_not_evaluated": (
        "Open problem reports without a known-anomaly evaluation",
        "IEC 62304 5.8.2, 5.8.3",
        "open problem reports",
    ),
    "vulnerability_unassessed": (
        "SOUP vulnerabilities not assessed",
        "FDA premarket cybersecurity guidance; IEC 81001-5-1 7.4",
        "matched SOUP vulnerabilities",
    ),
    "vulnerability_affected_unlinked": (
        "Affected vulnerabilities without a security hazard or problem report",
        "FDA premarket cybersecurity guidance; AAMI TIR57",
        "affected SOUP vulnerabilities",
    ),
}
END_OF_SUPPORT_KIND = {
    "soup_end_of_support": (
        "SOUP past its end of support",
        "IEC 62304 8.1.2; FDA premarket cybersecurity guidance",
        "SOUP items",
    )
}


def failed_runs_without_report(product) -> list[Gap]:
    """Tests whose latest run failed and no problem report names that failure (or an earlier
    failure of the same unbroken run of failures). Three queries."""
    latest = TestRun.objects.filter(test_case=OuterRef("pk")).order_by("-executed_at", "-id")
    # Only tests that ever failed can have a failed latest run: the latest run is looked up for
    # those (hundreds), not for every test of the product (20,000 at 5,000 hazards).
    ever_failed = TestRun.objects.filter(test_case__product=product, result=TestResult.FAIL).values(
        "test_case_id"
    )
    failing = {
        pk: code
        for pk, code, result in TestCase.objects.filter(product=product, pk__in=ever_failed)
        .order_by()  # sorted by code below; the model's ordering would join the product
        .annotate(latest_result=Subquery(latest.values("result")[:1]))
        .values_list("pk", "code", "latest_result")
        if result == TestResult.FAIL
    }
    if not failing:
        return []
    reported = set(
        ProblemReportRun.objects.filter(
            role=RunRole.FAILURE, test_run__test_case__in=failing
        ).values_list("test_run_id", flat=True)
    )
    runs: dict[int, list[tuple[int, str]]] = {}
    for test_id, run_id, result in (
        TestRun.objects.filter(test_case__in=failing)
        .order_by("test_case", "-executed_at", "-id")
        .values_list("test_case_id", "pk", "result")
    ):
        runs.setdefault(test_id, []).append((run_id, result))
    gaps = []
    for test_id, code in sorted(failing.items(), key=lambda kv: code_key(kv[1])):
        streak = []
        for run_id, result in runs.get(test_id, ()):
            if result != TestResult.FAIL:
                break
            streak.append(run_id)
        if not reported.intersection(streak):
            gaps.append(
                Gap(
                    "failed_run_without_problem_report",
                    (TEST, test_id),
                    code,
                    f"{code}: its latest run failed and no problem report records the "
                    "failure (IEC 62304 9.1).",
                )
            )
    return gaps


def problem_reports(product) -> list[Gap]:
    """Safety-related reports whose hazards were not re-evaluated; open reports without a
    known-anomaly evaluation. Two queries."""
    reports = list(
        ProblemReport.objects.filter(product=product)
        .only("pk", "code", "status", "safety_related", "anomaly_evaluation", "product_id")
        .order_by("code")
    )
    links: dict[int, list[ProblemReportHazard]] = {}
    for link in ProblemReportHazard.objects.filter(problem_report__product=product).select_related(
        "hazard"
    ):
        links.setdefault(link.problem_report_id, []).append(link)
    gaps = []
    for report in sorted(reports, key=lambda r: code_key(r.code)):
        node = (PROBLEM_REPORT, report.pk)
        if report.safety_related:
            mine = links.get(report.pk, [])
            stale = sorted(link.hazard.code for link in mine if not link.re_evaluated)
            if not mine:
                gaps.append(
                    Gap(
                        "safety_problem_not_reevaluated",
                        node,
                        report.code,
                        f"{report.code}: relevant to safety but names no hazard.",
                    )
                )
            elif stale:
                gaps.append(
                    Gap(
                        "safety_problem_not_reevaluated",
                        node,
                        report.code,
                        f"{report.code}: {', '.join(stale)} not re-evaluated since "
                        "the problem was linked.",
                    )
                )
        if report.status != ProblemStatus.CLOSED and not report.anomaly_evaluation.strip():
            gaps.append(
                Gap(
                    "known_anomaly_not_evaluated",
                    node,
                    report.code,
                    f"{report.code}: open, with no evaluation that it does not "
                    "contribute to an unacceptable risk (IEC 62304 5.8.3).",
                )
            )
    return gaps


def vulnerabilities(product) -> list[Gap]:
    """Unassessed and unlinked affected vulnerabilities, CISA KEV-listed first. One query."""
    rows = (
        Vulnerability.objects.filter(product=product, withdrawn=False)
        .filter(analysis_state__in=(AnalysisState.UNDER_INVESTIGATION, AnalysisState.AFFECTED))
        .select_related("software_item")
        .order_by()
    )
    gaps = []
    for v in sorted(rows, key=lambda v: (not v.in_kev, code_key(v.code))):
        kev = " (CISA KEV)" if v.in_kev else ""
        where = f"{v.advisory_id}{kev} in {v.software_item.code} {v.software_item.name}"
        if v.needs_assessment:
            gaps.append(
                Gap(
                    "vulnerability_unassessed",
                    (VULNERABILITY, v.pk),
                    v.code,
                    f"{v.code}: {where} is not assessed.",
                )
            )
        elif v.missing_link:
            gaps.append(
                Gap(
                    "vulnerability_affected_unlinked",
                    (VULNERABILITY, v.pk),
                    v.code,
                    f"{v.code}: {where} is affected, with no security hazard or problem report.",
                )
            )
    return gaps


def soup_end_of_support(product, today=None) -> list[Gap]:
    """SOUP past its end-of-support date. One query."""
    today = today or timezone.localdate()
    return [
        Gap(
            "soup_end_of_support",
            (SOFTWARE_ITEM, item.pk),
            item.code,
            f"{item.code} {item.name}: support ended {item.end_of_support:%Y-%m-%d}.",
        )
        for item in SoftwareItem.objects.filter(
            product=product, is_soup=True, end_of_support__lt=today
        ).order_by("code")
    ]


CHECKS = (failed_runs_without_report, problem_reports, vulnerabilities)


def postmarket_gaps(product) -> list[Gap]:
    """Every post-market gap of the product, in report order."""
    return [gap for check in CHECKS for gap in check(product)]
