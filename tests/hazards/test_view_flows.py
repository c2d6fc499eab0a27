"""What the risk register's create / edit pages answer after a POST: the success message and
where they go, and a stale edit refused with who changed what (no lost update, 21 CFR 11.10(e)).

These pin the behaviour the edit views share, so the shared flow can change shape safely."""

import json

import pytest
from django.urls import reverse

from hazards import services
from hazards.forms import MatrixWidget, ScaleWidget

STALE_MESSAGE = ("error", "Not saved: the record changed while you were editing it.")


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.wsgi_request._messages]


def initial_post(client, url) -> dict:
    """The form page's initial values as a browser would post them back."""
    form = client.get(url).context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, MatrixWidget):
            for r, row in enumerate(value):
                for c, cell in enumerate(row):
                    data[f"{name}_{r}_{c}"] = cell
        elif isinstance(field.widget, ScaleWidget):
            extra = field.widget.extra[0] if field.widget.extra else None
            levels = json.loads(value) if isinstance(value, str) else value
            data.update(ScaleWidget.post_data(name, levels, extra))
        elif value not in (None, False):
            data[name] = value
    return data


@pytest.fixture
def control(product, editor):
    return services.control_create(
        product=product, by=editor, title="Occlusion alarm", option="protective_measure"
    )


@pytest.fixture
def hazard(product, editor):
    return services.hazard_create(
        product=product,
        by=editor,
        category="safety",
        title="Over-delivery",
        hazardous_situation="Patient receives an unintended bolus",
        harm="Severe hypoglycaemia",
        severity=4,
        p1=4,
        p2=4,
    )


def test_product_edit_saves_and_says_so(editor_client, product):
    url = reverse("hazards:product_edit", args=[product.slug])
    data = initial_post(editor_client, url)
    response = editor_client.post(url, {**data, "description": "Patch pump"})
    assert response.status_code == 302, response.context["form"].errors
    assert response.url == reverse("hazards:dashboard", args=[product.slug])
    assert messages_of(response) == [("success", "Scope and plan saved.")]
    product.refresh_from_db()
    assert product.description == "Patch pump"


def test_product_edit_from_a_stale_page_shows_what_changed(editor_client, product, editor):
    url = reverse("hazards:product_edit", args=[product.slug])
    data = initial_post(editor_client, url)
    services.product_update(
        product=product,
        by=editor,
        description="Changed meanwhile",
        expected_version=product.version,
    )
    response = editor_client.post(url, {**data, "description": "Mine"})
    assert response.status_code == 200
    assert messages_of(response) == [STALE_MESSAGE]
    assert "Nothing was saved" in response.context["form"].non_field_errors()[0]
    assert [c[2] for c in response.context["stale_changes"]] == ["Changed meanwhile"]
    product.refresh_from_db()
    assert product.description == "Changed meanwhile"


def test_control_create_says_which_code_it_recorded(editor_client, product):
    url = reverse("hazards:control_create", args=[product.slug])
    response = editor_client.post(
        url,
        {"title": "Alarm", "option": "protective_measure", "implementation_status": "planned"},
    )
    assert response.url == reverse("hazards:control_detail", args=[product.slug, "RC-001"])
    assert messages_of(response) == [("success", "RC-001 recorded.")]
    created = product.controls.get().history.first()
    assert created.history_change_reason == "Created"


def test_control_edit_saves_and_says_so(editor_client, product, control):
    url = reverse("hazards:control_edit", args=[product.slug, control.code])
    data = initial_post(editor_client, url)
    response = editor_client.post(url, {**data, "title": "Louder alarm", "change_reason": "FC-3"})
    assert response.url == reverse("hazards:control_detail", args=[product.slug, control.code])
    assert messages_of(response) == [("success", "RC-001 saved.")]
    control.refresh_from_db()
    assert control.title == "Louder alarm"
    assert control.history.first().history_change_reason == "FC-3"


