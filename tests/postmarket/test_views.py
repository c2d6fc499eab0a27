"""Post-market pages: who may do what, the one-click problem report from a failed run, the
signed closure, the assessment rules, the feed upload and the field review, and that list
pages do not grow their query count with the data."""

import io

import pytest
from django.urls import reverse

from hazards.models import Hazard
from postmarket import services
from postmarket.models import (
    AnalysisState,
    FieldRecord,
    ImportStatus,
    ProblemReport,
    ProblemStatus,
    RunRole,
    Vulnerability,
    VulnerabilityImport,
)
from riskbench.models import Signature
from tests import factories
from tests.postmarket.conftest import KEV, OSV_DIR, make_zip
from traceability import services as trace_services


@pytest.fixture
def failed_run(product):
    test_case = factories.TestCaseFactory(product=product, code="TC-001", title="Duplicate bolus")
    item = factories.SoftwareItemFactory(product=product, code="SW-001")
    requirement = factories.RequirementFactory(product=product, software_item=item)
    factories.RequirementTestFactory(requirement=requirement, test_case=test_case)
    return factories.TestRunFactory(
        test_case=test_case, result="fail", software_version="3.2.0-rc2", notes="1 of 500 twice"
    )


def from_run_url(run):
    tc = run.test_case
    return reverse("postmarket:problem_report_from_run", args=[tc.product.slug, tc.code, run.pk])


def test_the_test_page_offers_report_a_problem_on_a_failed_run(editor_client, failed_run):
    tc = failed_run.test_case
    html = editor_client.get(
        reverse("traceability:test_case_detail", args=[tc.product.slug, tc.code])
    ).content.decode()
    assert from_run_url(failed_run) in html


def test_one_click_on_a_failed_run_creates_a_linked_problem_report(editor_client, failed_run):
    response = editor_client.post(from_run_url(failed_run))
    report = ProblemReport.objects.get()
    assert response.url == report.get_absolute_url()
    assert report.source == "test_failure" and report.product_versions == "3.2.0-rc2"
    assert report.run_links.get().test_run == failed_run
    assert report.run_links.get().role == RunRole.FAILURE
    assert [link.software_item.code for link in report.item_links.all()] == ["SW-001"]
    assert "1 of 500 twice" in report.description
    # A second click goes to the same report; nothing new is written.
    editor_client.post(from_run_url(failed_run))
    assert ProblemReport.objects.count() == 1


def test_a_passing_run_is_not_reported_as_a_problem(editor_client, product):
    run = factories.TestRunFactory(test_case=factories.TestCaseFactory(product=product))
    editor_client.post(from_run_url(run))
    assert not ProblemReport.objects.exists()


def test_reporting_from_a_run_is_refused_to_auditors(auditor_client, failed_run):
    assert auditor_client.post(from_run_url(failed_run)).status_code == 403
    assert not ProblemReport.objects.exists()


def test_reporting_from_a_run_is_hidden_from_outsiders(outsider_client, failed_run):
    assert outsider_client.post(from_run_url(failed_run)).status_code == 404
    assert not ProblemReport.objects.exists()


def test_a_run_of_another_product_is_not_found(editor_client, product, other_product):
    run = factories.TestRunFactory(
        test_case=factories.TestCaseFactory(product=other_product), result="fail"
    )
    url = reverse(
        "postmarket:problem_report_from_run", args=[product.slug, run.test_case.code, run.pk]
    )
    assert editor_client.post(url).status_code == 404


def _close(client, report, password="correct-horse-battery", version=None):
    return client.post(
        reverse("postmarket:problem_report_close", args=[report.product.slug, report.code]),
        {
            "username": "editor",
            "password": password,
            "reason": "Fixed in 3.2.0",
            "version": version or report.version,
        },
    )


