"""The imports' bulk path (`riskbench.bulk`) writes what simple-history's helpers and
`audit.chain_pending` write: the same records, the same history rows field by field, the same
chain entries in the same order, hashes that `verify_audit` recomputes from the stored rows
(issue 13 §3; 21 CFR 11.10(e))."""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection, models
from simple_history.utils import get_history_model_for_model

from hazards.models import ControlIntroducedHazard, Hazard, HazardControl, RiskControl
from riskbench import audit, bulk
from riskbench.models import AuditChainEntry, AuditSchema
from tests import factories
from tests.integrations.helpers import JUNIT_PASS_FAIL
from tests.integrations.test_workbook import SOURCE, write_csvs
from traceability.integrations import junit, workbook
from traceability.models import (
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementTest,
    TestCase,
    TestRun,
)

pytestmark = pytest.mark.django_db

MODELS = [
    Hazard,
    RiskControl,
    Requirement,
    TestCase,
    TestRun,
    HazardControl,
    ControlRequirement,
    RequirementTest,
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlIntroducedHazard,
]
# Set from the clock at the time of writing: differ between two imports by nature.
CLOCK = {"history_date", "created_at", "updated_at"}


@pytest.fixture
def generic(monkeypatch):
    """`generic()` forces the generic path from then on: simple-history's helpers, then
    `chain_pending`. `generic.calls` counts the calls of simple-history's helpers."""
    calls = []

    def spy(helper):
        def called(*args, **kwargs):
            calls.append(helper.__name__)
            return helper(*args, **kwargs)

        return called

    for name in ("bulk_create_with_history", "bulk_update_with_history"):
        monkeypatch.setattr(bulk, name, spy(getattr(bulk, name)))

    def use_generic():
        monkeypatch.setattr(bulk, "_usable", lambda model, using: False)

    use_generic.calls = calls
    return use_generic


def _label(model, pk):
    if pk is None:
        return None
    record = model._base_manager.filter(pk=pk).first()
    if record is None:  # deleted: its history says what it was
        record = get_history_model_for_model(model).objects.filter(id=pk).first()
    return getattr(record, "code", None) or pk


def history_of(product) -> dict[str, list[dict]]:
    """Every history row of the product's records, oldest first, each as {field: value} with
    the keys of coded records replaced by their codes (two imports give them other keys)."""
    result = {}
    for model in MODELS:
        history = get_history_model_for_model(model)
        rows = []
        for row in history.objects.order_by("history_id"):
            if audit.resolve_product_ids(model, [row])[0] != product.pk:
                continue
            described = {}
            for f in history._meta.concrete_fields:
                if f.name in CLOCK or f.primary_key or f.attname == "id":
                    continue
                value = getattr(row, f.attname)
                if f.is_relation and f.related_model._meta.label_lower == "hazards.product":
                    value = "the product"
                elif f.is_relation and hasattr(f.related_model, "code"):
                    value = _label(f.related_model, value)
                described[f.attname] = value
            rows.append(described)
        result[model._meta.label_lower] = rows
    return result


def chain_of(product, after: int = 0) -> list[tuple]:
    """The product's chain entries after entry #`after` in chain order, without what differs
    by nature (keys, times, hashes)."""
    return list(
        AuditChainEntry.objects.filter(chain=f"product:{product.pk}", seq__gt=after)
        .order_by("seq")
        .values_list(
            "model_label", "action", "object_repr", "user_id", "user_name", "reason", "changes",
            "backfilled", "source",
        )
    )  # fmt: skip


def assert_verifies():
    result = audit.verify_chains()
    assert result.ok, (result.problems, result.unchained[:5])


def recompute_every_hash_the_slow_way(product):
    """Each entry's hash from the history row read back through the ORM (a model instance, as
    `chain_pending` reads it), with the functions the generic path uses."""
    entries = AuditChainEntry.objects.filter(chain=f"product:{product.pk}", source="history")
    assert entries.exists()
    for entry in entries:
        model = audit.source_table(entry.source, entry.model_label)
        row = model.objects.get(pk=entry.row_id)
        schema = AuditSchema.objects.get(pk=entry.schema_id)
        content = audit.canonical_content(row, schema.field_names)
        assert audit.row_hash(entry, content, schema.digest) == entry.row_hash


def workbooks(tmp_path):
    """The workbook, and a changed copy of it (updates: "~" rows with their changes)."""
    folder = write_csvs(tmp_path / "risk-file", SOURCE)
    changed = {
        "requirements.csv": SOURCE["requirements.csv"].replace("within 2 s", "within 1 s"),
        "hazards.csv": SOURCE["hazards.csv"].replace("Occlusion,No insulin", "Kink,No insulin"),
    }
    later = write_csvs(tmp_path / "risk-file-2", {**SOURCE, **changed})
    return folder, later


