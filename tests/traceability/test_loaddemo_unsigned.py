"""`manage.py loaddemo` without demo logins (production settings): the demo is written by the
system account, which has no password and so signs nothing. A risk policy is approved only
with a signature, so no demo product's policy is approved: risks are estimated but not
evaluated, and no hazard is approved (its approval check needs an evaluated risk).

One product is enough; it is loaded once for the module, inside a transaction rolled back at
the end.
"""

import io
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction

from hazards.models import Product
from riskbench.models import Signature, Status
from traceability.demo import insulin_pump
from traceability.management.commands import loaddemo


def load() -> str:
    out = io.StringIO()
    with mock.patch.object(loaddemo, "PRODUCTS", (insulin_pump,)):
        call_command("loaddemo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield load()
        transaction.set_rollback(True)


@pytest.fixture
def product(demo, db):
    return Product.objects.get(slug=insulin_pump.PRODUCT["slug"])


def test_no_demo_login_when_disabled(product, demo, settings):
    assert settings.DEMO_LOGIN_ENABLED is False
    assert "login" not in demo.lower()
    assert not User.objects.filter(username__in=["demo", "auditor"]).exists()


def test_without_a_signer_the_policy_is_not_approved_and_risks_are_not_evaluated(product):
    policy = product.risk_policy
    assert policy.status == Status.DRAFT and not policy.is_approved
    hazards = list(product.hazards.all())
    assert len(hazards) >= 15
    assert all(h.initial_risk_index for h in hazards)
    assert {h.initial_acceptability for h in hazards} == {""}
    assert not product.hazards.filter(status=Status.APPROVED).exists()
    assert product.hazards.filter(status=Status.IN_REVIEW).exists()
    assert not Signature.objects.exists()


def test_history_rows_name_the_system_author(product):
    author = User.objects.get(username=loaddemo.SYSTEM_USERNAME)
    assert not author.has_usable_password() and not author.is_active
    for hazard in product.hazards.all():
        rows = list(hazard.history.order_by("history_id"))
        assert all(r.history_user_id == author.pk for r in rows), hazard.code
        assert all(r.history_change_reason for r in rows), hazard.code
