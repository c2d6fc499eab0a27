"""Taking baselines: hashed, anchored in the audit chain, signed, frozen."""

import pytest
from django.core.exceptions import ValidationError

from riskbench import signatures
from riskbench.audit import verify_chains
from riskbench.models import AuditChainEntry, ImmutableRecordError, Signature
from tests import factories
from tests.riskbench.test_signatures import PASSWORD
from traceability.baselines import selectors, services
from traceability.baselines.models import Baseline

pytestmark = pytest.mark.django_db


def take(product, editor, name="Release 2.1 submission", **kwargs):
    kwargs.setdefault("username", editor.username)
    kwargs.setdefault("password", PASSWORD)
    return services.baseline_create(product=product, name=name, by=editor, **kwargs)


def test_a_baseline_freezes_hashes_anchors_and_signs_the_risk_file(product, editor):
    factories.HazardFactory(product=product, code="HAZ-001")
    baseline = take(product, editor, note="For the 510(k)")
    assert baseline.content_sha256 == selectors.snapshot_sha256(selectors.snapshot(product))
    assert selectors.load(baseline)["hazards"].keys() == {"HAZ-001"}
    assert selectors.is_intact(baseline) and selectors.anchor_holds(baseline)
    assert baseline.audit_chain_seq > 0
    signature = Signature.objects.get()
    assert signature.meaning == "approved" and signature.signer == editor
    assert [s.state for s in signatures.signatures_of(baseline)] == ["valid"]
    assert AuditChainEntry.objects.filter(source="baseline", row_id=baseline.pk).exists()
    assert verify_chains().ok


def test_the_hash_covers_content_only_not_name_time_or_author(product, editor, settings):
    other = factories.UserFactory(username="other-qe", role="Quality engineer")
    factories.MembershipFactory(product=product, user=other)
    first = take(product, editor, name="Monday")
    second = take(product, other, name="Tuesday", username="other-qe")
    assert first.content_sha256 == second.content_sha256
    factories.HazardFactory(product=product, code="HAZ-001")
    third = take(product, editor, name="Wednesday")
    assert third.content_sha256 != first.content_sha256


def test_wrong_password_takes_no_baseline(product, editor):
    with pytest.raises(signatures.SignatureRefused):
        take(product, editor, password="wrong")
    assert not Baseline.objects.exists()


def test_auditors_cannot_take_baselines(product, auditor):
    with pytest.raises(signatures.SignatureRefused):
        take(product, auditor)
    assert not Baseline.objects.exists()


def test_names_are_required_and_unique_per_product(product, editor):
    take(product, editor, name="R1")
    with pytest.raises(ValidationError):
        take(product, editor, name="R1")
    with pytest.raises(ValidationError):
        take(product, editor, name="  ")


def test_an_unsigned_baseline_can_be_signed_later(product, editor):
    baseline = services.baseline_create(product=product, name="CI", by=None, sign=False)
    assert not Signature.objects.exists()
    signatures.record_sign(
        record=baseline, by=editor, username="editor", password=PASSWORD, meaning="approved",
        expected_version=None,
    )  # fmt: skip
    assert Signature.objects.get().object_id == baseline.pk


def test_a_baseline_is_frozen(product, editor):
    baseline = take(product, editor)
    baseline.name = "renamed"
    with pytest.raises(ImmutableRecordError):
        baseline.save()
    with pytest.raises(ImmutableRecordError):
        baseline.delete()
    with pytest.raises(ImmutableRecordError):
        Baseline.objects.filter(pk=baseline.pk).update(name="x")
