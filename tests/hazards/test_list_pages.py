"""The hazard log and the risk-controls list: filters, sorting both ways with an indicator,
server-side pagination, the verification column (verified / partly / failed / none), heat-map
drill-down to exactly a cell's hazards, and exports of the filtered view."""

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse
from openpyxl import load_workbook

from riskbench import cache as rb_cache
from riskbench import lists
from riskbench.models import AccessLogEntry
from tests import factories


def log_url(product, **params):
    url = reverse("hazards:hazard_list", args=[product.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


@pytest.fixture
def verified_world(product):
    """HAZ-001 has one control whose tests pass (verified), HAZ-002 one whose effectiveness
    test failed, HAZ-003 one with only implementation evidence (partly), HAZ-004 none."""
    hazards = [
        factories.HazardFactory(product=product, code=f"HAZ-00{i}", title=f"Hazard {i}")
        for i in range(1, 5)
    ]
    results = {0: ("pass", "pass"), 1: ("pass", "fail"), 2: ("pass", None)}
    for i, (impl, eff) in results.items():
        control = factories.RiskControlFactory(product=product, code=f"RC-00{i + 1}")
        factories.HazardControlFactory(hazard=hazards[i], control=control)
        for aspect, result in (("impl", impl), ("eff", eff)):
            if result is None:
                continue
            test = factories.TestCaseFactory(product=product, code=f"TC-{aspect}-{i}")
            factories.TestRunFactory(test_case=test, result=result)
            factory = (
                factories.ControlImplementationTestFactory
                if aspect == "impl"
                else factories.ControlEffectivenessTestFactory
            )
            factory(control=control, test_case=test)
    return hazards


def test_hazard_log_shows_each_hazards_verification_state(auditor_client, product, verified_world):
    response = auditor_client.get(log_url(product))
    states = {h.code: h.verification for h in response.context["page"].object_list}
    assert states == {"HAZ-001": "verified", "HAZ-002": "failed", "HAZ-003": "partly",
                      "HAZ-004": "none"}  # fmt: skip
    html = response.content.decode()
    assert '<span class="chip chip-fail">Failed</span>' in html


def test_hazard_log_filters_by_verification_state(auditor_client, product, verified_world):
    response = auditor_client.get(log_url(product, verification="failed"))
    assert [h.code for h in response.context["page"].object_list] == ["HAZ-002"]


def test_controls_list_shows_and_filters_verification(auditor_client, product, verified_world):
    url = reverse("hazards:control_list", args=[product.slug])
    response = auditor_client.get(url)
    states = {c.code: c.verification for c in response.context["page"].object_list}
    assert states == {"RC-001": "verified", "RC-002": "failed", "RC-003": "partly"}
    response = auditor_client.get(url, {"verification": "partly"})
    assert [c.code for c in response.context["page"].object_list] == ["RC-003"]


def test_sorting_reverses_and_says_its_direction(auditor_client, product, verified_world):
    ascending = auditor_client.get(log_url(product, sort="code"))
    descending = auditor_client.get(log_url(product, sort="-code"))
    codes = [h.code for h in ascending.context["page"].object_list]
    assert [h.code for h in descending.context["page"].object_list] == codes[::-1]
    html = descending.content.decode()
    assert 'aria-sort="descending"' in html and "sort=code" in html  # next click: ascending
    assert "▼" in html


def test_an_unknown_sort_falls_back_to_code(auditor_client, product, verified_world):
    response = auditor_client.get(log_url(product, sort="-password"))
    assert response.status_code == 200
    assert [h.code for h in response.context["page"].object_list][0] == "HAZ-001"


def test_heat_map_cell_links_to_exactly_its_hazards(auditor_client, product):
    factories.HazardFactory(product=product, code="HAZ-001", severity=4, probability=2)
    factories.HazardFactory(product=product, code="HAZ-002", severity=4, probability=3)
    factories.HazardFactory(product=product, code="HAZ-003", severity=3, probability=2)
    dashboard = auditor_client.get(reverse("hazards:dashboard", args=[product.slug]))
    html = dashboard.content.decode()
    link = f"{log_url(product)}?category=safety&amp;severity=4&amp;probability=2"
    assert link in html
    response = auditor_client.get(log_url(product, category="safety", severity=4, probability=2))
    assert [h.code for h in response.context["page"].object_list] == ["HAZ-001"]
    assert "Initial probability of harm: 2" in response.content.decode()


def test_residual_map_says_how_many_hazards_are_not_estimated(auditor_client, product):
    factories.HazardFactory(
        product=product, code="HAZ-001", residual_severity=2, residual_probability=1,
        residual_acceptability="acceptable",
    )  # fmt: skip
    factories.HazardFactory(product=product, code="HAZ-002")  # no residual estimate
    html = auditor_client.get(reverse("hazards:dashboard", args=[product.slug])).content.decode()
    assert "1 hazard without a residual estimate" in html
    response = auditor_client.get(log_url(product, category="safety", residual="none"))
    assert [h.code for h in response.context["page"].object_list] == ["HAZ-002"]


def test_non_numeric_cell_filters_are_ignored(auditor_client, product, verified_world):
    response = auditor_client.get(log_url(product, severity="abc", residual_probability="1e9"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 4


def test_controls_list_filters_sorts_and_paginates(auditor_client, product):
    size = lists.PAGE_SIZE
    for i in range(1, size + 6):
        factories.RiskControlFactory(
            product=product, code=f"RC-{i:03d}",
            option="inherent_safety" if i % 2 else "information_for_safety",
        )  # fmt: skip
    url = reverse("hazards:control_list", args=[product.slug])
    first = auditor_client.get(url)
    assert first.context["page"].paginator.count == size + 5
    assert len(first.context["page"].object_list) == size
    assert "Page 1 of 2" in first.content.decode()
    second = auditor_client.get(url, {"page": 2, "sort": "-code"})
    assert [c.code for c in second.context["page"].object_list] == [
        "RC-005", "RC-004", "RC-003", "RC-002", "RC-001"
    ]  # fmt: skip
    filtered = auditor_client.get(url, {"option": "information_for_safety"})
    assert filtered.context["page"].paginator.count == (size + 5) // 2


def test_control_list_queries_do_not_grow_with_data(auditor_client, product, count_queries):
    url = reverse("hazards:control_list", args=[product.slug])
    factories.HazardControlFactory(hazard=factories.HazardFactory(product=product))
    with count_queries() as small:
        auditor_client.get(url)
    for _ in range(15):
        factories.HazardControlFactory(hazard=factories.HazardFactory(product=product))
    with count_queries() as large:
        auditor_client.get(url)
    assert small.count == large.count, large.dump()


def test_hazard_log_export_is_the_filtered_view_as_csv_with_bom(auditor_client, product):
    factories.HazardFactory(product=product, code="HAZ-001", title="=cmd|' /C calc'!A0")
    factories.HazardFactory(product=product, code="HAZ-002", category="security", title="Spoof")
    response = auditor_client.get(log_url(product, category="safety", export="csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Code", "Category", "Title"]
    assert [r[0] for r in rows[1:]] == ["HAZ-001"]  # the filter applies
    assert rows[1][2] == "'=cmd|' /C calc'!A0"  # never a formula
    assert rows[1][1] == "Safety" and rows[1][9].startswith("Investigate")  # labels
    entry = AccessLogEntry.objects.get(action="export")
    assert entry.product == product and "Hazard log CSV" in entry.detail


def test_controls_export_as_xlsx_keeps_text_as_text(auditor_client, product):
    factories.RiskControlFactory(product=product, code="RC-001", title="@SUM(1+1)")
    url = reverse("hazards:control_list", args=[product.slug])
    response = auditor_client.get(url, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Code" and rows[1][:2] == ("RC-001", "'@SUM(1+1)")
    assert sheet.freeze_panes == "B2"


def test_export_of_another_product_is_404(outsider_client, product):
    assert outsider_client.get(log_url(product, export="csv")).status_code == 404


def test_hazard_log_export_queries_do_not_grow_with_data(auditor_client, product, count_queries):
    factories.HazardControlFactory(hazard=factories.HazardFactory(product=product))
    cache.clear()  # both measurements compute the analysis afresh (riskbench.cache)
    rb_cache.forget_local()
    with count_queries() as small:
        auditor_client.get(log_url(product, export="xlsx"))
    for _ in range(20):
        factories.HazardControlFactory(hazard=factories.HazardFactory(product=product))
    cache.clear()
    rb_cache.forget_local()
    with count_queries() as large:
        auditor_client.get(log_url(product, export="xlsx"))
    assert small.count == large.count, large.dump()
