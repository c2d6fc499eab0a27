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
from riskbench.accesslog import record_access
from riskbench.audit_state import check_current_state
from riskbench.models import AccessAction, AccessLogEntry, AuditChainEntry
from traceability.baselines.services import baseline_create
from traceability.dossier.services import export_request

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
    services.hazard_update(
        hazard=hazard, by=editor, reason="Re-estimated", severity=5, expected_version=hazard.version
    )
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


# --- Cutting off the newest entries: detected through anchors ---------------------------------


def _cut_newest(product, hazard, count: int) -> None:
    """What a careful attacker does to erase the last `count` edits of `hazard` (the newest
    entries of its product's chain): delete their history rows and chain entries, set the
    chain head back, and put the current row back to the newest remaining history row —
    every chain still verifies and the current state matches its history."""
    chain = f"product:{product.pk}"
    entries = list(AuditChainEntry.objects.filter(chain=chain).order_by("-seq")[: count + 1])
    cut, keep = entries[:count], entries[count]
    assert {e.model_label for e in cut} == {"hazards.hazard"}
    history_ids = [e.row_id for e in cut]
    marks = ", ".join(["%s"] * count)
    _sql(f"DELETE FROM hazards_historicalhazard WHERE history_id IN ({marks})", history_ids)  # noqa: S608
    _sql(f"DELETE FROM riskbench_auditchainentry WHERE id IN ({marks})", [e.pk for e in cut])  # noqa: S608
    _sql(
        "UPDATE riskbench_auditchainhead SET seq = %s, row_hash = %s WHERE chain = %s",
        [keep.seq, keep.row_hash, chain],
    )
    newest = Hazard.history.filter(id=hazard.pk).order_by("-history_id").first()
    for column in [c for c in _columns(Hazard) if c != "id"]:
        _sql(
            f"UPDATE hazards_hazard SET {column} = "  # noqa: S608 - column names from metadata
            f"(SELECT {column} FROM hazards_historicalhazard WHERE history_id = %s) "
            "WHERE id = %s",
            [newest.history_id, hazard.pk],
        )


def _edits(product, editor, hazard, count):
    for i in range(count):
        hazard = services.hazard_update(
            hazard=hazard, by=editor, reason="r", title=f"T{i}", expected_version=hazard.version
        )
    return hazard


def test_cutting_the_newest_entries_is_found_by_a_baselines_anchor(product, other_product, editor):
    hazard = _edits(product, editor, _hazard(product, editor), 3)
    baseline = baseline_create(product=other_product, name="B1", by=editor, sign=False)
    assert baseline.audit_anchor["chains"][f"product:{product.pk}"][0] > 0
    _cut_newest(product, hazard, 2)
    code, report = _verify("--no-anchors")
    assert code == 0, report["findings"]  # the cut itself leaves no other trace
    code, report = _verify()
    assert code == 1
    assert len(report["findings"]) == 1, report["findings"]
    [finding] = report["findings"]
    assert finding["kind"] == "anchor" and finding["table"] == f"baselines.baseline {baseline.pk}"
    assert "2 newest entries were removed" in finding["message"]


def test_cutting_the_newest_entries_is_found_by_a_dossier_exports_anchor(
    product, other_product, editor
):
    hazard = _edits(product, editor, _hazard(product, editor), 2)
    export = export_request(product=other_product, by=editor)
    _cut_newest(product, hazard, 1)
    code, report = _verify()
    assert code == 1
    assert len(report["findings"]) == 1, report["findings"]
    [finding] = report["findings"]
    assert finding["table"] == f"dossier.dossierexport {export.pk}"
    assert f"chain product:{product.pk} was anchored at entry #" in finding["message"]


