"""Snapshots of a product's risk file and their diff (ISO 14971 4.5; IEC 62304 8.1)."""

import datetime as dt
from decimal import Decimal

import pytest

from hazards import services
from hazards.models import Hazard, Product, RiskPolicy
from tests import factories
from traceability.baselines import selectors
from traceability.baselines.selectors import Change

pytestmark = pytest.mark.django_db

# SHA-256 of the projection below on the fixed file of `build_fixed_file`. It must be the same
# on SQLite and on PostgreSQL (the lead runs the suite on both): that is the cross-database
# stability of the baseline hash. It changes only if the canonical rules change (or the data
# model: each product owning its risk policy changed the product and policy sections).
GOLDEN_SHA256 = "bffee8b1c762ff29a39af8299c1772bcd3c3911465219b3bebc23b0322e96cae"
GOLDEN_FIELDS = {
    "product": ["name", "slug", "model_number", "intended_use"],
    "policy": [
        "product", "name", "severity_levels", "probability_levels", "safety_matrix", "status",
        "approved_criteria",
    ],
    "hazards": [
        "code", "title", "category", "severity", "p1", "p2", "probability", "owner",
        "cvss_base_score", "data_elements", "status", "revision",
    ],
    "controls": ["code", "title", "option"],
    "software_items": ["code", "name", "parent", "safety_class", "anomalies_reviewed_at"],
    "requirements": ["code", "title", "text", "software_item"],
    "test_cases": ["code", "title"],
    "test_runs": ["test_case", "result", "executed_at", "executed_by", "evidence_sha256"],
    "links": ["kind", "source", "target", "cause_type"],
}  # fmt: skip


def golden_policy(product) -> RiskPolicy:
    """The product's own policy, with small scales; approved (its criteria in force)."""
    criteria = dict(
        severity_levels=[{"value": 1, "name": "Minor"}, {"value": 2, "name": "Major"}],
        probability_levels=[{"value": 1, "name": "Rare", "max": 1e-06}, {"value": 2, "max": 0.5}],
        p1_levels=[],
        p2_levels=[],
        probability_mapping=[[1]],
        safety_matrix=[["acceptable", "investigate"], ["investigate", "unacceptable"]],
        exploitability_levels=[{"value": 1, "min_esc": 0.0}],
        security_matrix=[],
        privacy_impact_levels=[],
        privacy_likelihood_levels=[],
        privacy_matrix=[],
    )
    return RiskPolicy.objects.create(
        product=product,
        name="Golden policy",
        status="approved",
        approved_criteria=criteria,
        approved_version=1,
        **criteria,
    )


def build_fixed_file(slug="golden-pump", name="Golden pump", template=None) -> Product:
    """The same risk file, value for value, every time (no factory sequences). Its policy is
    the golden one, or an approved copy of `template`."""
    owner = factories.UserFactory(username="qe-ada")
    product = Product.objects.create(
        name=name,
        slug=slug,
        model_number="GP-1 v1.0",
        intended_use="Delivers insulin at 10.0 U/h.",
    )
    if template is None:
        golden_policy(product)
    else:
        factories.own_policy(product, template=template)
    over = factories.HazardFactory(
        product=product, code="HAZ-001", title="Over-delivery", owner=owner, severity=4
    )
    factories.HazardFactory(
        product=product,
        code="HAZ-002",
        category="security",
        title="Dose changed over BLE",
        cvss_vector="CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
        cvss_base_score=Decimal("6.50"),
    )
    factories.HazardFactory(
        product=product,
        code="HAZ-010",
        category="privacy",
        title="Identifiers leak",
        data_elements=["names", "device_ids"],
    )
    alarm = factories.RiskControlFactory(product=product, code="RC-001", title="Occlusion alarm")
    factories.HazardControlFactory(hazard=over, control=alarm)
    parent = factories.SoftwareItemFactory(product=product, code="SW-001", name="Firmware")
    child = factories.SoftwareItemFactory(
        product=product,
        code="SW-002",
        name="Dose controller",
        parent=parent,
        anomalies_reviewed_at=dt.date(2025, 1, 15),
    )
    factories.SoftwareItemHazardFactory(software_item=child, hazard=over, cause_type="defect")
    req = factories.RequirementFactory(
        product=product, code="SRS-001", title="Stop on occlusion", software_item=child
    )
    factories.ControlRequirementFactory(control=alarm, requirement=req)
    case = factories.TestCaseFactory(product=product, code="TC-001", title="Occlusion stop")
    factories.RequirementTestFactory(requirement=req, test_case=case)
    factories.TestRunFactory(
        test_case=case,
        executed_at=dt.datetime(2025, 1, 31, 9, 15, 0, 123456, tzinfo=dt.UTC),
        executed_by=owner,
        evidence_sha256="ab" * 32,
    )
    return product


def project(data: dict) -> dict:
    out = {}
    for section, names in GOLDEN_FIELDS.items():
        if section in selectors.SINGLE_RECORD_SECTIONS:
            out[section] = {n: data[section].get(n) for n in names}
        else:
            out[section] = {
                key: {n: record.get(n) for n in names} for key, record in data[section].items()
            }
    return out