def test_closing_is_signed_and_needs_the_resolution_recorded(editor_client, editor, failed_run):
    report, _ = services.problem_report_from_run(run=failed_run, by=editor)
    _close(editor_client, report)
    report.refresh_from_db()
    assert report.status == ProblemStatus.OPEN  # not investigated: refused
    hazard = factories.HazardFactory(product=report.product)
    services.problem_report_set_status(
        report=report, status="investigating", by=editor, expected_version=report.version
    )
    report = services.problem_report_update(
        report=report,
        by=editor,
        investigation="Retry without idempotency key.",
        safety_related=True,
        expected_version=report.version,
    )
    link = services.problem_report_link_hazard(report=report, hazard=hazard, by=editor)
    _close(editor_client, report)
    assert ProblemReport.objects.get().status != ProblemStatus.CLOSED  # hazard not re-evaluated
    services.problem_hazard_review(link=link, by=editor, reason="P2 unchanged: bolus limit")
    report.refresh_from_db()
    _close(editor_client, report, password="wrong")
    assert ProblemReport.objects.get().status != ProblemStatus.CLOSED
    report.refresh_from_db()
    _close(editor_client, report)
    report.refresh_from_db()
    assert report.status == ProblemStatus.CLOSED and report.closed_at
    signature = Signature.objects.get(object_id=report.pk, meaning="approved")
    assert signature.record_label.startswith(report.code)
    assert report.history.first().history_user == editor


def test_a_stale_closure_is_refused(editor_client, editor, product):
    report = services.problem_report_create(
        product=product,
        by=editor,
        title="T",
        source="internal_review",
        description="D",
        investigation="Done",
        safety_related=False,
    )
    services.problem_report_set_status(
        report=report, status="investigating", by=editor, expected_version=report.version
    )
    _close(editor_client, report, version=report.version)  # version 1 is still current
    assert ProblemReport.objects.get().status == ProblemStatus.CLOSED
    stale = ProblemReport.objects.get()
    services.problem_report_set_status(
        report=stale, status="open", by=editor, reason="Again", expected_version=stale.version
    )
    stale = services.problem_report_update(
        report=stale, by=editor, title="Changed meanwhile", expected_version=stale.version
    )
    services.problem_report_set_status(
        report=stale, status="investigating", by=editor, expected_version=stale.version
    )
    _close(editor_client, stale, version=1)
    assert ProblemReport.objects.get().status == ProblemStatus.INVESTIGATING


def test_an_implemented_change_needs_a_passing_verification_run(editor, product, failed_run):
    report, _ = services.problem_report_from_run(run=failed_run, by=editor)
    problems = dict(services.closure_problems(report))
    assert "investigation" in problems
    change = services.change_request_create(report=report, by=editor, title="Fix")
    services.change_request_update(
        change=change,
        by=editor,
        status="implemented",
        implemented_in="3.2.0",
        expected_version=change.version,
    )
    assert "verification" in dict(services.closure_problems(report))
    passing = trace_services.test_run_record(
        test_case=failed_run.test_case, by=editor, result="pass", software_version="3.2.0"
    )
    services.problem_report_link_run(report=report, run=passing, role="verification", by=editor)
    assert "verification" not in dict(services.closure_problems(report))


def test_problem_report_list_filters_and_counts(editor_client, editor, product):
    for n in range(3):
        services.problem_report_create(
            product=product, by=editor, title=f"Problem {n}", source="complaint", description="x"
        )
    url = reverse("postmarket:problem_report_list", args=[product.slug])
    html = editor_client.get(url + "?status=open&q=Problem 1").content.decode()
    assert "PR-002" in html and "PR-001" not in html