def test_the_printed_head_is_checked_with_expect(product, editor, tmp_path):
    hazard = _edits(product, editor, _hazard(product, editor), 2)
    code, report = _verify()
    assert code == 0
    head = report["head"]
    assert _verify("--expect", head)[0] == 0
    anchor_file = tmp_path / "anchor.json"
    anchor_file.write_text(json.dumps(report))
    # Honest growth: the head changes, the saved anchor is still extended.
    hazard = _edits(product, editor, hazard, 1)
    assert _verify("--anchor", str(anchor_file))[0] == 0
    code, report = _verify("--expect", head)
    assert code == 1 and "not " + head in report["findings"][0]["message"]
    # Cut below the anchor: both the head and the anchor file say so.
    _cut_newest(product, hazard, 2)
    code, report = _verify("--anchor", str(anchor_file))
    assert code == 1
    assert "1 newest entry was removed" in report["findings"][0]["message"]


def test_an_unreadable_anchor_file_cannot_run(tmp_path):
    bad = tmp_path / "anchor.json"
    bad.write_text('{"head": "00", "chains": {"global": [1, "ab"]}}')
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit", "--anchor", str(bad), stdout=io.StringIO())
    assert exc.value.returncode == 2


# --- The access log is chained -------------------------------------------------------------------


def _log(n):
    return [
        record_access(None, AccessAction.LOGIN_FAILED, f"Wrong password {i}", username="mallory")
        for i in range(n)
    ]


def test_access_log_entries_form_a_chain(db):
    first, second = _log(2)
    assert (first.seq, second.seq) == (1, 2) and second.prev_hash == first.row_hash
    code, report = _verify()
    assert code == 0 and report["access_log_entries"] == 2
    assert report["anchor"]["chains"]["access-log"] == [2, second.row_hash]


def test_an_access_log_entry_edited_in_the_database_is_named(db):
    """The append-only trigger refuses UPDATE, so the edit is a delete and a re-insert."""
    entries = _log(3)
    target = entries[1]
    columns = [c for c in _columns(AccessLogEntry)]
    chosen = [{"detail": "'Logged in'"}.get(column, column) for column in columns]
    _sql(
        "CREATE TEMPORARY TABLE copied AS SELECT * FROM riskbench_accesslogentry WHERE id = %s",
        [target.pk],
    )
    _sql("DELETE FROM riskbench_accesslogentry WHERE id = %s", [target.pk])
    _sql(
        f"INSERT INTO riskbench_accesslogentry ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(chosen)} FROM copied"
    )
    _sql("DROP TABLE copied")
    code, report = _verify()
    assert code == 1
    assert len(report["findings"]) == 1, report["findings"]
    [finding] = report["findings"]
    assert (finding["kind"], finding["table"], finding["record_id"]) == (
        "access_log",
        "riskbench_accesslogentry",
        target.pk,
    )
    assert "altered" in finding["message"]


def test_an_access_log_entry_deleted_in_the_database_is_named(db):
    entries = _log(3)
    _sql("DELETE FROM riskbench_accesslogentry WHERE id = %s", [entries[1].pk])
    code, report = _verify()
    assert code == 1
    assert len(report["findings"]) == 1, report["findings"]
    [finding] = report["findings"]
    assert (
        finding["record_id"] == entries[2].pk
        and "expected access-log entry #2" in (finding["message"])
    )


def test_the_newest_access_log_entries_cut_are_found_by_the_head_and_anchors(product, editor):
    entries = _log(2)
    export_request(product=product, by=editor)  # anchors the log at entry #2, then logs #3
    _log(1)
    _sql("DELETE FROM riskbench_accesslogentry WHERE seq >= 2")
    code, report = _verify()
    assert code == 1
    assert any("removed from the end" in f["message"] for f in report["findings"])
    _sql(
        "UPDATE riskbench_auditchainhead SET seq = 1, row_hash = %s WHERE chain = 'access-log'",
        [entries[0].row_hash],
    )
    code, report = _verify()
    assert code == 1
    assert len(report["findings"]) == 1, report["findings"]
    [finding] = report["findings"]
    assert (
        finding["kind"] == "anchor"
        and "chain access-log was anchored at entry #2" in (finding["message"])
    )
