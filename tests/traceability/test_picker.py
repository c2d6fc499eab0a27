"""Type-ahead link pickers: a JSON search scoped to the product (members only), and link
forms that take a typed code, so they work without JavaScript too."""

import pytest
from django.test import Client
from django.urls import reverse

from hazards.models import HazardControl
from tests import factories


@pytest.fixture
def records(product, other_product):
    return {
        "hazard": factories.HazardFactory(product=product, code="HAZ-001", title="Bolus twice"),
        "security": factories.HazardFactory(
            product=product, code="HAZ-002", category="security", title="Spoofed bolus"
        ),
        "control": factories.RiskControlFactory(product=product, code="RC-001", title="Dose cap"),
        "foreign": factories.RiskControlFactory(
            product=other_product, code="RC-001", title="Other product's cap"
        ),
    }


def pick(client, product, **params):
    return client.get(reverse("traceability:picker", args=[product.slug]), params)


def test_picker_finds_records_of_the_product_by_code_or_words(editor_client, product, records):
    by_code = pick(editor_client, product, kind="control", q="rc-0").json()
    by_words = pick(editor_client, product, kind="hazard", q="bolus").json()
    assert by_code == {"results": [{"code": "RC-001", "title": "Dose cap"}]}
    assert [r["code"] for r in by_words["results"]] == ["HAZ-001", "HAZ-002"]


def test_safety_hazard_picker_offers_only_safety_hazards(auditor_client, product, records):
    found = pick(auditor_client, product, kind="safety_hazard", q="bolus").json()
    assert [r["code"] for r in found["results"]] == ["HAZ-001"]


def test_picker_answers_at_most_twenty_in_fixed_queries(
    editor_client, product, records, count_queries
):
    for n in range(2, 40):
        factories.HazardFactory(product=product, code=f"HAZ-{n + 1:03d}", title="Bolus")
    with count_queries() as counter:
        found = pick(editor_client, product, kind="hazard", q="HAZ").json()
    assert len(found["results"]) == 20
    # session, user, product with policy, memberships, the records; then the session's
    # expiry is renewed (savepoint, update, release): 8, whatever the product's size.
    assert counter.count == 8, counter.dump()


def test_picker_refuses_an_unknown_kind_naming_it(editor_client, product):
    response = pick(editor_client, product, kind="users")
    assert response.status_code == 400
    assert "kind" in response.json()["error"]


def test_picker_of_another_product_is_404_and_anonymous_goes_to_login(
    outsider_client, product, records
):
    assert pick(outsider_client, product, kind="control").status_code == 404
    response = pick(Client(), product, kind="control")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_link_form_takes_a_typed_code_without_javascript(editor_client, product, records):
    hazard = records["hazard"]
    url = reverse("hazards:hazard_link_control", args=[product.slug, hazard.code])
    response = editor_client.post(url, {"control": " rc-001 ", "reason": "Caps the dose"})
    assert response.status_code == 302
    link = HazardControl.objects.get(hazard=hazard)
    assert link.control == records["control"]  # this product's RC-001, not the other one


def test_link_form_refuses_a_code_that_is_not_in_the_product(editor_client, product, records):
    hazard = records["hazard"]
    url = reverse("hazards:hazard_link_control", args=[product.slug, hazard.code])
    response = editor_client.post(url, {"control": "RC-999", "reason": "x"}, follow=True)
    assert not HazardControl.objects.filter(hazard=hazard).exists()
    assert "Choose a risk control of this product." in response.content.decode()


def test_hazard_page_renders_pickers_not_full_lists(editor_client, product, records):
    html = editor_client.get(
        reverse("hazards:hazard_detail", args=[product.slug, records["hazard"].code])
    ).content.decode()
    picker = reverse("traceability:picker", args=[product.slug])
    assert f'data-picker="{picker}?kind=control"' in html
    assert "<option" not in html.split('name="control"')[1].split("</label>")[0]


@pytest.mark.parametrize("typed", ["²", "٣", "9" * 30, "RC-001\x00"])
def test_link_form_refuses_odd_digits_and_huge_numbers_without_a_server_error(
    editor_client, product, records, typed
):
    hazard = records["hazard"]
    url = reverse("hazards:hazard_link_control", args=[product.slug, hazard.code])
    response = editor_client.post(url, {"control": typed, "reason": "x"})
    assert response.status_code in (302, 400)
    assert not HazardControl.objects.filter(hazard=hazard).exists()
