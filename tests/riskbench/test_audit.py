"""The hash-chained audit trail (21 CFR 11.10(e)) and `manage.py verify_audit`."""

import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from simple_history.utils import bulk_create_with_history

from hazards import services
from hazards.models import Hazard, HazardControl, RiskPolicy
from riskbench import audit
from riskbench.models import AuditChainEntry, AuditChainHead, ImmutableRecordError
from tests import factories

pytestmark = pytest.mark.django_db


def _hazard(product, editor, **fields):
    values = {"title": "Over-delivery", "category": "safety", "severity": 4, "p1": 3, "p2": 3}
    values.update(fields)
    return services.hazard_create(product=product, by=editor, **values)


def _verify() -> tuple[bool, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as exc:
        assert exc.returncode == 1
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def _chain(product):
    return list(AuditChainEntry.objects.filter(chain=f"product:{product.pk}").order_by("seq"))


def test_every_history_row_joins_its_products_chain_in_order(product, editor):
    hazard = _hazard(product, editor)
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="Clarified",
        title="Bolus overdose",
        expected_version=hazard.version,
    )
    entries = _chain(product)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == audit.GENESIS_HASH
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.row_hash
    last = entries[-1]
    assert (last.model_label, last.action, last.user_id) == ("hazards.hazard", "~", editor.pk)
    assert last.reason == "Clarified"
    assert ["title", "Over-delivery", "Bolus overdose"] in last.changes
    assert last.object_repr == "HAZ-001 Bolus overdose"
    head = AuditChainHead.objects.get(chain=f"product:{product.pk}")
    assert (head.seq, head.row_hash) == (last.seq, last.row_hash)
    assert _verify()[0]


def test_links_and_test_runs_join_the_chain_of_their_product(product, other_product, editor):
    hazard = _hazard(product, editor)
    control = services.control_create(
        product=product, by=editor, title="Occlusion alarm", option="protective_measure"
    )
    link = services.hazard_control_link(hazard=hazard, control=control, by=editor)
    case = factories.TestCaseFactory(product=product, code="TC-001")
    run = factories.TestRunFactory(test_case=case)
    entries = {(e.model_label, e.object_id): e for e in _chain(product)}
    assert entries[("hazards.hazardcontrol", str(link.pk))].object_repr == str(link)
    assert ("traceability.testrun", str(run.pk)) in entries
    others = AuditChainEntry.objects.filter(chain=f"product:{other_product.pk}")
    assert set(others.values_list("model_label", flat=True)) == {
        "hazards.product",
        "hazards.riskpolicy",  # its own policy
    }


def test_a_products_policy_joins_its_products_chain_and_templates_the_global_chain(
    product, editor, admin_user
):
    services.policy_update(
        policy=product.risk_policy,
        by=editor,
        reason="Wording",
        description="Revised",
        expected_version=product.risk_policy.version,
    )
    entry = AuditChainEntry.objects.filter(model_label="hazards.riskpolicy").order_by("id").last()
    assert entry.chain == f"product:{product.pk}" and entry.product_id == product.pk
    template = RiskPolicy.objects.get(product__isnull=True)
    services.policy_update(
        policy=template,
        by=admin_user,
        reason="Wording",
        description="Rev",
        expected_version=template.version,
    )
    entry = AuditChainEntry.objects.filter(model_label="hazards.riskpolicy").order_by("id").last()
    assert entry.chain == audit.GLOBAL_CHAIN and entry.product_id is None
    # The seeded template was written by a data migration and chained after `migrate`.
    first = AuditChainEntry.objects.get(chain=audit.GLOBAL_CHAIN, seq=1)
    assert first.backfilled and first.model_label == "hazards.riskpolicy"


def test_verify_audit_passes_on_an_untouched_trail_and_prints_the_heads(product, editor):
    _hazard(product, editor)
    ok, out = _verify()
    assert ok, out
    assert f"chain product:{product.pk}:" in out
    assert "Audit trail intact" in out


def test_verify_audit_names_a_history_row_altered_with_raw_sql(product, editor):
    hazard = _hazard(product, editor)
    hazard = services.hazard_update(
        hazard=hazard, by=editor, reason="Re-estimated", severity=5, expected_version=hazard.version
    )
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="Typo",
        title="Bolus overdose",
        expected_version=hazard.version,
    )
    target = Hazard.history.filter(id=hazard.pk).order_by("history_id")[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE hazards_historicalhazard SET severity = 2 WHERE history_id = %s",
            [target.history_id],
        )
    ok, out = _verify()
    assert not ok
    entry = AuditChainEntry.objects.get(model_label="hazards.hazard", row_id=target.history_id)
    assert (
        f"BROKEN chain product:{product.pk} entry #{entry.seq}: hazards.hazard row "
        f"{target.history_id} (HAZ-001" in out
    )
    assert "content hash mismatch" in out
    # Only the altered row is named; the later one still verifies against the chain.
    assert out.count("BROKEN") == 1


