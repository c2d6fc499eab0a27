"""With the demo login enabled, `manage.py loaddemo` signs the demo's approvals and a "Design
freeze" baseline as the demo user (21 CFR 11.50, 11.70), and a second run adds nothing.

One demo product is enough to show it (the others go through the same code); it is loaded once
for the module, inside a transaction rolled back at the end.
"""

import io
from unittest import mock

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from hazards.models import Hazard, Product, RiskControl
from riskbench import signatures
from riskbench.models import AccessAction, AccessLogEntry, Signature, SignatureMeaning, Status
from traceability.baselines.models import Baseline
from traceability.demo import insulin_pump
from traceability.demo.loader import DESIGN_FREEZE
from traceability.management.commands import loaddemo
from traceability.models import Requirement

SLUG = insulin_pump.PRODUCT["slug"]


def load() -> str:
    out = io.StringIO()
    with (
        override_settings(DEMO_LOGIN_ENABLED=True),
        mock.patch.object(loaddemo, "PRODUCTS", (insulin_pump,)),
    ):
        call_command("loaddemo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield load()
        transaction.set_rollback(True)


@pytest.fixture
def product(demo, db):
    return Product.objects.get(slug=SLUG)


def test_every_approved_record_carries_a_valid_approval_signature(product):
    demo_user = User.objects.get(username="demo")
    approved = [
        record
        for model in (Hazard, RiskControl, Requirement)
        for record in model.objects.filter(product=product, status=Status.APPROVED)
    ]
    assert len(approved) > 30
    unsigned = [str(r) for r in approved if not signatures.is_approved_with_signature(r)]
    assert unsigned == []
    # The records' approvals are the demo login's; the plan (the product record) is approved by
    # the head of quality, who did not write it (traceability.report.demo).
    signed = Signature.objects.filter(product=product, meaning=SignatureMeaning.APPROVED).exclude(
        content_type__model="product"
    )
    assert set(signed.values_list("signer", flat=True)) == {demo_user.pk}
    assert {s.printed_name for s in signed} == {"Dana Demo"}
    # Every signature is in the access log, as the signature page would leave it.
    logged = AccessLogEntry.objects.filter(user=demo_user, action=AccessAction.SIGNATURE)
    assert logged.count() == signed.count()


def test_approval_history_names_the_signature(product):
    hazard = product.hazards.filter(status=Status.APPROVED).first()
    reasons = list(hazard.history.values_list("history_change_reason", flat=True))
    assert any(r.startswith("Approved with electronic signature of demo") for r in reasons)


def test_a_signed_design_freeze_baseline_is_taken(product):
    baseline = Baseline.objects.get(product=product, name=DESIGN_FREEZE)
    signature = Signature.objects.get(
        content_type=ContentType.objects.get_for_model(Baseline), object_id=baseline.pk
    )
    assert signature.signer.username == "demo"
    assert signature.content_sha256 == signatures.record_content_sha256(baseline)
    assert baseline.audit_chain_seq > 0


def test_the_audit_trail_verifies(product):
    try:
        call_command("verify_audit", stdout=io.StringIO())
    except CommandError as exc:  # pragma: no cover - the message says what is broken
        pytest.fail(str(exc))


def test_a_second_run_signs_nothing_and_writes_nothing(product):
    before = counts()
    out = load()
    assert f"{SLUG}: already loaded, nothing changed" in out
    assert counts() == before
