"""A small but complete risk file for the dossier tests: hazards of the three categories with
full chains, controls with both kinds of verification, SOUP, evidence and user text that looks
like reportlab markup (which must be printed, not interpreted)."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile

from hazards.models import ControlIntroducedHazard, HazardTransfer
from tests import factories
from traceability.models import sha256_of_file

FIXED = dt.datetime(2025, 3, 14, 9, 26, 53, tzinfo=dt.UTC)


@pytest.fixture
def risk_file(product, editor):
    """Insulin pump: HAZ-001 (safety) → RC-001 → SRS-001 → TC-001 (pass), and more."""
    p = product
    p.manufacturer = "Acme Medical <R&D>"
    p.intended_users = "Adults with type 1 diabetes & their carers"
    p.connectivity = "Pump ↔ phone (BLE) ↔ cloud (HTTPS)"
    p.save()
    root = factories.SoftwareItemFactory(
        product=p,
        code="SW-001",
        name="Pump firmware",
        safety_class="C",
        safety_class_rationale="Over-delivery can cause death.",
    )
    dose = factories.SoftwareItemFactory(
        product=p, code="SW-002", name="Dose controller", parent=root, safety_class="B"
    )
    factories.SoftwareItemFactory(
        product=p,
        code="SW-003",
        name="Mbed TLS",
        parent=root,
        safety_class="C",
        is_soup=True,
        manufacturer="Trusted Firmware",
        soup_version="3.6.2",
        licence="Apache-2.0",
        purl="pkg:github/mbed-tls/mbedtls@v3.6.2",
        soup_requirements="TLS 1.3 handshake < 2 s",
        anomalies_reviewed_at=dt.date(2025, 2, 1),
        anomalies_notes="CVE list reviewed.",
    )
    h1 = factories.HazardFactory(
        product=p,
        code="HAZ-001",
        title="Over-delivery of insulin <b>bolus</b>",
        harm="Severe hypoglycaemia & seizure",
        residual_severity=4,
        residual_probability=1,
        residual_risk_index=4,
        residual_acceptability="acceptable",
        owner=editor,
    )
    h2 = factories.HazardFactory(
        product=p,
        code="HAZ-002",
        category="security",
        title="Remote dose tampering",
        asset="Dose command",
        threat="tampering",
        vulnerability="Unauthenticated BLE write",
        cvss_vector="CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
        cvss_base_score="6.5",
        severity=5,
        p1=None,
        p2=None,
        probability=3,
        initial_risk_index=15,
        initial_acceptability="unacceptable",
        residual_severity=5,
        residual_probability=2,
        residual_risk_index=10,
        residual_acceptability="investigate",
        benefit_risk_justification="Remote dosing is essential for the intended users.",
    )
    h3 = factories.HazardFactory(
        product=p,
        code="HAZ-003",
        category="privacy",
        title="Glucose history disclosed",
        data_elements=["names", "dates", "device_ids"],
        linddun_category="data_disclosure",
        severity=3,
        p1=None,
        p2=None,
        probability=2,
        initial_risk_index=6,
        initial_acceptability="investigate",
    )
    c1 = factories.RiskControlFactory(product=p, code="RC-001", title="Occlusion detection")
    c2 = factories.RiskControlFactory(
        product=p,
        code="RC-002",
        title="Authenticated BLE pairing",
        option="inherent_safety",
        security_category="authentication",
    )
    factories.HazardControlFactory(hazard=h1, control=c1)
    factories.HazardControlFactory(hazard=h2, control=c2)
    ControlIntroducedHazard.objects.create(control=c2, hazard=h3)
    HazardTransfer.objects.create(security_hazard=h2, safety_hazard=h1)
    r1 = factories.RequirementFactory(product=p, code="SRS-001", software_item=dose)
    r2 = factories.RequirementFactory(product=p, code="SRS-002", title="Pair with passkey")
    factories.ControlRequirementFactory(control=c1, requirement=r1)
    factories.ControlRequirementFactory(control=c2, requirement=r2)
    t1 = factories.TestCaseFactory(
        product=p,
        code="TC-001",
        title="Occlusion stop test",
        procedure="Clamp the line downstream at 1 mL/h.\nTime the stop.",
        acceptance_criteria="Delivery stops within 2 s in 20 of 20 repetitions.",
    )
    t2 = factories.TestCaseFactory(product=p, code="TC-002", title="Pairing test")
    t3 = factories.TestCaseFactory(product=p, code="TC-003", title="Usability validation")
    factories.RequirementTestFactory(requirement=r1, test_case=t1)
    factories.RequirementTestFactory(requirement=r2, test_case=t2)
    factories.ControlImplementationTestFactory(control=c1, test_case=t1)
    factories.ControlEffectivenessTestFactory(control=c1, test_case=t3)
    factories.ControlImplementationTestFactory(control=c2, test_case=t2)
    run = factories.TestRunFactory(
        test_case=t1,
        executed_at=FIXED,
        result="pass",
        executed_by=editor,
        software_version="2.1.0-rc2",
        external_reference="ci/job/4711",
    )
    content = ContentFile(b"occlusion test report\n", name="report <1>.txt")
    run.evidence.save("report.txt", content, save=False)
    run.evidence_name = "report <1>.txt"
    run.evidence_sha256 = sha256_of_file(run.evidence)
    run.evidence_size = run.evidence.size
    run.save()
    factories.TestRunFactory(test_case=t2, executed_at=FIXED, result="fail")
    factories.TestRunFactory(test_case=t3, executed_at=FIXED, result="pass")
    factories.SoftwareItemHazardFactory(software_item=dose, hazard=h1, cause="Integer overflow")
    return p