@pytest.mark.parametrize(
    "name",
    [
        "postmarket:problem_report_list",
        "postmarket:vulnerability_list",
        "postmarket:field_record_list",
        "postmarket:field_trend",
    ],
)
def test_list_pages_do_not_grow_their_query_count(
    editor_client, editor, product, name, count_queries
):
    item = factories.SoftwareItemFactory(product=product, is_soup=True)
    hazard = factories.HazardFactory(product=product)

    def add(n):
        for _ in range(n):
            report = services.problem_report_create(
                product=product,
                by=editor,
                title="P",
                source="complaint",
                description="x",
                hazards=[hazard],
            )
            services.change_request_create(report=report, by=editor, title="C")
            services.vulnerability_record(
                product=product, item=item, by=editor, reason="r", advisory_id=f"GHSA-{report.pk}"
            )
            services.field_record_create(
                product=product,
                by=editor,
                kind="complaint",
                title="F",
                received_on="2026-10-01",
                hazards=[hazard],
            )

    url = reverse(name, args=[product.slug])
    counts = []
    for n in (2, 12):
        add(n)
        editor_client.get(url)
        with count_queries() as q:
            assert editor_client.get(url).status_code == 200
        counts.append((q.count, q))
    assert counts[0][0] == counts[1][0], counts[1][1].dump()


def test_not_affected_needs_a_justification(editor_client, editor, product):
    item = factories.SoftwareItemFactory(product=product, is_soup=True)
    v = services.vulnerability_record(
        product=product, item=item, by=editor, reason="r", advisory_id="GHSA-x"
    )
    url = reverse("postmarket:vulnerability_assess", args=[product.slug, v.code])
    editor_client.post(url, {"analysis_state": "not_affected", "version": v.version})
    v.refresh_from_db()
    assert v.analysis_state == AnalysisState.UNDER_INVESTIGATION
    editor_client.post(
        url,
        {
            "analysis_state": "not_affected",
            "justification": "code_not_present",
            "version": v.version,
        },
    )
    v.refresh_from_db()
    assert v.analysis_state == AnalysisState.NOT_AFFECTED and v.assessed_by == editor


def test_a_hazard_of_another_product_cannot_handle_a_vulnerability(
    editor_client, editor, product, other_product
):
    item = factories.SoftwareItemFactory(product=product, is_soup=True)
    v = services.vulnerability_record(
        product=product, item=item, by=editor, reason="r", advisory_id="GHSA-x"
    )
    foreign = factories.HazardFactory(product=other_product, category="security")
    editor_client.post(
        reverse("postmarket:vulnerability_assess", args=[product.slug, v.code]),
        {"analysis_state": "affected", "hazard": foreign.pk, "version": v.version},
    )
    v.refresh_from_db()
    assert v.analysis_state == AnalysisState.UNDER_INVESTIGATION and v.hazard is None


def test_a_new_security_hazard_handles_an_affected_vulnerability(editor_client, editor, product):
    item = factories.SoftwareItemFactory(product=product, is_soup=True, name="Log4j")
    v = services.vulnerability_record(
        product=product,
        item=item,
        by=editor,
        reason="r",
        advisory_id="GHSA-jfh8",
        aliases=["CVE-2021-44228"],
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
    )
    response = editor_client.post(
        reverse("postmarket:vulnerability_new_hazard", args=[product.slug, v.code]),
        {"version": v.version},
    )
    v.refresh_from_db()
    hazard = Hazard.objects.get(category="security")
    assert response.url == hazard.get_absolute_url()
    assert v.analysis_state == AnalysisState.AFFECTED and v.hazard == hazard
    assert "CVE-2021-44228" in hazard.vulnerability and "AV:N/AC:L" in hazard.vulnerability


def test_a_feed_upload_is_checked_in_the_background(editor_client, product, soup):
    data = make_zip({p.name: p.read_bytes() for p in OSV_DIR.glob("*.json")})
    url = reverse("postmarket:vulnerability_import", args=[product.slug])
    feed = io.BytesIO(data)
    feed.name = "PyPI.zip"
    kev = io.BytesIO(KEV.read_bytes())
    kev.name = "kev.json"
    editor_client.post(url, {"feed": feed, "kev": kev})
    run = VulnerabilityImport.objects.get()
    assert run.status == ImportStatus.DONE and run.progress == 100
    assert len(run.summary["created"]) == Vulnerability.objects.count() == 7
    assert Vulnerability.objects.get(advisory_id="GHSA-jfh8-c2jp-5v3q").in_kev
    status = editor_client.get(
        reverse("postmarket:vulnerability_import_status", args=[product.slug, run.pk])
    ).json()
    assert status["pending"] is False and status["status"] == "done"


