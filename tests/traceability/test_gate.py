"""The release gate (traceability.gate): one list of checks, each gap naming record and clause.

Each test starts from a file that passes the gate (a complete, verified chain, every record
approved, the plan signed) and breaks exactly one thing.
"""

import datetime as dt
import json

import pytest
from django.utils import timezone

from hazards.models import Hazard, RiskPolicy
from tests import factories as f
from tests.cli import run_command
from traceability import gate
from traceability.models import SoftwareItem, TestCase

SECURITY_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
RESIDUAL_VECTOR = "CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:H"


@pytest.fixture
def releasable(product):
    hazard = f.complete_chain(product)
    f.release_ready(product)
    return hazard


def kinds(product) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for gap in gate.product_gaps(product).gaps:
        result.setdefault(gap.kind, []).append(gap.code)
    return result


def update(record, **fields):
    """Change a fixture row in place (fast: no service; the gate reads the stored state)."""
    type(record).objects.filter(pk=record.pk).update(**fields)  # a fixture row: no history needed


def test_a_complete_approved_signed_file_passes(releasable, product):
    result = gate.product_gaps(product)
    assert result.ok and result.gaps == [], [g.message for g in result.gaps]
    assert {row.kind for row in result.coverage} >= set(gate.RECORD_KINDS)


def test_every_gap_names_its_record_and_clause_in_json(releasable, product):
    f.HazardFactory(product=product, code="HAZ-900")  # draft, no control
    data = gate.product_gaps(product).as_json()
    by_kind = {g["kind"]: g for g in data}
    gap = by_kind["record_not_approved"]
    assert gap["code"] == "HAZ-900" and gap["node"]["kind"] == "hazard"
    assert gap["clause"] == "ISO 14971 4.5; IEC 62304 5.1"
    assert gap["label"] == "Records of the risk file not approved"
    assert gap["message"] == "HAZ-900: hazard is draft, not approved."
    assert json.dumps(data)  # plain data


@pytest.mark.parametrize("model", [Hazard, "control", "requirement", TestCase, SoftwareItem])
def test_a_record_not_approved_is_a_gap(releasable, product, model):
    if model is SoftwareItem:
        record = f.SoftwareItemFactory(product=product, safety_class="A", status="in_review")
    elif model is TestCase:
        record = TestCase.objects.get(product=product)
        update(record, status="in_review")
    elif model is Hazard:
        record = releasable
        update(record, status="draft")
    else:
        record = {
            "control": product.controls.get(),
            "requirement": product.requirements.get(),
        }[model]
        update(record, status="in_review")
    assert kinds(product) == {"record_not_approved": [record.code]}


def test_the_plan_must_carry_a_valid_approved_signature(releasable, product):
    product.intended_use = "Changed after signing."
    product.save()
    result = gate.product_gaps(product)
    assert [g.kind for g in result.gaps] == ["plan_not_approved"]
    assert result.gaps[0].node == ("product", product.pk)


def test_the_policy_must_be_approved_in_its_current_version(releasable, product):
    policy = RiskPolicy.objects.get(product=product)
    update(policy, version=2)  # edited since its approval (approved_version 1)
    assert kinds(product) == {"policy_not_approved": [policy.name]}
    update(policy, status="draft", approved_criteria=None, version=1)
    assert "policy_not_approved" in kinds(product)


def test_initial_risk_not_estimated(releasable, product):
    update(releasable, initial_risk_index=None, severity=None)
    assert kinds(product)["initial_risk_not_estimated"] == [releasable.code]


def test_residual_risk_not_estimated_when_a_control_exists(releasable, product):
    """Only hazards without a control used to be checked: an unestimated residual risk of a
    controlled hazard passed."""
    update(releasable, residual_risk_index=None, residual_severity=None)
    assert kinds(product) == {"residual_risk_not_estimated": [releasable.code]}


