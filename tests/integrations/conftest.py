import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hazards import services as hazard_services
from tests import factories
from traceability import services as trace_services


@pytest.fixture
def full_product(product, editor, auditor):
    """A product with one of everything, written through the services."""
    by = editor
    policy_kw = dict(product=product, by=by)
    sw = trace_services.software_item_create(
        **policy_kw, name="Pump firmware", safety_class="C", description="Main firmware"
    )
    soup = trace_services.software_item_create(
        **policy_kw, name="openssl", safety_class="B", parent=sw, is_soup=True,
        soup_version="3.0.13", purl="pkg:generic/openssl@3.0.13", licence="Apache-2.0",
        manufacturer="OpenSSL Foundation",
    )  # fmt: skip
    control = hazard_services.control_create(
        **policy_kw, title="Occlusion alarm", option="protective_measure",
        description="Alarm within 2 s", implementation_status="implemented",
    )  # fmt: skip
    control2 = hazard_services.control_create(
        **policy_kw, title="Signed bolus commands", option="inherent_safety",
        security_category="authentication",
    )  # fmt: skip
    parent_req = trace_services.requirement_create(
        **policy_kw, level="system", title="Safe delivery", text="The pump delivers safely."
    )
    req = trace_services.requirement_create(
        **policy_kw, level="software", title="Stop on occlusion", parent=parent_req,
        text="The pump shall stop delivery within 2 s.\nIt shall alarm.", software_item=sw,
        rationale="ISO 14971 7.1",
    )  # fmt: skip
    child = trace_services.requirement_create(
        **policy_kw, level="security", title="Authenticate commands", parent=req,
        text="Bolus commands shall be signed.",
    )  # fmt: skip
    test = trace_services.test_case_create(
        **policy_kw, title="Occlusion test", method="test", level="system", procedure="Clamp line"
    )
    test2 = trace_services.test_case_create(**policy_kw, title="Signature test", level="unit")
    safety = hazard_services.hazard_create(
        **policy_kw, category="safety", title="Over-delivery", severity=4, p1=3, p2=3,
        residual_severity=4, residual_p1=1, residual_p2=1, owner=editor, hazard_type="energy",
    )  # fmt: skip
    security = hazard_services.hazard_create(
        **policy_kw, category="security", title="Spoofed bolus", severity=4,
        cvss_vector="CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", threat="spoofing",
    )  # fmt: skip
    hazard_services.hazard_control_link(hazard=safety, control=control, by=by)
    hazard_services.hazard_control_link(hazard=security, control=control2, by=by)
    hazard_services.hazard_transfer_link(security_hazard=security, safety_hazard=safety, by=by)
    hazard_services.control_introduces_link(control=control2, hazard=safety, by=by)
    trace_services.control_requirement_link(control=control, requirement=req, by=by)
    trace_services.control_requirement_link(control=control2, requirement=child, by=by)
    trace_services.requirement_test_link(requirement=req, test_case=test, by=by)
    trace_services.requirement_test_link(requirement=child, test_case=test2, by=by)
    trace_services.control_implementation_test_link(control=control, test_case=test, by=by)
    trace_services.control_effectiveness_test_link(control=control, test_case=test, by=by)
    trace_services.software_item_hazard_link(
        software_item=soup, hazard=security, cause_type="soup_failure", by=by
    )
    trace_services.test_run_record(
        test_case=test, by=by, result="pass", software_version="2.1.0",
        evidence=SimpleUploadedFile("report.txt", b"all good\n"),
    )  # fmt: skip
    # A later edit makes the requirement's links suspect: the export must keep that.
    trace_services.requirement_update(
        requirement=req, by=by, reason="Clarified", title="Stop!", expected_version=req.version
    )
    factories.HazardFactory  # noqa: B018 - keep the import used for readers of this fixture
    return product