def test_a_snapshot_covers_the_whole_risk_file_by_natural_keys():
    data = selectors.snapshot(build_fixed_file())
    assert set(data) == {
        "format", "product", "policy", "hazards", "controls", "software_items",
        "requirements", "test_cases", "test_runs", "links",
    }  # fmt: skip
    assert list(data["hazards"]) == ["HAZ-001", "HAZ-002", "HAZ-010"]
    assert data["hazards"]["HAZ-001"]["owner"] == "qe-ada"
    assert data["hazards"]["HAZ-002"]["cvss_base_score"] == "6.5"
    assert data["software_items"]["SW-002"]["parent"] == "SW-001"
    assert data["software_items"]["SW-002"]["anomalies_reviewed_at"] == "2025-01-15"
    assert data["requirements"]["SRS-001"]["software_item"] == "SW-002"
    assert data["policy"]["name"] == "Golden policy"
    assert data["policy"]["product"] == "golden-pump"
    assert data["policy"]["approved_criteria"]["safety_matrix"][1][1] == "unacceptable"
    run = data["test_runs"]["TC-001 2025-01-31T09:15:00.123456Z"]
    assert run["executed_by"] == "qe-ada" and run["result"] == "pass"
    assert set(data["links"]) == {
        "reduces HAZ-001 → RC-001",
        "implemented_by RC-001 → SRS-001",
        "verified_by SRS-001 → TC-001",
        "contributes_to SW-002 → HAZ-001 (defect)",
    }
    for record in data["hazards"].values():
        assert not {"id", "version", "created_at", "updated_at", "product"} & record.keys()
    for record in data["links"].values():
        assert not {"created_by", "created_at", "source_version", "reviewed_at"} & record.keys()


def test_the_hash_is_stable_across_runs_of_unchanged_data():
    product = build_fixed_file()
    first = selectors.snapshot_sha256(selectors.snapshot(product))
    Hazard.objects.get(code="HAZ-001").save()  # a save that changes nothing but updated_at
    assert selectors.snapshot_sha256(selectors.snapshot(product)) == first


def test_the_snapshot_does_not_depend_on_database_ids():
    first = selectors.snapshot(build_fixed_file("pump-a", "Pump"))
    # Shift every id sequence, then build the same file again in another product.
    factories.HazardControlFactory()
    factories.SoftwareItemHazardFactory()
    factories.RequirementTestFactory()
    factories.ControlRequirementFactory()
    factories.TestRunFactory()
    second = selectors.snapshot(build_fixed_file("pump-b", "Pump"))
    for section in first:
        if section != "product":
            assert first[section] == second[section] or section == "policy", section
    first["product"].pop("slug")
    second["product"].pop("slug")
    assert first["product"] == second["product"]
    # The policy refers to its product by slug, never by id.
    assert (first["policy"].pop("product"), second["policy"].pop("product")) == (
        "pump-a",
        "pump-b",
    )
    assert first["policy"] == second["policy"]


def test_the_golden_hash_is_the_same_on_every_database():
    data = selectors.snapshot(build_fixed_file())
    assert selectors.snapshot_sha256(project(data)) == GOLDEN_SHA256, selectors.snapshot_json(
        project(data)
    )


def test_a_snapshot_takes_a_fixed_number_of_queries(count_queries):
    product = build_fixed_file()
    with count_queries() as small:
        selectors.snapshot(product)
    for i in range(15):
        hazard = factories.HazardFactory(product=product, code=f"HAZ-{100 + i}")
        factories.HazardControlFactory(hazard=hazard)
        factories.TestRunFactory(test_case=factories.TestCaseFactory(product=product))
    with count_queries() as large:
        selectors.snapshot(product)
    # product + policy; hazards; controls; software items; requirements; test cases; runs;
    # 8 link tables; user names.
    assert small.count == large.count == 16, large.dump()


# --- diff -------------------------------------------------------------------------------------


def test_equal_snapshots_have_no_differences():
    data = selectors.snapshot(build_fixed_file())
    assert selectors.diff(data, data) == []


def test_diff_lists_exactly_the_changes_made_between_two_snapshots(editor):
    product = build_fixed_file(template=factories.default_policy())
    hazard = Hazard.objects.get(product=product, code="HAZ-001")
    # Factory rows bypass the service: let it derive the risk fields once before comparing.
    hazard = services.hazard_update(
        hazard=hazard, by=editor, reason="", title=hazard.title, expected_version=hazard.version
    )
    before = selectors.snapshot(product)
    services.hazard_update(
        hazard=hazard, by=editor, reason="", harm="Death", expected_version=hazard.version
    )
    services.control_create(
        product=product, by=editor, title="Dose limit", option="inherent_safety"
    )
    services.link_delete(link=hazard.control_links.get(), by=editor, reason="Wrong control")
    after = selectors.snapshot(product)
    changes = selectors.diff(before, after)
    added = after["controls"]["RC-002"]
    removed = before["links"]["reduces HAZ-001 → RC-001"]
    assert changes == [
        Change("hazards", "HAZ-001", "changed", "harm", "Severe hypoglycaemia", "Death"),
        Change("controls", "RC-002", "added", None, None, added),
        Change("links", "reduces HAZ-001 → RC-001", "removed", None, removed, None),
    ]


def test_diff_orders_codes_naturally_and_compares_single_record_sections():
    a = {"product": {"name": "A"}, "hazards": {"HAZ-2": {}, "HAZ-10": {}}}
    b = {"product": {"name": "B"}, "hazards": {}}
    assert selectors.diff(a, b) == [
        Change("product", "product", "changed", "name", "A", "B"),
        Change("hazards", "HAZ-2", "removed", None, {}, None),
        Change("hazards", "HAZ-10", "removed", None, {}, None),
    ]