def test_residual_risk_outside_the_regions_the_plan_lets_benefit_risk_accept(releasable, product):
    update(
        releasable,
        residual_acceptability="unacceptable",
        benefit_risk_region="unacceptable",
        benefit_risk_justification="Benefit outweighs the risk.",
        benefit_risk_benefits="Insulin therapy.",
        further_control_not_practicable="No further control is possible.",
    )
    assert kinds(product) == {"residual_risk_beyond_benefit_risk": [releasable.code]}
    # The plan allows it: the same justified row passes.
    update(
        RiskPolicy.objects.get(product=product),
        benefit_risk_regions=["investigate", "unacceptable"],
    )
    assert kinds(product) == {}


def test_a_justification_written_for_another_region_is_a_gap(releasable, product):
    update(
        releasable,
        residual_acceptability="investigate",
        benefit_risk_region="acceptable",
        benefit_risk_justification="Residual risk is acceptable.",
        benefit_risk_benefits="Insulin therapy.",
        further_control_not_practicable="Further reduction would stop therapy.",
    )
    gaps = gate.product_gaps(product).gaps
    assert [g.kind for g in gaps] == ["benefit_risk_region_mismatch"]
    assert "accepts a residual risk that is acceptable" in gaps[0].message
    assert "but the residual risk is investigate further risk control" in gaps[0].message


def test_benefit_risk_must_record_impracticability_and_benefit(releasable, product):
    update(
        releasable,
        residual_acceptability="investigate",
        benefit_risk_region="investigate",
        benefit_risk_justification="Benefit outweighs the risk.",
    )
    gaps = gate.product_gaps(product).gaps
    assert [g.kind for g in gaps] == ["benefit_risk_incomplete"]
    assert "why further risk control is not practicable or the benefits weighed" in gaps[0].message


def test_severity_reduced_without_justification(releasable, product):
    update(releasable, residual_severity=2)
    assert kinds(product) == {"severity_reduced_unjustified": [releasable.code]}
    update(releasable, severity_reduction_rationale="The pressure relief valve caps the dose.")
    assert kinds(product) == {}


def test_security_hazard_leading_to_an_unestimated_safety_hazard(releasable, product):
    security = f.HazardFactory(
        product=product, category="security", status="approved", severity=4, probability=3,
        initial_risk_index=12, initial_acceptability="acceptable",
    )  # fmt: skip
    safety = f.HazardFactory(
        product=product, status="approved", severity=None, p1=None, p2=None, probability=None,
        initial_risk_index=None, initial_acceptability="",
    )  # fmt: skip
    from hazards.models import HazardTransfer

    HazardTransfer.objects.create(security_hazard=security, safety_hazard=safety)
    found = kinds(product)
    assert found["security_safety_estimate_missing"] == [security.code]
    assert found["initial_risk_not_estimated"] == [safety.code]


def test_residual_cvss_vector_changed_without_rationale(releasable, product):
    security = f.HazardFactory(
        product=product, category="security", status="approved", severity=2, probability=1,
        initial_risk_index=2, initial_acceptability="acceptable", cvss_vector=SECURITY_VECTOR,
        residual_cvss_vector=RESIDUAL_VECTOR, residual_severity=2, residual_probability=1,
        residual_risk_index=2, residual_acceptability="acceptable",
    )  # fmt: skip
    assert kinds(product) == {"residual_cvss_unjustified": [security.code]}
    update(security, residual_cvss_rationale="Pairing needs physical presence: AV:A, PR:H.")
    assert kinds(product) == {}


def soup(product, **fields):
    return f.SoftwareItemFactory(
        product=product, is_soup=True, safety_class="A", status="approved", soup_version="1.2",
        soup_requirements="TLS 1.3", **fields,
    )  # fmt: skip


