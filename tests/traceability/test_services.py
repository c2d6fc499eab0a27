"""Services of the traceability side: history with user and reason, codes, evidence hashing,
links, suspect marking and clearing."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from hazards import services as hazard_services
from riskbench.services import StaleEditError
from tests import factories as f
from traceability import graph as tg
from traceability import services
from traceability.models import ControlRequirement, Requirement, RequirementTest, TestRun


@pytest.fixture
def chain(product, editor):
    """hazard → control → requirement → test, linked through the services."""
    hazard = f.HazardFactory(product=product)
    control = f.RiskControlFactory(product=product)
    hazard_services.hazard_control_link(hazard=hazard, control=control, by=editor)
    requirement = services.requirement_create(
        product=product, by=editor, level="software", title="Stop on occlusion", text="Shall stop."
    )
    test_case = services.test_case_create(product=product, by=editor, title="Occlusion test")
    link = services.control_requirement_link(control=control, requirement=requirement, by=editor)
    services.requirement_test_link(requirement=requirement, test_case=test_case, by=editor)
    return hazard, control, requirement, test_case, link


def test_codes_are_numbered_per_product(product, other_product, editor):
    first = services.software_item_create(product=product, by=editor, name="A", safety_class="C")
    second = services.software_item_create(product=product, by=editor, name="B", safety_class="B")
    other = services.software_item_create(
        product=other_product, by=editor, name="C", safety_class="A"
    )
    assert (first.code, second.code, other.code) == ("SW-001", "SW-002", "SW-001")
    req = services.requirement_create(
        product=product, by=editor, level="system", title="R", text="T"
    )
    test_case = services.test_case_create(product=product, by=editor, title="T")
    assert req.code == "SRS-001" and test_case.code == "TC-001"


def test_create_and_update_leave_history_with_user_and_reason(product, editor):
    item = services.software_item_create(
        product=product, by=editor, name="BLE stack", safety_class="B", reason="Architecture v2"
    )
    item = services.software_item_update(
        item=item,
        by=editor,
        reason="New SOUP version",
        expected_version=1,
        soup_version="1.7.1",
        is_soup=True,
    )
    assert item.version == 2
    latest, first = item.history.all()[:2]
    assert latest.history_user == editor and latest.history_change_reason == "New SOUP version"
    assert first.history_change_reason == "Architecture v2" and first.history_type == "+"
    assert latest.soup_version == "1.7.1" and first.soup_version == ""


def test_stale_edit_is_refused(product, editor):
    req = services.requirement_create(
        product=product, by=editor, level="system", title="R", text="T"
    )
    services.requirement_update(requirement=req, by=editor, expected_version=1, title="R2")
    with pytest.raises(StaleEditError):
        services.requirement_update(requirement=req, by=editor, expected_version=1, title="R3")
    req.refresh_from_db()
    assert req.title == "R2"


def test_software_item_parent_must_not_make_a_cycle(product, editor):
    root = services.software_item_create(product=product, by=editor, name="Root", safety_class="C")
    child = services.software_item_create(
        product=product, by=editor, name="Child", safety_class="C", parent=root
    )
    with pytest.raises(ValidationError):
        services.software_item_update(
            item=root, by=editor, parent=child, expected_version=root.version
        )


def test_parent_must_be_in_same_product(product, other_product, editor):
    foreign = f.SoftwareItemFactory(product=other_product)
    with pytest.raises(ValidationError):
        services.software_item_create(
            product=product, by=editor, name="X", safety_class="A", parent=foreign
        )
    with pytest.raises(ValidationError):
        services.requirement_create(
            product=product, by=editor, level="software", title="R", text="T",
            software_item=foreign,
        )  # fmt: skip


def test_link_ends_must_be_in_same_product(product, other_product, editor):
    control = f.RiskControlFactory(product=product)
    foreign = f.RequirementFactory(product=other_product)
    with pytest.raises(ValidationError):
        services.control_requirement_link(control=control, requirement=foreign, by=editor)
    assert not ControlRequirement.objects.exists()


def test_duplicate_link_is_refused(chain, editor):
    _, control, requirement, _, _ = chain
    with pytest.raises(ValidationError):
        services.control_requirement_link(control=control, requirement=requirement, by=editor)


def test_link_records_creator_and_versions(chain, editor):
    *_, link = chain
    assert link.created_by == editor
    assert (link.source_version, link.target_version) == (1, 1)
    assert link.history.first().history_user == editor


def test_editing_an_end_makes_its_links_suspect_and_review_clears_them(chain, editor, product):
    hazard, control, requirement, test_case, link = chain
    assert not link.is_suspect
    services.requirement_update(
        requirement=requirement,
        by=editor,
        reason="Tighten timing",
        text="Within 1 s.",
        expected_version=requirement.version,
    )
    link.refresh_from_db()
    assert link.is_suspect
    rt = RequirementTest.objects.get()
    assert rt.is_suspect  # both links touching the requirement
    graph = tg.build_graph(product)
    suspects = [g for g in tg.find_gaps(graph) if g.kind == "suspect_link"]
    assert {g.code for g in suspects} == {control.code, requirement.code}

    with pytest.raises(ValidationError):
        services.trace_link_review(link=link, by=editor, reason="  ")
    services.trace_link_review(link=link, by=editor, reason="Timing still meets RC intent")
    link.refresh_from_db()
    assert not link.is_suspect
    assert link.reviewed_by == editor and link.reviewed_at is not None
    assert link.review_reason == "Timing still meets RC intent"
    entry = link.history.first()
    assert entry.history_user == editor
    assert entry.history_change_reason == "Reviewed: Timing still meets RC intent"
    assert link.history.count() == 2


def test_editing_a_hazard_through_its_service_makes_control_link_suspect(chain, editor):
    hazard, control, requirement, *_ = chain
    hazard_services.control_update(
        control=control, by=editor, reason="Reword", title="New", expected_version=control.version
    )
    assert ControlRequirement.objects.get().is_suspect
    assert not RequirementTest.objects.get().is_suspect


def test_record_run_with_evidence_hashes_and_stores_the_file(chain, editor):
    *_, test_case, _ = chain
    content = b"<testsuite><testcase name='occlusion'/></testsuite>"
    upload = SimpleUploadedFile("../../etc/report.xml", content, content_type="text/xml")
    run = services.test_run_record(
        test_case=test_case, by=editor, result="pass", software_version="2.1.0", evidence=upload
    )
    assert run.evidence_sha256 == hashlib.sha256(content).hexdigest()
    assert run.evidence_size == len(content)
    assert run.evidence_name == "report.xml"
    assert run.executed_by == editor
    assert ".." not in run.evidence.name
    with run.evidence.open("rb") as stored:
        assert stored.read() == content
    entry = run.history.first()
    assert entry.history_user == editor and entry.evidence_sha256 == run.evidence_sha256


def test_oversized_evidence_is_refused_before_reading(chain, editor, settings):
    *_, test_case, _ = chain
    settings.RISKBENCH_MAX_UPLOAD_BYTES = 10
    upload = SimpleUploadedFile("big.log", b"x" * 11)
    with pytest.raises(ValidationError) as exc:
        services.test_run_record(test_case=test_case, by=editor, result="pass", evidence=upload)
    assert "evidence" in exc.value.message_dict
    assert not TestRun.objects.exists()


def test_unknown_result_is_refused(chain, editor):
    *_, test_case, _ = chain
    with pytest.raises(ValidationError):
        services.test_run_record(test_case=test_case, by=editor, result="passed")


def test_latest_run_decides_the_result(chain, editor, product):
    *_, test_case, _ = chain
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    services.test_run_record(
        test_case=test_case, by=editor, result="pass", executed_at=now - dt.timedelta(days=2)
    )
    services.test_run_record(
        test_case=test_case, by=editor, result="fail", executed_at=now - dt.timedelta(days=1)
    )
    graph = tg.build_graph(product)
    assert graph.nodes[("test", test_case.pk)]["latest_result"] == "fail"


def test_test_case_with_runs_cannot_be_deleted(chain, editor):
    *_, test_case, _ = chain
    services.test_run_record(test_case=test_case, by=editor, result="pass")
    with pytest.raises(ValidationError):
        services.test_case_delete(
            test_case=test_case, by=editor, reason="obsolete", expected_version=test_case.version
        )


def test_deleting_a_requirement_deletes_its_links_with_history(chain, editor):
    *_, requirement, _, link = chain
    services.requirement_delete(
        requirement=requirement,
        by=editor,
        reason="Merged into SRS-002",
        expected_version=requirement.version,
    )
    assert not Requirement.objects.exists()
    assert not ControlRequirement.objects.exists()
    gone = ControlRequirement.history.filter(history_type="-").get()
    assert gone.history_user == editor and gone.history_change_reason == "Merged into SRS-002"


def test_delete_needs_a_reason(product, editor):
    item = services.software_item_create(product=product, by=editor, name="X", safety_class="A")
    with pytest.raises(ValidationError):
        services.software_item_delete(
            item=item, by=editor, reason="", expected_version=item.version
        )


def test_item_with_requirements_cannot_be_deleted(product, editor):
    item = services.software_item_create(product=product, by=editor, name="X", safety_class="C")
    services.requirement_create(
        product=product, by=editor, level="software", title="R", text="T", software_item=item
    )
    with pytest.raises(ValidationError):
        services.software_item_delete(
            item=item, by=editor, reason="gone", expected_version=item.version
        )


def test_software_item_hazard_link_and_implementation_effectiveness_links(chain, editor, product):
    hazard, control, requirement, test_case, _ = chain
    item = services.software_item_create(product=product, by=editor, name="X", safety_class="C")
    services.software_item_hazard_link(
        software_item=item, hazard=hazard, cause_type="defect", cause="Overflow", by=editor
    )
    services.control_implementation_test_link(control=control, test_case=test_case, by=editor)
    services.control_effectiveness_test_link(control=control, test_case=test_case, by=editor)
    graph = tg.build_graph(product)
    assert tg.has_link(graph, ("software_item", item.pk), ("hazard", hazard.pk), "contributes_to")
    c, t = ("control", control.pk), ("test", test_case.pk)
    assert tg.has_link(graph, c, t, "implementation_verified_by")
    assert tg.has_link(graph, c, t, "effectiveness_verified_by")


def test_link_model_for_knows_every_kind():
    for kind in tg.LINK_KINDS:
        assert kind == services.link_model_for(kind).KIND
    with pytest.raises(ValidationError):
        services.link_model_for("nope")
