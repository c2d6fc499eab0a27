"""What chaining costs one save, and the shortcuts that keep it cheap without weakening it
(21 CFR 11.10(e)): the hash must always cover the values as stored."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from simple_history.signals import post_create_historical_record

from hazards import services
from hazards.models import Hazard
from riskbench import audit
from riskbench.models import AuditChainEntry, AuditSchema
from tests import factories

pytestmark = pytest.mark.django_db


def _verify_ok() -> bool:
    try:
        call_command("verify_audit", stdout=io.StringIO())
    except CommandError:
        return False
    return True


def _extra_queries(count_queries, write) -> int:
    """Queries `write()` issues with the chain receiver minus without it."""
    with count_queries() as chained:
        write("chained")
    post_create_historical_record.disconnect(dispatch_uid="riskbench_audit_chain")
    try:
        with count_queries() as plain:
            write("plain")
    finally:
        post_create_historical_record.connect(
            audit._chain_history_row, dispatch_uid="riskbench_audit_chain"
        )
    audit.chain_pending()  # the rows written without the receiver
    return chained.count - plain.count


def test_a_change_costs_four_queries_and_a_creation_three(product, editor, count_queries):
    hazard = services.hazard_create(
        product=product, by=editor, title="Over-delivery", category="safety", severity=4
    )
    control = services.control_create(
        product=product, by=editor, title="Occlusion alarm", option="protective_measure"
    )

    def update(text):
        nonlocal hazard
        hazard = services.hazard_update(
            hazard=hazard, by=editor, reason="r", harm=text, expected_version=hazard.version
        )

    # stored row with its predecessor; head lock; entry insert; head update.
    assert _extra_queries(count_queries, update) == 4

    def create(text):
        services.hazard_create(product=product, by=editor, title=text, category="safety")

    # head lock; entry insert; head update (the new row is hashed from memory).
    assert _extra_queries(count_queries, create) == 3

    def link(text):
        other = services.hazard_create(product=product, by=editor, title=text, category="safety")
        services.hazard_control_link(hazard=other, control=control, by=editor)

    # Per history row (hazard, link): head lock, insert, head update; the link's product is
    # read from the hazard it holds, not queried.
    assert _extra_queries(count_queries, link) == 6
    assert _verify_ok()


def test_values_that_would_read_back_differently_are_hashed_as_stored(product, editor):
    """A raw save without full_clean can hold a float in a DecimalField or a bool in an
    IntegerField; the database returns a Decimal and an int. The receiver must hash what is
    stored, or verify_audit would cry tampering over an honest write."""
    hazard = Hazard(
        product=product, code="HAZ-900", category="security", title="Raw", severity=True
    )
    hazard.cvss_base_score = 9.8
    hazard._history_user = editor
    hazard._change_reason = "Raw save"
    hazard.save()
    run = factories.TestRunFactory(test_case=factories.TestCaseFactory(product=product))
    run.executed_at = "2026-01-02T03:04:05Z"  # a string: stored as a datetime
    run._change_reason = "Raw date"
    run.version += 1  # as every service save does (verify_audit: one version, one content)
    run.save()
    hazard.delete()
    stored = Hazard.history.filter(code="HAZ-900").order_by("history_id")
    assert stored[0].cvss_base_score == Decimal("9.8") and stored[0].severity == 1
    assert _verify_ok()


def test_creations_and_deletions_hash_the_same_content_as_a_database_read(product, editor):
    hazard = services.hazard_create(
        product=product,
        by=editor,
        title="Spoofed bolus",
        category="security",
        severity=4,
        cvss_vector="CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H",
        data_elements=["names"],
    )
    row = Hazard.history.get(id=hazard.pk)
    from_memory = audit._memory_content(row)  # a row read back qualifies as well
    assert from_memory == {
        name: audit.canonical_value(getattr(row, name))
        for name in audit.hashed_field_names(type(row))
    }
    services.hazard_delete(
        hazard=hazard, by=editor, reason="Duplicate", expected_version=hazard.version
    )
    entries = AuditChainEntry.objects.filter(model_label="hazards.hazard", object_id=str(hazard.pk))
    assert sorted(entries.values_list("action", flat=True)) == ["+", "-"]
    assert _verify_ok()


def test_a_schema_row_is_remembered_only_once_committed(django_capture_on_commit_callbacks):
    key = ("default", "tests.fake", ("a", "b"))
    audit.clear_schema_cache()
    with transaction.atomic():
        first = audit._schema("tests.fake", ("a", "b"), "default")
        # Found again in the same transaction: still this process's uncommitted insert.
        assert audit._schema("tests.fake", ("a", "b"), "default") == first
        assert key not in audit._SCHEMAS
        transaction.set_rollback(True)
    assert not AuditSchema.objects.filter(model_label="tests.fake").exists()
    assert key not in audit._SCHEMAS  # a rolled-back id is never reused

    with django_capture_on_commit_callbacks(execute=True):
        schema_id, digest = audit._schema("tests.fake", ("a", "b"), "default")
    assert audit._SCHEMAS[key] == (schema_id, digest)
    assert AuditSchema.objects.get(pk=schema_id).digest == digest
    audit.clear_schema_cache()


def test_schema_rows_of_every_chained_model_exist_after_migrate():
    labels = set(AuditSchema.objects.values_list("model_label", flat=True))
    expected = {label for _, label, _ in audit._chained_tables()}
    assert expected <= labels
