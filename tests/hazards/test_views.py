"""Pages of the risk register: who may see and change what, and that edits are safe."""

import pytest
from django.urls import reverse

from hazards import services
from hazards.models import Hazard
from tests import factories


@pytest.fixture
def hazard(product, editor):
    return services.hazard_create(
        product=product,
        by=editor,
        category="safety",
        title="Over-delivery after occlusion release",
        hazard="Stored insulin under pressure",
        sequence_of_events="Occlusion clears suddenly after pressure built up",
        hazardous_situation="Patient receives an unintended bolus",
        harm="Severe hypoglycaemia",
        severity=4,
        p1=4,
        p2=4,
    )


def test_product_list_shows_only_members_products(editor_client, product, other_product):
    response = editor_client.get(reverse("hazards:product_list"))
    assert response.status_code == 200
    assert product.name in response.content.decode()
    assert other_product.name not in response.content.decode()


def test_dashboard_renders_heat_maps(editor_client, hazard, product):
    response = editor_client.get(reverse("hazards:dashboard", args=[product.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Initial risk" in body and "Residual risk" in body
    assert "cell-unacceptable" in body


def test_outsider_gets_404_on_dashboard(outsider_client, product):
    response = outsider_client.get(reverse("hazards:dashboard", args=[product.slug]))
    assert response.status_code == 404


def test_editor_creates_security_hazard_with_cvss(editor_client, product):
    url = reverse("hazards:hazard_create", args=[product.slug]) + "?category=security"
    response = editor_client.post(
        url,
        {
            "category": "security",
            "title": "Unauthenticated bolus command over BLE",
            "asset": "Bolus command characteristic",
            "threat": "spoofing",
            "cvss_vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H",
            "severity": "5",
            "change_reason": "Threat model workshop",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hazard = Hazard.objects.get(product=product, title__startswith="Unauthenticated")
    assert hazard.code == "HAZ-001"
    assert float(hazard.cvss_base_score) == 8.1
    assert hazard.probability == 4  # ESC 2.84 → "High" on the default scale
    assert hazard.initial_acceptability == "unacceptable"


def test_bad_cvss_vector_is_reported_on_its_field(editor_client, product):
    url = reverse("hazards:hazard_create", args=[product.slug]) + "?category=security"
    response = editor_client.post(
        url, {"category": "security", "title": "X", "cvss_vector": "CVSS:3.1/AV:Q", "severity": "3"}
    )
    assert response.status_code == 200
    assert "cvss_vector" in response.context["form"].errors
    assert not Hazard.objects.exists()


def test_auditor_cannot_create_hazard(auditor_client, product):
    url = reverse("hazards:hazard_create", args=[product.slug])
    response = auditor_client.post(url, {"category": "safety", "title": "X"})
    assert response.status_code == 403
    assert not Hazard.objects.exists()


def test_stale_edit_is_refused_and_nothing_is_overwritten(client, editor, product, hazard):
    other = factories.UserFactory(username="second-editor", role="Quality engineer")
    factories.MembershipFactory(product=product, user=other)
    url = reverse("hazards:hazard_edit", args=[product.slug, hazard.code])
    form_data = {
        "title": hazard.title,
        "hazardous_situation": hazard.hazardous_situation,
        "harm": hazard.harm,
        "severity": "4",
        "p1": "4",
        "p2": "4",
        "version": str(hazard.version),
    }
    client.force_login(editor)
    first = client.post(url, {**form_data, "harm": "Hypoglycaemic seizure"})
    assert first.status_code == 302
    client.force_login(other)
    second = client.post(url, {**form_data, "harm": "Loss of consciousness"})
    assert second.status_code == 200
    body = second.content.decode()
    assert "Nothing was saved" in body
    assert "Hypoglycaemic seizure" in body  # shows what changed meanwhile
    hazard.refresh_from_db()
    assert hazard.harm == "Hypoglycaemic seizure"
    assert hazard.version == 2


def test_hazard_detail_and_history_render(editor_client, product, hazard, editor):
    services.hazard_update(hazard=hazard, by=editor, reason="Clinical review", harm="Seizure")
    detail = editor_client.get(reverse("hazards:hazard_detail", args=[product.slug, hazard.code]))
    assert detail.status_code == 200
    history = editor_client.get(reverse("hazards:hazard_history", args=[product.slug, hazard.code]))
    body = history.content.decode()
    assert "Clinical review" in body
    assert "Severe hypoglycaemia" in body and "Seizure" in body


def _make_hazards(product, n):
    for i in range(n):
        hazard = factories.HazardFactory(product=product, code=f"HAZ-{i + 1:03d}")
        factories.HazardControlFactory(hazard=hazard)


def test_hazard_log_query_count_does_not_grow(editor_client, product, count_queries):
    url = reverse("hazards:hazard_list", args=[product.slug])
    _make_hazards(product, 10)
    with count_queries() as small:
        assert editor_client.get(url).status_code == 200
    _make_hazards_offset = 10
    for i in range(190):
        hazard = factories.HazardFactory(product=product, code=f"HAZ-{_make_hazards_offset + i + 1:03d}")
        factories.HazardControlFactory(hazard=hazard)
    with count_queries() as large:
        response = editor_client.get(url)
    assert response.context["page"].paginator.count == 200
    assert small.count == large.count, large.dump()


def test_dashboard_query_count_does_not_grow(editor_client, product, count_queries):
    url = reverse("hazards:dashboard", args=[product.slug])
    _make_hazards(product, 5)
    with count_queries() as small:
        editor_client.get(url)
    for i in range(50):
        factories.HazardFactory(product=product, code=f"HAZ-{100 + i}")
    with count_queries() as large:
        editor_client.get(url)
    assert small.count == large.count, large.dump()
