"""Attacks by someone with write access to the database, behind the application's back: each
must make `manage.py verify_audit` exit 1 and name the table, the record and the field
(issue 9 §3; 21 CFR 11.10(e)). Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from hazards import services
from hazards.models import Hazard
from riskbench.audit_state import check_current_state

pytestmark = pytest.mark.django_db


def _verify(*args) -> tuple[int, dict]:
    """Exit status and JSON report of `verify_audit --format json`."""
    out = io.StringIO()
    try:
        call_command("verify_audit", "--format", "json", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _hazard(product, editor, **fields):
    values = {"title": "Over-delivery", "category": "safety", "severity": 4, "p1": 3, "p2": 3}
    values.update(fields)
    return services.hazard_create(product=product, by=editor, **values)


def _columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def test_an_untouched_database_has_no_state_finding(product, editor):
    hazard = _hazard(product, editor)
    services.hazard_update(hazard=hazard, by=editor, reason="Re-estimated", severity=5)
    second = _hazard(product, editor, title="Under-delivery")
    services.hazard_delete(hazard=second, by=editor, reason="Duplicate of HAZ-001")
    code, report = _verify()
    assert code == 0, report
    assert report["state"] == []


def test_a_raw_update_of_a_current_field_names_table_record_and_field(product, editor):
    hazard = _hazard(product, editor)
    _sql("UPDATE hazards_hazard SET severity = 1 WHERE id = %s", [hazard.pk])
    code, report = _verify()
    assert code == 1
    [finding] = report["state"]
    assert finding["kind"] == "mismatch"
    assert (finding["table"], finding["record_id"], finding["code"]) == (
        "hazards_hazard",
        hazard.pk,
        "HAZ-001",
    )
    assert finding["fields"] == [{"field": "severity", "stored": 1, "history": 4}]


def test_a_raw_status_flip_to_approved_is_a_finding(product, editor):
    hazard = _hazard(product, editor)
    _sql("UPDATE hazards_hazard SET status = 'approved' WHERE id = %s", [hazard.pk])
    code, report = _verify()
    assert code == 1
    [finding] = report["state"]
    assert finding["fields"] == [{"field": "status", "stored": "approved", "history": "draft"}]


def test_a_forged_approved_hazard_without_history_is_a_finding(product, editor):
    hazard = _hazard(product, editor)
    columns = [c for c in _columns(Hazard) if c != "id"]
    chosen = [
        {"code": "'HAZ-999'", "status": "'approved'"}.get(column, column) for column in columns
    ]
    _sql(
        f"INSERT INTO hazards_hazard ({', '.join(columns)}) "  # noqa: S608 - test, fixed names
        f"SELECT {', '.join(chosen)} FROM hazards_hazard WHERE id = %s",
        [hazard.pk],
    )
    forged = Hazard.objects.get(code="HAZ-999")
    code, report = _verify()
    assert code == 1
    [finding] = report["state"]
    assert (finding["kind"], finding["record_id"], finding["code"]) == (
        "no_history",
        forged.pk,
        "HAZ-999",
    )


def test_a_raw_delete_of_a_current_row_is_a_finding(product, editor):
    hazard = _hazard(product, editor)
    _sql("DELETE FROM hazards_hazard WHERE id = %s", [hazard.pk])
    code, report = _verify()
    assert code == 1
    [finding] = report["state"]
    assert (finding["kind"], finding["table"], finding["record_id"], finding["code"]) == (
        "gone_without_deletion",
        "hazards_hazard",
        hazard.pk,
        "HAZ-001",
    )


def test_two_contents_under_one_version_are_a_finding(product, editor):
    """The trace of a lost update: a second history row with the version of the first but
    other content (here forged; the chain reports the unchained row too)."""
    hazard = _hazard(product, editor)
    columns = [c for c in _columns(Hazard.history.model) if c != "history_id"]
    chosen = [{"title": "'Forged'"}.get(column, column) for column in columns]
    _sql(
        f"INSERT INTO hazards_historicalhazard ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(chosen)} FROM hazards_historicalhazard WHERE id = %s",
        [hazard.pk],
    )
    findings = check_current_state()
    kinds = {f.kind for f in findings}
    assert "duplicate_version" in kinds
    [duplicate] = [f for f in findings if f.kind == "duplicate_version"]
    assert duplicate.record_id == hazard.pk
    assert [d.field for d in duplicate.fields] == ["title"]
    code, report = _verify()
    assert code == 1 and report["unchained"]


def test_a_workflow_only_change_keeps_its_version_without_a_finding(product, editor, auditor):
    hazard = _hazard(product, editor)
    hazard.status = "in_review"
    from riskbench.services import save_record

    save_record(hazard, by=editor, reason="Submitted", content_changed=False)
    assert Hazard.history.filter(id=hazard.pk, version=1).count() == 2
    assert check_current_state() == []


def test_state_check_runs_in_a_fixed_number_of_queries(product, editor, count_queries):
    from riskbench.audit import history_models

    for i in range(3):
        _hazard(product, editor, title=f"Hazard {i}")
    with count_queries() as few:
        check_current_state()
    for i in range(20):
        _hazard(product, editor, title=f"More {i}")
    with count_queries() as many:
        check_current_state()
    # Two streamed queries per model with a history (current rows; history rows).
    assert few.count == many.count <= 2 * len(history_models()) + 2, many.dump()
