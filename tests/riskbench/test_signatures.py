"""Electronic signatures and approval (21 CFR 11.50, 11.70, 11.200, 11.300; ISO 14971 4.5)."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from hazards import services
from hazards.models import RiskPolicy
from riskbench import signatures
from riskbench.models import (
    AccessLogEntry,
    AuditChainEntry,
    ImmutableRecordError,
    Signature,
    SigningGuard,
    Status,
)
from riskbench.services import StaleEditError
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def approvable_hazard(product, editor, **fields):
    """A hazard in review that passes the ISO 14971 approval check: estimated, controlled,
    residual risk evaluated."""
    values = {
        "title": "Over-delivery of insulin",
        "category": "safety",
        "severity": 4,
        "p1": 3,
        "p2": 3,
        "residual_severity": 4,
        "residual_p1": 1,
        "residual_p2": 1,
    }
    values.update(fields)
    hazard = services.hazard_create(product=product, by=editor, **values)
    control = services.control_create(
        product=product, by=editor, title="Occlusion alarm", option="protective_measure"
    )
    services.hazard_control_link(hazard=hazard, control=control, by=editor)
    services.record_set_status(
        record=hazard, status=Status.IN_REVIEW, by=editor, expected_version=hazard.version
    )
    hazard.refresh_from_db()
    return hazard


def sign(record, user, meaning="approved", password=PASSWORD, username=None, **kwargs):
    return signatures.record_sign(
        record=record,
        by=user,
        username=user.username if username is None else username,
        password=password,
        meaning=meaning,
        reason=kwargs.pop("reason", "Checked against the plan"),
        expected_version=kwargs.pop("expected_version", getattr(record, "version", None)),
        **kwargs,
    )


def states(record):
    record.refresh_from_db()
    return [(s.signature.meaning, s.state) for s in signatures.signatures_of(record)]


# --- Signing -----------------------------------------------------------------------------------


def test_signing_with_user_id_and_password_records_the_manifestation(product, editor):
    editor.first_name, editor.last_name = "Ada", "Quinn"
    editor.save()
    hazard = approvable_hazard(product, editor)
    before = timezone.now()
    signature = sign(hazard, editor, meaning="reviewed")
    assert signature.signer == editor
    assert signature.printed_name == "Ada Quinn"
    assert signature.meaning == "reviewed"
    assert before <= signature.signed_at <= timezone.now()
    assert signature.signed_at.utcoffset() == dt.timedelta(0)
    assert signature.content_sha256 == signatures.record_content_sha256(hazard)
    assert len(signature.content_sha256) == 64
    assert signature.record_version == hazard.version
    assert signature.product == product
    assert signature.reason == "Checked against the plan"
    assert signature.manifestation.startswith("Ada Quinn — Reviewed — ")
    assert signature.manifestation.endswith(" UTC")
    # Signing alone does not change the record.
    hazard.refresh_from_db()
    assert hazard.status == Status.IN_REVIEW


def test_wrong_password_is_refused_counted_and_logged(product, editor):
    hazard = approvable_hazard(product, editor)
    with pytest.raises(signatures.SignatureRefused, match="Wrong user ID or password"):
        sign(hazard, editor, password="wrong")
    assert not Signature.objects.exists()
    assert SigningGuard.objects.get(user=editor).consecutive_failures == 1
    entry = AccessLogEntry.objects.get(action="signature_failed")
    assert entry.user == editor and entry.product == product
    hazard.refresh_from_db()
    assert hazard.status == Status.IN_REVIEW


def test_the_user_id_must_be_the_signed_in_users(product, editor, auditor):
    hazard = approvable_hazard(product, editor)
    with pytest.raises(signatures.SignatureRefused):
        sign(hazard, editor, username="auditor")  # right password, someone else's user ID
    assert not Signature.objects.exists()


def test_a_few_wrong_passwords_in_a_row_lock_signing_for_a_while(product, editor, settings):
    settings.RISKBENCH_SIGNING_FAILURE_LIMIT = 3
    settings.RISKBENCH_SIGNING_LOCK_MINUTES = 10
    hazard = approvable_hazard(product, editor)
    for _ in range(2):
        with pytest.raises(signatures.SignatureRefused):
            sign(hazard, editor, password="wrong")
    with pytest.raises(signatures.SigningLocked):
        sign(hazard, editor, password="wrong")
    guard = SigningGuard.objects.get(user=editor)
    assert guard.locked_until > timezone.now() + dt.timedelta(minutes=9)
    # While locked, even the right password is refused.
    with pytest.raises(signatures.SigningLocked):
        sign(hazard, editor)
    assert not Signature.objects.exists()
    assert AccessLogEntry.objects.filter(action="signing_locked").count() == 2
    # After the lock expires, the right password signs again and the count starts over.
    guard.locked_until = timezone.now() - dt.timedelta(seconds=1)
    guard.save()
    assert sign(hazard, editor)
    guard.refresh_from_db()
    assert (guard.consecutive_failures, guard.locked_until) == (0, None)


def test_a_correct_signature_resets_the_failure_count(product, editor, settings):
    settings.RISKBENCH_SIGNING_FAILURE_LIMIT = 3
    hazard = approvable_hazard(product, editor)
    for _ in range(2):
        with pytest.raises(signatures.SignatureRefused):
            sign(hazard, editor, password="wrong")
    sign(hazard, editor, meaning="reviewed")
    with pytest.raises(signatures.SignatureRefused):
        sign(hazard, editor, password="wrong")
    assert SigningGuard.objects.get(user=editor).locked_until is None


def test_an_inactive_user_cannot_sign(product, editor):
    hazard = approvable_hazard(product, editor)
    editor.is_active = False
    editor.save()
    with pytest.raises(signatures.SignatureRefused):
        sign(hazard, editor)


def test_auditors_and_outsiders_cannot_sign(product, editor, auditor, outsider):
    hazard = approvable_hazard(product, editor)
    for user in (auditor, outsider):
        with pytest.raises(signatures.SignatureRefused, match="role"):
            sign(hazard, user)
    assert not Signature.objects.exists()


def test_a_stale_page_cannot_be_signed(product, editor):
    hazard = approvable_hazard(product, editor)
    seen = hazard.version
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="",
        title="Changed meanwhile",
        expected_version=hazard.version,
    )
    with pytest.raises(StaleEditError):
        sign(hazard, editor, expected_version=seen)
    assert not Signature.objects.exists()


@pytest.mark.parametrize("sent", [None, "", "abc"])
def test_a_signature_without_the_version_the_signer_saw_is_refused(product, editor, sent):
    """Nobody signs "whatever is there now": a record with a version must be given the one the
    signer saw (the sign page sends it); a missing or garbled one signs nothing."""
    hazard = approvable_hazard(product, editor)
    with pytest.raises(ValidationError, match="version"):
        sign(hazard, editor, expected_version=sent)
    assert not Signature.objects.exists()
    hazard.refresh_from_db()
    assert hazard.status == Status.IN_REVIEW


def test_the_sign_page_without_a_version_signs_nothing(client, product, editor):
    hazard = approvable_hazard(product, editor)
    client.force_login(editor)
    url = reverse("core:sign", args=["hazard", hazard.pk])
    form = {"username": editor.username, "password": PASSWORD, "meaning": "approved"}
    response = client.post(url, {**form, "reason": "Checked"}, follow=True)
    assert "Not signed" in response.content.decode()
    assert not Signature.objects.exists()
    response = client.post(url, {**form, "expected_version": hazard.version}, follow=True)
    assert Signature.objects.count() == 1


# --- Approval workflow -------------------------------------------------------------------------


def test_approving_a_hazard_sets_the_status_and_signs_the_approved_version(product, editor):
    hazard = approvable_hazard(product, editor)
    signature = sign(hazard, editor, expected_version=hazard.version)
    hazard.refresh_from_db()
    assert hazard.status == Status.APPROVED
    assert signature.record_version == hazard.version
    assert states(hazard) == [("approved", "valid")]
    assert signatures.is_approved_with_signature(hazard)
    row = hazard.history.first()
    assert row.status == Status.APPROVED and row.history_user == editor
    assert "electronic signature" in row.history_change_reason


def test_approval_refused_by_the_iso_14971_check_signs_nothing(product, editor):
    hazard = services.hazard_create(
        product=product, by=editor, title="Not evaluated", category="safety", severity=4
    )
    with pytest.raises(ValidationError, match="in review"):
        sign(hazard, editor)  # a draft is submitted for review first
    services.record_set_status(
        record=hazard, status=Status.IN_REVIEW, by=editor, expected_version=hazard.version
    )
    with pytest.raises(ValidationError, match="residual"):
        sign(hazard, editor)  # no residual risk evaluation (ISO 14971 7.3)
    hazard.refresh_from_db()
    assert hazard.status == Status.IN_REVIEW
    assert not Signature.objects.exists()


def test_approved_then_edited_goes_back_to_review_and_the_signature_is_superseded(product, editor):
    hazard = approvable_hazard(product, editor)
    sign(hazard, editor)
    hazard.refresh_from_db()
    assert hazard.status == Status.APPROVED and hazard.revision == 1
    with pytest.raises(ValidationError, match="reason"):
        services.hazard_update(
            hazard=hazard, by=editor, reason="", harm="Death", expected_version=hazard.version
        )
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="New field data",
        harm="Death",
        expected_version=hazard.version,
    )
    hazard.refresh_from_db()
    assert hazard.status == Status.IN_REVIEW
    assert hazard.revision == 2
    assert states(hazard) == [("approved", "superseded")]
    assert not signatures.is_approved_with_signature(hazard)
    # Re-approval signs the new version; the earlier signature stays, superseded.
    sign(hazard, editor)
    assert states(hazard) == [("approved", "superseded"), ("approved", "valid")]


def test_a_review_signature_stays_valid_when_the_record_is_then_approved(product, editor):
    hazard = approvable_hazard(product, editor)
    sign(hazard, editor, meaning="reviewed")
    sign(hazard, editor, meaning="approved")
    assert states(hazard) == [("reviewed", "valid"), ("approved", "valid")]


def test_content_changed_without_a_recorded_edit_is_flagged_as_a_mismatch(product, editor):
    hazard = approvable_hazard(product, editor)
    sign(hazard, editor)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE hazards_hazard SET harm = 'Tampered' WHERE id = %s", [hazard.pk])
    assert states(hazard) == [("approved", "mismatch")]


def test_the_hash_matches_again_when_an_edit_is_undone(product, editor):
    hazard = approvable_hazard(product, editor)
    sign(hazard, editor, meaning="reviewed")
    services.hazard_update(
        hazard=hazard, by=editor, reason="", title="Temporary", expected_version=hazard.version
    )
    assert states(hazard) == [("reviewed", "superseded")]
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="",
        title="Over-delivery of insulin",
        expected_version=hazard.version,
    )
    assert states(hazard) == [("reviewed", "valid")]


def test_a_signature_is_bound_to_its_own_record(product, editor):
    """Two records with identical text hash differently (11.70: cannot be transferred)."""
    first = approvable_hazard(product, editor)
    second = services.hazard_create(
        product=product,
        by=editor,
        **{
            f: getattr(first, f)
            for f in ("title", "category", "severity", "p1", "p2", "residual_severity")
        },
        residual_p1=1,
        residual_p2=1,
    )
    assert signatures.record_content(first)["fields"]["title"] == second.title
    assert signatures.record_content_sha256(first) != signatures.record_content_sha256(second)


def test_the_content_hash_ignores_bookkeeping_and_workflow_fields(product, editor):
    hazard = approvable_hazard(product, editor)
    fields = signatures.record_content(hazard)["fields"]
    assert "title" in fields and "harm" in fields and "product_id" in fields
    for name in ("version", "created_at", "updated_at", "status", "revision", "id"):
        assert name not in fields


@pytest.mark.parametrize("kind", ["control", "requirement", "policy"])
def test_controls_requirements_and_policies_are_approved_with_a_signature(kind, product, editor):
    if kind == "control":
        record = services.control_create(
            product=product, by=editor, title="Alarm", option="protective_measure"
        )
    elif kind == "requirement":
        record = factories.RequirementFactory(product=product)
    else:
        record = product.risk_policy  # the product's own, approved
    services.record_set_status(
        record=record,
        status=Status.IN_REVIEW,
        by=editor,
        reason="r",
        expected_version=record.version,
    )
    record.refresh_from_db()
    sign(record, editor)
    record.refresh_from_db()
    assert record.status == Status.APPROVED
    signature = Signature.objects.get()
    assert signature.content_type == ContentType.objects.get_for_model(record)
    assert states(record) == [("approved", "valid")]


def test_a_policy_is_signed_only_by_editors_of_the_product_that_owns_it(
    product, editor, auditor, outsider, admin_user
):
    policy = product.risk_policy
    assert signatures.can_sign(editor, policy)
    assert not signatures.can_sign(outsider, policy)  # a quality engineer of another product
    assert not signatures.can_sign(auditor, policy)
    stranger = factories.UserFactory(username="stranger", role="Quality engineer")
    assert not signatures.can_sign(stranger, policy)
    template = RiskPolicy.objects.get(product__isnull=True)
    assert not signatures.can_sign(editor, template)  # templates: administrators only
    assert signatures.can_sign(admin_user, template)


def test_signatures_join_the_audit_chain_and_the_access_log(product, editor):
    hazard = approvable_hazard(product, editor)
    signature = sign(hazard, editor)
    entry = AuditChainEntry.objects.get(source="signature", row_id=signature.pk)
    assert entry.chain == f"product:{product.pk}" and entry.user_id == editor.pk
    assert "HAZ-001" in entry.object_repr
    log = AccessLogEntry.objects.get(action="signature")
    assert signature.content_sha256 in log.detail and log.product == product


# --- Immutability --------------------------------------------------------------------------------


def test_no_code_path_edits_or_deletes_a_signature(product, editor):
    hazard = approvable_hazard(product, editor)
    signature = sign(hazard, editor)
    signature.reason = "rewritten"
    with pytest.raises(ImmutableRecordError):
        signature.save()
    with pytest.raises(ImmutableRecordError):
        signature.delete()
    qs = Signature.objects.filter(pk=signature.pk)
    with pytest.raises(ImmutableRecordError):
        qs.update(reason="rewritten")
    with pytest.raises(ImmutableRecordError):
        qs.delete()
    with pytest.raises(ImmutableRecordError):
        Signature.objects.bulk_update([signature], ["reason"])
    with pytest.raises(ImmutableRecordError):
        Signature.objects.filter(pk=signature.pk).update_or_create(
            pk=signature.pk, defaults={"reason": "x"}
        )
    # The database refuses a raw UPDATE too.
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE riskbench_signature SET reason = 'x' WHERE id = %s", [signature.pk])
    # Nothing that a signature points to can be deleted from under it.
    with pytest.raises((ProtectedError, IntegrityError)), transaction.atomic():
        editor.delete()
    with pytest.raises((ProtectedError, IntegrityError)), transaction.atomic():
        ContentType.objects.get_for_model(hazard).delete()
    signature.refresh_from_db()
    assert signature.reason == "Checked against the plan"


def test_a_deleted_signature_is_detected_by_verify_audit(product, editor):
    from riskbench.audit import verify_chains

    hazard = approvable_hazard(product, editor)
    signature = sign(hazard, editor)
    assert verify_chains().ok
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM riskbench_signature WHERE id = %s", [signature.pk])
    result = verify_chains()
    assert not result.ok
    assert "no longer exists" in result.problems[0].message
    assert result.problems[0].model_label == "riskbench.signature"


def test_the_admin_shows_signatures_read_only_and_cannot_delete_them(client, product, editor):
    admin_user = factories.UserFactory(username="admin", is_staff=True, is_superuser=True)
    hazard = approvable_hazard(product, editor)
    signature = sign(hazard, editor)
    client.force_login(admin_user)
    change = reverse("admin:riskbench_signature_change", args=[signature.pk])
    response = client.get(change)
    assert response.status_code == 200
    assert b'name="reason"' not in response.content  # shown as text, not as an input
    assert b"Save" not in response.content
    assert client.post(change, {"reason": "rewritten"}).status_code == 403
    delete = reverse("admin:riskbench_signature_delete", args=[signature.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:riskbench_signature_changelist")
    client.post(changelist, {"action": "delete_selected", "_selected_action": [signature.pk]})
    assert client.get(reverse("admin:riskbench_signature_add")).status_code == 403
    signature.refresh_from_db()
    assert signature.reason == "Checked against the plan"
    assert Signature.objects.count() == 1
