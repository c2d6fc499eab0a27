"""The post-market checks of the release gate, and riskcheck reporting them."""

import datetime as dt
import json

from postmarket import checks, services
from postmarket.models import AnalysisState
from tests import factories
from tests.cli import run_command
from traceability import gate


def kinds(gaps):
    return {(g.kind, g.code) for g in gaps}


def test_checks_are_registered_with_the_gate():
    registered = gate.registered_checks()
    assert checks.failed_runs_without_report in registered
    assert checks.vulnerabilities in registered


def test_a_failed_latest_run_needs_a_problem_report(product, editor):
    test_case = factories.TestCaseFactory(product=product, code="TC-007")
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    factories.TestRunFactory(test_case=test_case, result="pass", executed_at=now)
    older = factories.TestRunFactory(
        test_case=test_case, result="fail", executed_at=now + dt.timedelta(days=1)
    )
    latest = factories.TestRunFactory(
        test_case=test_case, result="fail", executed_at=now + dt.timedelta(days=2)
    )
    assert kinds(checks.failed_runs_without_report(product)) == {
        ("failed_run_without_problem_report", "TC-007")
    }
    # A report on an earlier failure of the same unbroken run of failures covers it.
    services.problem_report_from_run(run=older, by=editor)
    assert checks.failed_runs_without_report(product) == []
    assert latest  # the latest run itself need not be linked


def test_a_passing_latest_run_needs_no_report(product):
    test_case = factories.TestCaseFactory(product=product)
    factories.TestRunFactory(
        test_case=test_case, result="fail", executed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    factories.TestRunFactory(
        test_case=test_case, result="pass", executed_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    )
    assert checks.failed_runs_without_report(product) == []


def test_a_safety_related_report_needs_re_evaluated_hazards(product, editor):
    hazard = factories.HazardFactory(product=product, code="HAZ-003")
    report = services.problem_report_create(
        product=product,
        by=editor,
        title="T",
        source="complaint",
        description="D",
        safety_related=True,
        anomaly_evaluation="Not contributing",
    )
    assert kinds(checks.problem_reports(product)) == {("safety_problem_not_reevaluated", "PR-001")}
    link = services.problem_report_link_hazard(report=report, hazard=hazard, by=editor)
    gaps = checks.problem_reports(product)
    assert "HAZ-003 not re-evaluated" in gaps[0].message
    from hazards.services import hazard_update

    hazard_update(
        hazard=hazard,
        by=editor,
        reason="Re-estimated",
        harm="Severe hypoglycaemia.",
        expected_version=hazard.version,
    )
    link.refresh_from_db()
    assert checks.problem_reports(product) == []


def test_an_open_report_needs_its_known_anomaly_evaluation(product, editor):
    services.problem_report_create(
        product=product,
        by=editor,
        title="T",
        source="complaint",
        description="D",
        safety_related=False,
    )
    assert kinds(checks.problem_reports(product)) == {("known_anomaly_not_evaluated", "PR-001")}


def test_unassessed_and_unlinked_vulnerabilities_kev_first(product, editor):
    item = factories.SoftwareItemFactory(product=product, is_soup=True)
    plain = services.vulnerability_record(
        product=product, item=item, by=editor, reason="r", advisory_id="GHSA-a"
    )
    services.vulnerability_record(
        product=product, item=item, by=editor, reason="r", advisory_id="GHSA-b", in_kev=True
    )
    gaps = checks.vulnerabilities(product)
    assert [g.code for g in gaps] == ["VUL-002", "VUL-001"]
    services.vulnerability_assess(
        vulnerability=plain,
        by=editor,
        analysis_state=AnalysisState.NOT_AFFECTED,
        justification="code_not_present",
        expected_version=plain.version,
    )
    assert [g.code for g in checks.vulnerabilities(product)] == ["VUL-002"]


def test_soup_past_end_of_support(product):
    factories.SoftwareItemFactory(
        product=product, is_soup=True, code="SW-009", end_of_support=dt.date(2026, 6, 30)
    )
    factories.SoftwareItemFactory(
        product=product, is_soup=True, code="SW-010", end_of_support=dt.date(2030, 1, 1)
    )
    gaps = checks.soup_end_of_support(product, today=dt.date(2026, 12, 1))
    assert kinds(gaps) == {("soup_end_of_support", "SW-009")}


def test_riskcheck_reports_post_market_gaps_with_label_and_clause(product, editor):
    item = factories.SoftwareItemFactory(product=product, is_soup=True)
    services.vulnerability_record(
        product=product, item=item, by=editor, reason="r", advisory_id="GHSA-a"
    )
    result = run_command("riskcheck", product.slug, "--format", "json")
    assert result.code == 1
    gap = next(g for g in json.loads(result.out)["gaps"] if g["kind"] == "vulnerability_unassessed")
    assert gap["label"] == "SOUP vulnerabilities not assessed"
    assert "FDA" in gap["clause"] and gap["node"]["kind"] == "vulnerability"
    text = run_command("riskcheck", product.slug).out
    assert "SOUP vulnerabilities not assessed" in text and "VUL-001" in text


def test_checks_run_in_a_fixed_number_of_queries(product, editor, count_queries):
    def count():
        with count_queries() as q:
            checks.postmarket_gaps(product)
            checks.soup_end_of_support(product)
        return q.count

    empty = count()
    hazard = factories.HazardFactory(product=product)
    item = factories.SoftwareItemFactory(product=product, is_soup=True)
    for n in range(5):
        tc = factories.TestCaseFactory(product=product)
        factories.TestRunFactory(test_case=tc, result="fail")
        services.problem_report_create(
            product=product,
            by=editor,
            title="T",
            source="complaint",
            description="D",
            safety_related=True,
            hazards=[hazard],
        )
        services.vulnerability_record(
            product=product, item=item, by=editor, reason="r", advisory_id=f"GHSA-{n}"
        )
    # Expected: failing tests (1) + reported runs (1) + their runs (1), reports (1) + hazard
    # links (1), vulnerabilities (1), end of support (1); "empty" skips the two run queries.
    assert count() == empty + 2 == 7
