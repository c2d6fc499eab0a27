"""Writes through the API go through the services: history with the API user and the reason,
derived fields computed (never taken from the request), service validation answered as 400
with the service's field names, and optimistic locking (version / If-Match; stale → 409)."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.urls import RESOURCES
from hazards.models import Hazard, HazardControl, RiskControl
from riskbench.models import Status
from tests import factories
from tests.api.conftest import api_endpoints, token_client
from traceability.models import SoftwareItem, TestRun

BASE = "/api/products/insulin-pump"
COLLECTIONS = sorted(
    {
        path.split("/")[4]
        for path, method in api_endpoints()
        if method == "POST"
        and path.startswith("/api/products/{product_slug}/")
        and path.count("/") == 5
        and not path.endswith("/junit/")
    }
)


def create_payload(collection: str, product) -> dict:
    """A valid creation request for each collection, with ends made fresh for links."""
    hazard = lambda **kw: factories.HazardFactory(product=product, **kw)  # noqa: E731
    control = lambda: factories.RiskControlFactory(product=product)  # noqa: E731
    requirement = lambda: factories.RequirementFactory(product=product)  # noqa: E731
    test_case = lambda: factories.TestCaseFactory(product=product)  # noqa: E731
    item = lambda: factories.SoftwareItemFactory(product=product)  # noqa: E731
    payloads = {
        "hazards": lambda: {
            "category": "safety",
            "title": "Air in the infusion line",
            "severity": 4,
            "p1": 2,
            "p2": 3,
        },
        "controls": lambda: {"title": "Air-in-line detector", "option": "protective_measure"},
        "software-items": lambda: {
            "name": "BLE stack",
            "safety_class": "B",
            "is_soup": True,
            "soup_version": "5.1.0",
            "manufacturer": "Nordic",
        },
        "requirements": lambda: {
            "level": "software",
            "title": "Detect air",
            "text": "The pump shall stop on 50 µL of air.",
            "software_item": item().code,
        },
        "test-cases": lambda: {"title": "Air detection test", "method": "test", "level": "system"},
        "test-runs": lambda: {
            "test_case": test_case().code,
            "result": "pass",
            "software_version": "2.1.0",
        },
        "hazard-controls": lambda: {"hazard": hazard().code, "control": control().code},
        "control-introduced-hazards": lambda: {"control": control().code, "hazard": hazard().code},
        "hazard-transfers": lambda: {
            "security_hazard": hazard(category="security", p1=None, p2=None).code,
            "safety_hazard": hazard().code,
        },
        "control-requirements": lambda: {
            "control": control().code,
            "requirement": requirement().code,
        },
        "requirement-tests": lambda: {
            "requirement": requirement().code,
            "test_case": test_case().code,
        },
        "control-implementation-tests": lambda: {
            "control": control().code,
            "test_case": test_case().code,
        },
        "control-effectiveness-tests": lambda: {
            "control": control().code,
            "test_case": test_case().code,
        },
        "software-item-hazards": lambda: {
            "software_item": item().code,
            "hazard": hazard().code,
            "cause_type": "soup_failure",
            "cause": "BLE stack drops the stop command",
        },
    }
    return payloads[collection]()


def created_object(collection: str, body: dict):
    viewset = next(v for c, v, _ in RESOURCES if c == collection)
    model = viewset.serializer_class.Meta.model
    if "code" in body:
        return model.objects.get(code=body["code"], product__slug="insulin-pump")
    return model.objects.get(pk=body["id"])


def test_every_collection_is_tested_for_creation():
    assert len(COLLECTIONS) == 14
    assert "hazard-controls" in COLLECTIONS and "test-runs" in COLLECTIONS


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_editor_creates_through_the_service_with_user_and_reason_in_history(
    collection, product, editor
):
    response = token_client(editor).post(
        f"{BASE}/{collection}/",
        {**create_payload(collection, product), "change_reason": "Found in the FMEA review"},
        format="json",
    )
    assert response.status_code == 201, response.content
    record = created_object(collection, response.json())
    row = record.history.latest()
    assert row.history_type == "+"
    assert row.history_user == editor
    assert row.history_change_reason == "Found in the FMEA review"
    if hasattr(record, "created_by"):
        assert record.created_by == editor


def test_reason_may_come_from_the_header(product, editor):
    client = token_client(editor)
    response = client.post(
        f"{BASE}/controls/",
        {"title": "Dose limit", "option": "inherent_safety"},
        format="json",
        HTTP_X_CHANGE_REASON="Hazard analysis workshop",
    )
    assert response.status_code == 201, response.content
    control = RiskControl.objects.get(code=response.json()["code"])
    assert control.history.latest().history_change_reason == "Hazard analysis workshop"


def test_derived_fields_are_computed_never_taken_from_the_request(product, editor):
    response = token_client(editor).post(
        f"{BASE}/hazards/",
        {
            "category": "safety",
            "title": "Over-infusion",
            "severity": 5,
            "p1": 5,
            "p2": 5,
            "code": "HAZ-999",
            "status": "approved",
            "initial_acceptability": "acceptable",
            "initial_risk_index": 1,
            "revision": 7,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "HAZ-999"  # the client's code is kept, never replaced (issue 13)
    assert body["status"] == "draft"
    assert body["revision"] == 1
    assert body["initial_acceptability"] == "unacceptable"
    assert body["version"] == 1
    assert response.headers["ETag"] == '"1"'


def test_security_row_gets_its_cvss_base_score_from_the_vector(product, editor):
    response = token_client(editor).post(
        f"{BASE}/hazards/",
        {
            "category": "security",
            "title": "Bolus command spoofed over BLE",
            "severity": 4,
            "cvss_vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H",
            "cvss_base_score": "0.1",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["cvss_base_score"] == "8.1"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"severity": 9}, "severity"),
        ({"severity": 3, "p1": 2}, "p2"),
        ({"severity": 3, "residual_p1": 1, "residual_p2": 1}, "residual_severity"),
    ],
)
def test_service_validation_errors_keep_their_field_names(product, editor, payload, field):
    before = Hazard.objects.count()
    response = token_client(editor).post(
        f"{BASE}/hazards/", {"category": "safety", "title": "x", **payload}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Hazard.objects.count() == before


def test_malformed_cvss_vector_is_a_field_error(product, editor):
    response = token_client(editor).post(
        f"{BASE}/hazards/",
        {"category": "security", "title": "x", "severity": 3, "cvss_vector": "CVSS:3.1/AV:Q"},
        format="json",
    )
    assert response.status_code == 400
    assert "cvss_vector" in response.json()


def test_related_records_of_another_product_cannot_be_referenced(product, other_product, editor):
    foreign = factories.HazardFactory(product=other_product, code="HAZ-777")
    control = factories.RiskControlFactory(product=product)
    response = token_client(editor).post(
        f"{BASE}/hazard-controls/",
        {"hazard": foreign.code, "control": control.code},
        format="json",
    )
    assert response.status_code == 400
    assert "hazard" in response.json()
    assert not HazardControl.objects.exists()


def test_owner_must_be_a_member_of_the_product(product, editor, outsider):
    client = token_client(editor)
    refused = client.post(
        f"{BASE}/hazards/", {"category": "safety", "title": "x", "owner": "outsider"}, format="json"
    )
    assert refused.status_code == 400 and "owner" in refused.json()
    accepted = client.post(
        f"{BASE}/hazards/", {"category": "safety", "title": "x", "owner": "editor"}, format="json"
    )
    assert accepted.status_code == 201 and accepted.json()["owner"] == "editor"


def test_duplicate_link_is_refused_with_a_message(product, editor):
    link = factories.HazardControlFactory(hazard__product=product)
    response = token_client(editor).post(
        f"{BASE}/hazard-controls/",
        {"hazard": link.hazard.code, "control": link.control.code},
        format="json",
    )
    assert response.status_code == 400
    assert "already linked" in str(response.json())


# --- Updates and optimistic locking -------------------------------------------------------------


@pytest.mark.parametrize(
    ("collection", "factory", "field"),
    [
        ("hazards", factories.HazardFactory, "title"),
        ("controls", factories.RiskControlFactory, "title"),
        ("software-items", factories.SoftwareItemFactory, "name"),
        ("requirements", factories.RequirementFactory, "title"),
        ("test-cases", factories.TestCaseFactory, "title"),
    ],
)
def test_patch_with_the_loaded_version_saves_through_the_service(
    collection, factory, field, product, editor
):
    record = factory(product=product)
    response = token_client(editor).patch(
        f"{BASE}/{collection}/{record.code}/",
        {field: "Renamed in review", "version": 1, "change_reason": "Wording"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response.headers["ETag"] == '"2"'
    record.refresh_from_db()
    assert getattr(record, field) == "Renamed in review"
    row = record.history.latest()
    assert (row.history_user, row.history_change_reason) == (editor, "Wording")


def test_hazard_text_field_named_like_the_service_argument_is_updated(product, editor):
    """`hazard` is both a model field (the potential source of harm) and the update service's
    argument naming the row."""
    hazard = factories.HazardFactory(product=product)
    response = token_client(editor).patch(
        f"{BASE}/hazards/{hazard.code}/",
        {"hazard": "Stored energy in the drive spring", "version": 1},
        format="json",
    )
    assert response.status_code == 200, response.content
    hazard.refresh_from_db()
    assert hazard.hazard == "Stored energy in the drive spring"


def test_put_replaces_the_record(product, editor):
    control = factories.RiskControlFactory(product=product, description="old")
    response = token_client(editor).put(
        f"{BASE}/controls/{control.code}/",
        {"title": "Occlusion alarm", "option": "information_for_safety", "version": 1},
        format="json",
    )
    assert response.status_code == 200, response.content
    control.refresh_from_db()
    assert (control.title, control.option, control.description) == (
        "Occlusion alarm",
        "information_for_safety",
        "old",  # not sent, not required: the model default is not forced on PUT
    )


def test_update_without_a_version_is_refused(product, editor):
    hazard = factories.HazardFactory(product=product)
    response = token_client(editor).patch(
        f"{BASE}/hazards/{hazard.code}/", {"title": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "version" in response.json()
    hazard.refresh_from_db()
    assert hazard.version == 1


def test_stale_version_is_409_with_what_changed(product, editor, auditor):
    hazard = factories.HazardFactory(product=product, title="Over-delivery")
    client = token_client(editor)
    first = client.patch(
        f"{BASE}/hazards/{hazard.code}/",
        {"title": "Over-delivery of insulin", "version": 1},
        format="json",
    )
    assert first.status_code == 200
    stale = client.patch(
        f"{BASE}/hazards/{hazard.code}/", {"harm": "Death", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["current_version"] == 2
    assert body["your_version"] == 1
    assert {"field": "title", "yours": "Over-delivery", "current": "Over-delivery of insulin"} in (
        body["changes"]
    )
    hazard.refresh_from_db()
    assert hazard.harm != "Death"
    assert hazard.version == 2


def test_if_match_header_carries_the_version(product, editor):
    hazard = factories.HazardFactory(product=product)
    client = token_client(editor)
    etag = client.get(f"{BASE}/hazards/{hazard.code}/").headers["ETag"]
    assert etag == '"1"'
    ok = client.patch(f"{BASE}/hazards/{hazard.code}/", {"title": "a"}, HTTP_IF_MATCH=etag)
    assert ok.status_code == 200, ok.content
    stale = client.patch(f"{BASE}/hazards/{hazard.code}/", {"title": "b"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 409
    bad = client.patch(f"{BASE}/hazards/{hazard.code}/", {"title": "b"}, HTTP_IF_MATCH="*")
    assert bad.status_code == 400 and "version" in bad.json()


def test_editing_an_approved_hazard_needs_a_reason_and_reopens_it(product, editor):
    hazard = factories.HazardFactory(product=product, status=Status.APPROVED)
    client = token_client(editor)
    url = f"{BASE}/hazards/{hazard.code}/"
    refused = client.patch(url, {"harm": "Coma", "version": 1}, format="json")
    assert refused.status_code == 400
    assert "change_reason" in refused.json()
    accepted = client.patch(
        url, {"harm": "Coma", "version": 1, "change_reason": "Clinical review"}, format="json"
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "in_review"
    assert accepted.json()["revision"] == 2


def test_product_update_by_its_editor(product, editor):
    response = token_client(editor).patch(
        f"/api/products/{product.slug}/",
        {"intended_use": "Insulin delivery", "version": 1, "slug": "renamed"},
        format="json",
    )
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (product.intended_use, product.slug) == ("Insulin delivery", "insulin-pump")
    assert product.history.latest().history_user == editor


# --- Deletion, runs, link review ----------------------------------------------------------------


def test_delete_needs_a_reason_and_leaves_it_in_history(product, editor):
    item = factories.SoftwareItemFactory(product=product)
    client = token_client(editor)
    url = f"{BASE}/software-items/{item.code}/"
    refused = client.delete(url, HTTP_IF_MATCH='"1"')
    assert refused.status_code == 400 and "change_reason" in refused.json()
    no_version = client.delete(url, HTTP_X_CHANGE_REASON="Merged into SW-001")
    assert no_version.status_code == 400 and "version" in no_version.json()
    deleted = client.delete(
        f"{url}?version={item.version}", HTTP_X_CHANGE_REASON="Merged into SW-001"
    )
    assert deleted.status_code == 204
    assert not SoftwareItem.objects.filter(pk=item.pk).exists()
    row = SoftwareItem.history.filter(id=item.pk).latest()
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "-",
        editor,
        "Merged into SW-001",
    )


def test_test_run_with_evidence_file_is_hashed(product, editor):
    test_case = factories.TestCaseFactory(product=product)
    evidence = SimpleUploadedFile("report.txt", b"all green\n", content_type="text/plain")
    response = token_client(editor).post(
        f"{BASE}/test-runs/",
        {"test_case": test_case.code, "result": "pass", "evidence": evidence},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["evidence_sha256"] == hashlib.sha256(b"all green\n").hexdigest()
    assert body["executed_by"] == "editor"
    run = TestRun.objects.get(pk=body["id"])
    assert run.evidence_size == 10


def test_suspect_link_is_cleared_by_a_review_with_reason(product, editor):
    link = factories.HazardControlFactory(hazard__product=product)
    client = token_client(editor)
    client.patch(
        f"{BASE}/hazards/{link.hazard.code}/",
        {"harm": "Hypoglycaemic coma", "version": 1},
        format="json",
    )
    url = f"{BASE}/hazard-controls/{link.pk}/"
    assert client.get(url).json()["is_suspect"] is True
    refused = client.post(f"{url}review/", {}, format="json")
    assert refused.status_code == 400 and "review_reason" in refused.json()
    reviewed = client.post(
        f"{url}review/", {"review_reason": "Control still covers the harm"}, format="json"
    )
    assert reviewed.status_code == 200, reviewed.content
    body = reviewed.json()
    assert body["is_suspect"] is False
    assert body["reviewed_by"] == "editor"
    row = link.history.latest()
    assert row.history_user == editor
    assert "Control still covers the harm" in row.history_change_reason


def test_link_delete_with_reason(product, editor):
    link = factories.RequirementTestFactory(requirement__product=product)
    response = token_client(editor).delete(
        f"{BASE}/requirement-tests/{link.pk}/",
        {"change_reason": "Wrong test"},
        format="json",
    )
    assert response.status_code == 204
    assert link.history.model.objects.filter(id=link.pk, history_type="-").get().history_user == (
        editor
    )


CODED = ["hazards", "controls", "software-items", "requirements", "test-cases"]


@pytest.mark.parametrize("collection", CODED)
def test_a_valid_unused_code_sent_by_the_client_is_kept(collection, product, editor):
    response = token_client(editor).post(
        f"{BASE}/{collection}/",
        {**create_payload(collection, product), "code": "SR-999999"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["code"] == "SR-999999"
    assert created_object(collection, response.json()).code == "SR-999999"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("SR;1", "is not a valid code"),
        ("X" * 21, "has 21 characters; at most 20"),
        ("taken", "already used in this product"),
    ],
)
def test_an_invalid_or_taken_code_is_refused_never_replaced(code, message, product, editor):
    factories.RequirementFactory(product=product, code="taken")
    before = set(product.requirements.values_list("code", flat=True))
    response = token_client(editor).post(
        f"{BASE}/requirements/",
        {**create_payload("requirements", product), "code": code},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert message in response.json()["code"][0]
    assert set(product.requirements.values_list("code", flat=True)) == before


def test_the_code_of_a_deleted_record_is_not_handed_out_again(product, editor):
    from traceability import services as trace_services

    requirement = factories.RequirementFactory(product=product, code="SR-7")
    trace_services.requirement_delete(
        requirement=requirement, by=editor, reason="Duplicate", expected_version=1
    )
    response = token_client(editor).post(
        f"{BASE}/requirements/",
        {**create_payload("requirements", product), "code": "SR-7"},
        format="json",
    )
    assert response.status_code == 400
    assert "deleted or renamed record" in response.json()["code"][0]


def test_a_code_cannot_be_changed(product, editor):
    requirement = factories.RequirementFactory(product=product, code="SR-1")
    client = token_client(editor)
    response = client.patch(
        f"{BASE}/requirements/SR-1/",
        {"code": "SR-2", "version": requirement.version, "change_reason": "x"},
        format="json",
    )
    assert response.status_code == 400 and "cannot be changed" in response.json()["code"][0]
