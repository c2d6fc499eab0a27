"""The API cannot switch a product's risk policy, nor create a product attached to another
product's policy (issue 9 §2): the policy is the product's own, changed on its page."""

from django.apps import apps

from tests import factories
from tests.api.conftest import token_client


def test_patching_a_products_risk_policy_is_refused_and_changes_nothing(product, editor):
    lenient = factories.default_policy()
    before = product.risk_policy.pk
    response = token_client(editor).patch(
        f"/api/products/{product.slug}/",
        {"risk_policy": lenient.name, "version": product.version, "change_reason": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "risk_policy" in response.json()
    product.refresh_from_db()
    assert product.risk_policy.pk == before and product.version == 1


def test_a_product_is_created_with_a_template_copy_never_another_products_policy(
    product, admin_user
):
    client = token_client(admin_user)
    payload = {"slug": "bp", "name": "BP monitor", "change_reason": "New line"}
    response = client.post("/api/products/", {**payload, "risk_policy": "x"}, format="json")
    assert response.status_code == 400 and "risk_policy" in response.json()
    # A product's own policy is not a template, even under a template's name.
    response = client.post("/api/products/", {**payload, "policy_template": "Nope"}, format="json")
    assert response.status_code == 400 and "policy_template" in response.json()
    Product = apps.get_model("hazards", "Product")
    assert not Product.objects.filter(slug="bp").exists()
    response = client.post("/api/products/", payload, format="json")
    assert response.status_code == 201, response.content
    created = Product.objects.get(slug="bp")
    assert created.risk_policy.pk != product.risk_policy.pk
    assert created.risk_policy.template == factories.default_policy()


def test_a_quality_engineer_cannot_create_a_product_through_the_api(editor, product):
    response = token_client(editor).post(
        "/api/products/", {"slug": "mine", "name": "Mine", "members": ["editor"]}, format="json"
    )
    assert response.status_code == 403
    assert not apps.get_model("hazards", "Product").objects.filter(slug="mine").exists()
