"""Bulk imports join the tamper-evident audit chain in the transaction that writes them
(21 CFR 11.10(e)): `verify_audit` passes right after an import and names no unchained row."""

import io

import pytest
from django.core.management import CommandError, call_command

from hazards.models import Hazard, HazardControl
from riskbench.models import AuditChainEntry
from tests import factories
from tests.integrations.test_hazard_table import ROWS, csv_bytes, do_import
from traceability.integrations import product_json
from traceability.models import ControlRequirement

pytestmark = pytest.mark.django_db


def verify_audit_exit_code() -> int:
    try:
        call_command("verify_audit", stdout=io.StringIO())
    except CommandError as exc:
        return exc.returncode
    return 0


def chained(model, product) -> dict[int, AuditChainEntry]:
    """history_id → chain entry, for the history rows of `model` in `product`'s chain."""
    entries = AuditChainEntry.objects.filter(
        chain=f"product:{product.pk}", model_label=model._meta.label_lower
    )
    return {e.row_id: e for e in entries}


@pytest.fixture
def control(product):
    return factories.RiskControlFactory(product=product, code="RC-001")


def test_imported_hazards_and_links_are_in_the_chain_and_verify_passes(product, editor, control):
    requirement = factories.RequirementFactory(product=product, code="SRS-001")
    headers = ["ID", "Title", "Sev", "P1", "P2", "Risk controls", "Requirements"]
    rows = [["HAZ-001", "Over-delivery", "4", "3", "3", "RC-001", "SRS-001"]]
    do_import(product, editor, csv_bytes(rows, headers=headers))

    assert verify_audit_exit_code() == 0
    for model in (Hazard, HazardControl):
        history = model.history.filter(**{"hazard__product" if model is HazardControl else
                                          "product": product})  # fmt: skip
        entries = chained(model, product)
        assert {h.history_id for h in history} <= set(entries)
        for row in history:
            entry = entries[row.history_id]
            assert (entry.user_id, entry.action, entry.backfilled) == (editor.pk, "+", True)
            assert entry.reason.endswith("Import test")
    link = ControlRequirement.objects.get(control=control, requirement=requirement)
    assert link.history.get().history_id in chained(ControlRequirement, product)
    assert chained(Hazard, product)[Hazard.history.get().history_id].object_repr == (
        "HAZ-001 Over-delivery"
    )


def test_an_update_by_import_is_chained_with_its_changes(product, editor, control):
    do_import(product, editor, csv_bytes(ROWS))
    changed = [ROWS[0][:4] + ["5"] + ROWS[0][5:], ["HAZ-002", *ROWS[1][1:3], "Ketoacidosis",
                                                    *ROWS[1][4:]]]  # fmt: skip
    plan = do_import(product, editor, csv_bytes(changed))
    assert plan.updated == 2
    assert verify_audit_exit_code() == 0
    entries = chained(Hazard, product)
    latest = {h.code: h for h in Hazard.history.filter(history_type="~")}
    severity = entries[latest["HAZ-001"].history_id]
    assert severity.action == "~" and ["severity", "4", "5"] in [
        [label.lower(), before, after] for label, before, after in severity.changes
    ]
    harm = entries[latest["HAZ-002"].history_id]
    assert ["harm", "Hyperglycaemia", "Ketoacidosis"] in [
        [label.lower(), before, after] for label, before, after in harm.changes
    ]


def test_rows_changing_different_fields_are_each_written_in_full(product, editor, control):
    """Updates are grouped by the fields they change; every record and its history row still
    ends up with all of its values (nothing of another group's columns is lost)."""
    do_import(product, editor, csv_bytes(ROWS))
    before = {h.code: h for h in Hazard.objects.filter(product=product)}
    changed = [
        [*ROWS[0][:8], "Over-delivery (revised)"],  # title only
        ["HAZ-002", *ROWS[1][1:3], "Ketoacidosis", *ROWS[1][4:]],  # harm only
    ]
    do_import(product, editor, csv_bytes(changed))
    after = {h.code: h for h in Hazard.objects.filter(product=product)}
    assert (after["HAZ-001"].title, after["HAZ-001"].harm) == (
        "Over-delivery (revised)",
        before["HAZ-001"].harm,
    )
    assert (after["HAZ-002"].title, after["HAZ-002"].harm) == (
        before["HAZ-002"].title,
        "Ketoacidosis",
    )
    for code, hazard in after.items():
        assert hazard.version == before[code].version + 1
        latest = hazard.history.first()
        for f in Hazard._meta.concrete_fields:
            assert getattr(latest, f.attname) == getattr(hazard, f.attname), (code, f.name)


def test_a_product_json_import_is_chained(full_product, admin_user):
    result = product_json.import_product(
        data=product_json.export_product_json(full_product), by=admin_user, slug="copy"
    )
    assert verify_audit_exit_code() == 0
    entries = AuditChainEntry.objects.filter(chain=f"product:{result.product.pk}")
    labels = set(entries.values_list("model_label", flat=True))
    assert {"hazards.product", "hazards.hazard", "hazards.hazardcontrol", "traceability.testrun",
            "traceability.controlrequirement", "hazards.riskpolicy"} <= labels  # fmt: skip
