"""Pages of a product's risk policy and of product creation: who may do what on each route
(anonymous → login, non-member → 404, auditor → 403, a quality engineer → 403 where only
administrators may act), and what the pages say about criteria in force."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from hazards import services
from hazards.models import Membership, Product, RiskPolicy
from riskbench.models import Signature, Status
from tests import factories
from tests.integrations.helpers import db_counts

PASSWORD = "correct-horse-battery"


@pytest.fixture
def admin_client(admin_user):
    """Its own client: the `client` fixture is shared by editor_client, auditor_client…"""
    client = Client()
    client.force_login(admin_user)
    return client


def policy_urls(product):
    slug = product.slug
    return {
        "detail": reverse("hazards:product_policy", args=[slug]),
        "by_pk": reverse("hazards:policy_detail", args=[product.risk_policy.pk]),
        "edit": reverse("hazards:product_policy_edit", args=[slug]),
        "edit_by_pk": reverse("hazards:policy_edit", args=[product.risk_policy.pk]),
        "status": reverse("hazards:product_policy_status", args=[slug]),
        "template": reverse("hazards:product_policy_template", args=[slug]),
        "signatures": reverse("core:record_signatures", args=["policy", product.risk_policy.pk]),
        "sign": reverse("core:sign", args=["policy", product.risk_policy.pk]),
    }


def sign_data(user, version):
    return {
        "meaning": "approved",
        "username": user.username,
        "password": PASSWORD,
        "expected_version": version,
    }


def permissive_post(policy):
    data = {"name": policy.name, "description": "", "version": policy.version}
    for name in ("safety_matrix", "security_matrix", "privacy_matrix"):
        for r, row in enumerate(getattr(policy, name)):
            for c, _ in enumerate(row):
                data[f"{name}_{r}_{c}"] = "acceptable"
    import json

    for name in (
        "severity_levels",
        "probability_levels",
        "p1_levels",
        "p2_levels",
        "probability_mapping",
        "exploitability_levels",
        "privacy_impact_levels",
        "privacy_likelihood_levels",
    ):
        data[name] = json.dumps(getattr(policy, name))
    data["change_reason"] = "Mine"
    return data


# --- A product's policy ----------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_every_policy_route(client, product):
    for name, url in policy_urls(product).items():
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, (name, method)
            assert response.url.startswith(reverse("login"))


def test_a_quality_engineer_of_another_product_gets_404_on_every_route_of_its_policy(
    outsider_client, outsider, product, editor
):
    factories.HazardFactory(product=product)
    policy = product.risk_policy
    before = db_counts()
    for name, url in policy_urls(product).items():
        assert outsider_client.get(url).status_code in (404, 405), name
    posts = {
        "edit": permissive_post(policy),
        "edit_by_pk": permissive_post(policy),
        "status": {"status": "draft", "version": policy.version, "reason": "x"},
        "template": {
            "template": factories.default_policy().pk,
            "version": policy.version,
            "reason": "x",
        },
        "sign": sign_data(outsider, policy.version),
    }
    for name, data in posts.items():
        assert outsider_client.post(policy_urls(product)[name], data).status_code == 404, name
    assert db_counts() == before
    assert not Signature.objects.exists()


def test_an_auditor_reads_the_policy_but_every_change_is_403(auditor_client, auditor, product):
    urls = policy_urls(product)
    policy = product.risk_policy
    for name in ("detail", "signatures"):
        assert auditor_client.get(urls[name]).status_code == 200, name
    assert auditor_client.get(urls["by_pk"]).status_code == 302  # to the product's page
    before = db_counts()
    assert auditor_client.get(urls["edit"]).status_code == 403
    assert auditor_client.post(urls["edit"], permissive_post(policy)).status_code == 403
    assert auditor_client.post(urls["status"], {"status": "draft"}).status_code == 403
    assert auditor_client.post(urls["template"], {"reason": "x"}).status_code == 403
    assert auditor_client.post(urls["sign"], sign_data(auditor, 1)).status_code == 403
    assert db_counts() == before


def test_the_policy_page_says_which_criteria_are_in_force(editor_client, editor, product):
    html = editor_client.get(policy_urls(product)["detail"]).content.decode()
    assert "In force" in html and "version 1" in html
    assert reverse("hazards:product_policy_edit", args=[product.slug]) in html
    services.policy_update(
        policy=product.risk_policy,
        by=editor,
        reason="Rev B",
        description="Rev B",
        expected_version=product.risk_policy.version,
    )
    html = editor_client.get(policy_urls(product)["detail"]).content.decode()
    assert "are not approved yet" in html


def test_an_unapproved_policy_page_and_hazard_log_say_not_evaluated(client, editor):
    product = factories.ProductFactory(slug="vela", policy_approved=False)
    factories.MembershipFactory(product=product, user=editor)
    services.hazard_create(
        product=product, by=editor, category="safety", title="Over-delivery", severity=4, p1=3,
        p2=3,
    )  # fmt: skip
    client.force_login(editor)
    html = client.get(reverse("hazards:product_policy", args=[product.slug])).content.decode()
    assert "Not approved." in html and "Submit for review" in html
    log = client.get(reverse("hazards:hazard_list", args=[product.slug])).content.decode()
    assert "Not evaluated — risk policy not approved (12)" in log


def test_editor_submits_edits_switches_and_approves_the_policy_through_the_pages(
    editor_client, editor, product, admin_user
):
    urls = policy_urls(product)
    hazard = services.hazard_create(
        product=product, by=editor, category="safety", title="Over-delivery", severity=3, p1=3,
        p2=3,
    )  # fmt: skip
    lenient = services.policy_template_create(by=admin_user, name="Lenient")
    lenient = services.policy_update(
        policy=lenient,
        by=admin_user,
        reason="Lenient",
        safety_matrix=[["acceptable"] * 5] * 5,
        expected_version=lenient.version,
    )
    assert hazard.initial_acceptability == "investigate"
    # Switch to a template: a copy, the criteria in force unchanged.
    response = editor_client.post(
        urls["template"], {"template": lenient.pk, "version": 1, "reason": "Plan rev. C"}
    )
    assert response.status_code == 302
    policy = RiskPolicy.objects.get(product=product)
    assert (policy.template, policy.version, policy.status) == (lenient, 2, Status.IN_REVIEW)
    # A stale switch is refused with a message, nothing changes.
    response = editor_client.post(
        urls["template"], {"template": lenient.pk, "version": 1, "reason": "Again"}, follow=True
    )
    assert "Not changed" in response.content.decode()
    assert RiskPolicy.objects.get(product=product).version == 2
    # Back to draft and to review again, then approval by signature.
    editor_client.post(urls["status"], {"status": "draft", "version": 2, "reason": "Rework"})
    assert RiskPolicy.objects.get(product=product).status == Status.DRAFT
    editor_client.post(urls["status"], {"status": "in_review", "version": 2, "reason": "Done"})
    response = editor_client.post(urls["sign"], sign_data(editor, 2))
    assert response.status_code == 302
    policy = RiskPolicy.objects.get(product=product)
    assert (policy.status, policy.approved_version) == (Status.APPROVED, 2)
    signature = Signature.objects.get()
    assert signature.product == product and signature.record_version == 2
    hazard.refresh_from_db()
    assert hazard.initial_acceptability == "acceptable"
    assert hazard.history.first().history_change_reason.endswith("v2 (approved)")


def test_a_stale_policy_edit_page_is_refused(editor_client, editor, product):
    url = policy_urls(product)["edit"]
    data = permissive_post(product.risk_policy)
    services.policy_update(
        policy=product.risk_policy,
        by=editor,
        reason="Meanwhile",
        description="Meanwhile",
        expected_version=product.risk_policy.version,
    )
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert response.context["stale_changes"]
    assert RiskPolicy.objects.get(product=product).safety_matrix != [["acceptable"] * 5] * 5


# --- Templates ------------------------------------------------------------------------------


def test_templates_are_read_by_members_and_changed_by_administrators_only(
    editor_client, admin_client
):
    template = factories.default_policy()
    assert editor_client.get(reverse("hazards:policy_templates")).status_code == 200
    assert (
        editor_client.get(reverse("hazards:policy_detail", args=[template.pk])).status_code == 200
    )
    for url in (
        reverse("hazards:policy_edit", args=[template.pk]),
        reverse("hazards:policy_template_create"),
    ):
        assert editor_client.get(url).status_code == 403
        assert editor_client.post(url, {"name": "Lenient"}).status_code == 403
    sign = reverse("core:sign", args=["policy", template.pk])
    assert editor_client.post(sign, sign_data(factories.UserFactory(), 1)).status_code == 403
    assert not RiskPolicy.objects.filter(name="Lenient").exists()

    response = admin_client.post(
        reverse("hazards:policy_template_create"), {"name": "Lenient", "description": "x"}
    )
    assert response.status_code == 302
    created = RiskPolicy.objects.get(name="Lenient")
    assert created.is_template and created.history.get().history_change_reason.startswith(
        "Template created"
    )
    assert admin_client.get(reverse("hazards:policy_edit", args=[created.pk])).status_code == 200


# --- Creating products ----------------------------------------------------------------------


def create_post(**extra):
    return {
        "name": "Lyra glucose monitor",
        "slug": "lyra",
        "manufacturer": "Example Medical",
        "model_number": "LG-1 v1.0",
        "document_number": "RMF-LG-001",
        "template": factories.default_policy().pk,
        **extra,
    }


def test_product_create_page_is_for_administrators_only(editor, auditor, outsider, product):
    url = reverse("hazards:product_create")
    response = Client().get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    before = db_counts()
    for user in (editor, auditor, outsider):
        member = Client()
        member.force_login(user)
        assert member.get(url).status_code == 403
        assert member.post(url, create_post(members=[user.pk])).status_code == 403
        assert url not in member.get(reverse("hazards:product_list")).content.decode()
    assert db_counts() == before


def test_an_administrator_creates_a_product_with_members_and_its_own_policy(
    admin_client, admin_user, editor, auditor
):
    url = reverse("hazards:product_create")
    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "editor" in html and "Quality engineer" in html and "Auditor" in html
    assert url in admin_client.get(reverse("hazards:product_list")).content.decode()
    response = admin_client.post(url, create_post(members=[editor.pk, auditor.pk]))
    assert response.status_code == 302
    assert response.url == reverse("hazards:dashboard", args=["lyra"])
    product = Product.objects.get(slug="lyra")
    assert (product.manufacturer, product.model_number) == ("Example Medical", "LG-1 v1.0")
    assert set(product.members.all()) == {editor, auditor}
    policy = product.risk_policy
    assert policy.template == factories.default_policy() and policy.status == Status.DRAFT
    assert product.history.get().history_user == admin_user
    assert all(m.history.get().history_user == admin_user for m in product.memberships.all())


def test_product_create_page_refuses_bad_input_naming_the_field(admin_client, product):
    url = reverse("hazards:product_create")
    before = db_counts()
    for bad, field in (
        ({"slug": product.slug}, "slug"),
        ({"slug": "not a slug"}, "slug"),
        ({"template": product.risk_policy.pk}, "template"),  # a product's policy
        ({"template": "abc"}, "template"),
        ({"members": ["999999"]}, "members"),
        ({"name": ""}, "name"),
    ):
        response = admin_client.post(url, create_post(**bad))
        assert response.status_code == 200, bad
        assert field in response.context["form"].errors, bad
    assert db_counts() == before


def test_a_delegated_administrator_creates_products(client, product):
    staff = factories.UserFactory(username="pm", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("hazards:product_create")).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="add_product"))
    response = client.post(reverse("hazards:product_create"), create_post())
    assert response.status_code == 302
    # Not a member of the new product: back to the list, which says so.
    assert response.url == reverse("hazards:product_list")
    assert Product.objects.filter(slug="lyra").exists()
    assert not Membership.objects.filter(user=staff).exists()


def test_product_create_page_queries_do_not_grow_with_users(admin_client, count_queries):
    url = reverse("hazards:product_create")
    admin_client.get(url)
    with count_queries() as few:
        admin_client.get(url)
    for n in range(20):
        factories.UserFactory(username=f"extra{n}", role="Quality engineer")
    with count_queries() as many:
        admin_client.get(url)
    assert few.count == many.count, many.dump()
