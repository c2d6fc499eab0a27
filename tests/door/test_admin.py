"""The Django admin is no side door (issue 9 §2 "Admin"; DESIGN.md §7): as a superuser, no
regulated record or history row can be added, changed, deleted or reverted there, no API token
minted for anybody, and memberships go through the membership services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse
from rest_framework.authtoken.models import Token, TokenProxy

from hazards import services
from hazards.admin import ReadOnlyHistoryAdmin
from hazards.models import Hazard, Membership
from tests import factories

pytestmark = pytest.mark.django_db

REGULATED = sorted(
    (model for model, model_admin in admin.site._registry.items()
     if isinstance(model_admin, ReadOnlyHistoryAdmin) and model is not Membership),
    key=lambda m: m._meta.label,
)  # fmt: skip


@pytest.fixture
def superuser_client(client):
    user = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(user)
    client.user = user
    return client


def _admin_url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def test_the_regulated_models_are_all_read_only_in_the_admin():
    labels = {m._meta.label for m in REGULATED}
    assert {"hazards.Hazard", "hazards.RiskControl", "hazards.Product", "hazards.RiskPolicy",
            "traceability.Requirement", "traceability.TestCase", "traceability.SoftwareItem",
            "traceability.TestRun"} <= labels  # fmt: skip


@pytest.mark.parametrize("model", REGULATED, ids=lambda m: m._meta.label)
def test_a_superuser_cannot_add_a_regulated_record_in_the_admin(superuser_client, model):
    assert superuser_client.get(_admin_url(model, "add")).status_code == 403
    assert superuser_client.post(_admin_url(model, "add"), {}).status_code == 403


@pytest.fixture
def hazard(product, editor):
    return services.hazard_create(
        product=product, by=editor, title="Over-delivery", category="safety", severity=4
    )


def test_a_superuser_cannot_change_delete_or_revert_a_hazard(superuser_client, hazard):
    change = _admin_url(Hazard, "change", hazard.pk)
    page = superuser_client.get(change)
    assert page.status_code == 200 and b'name="_save"' not in page.content  # view only
    assert superuser_client.post(change, {"title": "Changed in the admin"}).status_code == 403
    delete = _admin_url(Hazard, "delete", hazard.pk)
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    history_id = hazard.history.get().history_id
    revert = reverse("admin:hazards_hazard_simple_history", args=[hazard.pk, history_id])
    assert superuser_client.get(revert).status_code == 200  # an old version can be viewed
    response = superuser_client.post(revert, {"title": "Reverted in the admin", "code": "X"})
    assert response.status_code == 403
    stored = Hazard.objects.get(pk=hazard.pk)
    assert (stored.title, stored.version, stored.history.count()) == ("Over-delivery", 1, 1)


def test_a_superuser_cannot_mint_an_api_token_for_another_user(superuser_client, editor):
    add = _admin_url(TokenProxy, "add")
    assert superuser_client.get(add).status_code == 403
    assert superuser_client.post(add, {"user": editor.pk}).status_code == 403
    assert not Token.objects.exists()


def test_a_token_can_be_listed_and_revoked_not_changed(superuser_client, editor):
    Token.objects.create(user=editor)
    assert superuser_client.get(_admin_url(TokenProxy, "changelist")).status_code == 200
    change = _admin_url(TokenProxy, "change", editor.pk)  # DRF addresses a token by its user
    assert superuser_client.post(change, {"user": superuser_client.user.pk}).status_code == 403
    assert Token.objects.get().user == editor
    response = superuser_client.post(_admin_url(TokenProxy, "delete", editor.pk), {"post": "yes"})
    assert response.status_code == 302 and not Token.objects.exists()


def test_memberships_in_the_admin_go_through_the_services(superuser_client, product):
    user = factories.UserFactory(username="newcomer")
    response = superuser_client.post(
        _admin_url(Membership, "add"), {"product": product.pk, "user": user.pk}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(product=product, user=user)
    given = membership.history.get()
    assert (given.history_user, given.history_change_reason) == (
        superuser_client.user, "Given in the admin"
    )  # fmt: skip
    change = _admin_url(Membership, "change", membership.pk)
    assert (
        superuser_client.post(change, {"product": product.pk, "user": user.pk}).status_code == 403
    )
    delete = _admin_url(Membership, "delete", membership.pk)
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Membership.objects.filter(user=user).exists()
    withdrawn = Membership.history.filter(id=membership.pk, history_type="-").get()
    assert (withdrawn.history_user, withdrawn.history_change_reason) == (
        superuser_client.user, "Withdrawn in the admin"
    )  # fmt: skip