def test_soup_past_its_end_of_support(releasable, product):
    item = soup(
        product,
        anomalies_reviewed_at=dt.date(2026, 1, 1),
        anomalies_reviewed_version="1.2",
        end_of_support=timezone.localdate() - dt.timedelta(days=1),
    )
    gaps = gate.product_gaps(product).gaps
    assert [(g.kind, g.code) for g in gaps] == [("soup_end_of_support", item.code)]
    assert (
        gate.clause("soup_end_of_support")
        == "IEC 62304 8.1.2; FDA premarket cybersecurity guidance"
    )


def test_soup_anomaly_review_of_an_earlier_version(releasable, product):
    item = soup(
        product, anomalies_reviewed_at=dt.date(2026, 1, 1), anomalies_reviewed_version="1.1"
    )
    gaps = gate.product_gaps(product).gaps
    assert [(g.kind, g.code) for g in gaps] == [("soup_anomaly_review_outdated", item.code)]
    assert "covers version 1.1, not the current version 1.2" in gaps[0].message


def test_a_new_anomaly_review_records_the_version_it_covers(product, editor):
    from traceability import services

    item = services.software_item_create(
        product=product, by=editor, reason="SOUP", name="Mbed TLS", safety_class="B",
        is_soup=True, soup_version="3.6.0", anomalies_reviewed_at=dt.date(2026, 1, 1),
    )  # fmt: skip
    assert item.anomalies_reviewed_version == "3.6.0"
    item = services.software_item_update(
        item=item, by=editor, reason="Update", soup_version="3.6.1", expected_version=item.version
    )
    assert item.anomalies_reviewed_version == "3.6.0"  # the review is now outdated
    item = services.software_item_update(
        item=item,
        by=editor,
        reason="Reviewed",
        anomalies_reviewed_at=dt.date(2026, 2, 1),
        expected_version=item.version,
    )
    assert item.anomalies_reviewed_version == "3.6.1"


def test_failed_run_without_problem_report_is_reported_once(releasable, product):
    """The post-market check covers it; the gate does not report it a second time."""
    test_case = TestCase.objects.get(product=product)
    f.TestRunFactory(test_case=test_case, result="fail", executed_at=timezone.now())
    found = kinds(product)
    assert found["failed_run_without_problem_report"] == [test_case.code]
    assert found["test_not_passing"] == [test_case.code]


def test_query_count_does_not_grow_with_the_file(db, count_queries, monkeypatch):
    """The graph and the record checks; each registered check bounds its own queries (tested
    where it lives, e.g. tests/postmarket/test_checks.py)."""
    from bench.synthetic import generate_product

    monkeypatch.setattr(gate, "_CHECKS", [])
    small, large = generate_product(5, slug="gate-small"), generate_product(60, slug="gate-large")
    gate.product_gaps(small)  # warm the content-type cache
    with count_queries() as q_small:
        gate.product_gaps(small)
    with count_queries() as q_large:
        gate.product_gaps(large)
    # Graph (13: 5 node tables, 8 link tables), record checks (4: policy, plan signature,
    # hazards, SOUP; every record's status comes with the graph).
    assert q_small.count == q_large.count == 13 + 4, q_large.dump()


def test_riskcheck_lists_record_gaps_with_clause(releasable, product):
    update(releasable, status="in_review")
    result = run_command("riskcheck", product.slug)
    assert result.code == 1
    assert "Records of the risk file not approved (ISO 14971 4.5; IEC 62304 5.1): 1 gap" in (
        result.out
    )
    assert f"{releasable.code}: hazard is in review, not approved." in result.out


def test_coverage_page_and_dashboard_show_the_gate(releasable, product, editor_client):
    from django.urls import reverse

    update(releasable, status="in_review")
    page = editor_client.get(reverse("traceability:coverage", args=[product.slug]))
    assert "Records of the risk file not approved" in page.content.decode()
    assert f"{releasable.code}: hazard is in review, not approved." in page.content.decode()
    dashboard = editor_client.get(reverse("hazards:dashboard", args=[product.slug]))
    assert "Records of the risk file not approved" in dashboard.content.decode()
