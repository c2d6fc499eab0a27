"""What the traceability pages answer after a POST: for create / edit, the success message,
where they go, a stale edit refused with what changed and a service error on its field; for
delete and link buttons, the reason asked for, the refusal said and the success said.

These pin the behaviour the views share, so the shared flows can change shape safely."""

import pytest
from django.urls import reverse

from tests import factories as f
from traceability import services
from traceability.models import (
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementTest,
    SoftwareItem,
    SoftwareItemHazard,
    TestCase,
)

STALE_MESSAGE = ("error", "Not saved: the record changed while you were editing it.")
DELETED = "deleted; its history is kept in the audit trail."


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.wsgi_request._messages]


def initial_post(client, url) -> dict:
    """The form page's initial values as a browser would post them back."""
    form = client.get(url).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = value
    return data


@pytest.fixture
def w(product, editor):
    hazard = f.HazardFactory(product=product, code="HAZ-001")
    control = f.RiskControlFactory(product=product, code="RC-001")
    item = f.SoftwareItemFactory(product=product, code="SW-001")
    requirement = f.RequirementFactory(product=product, code="SRS-001")
    test_case = f.TestCaseFactory(product=product, code="TC-001")
    services.test_run_record(test_case=test_case, by=editor, result="pass")
    return {
        "slug": product.slug,
        "hazard": hazard,
        "control": control,
        "item": item,
        "requirement": requirement,
        "test_case": test_case,
        "spare_test": f.TestCaseFactory(product=product, code="TC-002"),
    }


def url(name, *args):
    return reverse(f"traceability:{name}", args=args)


# --- create / edit ------------------------------------------------------------------------------


def test_software_item_create_says_which_code_it_added(editor_client, w):
    page = url("software_item_create", w["slug"])
    data = initial_post(editor_client, page)
    response = editor_client.post(page, {**data, "name": "Dosing engine", "safety_class": "C"})
    item = SoftwareItem.objects.get(name="Dosing engine")
    assert response.status_code == 302
    assert response.url == item.get_absolute_url()
    assert messages_of(response) == [("success", f"{item.code} added to the architecture.")]
    assert item.history.first().history_change_reason == "Created"


def test_requirement_create_says_which_code_it_recorded(editor_client, w):
    response = editor_client.post(
        url("requirement_create", w["slug"]), {"level": "software", "title": "T", "text": "x"}
    )
    requirement = Requirement.objects.get(title="T")
    assert response.url == requirement.get_absolute_url()
    assert messages_of(response) == [("success", f"{requirement.code} recorded.")]


def test_test_case_create_from_a_requirement_links_it(editor_client, w):
    response = editor_client.post(
        url("test_case_create", w["slug"]) + "?requirement=SRS-001",
        {"title": "Occlusion test", "method": "test", "level": "system"},
    )
    test_case = TestCase.objects.get(title="Occlusion test")
    assert response.url == test_case.get_absolute_url()
    assert messages_of(response) == [("success", f"{test_case.code} recorded.")]
    assert RequirementTest.objects.filter(requirement=w["requirement"], test_case=test_case)


EDITS = [
    ("software_item_edit", "item", "SW-001", "name", "SW-001 saved."),
    (
        "requirement_edit",
        "requirement",
        "SRS-001",
        "title",
        "SRS-001 saved; its links are now suspect until reviewed.",
    ),
    (
        "test_case_edit",
        "test_case",
        "TC-001",
        "title",
        "TC-001 saved; its links are now suspect until reviewed.",
    ),
]
DETAIL = {
    "software_item_edit": "software_item_detail",
    "requirement_edit": "requirement_detail",
    "test_case_edit": "test_case_detail",
}


@pytest.mark.parametrize(("name", "key", "code", "field", "message"), EDITS)
def test_edit_saves_and_says_so(editor_client, w, name, key, code, field, message):
    page = url(name, w["slug"], code)
    data = initial_post(editor_client, page)
    response = editor_client.post(page, {**data, field: "Renamed", "change_reason": "CR-9"})
    assert response.status_code == 302, response.context["form"].errors
    assert response.url == url(DETAIL[name], w["slug"], code)
    assert messages_of(response) == [("success", message)]
    record = w[key]
    record.refresh_from_db()
    assert getattr(record, field) == "Renamed"
    assert record.history.first().history_change_reason == "CR-9"