def test_a_hostile_feed_upload_fails_and_records_nothing(editor_client, product, soup):
    feed = io.BytesIO(make_zip({"../../etc/x.json": b"{}"}))
    feed.name = "evil.zip"
    editor_client.post(
        reverse("postmarket:vulnerability_import", args=[product.slug]), {"feed": feed}
    )
    run = VulnerabilityImport.objects.get()
    assert run.status == ImportStatus.FAILED and "leaves the archive" in run.error
    assert not Vulnerability.objects.exists()


def test_a_binary_upload_is_refused_naming_the_field(editor_client, product):
    feed = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    feed.name = "feed.json"
    response = editor_client.post(
        reverse("postmarket:vulnerability_import", args=[product.slug]), {"feed": feed}
    )
    assert response.status_code == 200
    assert "Not a JSON document or a ZIP archive" in response.content.decode()
    assert not VulnerabilityImport.objects.exists()


def test_field_review_and_reestimation_land_in_the_hazard_history(editor_client, editor, product):
    hazard = factories.HazardFactory(product=product, p1=2, p2=3)
    record = services.field_record_create(
        product=product,
        by=editor,
        kind="complaint",
        title="Two boluses",
        received_on="2026-10-01",
        hazards=[hazard],
    )
    slug = product.slug
    editor_client.post(
        reverse("postmarket:field_record_review", args=[slug, record.code]),
        {
            "safety_relevant": "true",
            "decision": "re_estimate",
            "review_notes": "More frequent",
            "version": record.version,
        },
    )
    record.refresh_from_db()
    assert record.decision == "re_estimate" and record.reviewed_by == editor
    link = record.hazard_links.get()
    editor_client.post(
        reverse("postmarket:field_record_reestimate", args=[slug, record.code, link.pk]),
        {f"h{link.pk}-p1": "4", f"h{link.pk}-version": hazard.version},
    )
    hazard.refresh_from_db()
    assert hazard.p1 == 4
    assert record.code in hazard.history.first().history_change_reason


def test_new_hazard_and_problem_report_decisions_create_them(editor, product):
    record = services.field_record_create(
        product=product, by=editor, kind="adverse_event", title="Burn", received_on="2026-10-01"
    )
    services.field_record_review(
        record=record,
        by=editor,
        safety_relevant=True,
        decision="new_hazard",
        review_notes="Not analysed before",
        new_hazard={"title": "Hot casing", "category": "safety"},
        expected_version=record.version,
    )
    assert record.hazard_links.get().hazard.title == "Hot casing"
    record = FieldRecord.objects.get()
    services.field_record_review(
        record=record,
        by=editor,
        safety_relevant=True,
        decision="problem_report",
        review_notes="Fix it",
        expected_version=record.version,
    )
    record.refresh_from_db()
    assert record.problem_report.source == "field_report"


def test_a_decision_other_than_no_change_needs_safety_relevance(editor, product):
    from django.core.exceptions import ValidationError

    record = services.field_record_create(
        product=product, by=editor, kind="literature", title="Paper", received_on="2026-10-01"
    )
    with pytest.raises(ValidationError):
        services.field_record_review(
            record=record,
            by=editor,
            safety_relevant=False,
            decision="problem_report",
            review_notes="x",
            expected_version=record.version,
        )