def test_control_edit_from_a_stale_page_shows_what_changed(editor_client, product, control, editor):
    url = reverse("hazards:control_edit", args=[product.slug, control.code])
    data = initial_post(editor_client, url)
    services.control_update(
        control=control, by=editor, title="Changed meanwhile", expected_version=control.version
    )
    response = editor_client.post(url, {**data, "title": "Mine"})
    assert response.status_code == 200
    assert messages_of(response) == [STALE_MESSAGE]
    assert "Nothing was saved" in response.context["form"].non_field_errors()[0]
    assert any(c[2] == "Changed meanwhile" for c in response.context["stale_changes"])
    control.refresh_from_db()
    assert control.title == "Changed meanwhile"


def test_hazard_create_says_which_code_it_added(editor_client, product):
    url = reverse("hazards:hazard_create", args=[product.slug]) + "?category=safety"
    response = editor_client.post(
        url,
        {"category": "safety", "title": "Over-delivery", "hazardous_situation": "x", "harm": "y"},
    )
    assert response.url == reverse("hazards:hazard_detail", args=[product.slug, "HAZ-001"])
    assert messages_of(response) == [("success", "HAZ-001 added to the hazard log.")]


def test_hazard_edit_saves_and_says_so(editor_client, product, hazard):
    url = reverse("hazards:hazard_edit", args=[product.slug, hazard.code])
    data = initial_post(editor_client, url)
    response = editor_client.post(url, {**data, "harm": "Seizure"})
    assert response.url == reverse("hazards:hazard_detail", args=[product.slug, hazard.code])
    assert messages_of(response) == [("success", "HAZ-001 saved.")]
    hazard.refresh_from_db()
    assert hazard.harm == "Seizure" and hazard.category == "safety"


def test_hazard_edit_from_a_stale_page_keeps_the_form_and_lists_changes(
    editor_client, product, hazard, editor
):
    url = reverse("hazards:hazard_edit", args=[product.slug, hazard.code])
    data = initial_post(editor_client, url)
    services.hazard_update(
        hazard=hazard, by=editor, harm="Changed meanwhile", expected_version=hazard.version
    )
    response = editor_client.post(url, {**data, "harm": "Mine"})
    assert response.status_code == 200
    assert messages_of(response) == [STALE_MESSAGE]
    assert response.context["form"]["harm"].value() == "Mine"
    assert response.context["hazard"] == hazard
    assert any(c[2] == "Changed meanwhile" for c in response.context["stale_changes"])


def test_hazard_edit_puts_a_service_error_on_its_field(editor_client, product, editor):
    hazard = services.hazard_create(
        product=product,
        by=editor,
        category="security",
        title="Spoofed bolus command",
        hazardous_situation="x",
        harm="y",
        severity=4,
    )
    url = reverse("hazards:hazard_edit", args=[product.slug, hazard.code])
    data = initial_post(editor_client, url)
    response = editor_client.post(url, {**data, "cvss_vector": "CVSS:3.1/AV:X"})
    assert response.status_code == 200
    assert "cvss_vector" in response.context["form"].errors
    assert response.context["stale_changes"] is None
    assert messages_of(response) == []


def test_policy_edit_saves_and_says_so(editor_client, product):
    url = reverse("hazards:product_policy_edit", args=[product.slug])
    data = initial_post(editor_client, url)
    response = editor_client.post(
        url, {**data, "description": "Plan rev. C", "change_reason": "Plan rev. C"}
    )
    assert response.status_code == 302, response.context["form"].errors
    assert response.url == reverse("hazards:product_policy", args=[product.slug])
    assert messages_of(response) == [
        (
            "success",
            "Risk policy saved. Risks are evaluated against it once this version is approved "
            "with a signature.",
        )
    ]


def test_policy_edit_from_a_stale_page_shows_what_changed(editor_client, product, editor):
    policy = product.risk_policy
    url = reverse("hazards:product_policy_edit", args=[product.slug])
    data = initial_post(editor_client, url)
    services.policy_update(
        policy=policy,
        by=editor,
        reason="Rev. B",
        description="Changed meanwhile",
        expected_version=policy.version,
    )
    response = editor_client.post(url, {**data, "description": "Mine", "change_reason": "Mine"})
    assert response.status_code == 200
    assert messages_of(response) == [STALE_MESSAGE]
    assert response.context["product"] == product
    assert any(c[2] == "Changed meanwhile" for c in response.context["stale_changes"])
    policy.refresh_from_db()
    assert policy.description == "Changed meanwhile"