@pytest.mark.parametrize(("name", "key", "code", "field", "message"), EDITS)
def test_edit_from_a_stale_page_shows_what_changed(
    editor_client, w, editor, name, key, code, field, message
):
    page = url(name, w["slug"], code)
    data = initial_post(editor_client, page)
    record = w[key]
    setattr(record, field, "Changed meanwhile")
    record.version += 1
    record._history_user = editor
    record.save()
    response = editor_client.post(page, {**data, field: "Mine"})
    assert response.status_code == 200
    assert messages_of(response) == [STALE_MESSAGE]
    assert "Nothing was saved" in response.context["form"].non_field_errors()[0]
    assert response.context[key] == record
    assert any(c[2] == "Changed meanwhile" for c in response.context["stale_changes"])
    record.refresh_from_db()
    assert getattr(record, field) == "Changed meanwhile"


def test_edit_puts_a_service_error_on_its_field(editor_client, w, product):
    child = f.SoftwareItemFactory(product=product, code="SW-002", parent=w["item"])
    page = url("software_item_edit", w["slug"], "SW-001")
    data = initial_post(editor_client, page)
    response = editor_client.post(page, {**data, "parent": child.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["parent"] == ["An item cannot be its own ancestor."]
    assert response.context["stale_changes"] is None
    assert messages_of(response) == []


# --- delete ---------------------------------------------------------------------------------


DELETES = [
    ("software_item", "SW-001", SoftwareItem),
    ("requirement", "SRS-001", Requirement),
    ("test_case", "TC-002", TestCase),
]


@pytest.mark.parametrize(("kind", "code", "model"), DELETES)
def test_delete_asks_for_a_reason(editor_client, w, kind, code, model):
    response = editor_client.post(url(f"{kind}_delete", w["slug"], code), {"reason": ""})
    assert response.url == url(f"{kind}_detail", w["slug"], code)
    assert messages_of(response) == [("error", "Give a reason for the deletion.")]
    assert model.objects.filter(code=code).exists()


@pytest.mark.parametrize(("kind", "code", "model"), DELETES)
def test_delete_with_a_reason_goes_to_the_list(editor_client, w, kind, code, model):
    version = model.objects.get(code=code).version
    response = editor_client.post(
        url(f"{kind}_delete", w["slug"], code), {"reason": "Dup", "version": version}
    )
    assert response.url == url(f"{kind}_list", w["slug"])
    assert messages_of(response) == [("success", f"{code} {DELETED}")]
    assert not model.objects.filter(code=code).exists()


REFUSED_DELETES = [
    ("software_item", "SW-001", "Delete or move the item's sub-items first."),
    ("requirement", "SRS-001", "Delete or re-parent the requirement's child requirements first."),
    ("test_case", "TC-001", "This test case has recorded runs; their evidence must be kept."),
]


@pytest.mark.parametrize(("kind", "code", "refusal"), REFUSED_DELETES)
def test_delete_the_service_refuses_stays_on_the_page(
    editor_client, w, product, kind, code, refusal
):
    f.SoftwareItemFactory(product=product, code="SW-009", parent=w["item"])
    f.RequirementFactory(product=product, code="SRS-009", parent=w["requirement"])
    response = editor_client.post(
        url(f"{kind}_delete", w["slug"], code), {"reason": "Dup", "version": 1}
    )
    assert response.url == url(f"{kind}_detail", w["slug"], code)
    assert messages_of(response) == [("error", refusal)]


@pytest.mark.parametrize(("kind", "code", "model"), DELETES)
def test_a_delete_without_the_version_seen_or_after_a_change_deletes_nothing(
    editor_client, w, kind, code, model
):
    """The delete button sends the version the page showed: a record changed since (or a
    hand-made POST without one) stays, with a message saying why."""
    page = url(f"{kind}_delete", w["slug"], code)
    response = editor_client.post(page, {"reason": "Dup"})
    assert response.url == url(f"{kind}_detail", w["slug"], code)
    assert [level for level, _ in messages_of(response)] == ["error"]
    assert "version" in messages_of(response)[0][1]
    record = model.objects.get(code=code)
    model.objects.filter(pk=record.pk).update(version=record.version + 1)  # changed meanwhile
    response = editor_client.post(page, {"reason": "Dup", "version": record.version})
    assert messages_of(response)[-1][1].startswith("Not deleted:")
    assert model.objects.filter(code=code).exists()


# --- links ----------------------------------------------------------------------------------


def link_cases(w):
    """(view, code, payload, invalid message, success message, where it goes, link model)."""
    s = w["slug"]
    hz, rc, srs, tc = w["hazard"], w["control"], w["requirement"], w["spare_test"]
    return [
        (
            url("software_item_link_hazard", s, "SW-001"),
            {"hazard": hz.pk, "cause_type": "misuse"},
            "Choose a hazard of this product and a cause.",
            "SW-001 now contributes to HAZ-001.",
            url("software_item_detail", s, "SW-001"),
            SoftwareItemHazard,
        ),
        (
            url("requirement_link_control", s, "SRS-001"),
            {"control": rc.pk},
            "Choose a risk control of this product.",
            "RC-001 is now implemented by SRS-001.",
            url("requirement_detail", s, "SRS-001"),
            ControlRequirement,
        ),
        (
            url("requirement_link_test", s, "SRS-001"),
            {"test_case": tc.pk},
            "Choose a test case of this product.",
            "SRS-001 is now verified by TC-002.",
            url("requirement_detail", s, "SRS-001"),
            RequirementTest,
        ),
        (
            url("test_case_link_requirement", s, "TC-002"),
            {"requirement": srs.pk},
            "Choose a requirement of this product.",
            "TC-002 now verifies SRS-001.",
            url("test_case_detail", s, "TC-002"),
            RequirementTest,
        ),
        (
            url("test_case_link_control", s, "TC-002"),
            {"control": rc.pk, "aspect": "effectiveness"},
            "Choose a risk control and what the test verifies.",
            "TC-002 now verifies the effectiveness of RC-001.",
            url("test_case_detail", s, "TC-002"),
            ControlEffectivenessTest,
        ),
        (
            url("control_link_requirement", s, "RC-001"),
            {"requirement": srs.pk},
            "Choose a requirement of this product.",
            "RC-001 is now implemented by SRS-001.",
            reverse("hazards:control_detail", args=[s, "RC-001"]),
            ControlRequirement,
        ),
        (
            url("control_link_test", s, "RC-001"),
            {"test_case": tc.pk, "aspect": "implementation"},
            "Choose a test case and what it verifies.",
            "The implementation of RC-001 is now verified by TC-002.",
            reverse("hazards:control_detail", args=[s, "RC-001"]),
            ControlImplementationTest,
        ),
    ]


LINK_VIEWS = range(7)


@pytest.mark.parametrize("case", LINK_VIEWS)
def test_link_needs_a_choice(editor_client, w, case):
    page, _payload, invalid, _success, back, model = link_cases(w)[case]
    response = editor_client.post(page, {})
    assert response.url == back
    assert messages_of(response) == [("error", invalid)]
    assert not model.objects.exists()


@pytest.mark.parametrize("case", LINK_VIEWS)
def test_link_is_made_and_said(editor_client, w, editor, case):
    page, payload, _invalid, success, back, model = link_cases(w)[case]
    response = editor_client.post(page, {**payload, "reason": "Per FMEA"})
    assert response.url == back
    assert messages_of(response) == [("success", success)]
    link = model.objects.get()
    assert link.created_by == editor
    assert link.history.first().history_change_reason == "Per FMEA"


@pytest.mark.parametrize("case", LINK_VIEWS)
def test_link_the_service_refuses_is_said(editor_client, w, case):
    page, payload, _invalid, _success, back, model = link_cases(w)[case]
    editor_client.post(page, payload)
    response = editor_client.post(page, payload)  # the same link again
    assert response.url == back
    level, text = messages_of(response)[-1]  # after the first post's success message
    assert level == "error" and "already exists" in text
    assert model.objects.count() == 1


def test_requirement_links_go_back_to_the_page_they_came_from(editor_client, w):
    page = url("requirement_link_control", w["slug"], "SRS-001")
    back = url("matrix", w["slug"])
    response = editor_client.post(page, {"control": w["control"].pk, "next": back})
    assert response.url == back


def test_suspect_link_clear_without_reason_is_said(editor_client, w, editor):
    link = f.RequirementTestFactory(requirement=w["requirement"], test_case=w["spare_test"])
    page = url("suspect_link_clear", w["slug"], "verified_by", link.pk)
    response = editor_client.post(page, {"reason": ""})
    assert response.url == url("suspect_links", w["slug"])
    assert messages_of(response) == [("error", "Say why the link still holds.")]