def test_trend_page_says_whether_the_estimate_holds(editor_client, editor, product):
    hazard = factories.HazardFactory(product=product, probability=2, residual_probability=None)
    services.field_exposure_create(
        product=product,
        by=editor,
        period_start="2026-01-01",
        period_end="2026-12-31",
        uses=100_000,
        basis="1,000 pumps",
    )
    services.field_record_create(
        product=product,
        by=editor,
        kind="complaint",
        title="C",
        received_on="2026-05-01",
        event_count=3,
        hazards=[hazard],
    )
    html = editor_client.get(
        reverse("postmarket:field_trend", args=[product.slug])
    ).content.decode()
    assert "exceeded" in html  # 3e-5 per use against Remote (< 1e-5)


def test_sbom_download_is_access_logged(editor_client, product, soup):
    from riskbench.models import AccessLogEntry

    response = editor_client.get(reverse("postmarket:sbom_download", args=[product.slug]))
    assert response.status_code == 200 and b'"specVersion": "1.6"' in response.content
    assert AccessLogEntry.objects.filter(action="export", product=product).exists()


def test_dashboard_shows_the_post_market_panel_and_end_of_support(editor_client, product):
    factories.SoftwareItemFactory(
        product=product, is_soup=True, code="SW-050", name="FreeRTOS", end_of_support="2020-06-30"
    )
    html = editor_client.get(reverse("hazards:dashboard", args=[product.slug])).content.decode()
    assert "After release" in html and "SOUP past end of support" in html and "SW-050" in html


def test_the_software_pages_flag_soup_past_end_of_support(editor_client, product):
    factories.SoftwareItemFactory(
        product=product, is_soup=True, code="SW-050", end_of_support="2020-06-30"
    )
    factories.SoftwareItemFactory(
        product=product, is_soup=True, code="SW-051", end_of_support="2099-06-30"
    )
    listing = editor_client.get(
        reverse("traceability:software_item_list", args=[product.slug])
    ).content.decode()
    assert listing.count("past end of support") == 1
    detail = reverse("traceability:software_item_detail", args=[product.slug, "SW-050"])
    assert "past end of support" in editor_client.get(detail).content.decode()
    later = reverse("traceability:software_item_detail", args=[product.slug, "SW-051"])
    assert "past end of support" not in editor_client.get(later).content.decode()


def test_the_search_box_finds_post_market_records(editor_client, editor, product):
    item = factories.SoftwareItemFactory(product=product, is_soup=True)
    services.vulnerability_record(
        product=product,
        item=item,
        by=editor,
        reason="r",
        advisory_id="GHSA-jfh8",
        aliases=["CVE-2021-44228"],
    )
    services.problem_report_create(
        product=product, by=editor, title="Occlusion late", source="complaint", description="x"
    )
    url = reverse("hazards:search", args=[product.slug])
    assert "VUL-001" in editor_client.get(url, {"q": "CVE-2021-44228"}).content.decode()
    assert "PR-001" in editor_client.get(url, {"q": "occlusion"}).content.decode()


def test_a_closed_report_keeps_its_links(editor, product):
    from django.core.exceptions import ValidationError

    hazard = factories.HazardFactory(product=product)
    report = services.problem_report_create(
        product=product,
        by=editor,
        title="T",
        source="internal_review",
        description="D",
        investigation="Not a defect",
        safety_related=True,
        hazards=[hazard],
    )
    services.problem_hazard_review(link=report.hazard_links.get(), by=editor, reason="Holds")
    services.problem_report_set_status(
        report=report, status="investigating", by=editor, expected_version=report.version
    )
    report.refresh_from_db()
    services.problem_report_close(
        report=report,
        by=editor,
        username="editor",
        password="correct-horse-battery",
        expected_version=report.version,
    )
    with pytest.raises(ValidationError, match="closed and signed"):
        services.problem_report_unlink(link=report.hazard_links.get(), by=editor, reason="x")
    with pytest.raises(ValidationError, match="closed and signed"):
        services.problem_report_link_item(
            report=report, item=factories.SoftwareItemFactory(product=product), by=editor
        )
