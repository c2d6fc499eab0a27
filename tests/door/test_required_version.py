"""Every edit page and every update service refuses a write that does not say which version it
edits (issue 9 §1 "Edit pages without a version"; DESIGN.md §7): without it, a POST would
silently overwrite an edit somebody else made meanwhile (a lost update)."""

from __future__ import annotations

import inspect

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from hazards import services as hazard_services
from postmarket import services as postmarket_services
from riskbench.services import lock_for_edit
from tests.door.forms import edit_form_data
from traceability import services as trace_services

CHANGED = "Changed by a POST that does not say which version it edits"


def _hazard(product, editor):
    hazard = hazard_services.hazard_create(
        product=product, by=editor, title="Over-delivery", category="safety", severity=4
    )
    return hazard, reverse("hazards:hazard_edit", args=[product.slug, hazard.code]), "title"


def _control(product, editor):
    control = hazard_services.control_create(
        product=product, by=editor, title="Occlusion alarm", option="protective_measure"
    )
    return control, reverse("hazards:control_edit", args=[product.slug, control.code]), "title"


def _requirement(product, editor):
    requirement = trace_services.requirement_create(
        product=product,
        by=editor,
        title="Stop on occlusion",
        text="The pump shall stop.",
        level="software",
    )
    url = reverse("traceability:requirement_edit", args=[product.slug, requirement.code])
    return requirement, url, "title"


def _test_case(product, editor):
    test_case = trace_services.test_case_create(product=product, by=editor, title="Occlusion")
    url = reverse("traceability:test_case_edit", args=[product.slug, test_case.code])
    return test_case, url, "title"


def _software_item(product, editor):
    item = trace_services.software_item_create(
        product=product, by=editor, name="Dose controller", safety_class="C"
    )
    url = reverse("traceability:software_item_edit", args=[product.slug, item.code])
    return item, url, "name"


def _product_scope(product, editor):
    return product, reverse("hazards:product_edit", args=[product.slug]), "intended_use"


def _product_policy(product, editor):
    policy = product.risk_policy
    return policy, reverse("hazards:product_policy_edit", args=[product.slug]), "description"


def _policy_by_id(product, editor):
    policy = product.risk_policy
    return policy, reverse("hazards:policy_edit", args=[policy.pk]), "description"


def _problem_report(product, editor):
    report = postmarket_services.problem_report_create(
        product=product, by=editor, title="Alarm late", source="internal_review", description="D"
    )
    url = reverse("postmarket:problem_report_edit", args=[product.slug, report.code])
    return report, url, "title"


EDIT_PAGES = {
    "hazard": _hazard,
    "control": _control,
    "requirement": _requirement,
    "test_case": _test_case,
    "software_item": _software_item,
    "product_scope": _product_scope,
    "product_policy": _product_policy,
    "policy_by_id": _policy_by_id,
    "problem_report": _problem_report,
}


def _state(record):
    record = type(record)._default_manager.get(pk=record.pk)
    return record, record.history.count()


@pytest.mark.parametrize("kind", EDIT_PAGES)
@pytest.mark.parametrize("with_version", [True, False], ids=["with_version", "without_version"])
def test_an_edit_page_post_without_version_is_refused_with_a_form_error(
    kind, with_version, editor_client, editor, product
):
    record, url, field = EDIT_PAGES[kind](product, editor)
    page = editor_client.get(url)
    assert page.status_code == 200
    data = edit_form_data(page.content.decode())
    assert data.get("version") == [str(record.version)]
    data[field] = [CHANGED]
    data["change_reason"] = ["Door test"]
    before, history_before = _state(record)
    if not with_version:
        del data["version"]

    response = editor_client.post(url, data)

    after, history_after = _state(record)
    if with_version:  # the same POST with its version saves: the form data above is valid
        assert response.status_code == 302, response.content.decode()[:3000]
        assert getattr(after, field) == CHANGED
        assert history_after == history_before + 1
        return
    assert response.status_code == 200
    assert "expected_version is required" in response.content.decode()
    assert response.context["form"].errors
    assert getattr(after, field) == getattr(before, field) != CHANGED
    assert after.version == before.version
    assert history_after == history_before  # nothing written


UPDATE_SERVICES = [
    (hazard_services.hazard_update, "hazard"),
    (hazard_services.control_update, "control"),
    (hazard_services.product_update, "product"),
    (hazard_services.policy_update, "policy"),
    (hazard_services.policy_copy_template, "policy"),
    (hazard_services.record_set_status, "record"),
    (trace_services.software_item_update, "item"),
    (trace_services.requirement_update, "requirement"),
    (trace_services.test_case_update, "test_case"),
    (postmarket_services.problem_report_update, "report"),
    (postmarket_services.problem_report_set_status, "report"),
    (postmarket_services.change_request_update, "change"),
    (postmarket_services.field_record_update, "record"),
]


@pytest.mark.parametrize(
    ("service", "_record"), UPDATE_SERVICES, ids=[s.__name__ for s, _ in UPDATE_SERVICES]
)
def test_every_update_service_takes_expected_version_keyword_only_without_default(service, _record):
    parameter = inspect.signature(service).parameters["expected_version"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty


@pytest.mark.parametrize("missing", [None, ""])
def test_a_service_given_no_version_refuses_naming_expected_version(editor, product, missing):
    hazard, _, _ = _hazard(product, editor)
    with pytest.raises(ValidationError) as refused:
        hazard_services.hazard_update(
            hazard=hazard, by=editor, reason="r", title="Changed", expected_version=missing
        )
    assert "expected_version" in refused.value.message_dict
    hazard.refresh_from_db()
    assert hazard.title == "Over-delivery" and hazard.history.count() == 1


def test_a_status_change_without_version_is_refused(editor, product):
    hazard, _, _ = _hazard(product, editor)
    with pytest.raises(ValidationError) as refused:
        hazard_services.record_set_status(
            record=hazard, status="in_review", by=editor, expected_version=None
        )
    assert "expected_version" in refused.value.message_dict
    hazard.refresh_from_db()
    assert hazard.status == "draft"


def test_lock_for_edit_refuses_a_version_that_is_not_a_number(editor, product):
    hazard, _, _ = _hazard(product, editor)
    with pytest.raises(ValidationError) as refused:
        lock_for_edit(hazard, "abc")
    assert "expected_version" in refused.value.message_dict


def test_the_api_still_answers_400_without_a_version(client, editor, product):
    hazard, _, _ = _hazard(product, editor)
    client.force_login(editor)
    url = f"/api/products/{product.slug}/hazards/{hazard.code}/"
    response = client.patch(url, {"title": "Changed"}, content_type="application/json")
    assert response.status_code == 400
    hazard.refresh_from_db()
    assert hazard.title == "Over-delivery" and hazard.history.count() == 1