def head(product) -> int:
    return AuditChainEntry.objects.filter(chain=f"product:{product.pk}").count()


def test_workbook_import_writes_the_same_history_and_chain_both_ways(
    product, other_product, editor, tmp_path, generic
):
    factories.MembershipFactory(product=other_product, user=editor)
    first, later = workbooks(tmp_path)
    seen = {}
    for target in (product, other_product):
        if target is other_product:
            assert generic.calls == []  # the fast path wrote the first product
            generic()
        start = head(target)
        workbook.import_workbook(product=target, source=workbook.read_source(first), by=editor)
        plan = workbook.import_workbook(
            product=target, source=workbook.read_source(later), by=editor, reason="Tightened"
        )
        assert plan.counts()["Requirements"]["update"] == 1
        assert plan.counts()["Hazards"]["update"] == 1
        seen[target.slug] = history_of(target), chain_of(target, start)

    assert_verifies()
    recompute_every_hash_the_slow_way(product)
    fast_history, fast_chain = seen[product.slug]
    generic_history, generic_chain = seen[other_product.slug]
    assert fast_history == generic_history
    assert "bulk_update_with_history" in generic.calls
    # 2 + 1 hazard, 2 controls, 3 + 1 requirements, 2 tests, 2 runs, 3 + 2 + 2 links.
    assert sum(len(rows) for rows in fast_history.values()) == 20
    assert fast_chain == generic_chain
    changes = [entry for entry in fast_chain if entry[1] == "~"]
    assert {entry[0] for entry in changes} == {"hazards.hazard", "traceability.requirement"}
    assert all(entry[6] for entry in changes)  # the changed fields are listed


def test_junit_import_writes_the_same_history_and_chain_both_ways(
    product, other_product, editor, generic
):
    factories.MembershipFactory(product=other_product, user=editor)
    for target in (product, other_product):
        factories.TestCaseFactory(product=target, code="TC-001")
        factories.TestCaseFactory(product=target, code="TC-002")
    data = JUNIT_PASS_FAIL
    seen = {}
    for target in (product, other_product):
        if target is other_product:
            assert generic.calls == []
            generic()
        start = head(target)
        result = junit.import_junit(product=target, data=data, filename="ci.xml", by=editor)
        assert len(result.created_runs) == 2
        runs = history_of(target)["traceability.testrun"]
        for run in runs:  # stored under the product's folder
            run["evidence"] = run["evidence"].replace(f"/{target.slug}/", "/<product>/")
        seen[target.slug] = runs, chain_of(target, start)
    assert_verifies()
    recompute_every_hash_the_slow_way(product)
    assert seen[product.slug] == seen[other_product.slug]
    assert all(run["evidence"].startswith("evidence/<product>/") for run in seen[product.slug][0])


def test_created_records_have_their_keys_and_are_saved(product, editor):
    controls = [RiskControl(product=product, code=f"RC-{i}", title=f"C{i}") for i in range(3)]
    bulk.create_with_history(controls, RiskControl, by=editor, reason="Bulk test")
    assert all(c.pk and not c._state.adding for c in controls)
    stored = {c.pk: c.code for c in RiskControl.objects.filter(product=product)}
    assert stored == {c.pk: c.code for c in controls}
    rows = RiskControl.history.filter(code__in=stored.values()).order_by("history_id")
    assert [(r.code, r.history_user, r.history_change_reason, r.history_type) for r in rows] == [
        (c.code, editor, "Bulk test", "+") for c in controls
    ]
    assert_verifies()


def test_a_record_that_is_not_new_is_refused(product, editor):
    control = factories.RiskControlFactory(product=product, code="RC-001")
    with pytest.raises(ValueError, match="not new"):
        bulk.create_with_history([control], RiskControl, by=editor, reason="x")


def test_a_value_that_may_read_back_differently_is_hashed_from_the_stored_row(product, editor):
    """A naive-looking value in memory (here a string in a date-time column) is not trusted:
    the row is read back and the hash covers what is stored."""
    run = TestRun(
        test_case=factories.TestCaseFactory(product=product, code="TC-001"),
        result="pass",
        executed_at="2026-03-01T10:00:00+00:00",
        version=1,
    )
    bulk.create_with_history([run], TestRun, by=editor, reason="Bulk test")
    assert_verifies()


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 8, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
        dt.datetime(2026, 7, 1, 23, 59, 59, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        None,
    ],
)
def test_datetime_parameters_are_what_the_field_gives(value):
    f = models.DateTimeField()
    prepare = audit.memo_prep(f)
    expected = f.get_db_prep_save(value, connection)
    assert prepare(value, connection) == expected
    assert prepare(value, connection) == expected  # remembered