def test_verify_audit_detects_a_history_row_deleted_with_raw_sql(product, editor):
    hazard = _hazard(product, editor)
    row = Hazard.history.get(id=hazard.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM hazards_historicalhazard WHERE history_id = %s", [row.history_id]
        )
    ok, out = _verify()
    assert not ok and "no longer exists" in out


def test_verify_audit_detects_a_chain_entry_removed_from_the_middle(product, editor):
    hazard = _hazard(product, editor)
    services.hazard_update(
        hazard=hazard, by=editor, reason="r", title="B", expected_version=hazard.version
    )
    middle = _chain(product)[1]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM riskbench_auditchainentry WHERE id = %s", [middle.pk])
    ok, out = _verify()
    assert not ok and f"expected entry #{middle.seq}" in out


def test_verify_audit_detects_entries_cut_from_the_end(product, editor):
    hazard = _hazard(product, editor)
    services.hazard_update(
        hazard=hazard, by=editor, reason="r", title="B", expected_version=hazard.version
    )
    last = _chain(product)[-1]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM riskbench_auditchainentry WHERE id = %s", [last.pk])
    ok, out = _verify()
    assert not ok and "removed from the end" in out


def test_history_rows_written_behind_the_chain_are_reported(product, editor):
    hazard = _hazard(product, editor)
    row = Hazard.history.get(id=hazard.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE hazards_historicalhazard SET history_id = history_id + 1000 "
            "WHERE history_id = %s",
            [row.history_id],
        )
    ok, out = _verify()
    assert not ok
    assert f"UNCHAINED hazards.hazard history row {row.history_id + 1000}" in out


def test_chain_entries_cannot_be_changed_by_the_orm_or_raw_sql(product, editor):
    _hazard(product, editor)
    entry = _chain(product)[-1]
    entry.reason = "rewritten"
    with pytest.raises(ImmutableRecordError):
        entry.save()
    with pytest.raises(ImmutableRecordError):
        entry.delete()
    with pytest.raises(ImmutableRecordError):
        AuditChainEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(ImmutableRecordError):
        AuditChainEntry.objects.filter(pk=entry.pk).delete()
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE riskbench_auditchainentry SET reason = 'x' WHERE id = %s", [entry.pk]
        )


def test_a_second_entry_at_the_same_position_is_refused(product, editor):
    _hazard(product, editor)
    entry = _chain(product)[-1]
    fork = AuditChainEntry(
        **{
            f.attname: getattr(entry, f.attname)
            for f in AuditChainEntry._meta.concrete_fields
            if not f.primary_key
        }
    )
    fork.row_id += 1000
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()


def test_bulk_written_rows_are_reported_until_chained_with_fixed_queries(
    product, editor, count_queries
):
    def bulk(n, start):
        hazards = [
            Hazard(product=product, code=f"HAZ-{start + i:03d}", category="safety", title="t")
            for i in range(n)
        ]
        bulk_create_with_history(hazards, Hazard, default_user=editor)

    bulk(3, 1)
    assert len(audit.unchained_rows(models=[Hazard])) == 3
    assert not _verify()[0]
    assert audit.chain_pending(models=[Hazard]) == 3
    bulk(3, 50)
    with count_queries() as small:
        assert audit.chain_pending(models=[Hazard]) == 3
    bulk(30, 100)
    with count_queries() as large:
        assert audit.chain_pending(models=[Hazard]) == 30
    # unchained rows; savepoint; head lock; schema; one insert; head update; release.
    assert small.count == large.count, large.dump()
    assert _verify()[0]
    assert all(e.backfilled for e in _chain(product) if e.model_label == "hazards.hazard")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_a_chain():
    """Two writers on one product, each editing its own hazard (no shared row lock but the
    chain head's): one gapless chain. Run on PostgreSQL, where writers really interleave."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; row locks are exercised on PostgreSQL.")
    product = factories.ProductFactory()
    user = factories.UserFactory()
    hazards = [_hazard(product, user, title=f"Writer {n}") for n in range(2)]
    errors = []

    def writer(hazard):
        try:
            for i in range(15):
                services.hazard_update(
                    hazard=hazard,
                    by=user,
                    reason="",
                    harm=f"Harm {i}",
                    expected_version=hazard.version,
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(h,)) for h in hazards]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = [e.seq for e in _chain(product)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len([e for e in _chain(product) if e.action == "~"]) == 30
    assert audit.verify_chains().ok


def test_link_rows_of_a_deleted_hazard_still_find_their_product(product, editor):
    hazard = _hazard(product, editor)
    control = services.control_create(
        product=product, by=editor, title="Alarm", option="protective_measure"
    )
    services.hazard_control_link(hazard=hazard, control=control, by=editor)
    services.hazard_delete(
        hazard=hazard, by=editor, reason="Duplicate", expected_version=hazard.version
    )
    deleted = [e for e in _chain(product) if e.action == "-"]
    assert {e.model_label for e in deleted} == {"hazards.hazard", "hazards.hazardcontrol"}
    assert HazardControl.objects.count() == 0
    assert _verify()[0]
