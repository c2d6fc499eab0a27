"""Pages of the risk register: who may see and change what, and that edits are safe."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from hazards import services
from hazards.models import Hazard
from riskbench import cache as rb_cache
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
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="Clinical review",
        harm="Seizure",
        expected_version=hazard.version,
    )
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
        hazard = factories.HazardFactory(
            product=product, code=f"HAZ-{_make_hazards_offset + i + 1:03d}"
        )
        factories.HazardControlFactory(hazard=hazard)
    with count_queries() as large:
        response = editor_client.get(url)
    assert response.context["page"].paginator.count == 200
    assert small.count == large.count, large.dump()


def test_dashboard_query_count_does_not_grow(editor_client, product, count_queries):
    url = reverse("hazards:dashboard", args=[product.slug])
    _make_hazards(product, 5)
    cache.clear()  # both measurements compute the analysis afresh (riskbench.cache)
    rb_cache.forget_local()
    with count_queries() as small:
        editor_client.get(url)
    for i in range(50):
        factories.HazardFactory(product=product, code=f"HAZ-{100 + i}")
    cache.clear()
    rb_cache.forget_local()
    with count_queries() as large:
        editor_client.get(url)
    assert small.count == large.count, large.dump()


def test_policy_edit_changes_the_working_matrix_and_evaluation_only_once_approved(
    editor_client, product, hazard
):
    from hazards.forms import RiskPolicyForm

    policy = product.risk_policy
    assert hazard.initial_acceptability == "unacceptable"  # S4 × P5 (P1 4, P2 4)
    form = RiskPolicyForm(instance=policy)
    data = {
        "name": policy.name,
        "description": policy.description,
        "version": policy.version,
        "change_reason": "Plan revision B: S4/P4 tolerable with justification",
    }
    for name in (
        "severity_levels",
        "probability_levels",
        "p1_levels",
        "p2_levels",
        "exploitability_levels",
        "privacy_impact_levels",
        "privacy_likelihood_levels",
    ):
        data[name] = (
            form[name].value()
            if isinstance(form[name].value(), str)
            else form.fields[name].prepare_value(getattr(policy, name))
        )
    for name in ("probability_mapping", "safety_matrix", "security_matrix", "privacy_matrix"):
        for r, row in enumerate(getattr(policy, name)):
            for c, cell in enumerate(row):
                data[f"{name}_{r}_{c}"] = cell
    data["safety_matrix_3_4"] = "investigate"
    response = editor_client.post(reverse("hazards:product_policy_edit", args=[product.slug]), data)
    assert response.status_code == 302, response.context["form"].errors
    hazard.refresh_from_db()
    assert hazard.initial_acceptability == "unacceptable"  # the approved criteria still rule
    policy.refresh_from_db()
    assert (policy.status, policy.version, policy.approved_version) == ("in_review", 2, 1)

    response = editor_client.post(
        reverse("core:sign", args=["policy", policy.pk]),
        {
            "meaning": "approved",
            "username": "editor",
            "password": "correct-horse-battery",
            "expected_version": 2,
        },
    )
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.initial_acceptability == "investigate"
    reason = hazard.history.first().history_change_reason
    assert reason.startswith("Re-evaluated under") and "v2 (approved)" in reason


def test_policy_edit_rejects_bad_json_naming_the_field(editor_client, product):
    policy = product.risk_policy
    response = editor_client.post(
        reverse("hazards:product_policy_edit", args=[product.slug]),
        {"name": policy.name, "severity_levels": "[{", "version": policy.version},
    )
    assert response.status_code == 200
    assert "severity_levels" in response.context["form"].errors


def test_editor_creates_control_from_hazard_and_it_is_linked(editor_client, product, hazard):
    url = reverse("hazards:control_create", args=[product.slug]) + f"?hazard={hazard.code}"
    response = editor_client.post(
        url,
        {
            "title": "Occlusion alarm",
            "option": "protective_measure",
            "implementation_status": "implemented",
        },
    )
    assert response.status_code == 302
    assert hazard.control_links.get().control.code == "RC-001"


def test_deleting_hazard_needs_reason_and_keeps_history(editor_client, product, hazard):
    url = reverse("hazards:hazard_delete", args=[product.slug, hazard.code])
    editor_client.post(url, {"reason": ""})
    assert Hazard.objects.filter(pk=hazard.pk).exists()
    editor_client.post(url, {"reason": "Duplicate of HAZ-007"})  # no version: refused
    assert Hazard.objects.filter(pk=hazard.pk).exists()
    editor_client.post(url, {"reason": "Duplicate of HAZ-007", "version": hazard.version - 1})
    assert Hazard.objects.filter(pk=hazard.pk).exists()  # stale: refused, no server error
    editor_client.post(url, {"reason": "Duplicate of HAZ-007", "version": hazard.version})
    assert not Hazard.objects.filter(pk=hazard.pk).exists()
    deleted = Hazard.history.filter(id=hazard.pk, history_type="-").get()
    assert deleted.history_change_reason == "Duplicate of HAZ-007"


def test_search_by_exact_code_redirects_to_the_item(editor_client, product, hazard):
    response = editor_client.get(reverse("hazards:search", args=[product.slug]), {"q": "haz-001"})
    assert response.status_code == 302
    assert response.url.endswith(f"/hazards/{hazard.code}/")


def test_search_by_words_lists_hits(editor_client, product, hazard):
    response = editor_client.get(reverse("hazards:search", args=[product.slug]), {"q": "bolus"})
    assert response.status_code == 200
    assert hazard.code in response.content.decode()


def test_approved_hazard_edit_requires_reason(editor_client, product, hazard, editor):
    services.control_create(product=product, by=editor, title="Alarm", option="protective_measure")
    services.hazard_control_link(hazard=hazard, control=product.controls.get(), by=editor)
    hazard = services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="Residual",
        residual_severity=4,
        residual_p1=1,
        residual_p2=2,
        expected_version=hazard.version,
    )
    services.record_set_status(
        record=hazard, status="in_review", by=editor, expected_version=hazard.version
    )
    services.record_set_status(
        record=hazard, status="approved", by=editor, expected_version=hazard.version
    )
    hazard.refresh_from_db()
    url = reverse("hazards:hazard_edit", args=[product.slug, hazard.code])
    data = {
        "title": "New title",
        "severity": "4",
        "p1": "4",
        "p2": "4",
        "residual_severity": "4",
        "residual_p1": "1",
        "residual_p2": "2",
        "version": hazard.version,
    }
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "change_reason" in response.context["form"].errors
    response = editor_client.post(url, {**data, "change_reason": "Field complaint FC-12"})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == "in_review" and hazard.revision == 2


def test_dashboard_counts_are_not_multiplied_by_links(editor_client, product):
    hazard = factories.HazardFactory(product=product, code="HAZ-001")
    factories.HazardControlFactory(hazard=hazard)
    factories.HazardControlFactory(hazard=hazard)
    factories.HazardFactory(product=product, code="HAZ-002")
    response = editor_client.get(reverse("hazards:dashboard", args=[product.slug]))
    counts = response.context["counts"]
    assert counts["total"] == 2
    assert counts["safety"] == 2
    assert counts["without_control"] == 1
