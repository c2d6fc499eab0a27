"""The write helpers every service uses (`riskbench.services`): history with actor and reason,
optimistic locking, product-scoped codes and trace links — and a scan of the code base for
writes that would bypass the history (STYLE.md; 21 CFR 11.10(e))."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from simple_history.models import HistoricalChanges

from hazards.models import Hazard, HazardControl, RiskControl
from riskbench.models import Status, is_suspect
from riskbench.services import (
    StaleEditError,
    delete_record,
    diff_versions,
    link_create,
    link_review,
    lock_for_edit,
    next_code,
    save_record,
)
from tests import factories


def new_control(product, **fields):
    values = {"product": product, "code": "RC-001", "title": "Occlusion alarm"}
    values.setdefault("option", "protective_measure")
    values.update(fields)
    return RiskControl(**values)


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- save_record ----------------------------------------------------------------------------


def test_save_record_creates_with_a_history_row(product, editor):
    control = save_record(new_control(product), by=editor, reason="")
    assert control.version == 1
    row = control.history.get()
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "+",
        editor,
        "Created",
    )


def test_save_record_increments_the_version_and_keeps_the_reason(product, editor):
    control = save_record(new_control(product), by=editor, reason="RMP review")
    control.title = "Occlusion alarm with escalation"
    save_record(control, by=editor, reason="Escalation added after usability test")
    current = reload(control)
    assert current.version == 2
    row = current.history.first()
    assert (row.history_type, row.history_change_reason, row.version) == (
        "~",
        "Escalation added after usability test",
        2,
    )
    assert row.title == "Occlusion alarm with escalation"
    assert current.history.last().title == "Occlusion alarm"  # the earlier value is kept


def test_save_record_without_reason_says_edited(product, editor):
    control = save_record(new_control(product), by=editor, reason="")
    control.title = "Changed"
    save_record(control, by=editor, reason="   ")
    assert control.history.first().history_change_reason == "Edited"


def test_save_record_validates_before_saving(product, editor):
    with pytest.raises(ValidationError) as excinfo:
        save_record(new_control(product, option="prayer"), by=editor, reason="")
    assert "option" in excinfo.value.message_dict
    assert not RiskControl.objects.exists()


def test_invalid_edit_saves_nothing(product, editor):
    control = save_record(new_control(product), by=editor, reason="")
    control.title = ""
    with pytest.raises(ValidationError) as excinfo:
        save_record(control, by=editor, reason="x")
    assert "title" in excinfo.value.message_dict
    assert reload(control).version == 1
    assert reload(control).history.count() == 1


def test_save_record_can_skip_validation_of_named_fields(product, editor):
    control = save_record(new_control(product, option="prayer"), by=editor, reason="",
                          exclude_validation=["option"])  # fmt: skip
    assert reload(control).option == "prayer"


def test_editing_an_approved_record_needs_a_reason_and_reopens_it(product, editor):
    control = save_record(new_control(product, status=Status.APPROVED), by=editor, reason="")
    control.title = "Changed"
    with pytest.raises(ValidationError) as excinfo:
        save_record(control, by=editor, reason="")
    assert "change_reason" in excinfo.value.message_dict
    assert reload(control).title == "Occlusion alarm"

    control = reload(control)
    control.title = "Changed"
    save_record(control, by=editor, reason="CAPA-7")
    current = reload(control)
    assert (current.status, current.title, current.version) == ("in_review", "Changed", 2)


def test_editing_an_approved_hazard_raises_its_revision(product, editor):
    hazard = factories.HazardFactory(product=product, status=Status.APPROVED)
    hazard.title = "Changed"
    save_record(hazard, by=editor, reason="New field data")
    assert (reload(hazard).revision, reload(hazard).status) == (2, "in_review")


def test_approving_does_not_count_as_editing_an_approved_record(product, editor):
    control = save_record(new_control(product), by=editor, reason="")
    control.status = Status.APPROVED
    control._approving = True
    save_record(control, by=editor, reason="")
    assert reload(control).status == Status.APPROVED


# --- locking --------------------------------------------------------------------------------


def test_lock_for_edit_returns_the_current_row(product, editor):
    control = save_record(new_control(product), by=editor, reason="")
    stale_copy = reload(control)
    control.title = "Newer"
    save_record(control, by=editor, reason="")
    current = lock_for_edit(stale_copy, expected_version=2)
    assert current.title == "Newer"
    with pytest.raises(ValidationError) as refused:
        lock_for_edit(stale_copy, expected_version=None)
    assert "expected_version" in refused.value.message_dict


def test_stale_version_is_refused_with_what_changed(product, editor):
    other = factories.UserFactory(username="colleague", first_name="Ada", last_name="Lovelace")
    control = save_record(new_control(product), by=editor, reason="")
    control.title = "Newer"
    control.description = "Motor current above threshold for 2 s."
    save_record(control, by=other, reason="")
    with pytest.raises(StaleEditError) as excinfo:
        lock_for_edit(control, expected_version=1)
    error = excinfo.value
    assert error.expected_version == 1
    assert error.instance.version == 2
    assert sorted(error.changes) == [
        ("description", "—", "Motor current above threshold for 2 s."),
        ("title", "Occlusion alarm", "Newer"),
    ]
    assert "colleague" in str(error)
    assert "version 2" in str(error) and "version 1" in str(error)


def test_diff_versions_ignores_bookkeeping_fields(product, editor):
    control = save_record(new_control(product), by=editor, reason="")
    control.implementation_status = "implemented"
    save_record(control, by=editor, reason="")
    new, old = control.history.all()[:2]
    assert diff_versions(old, new) == [("implementation status", "planned", "implemented")]


# --- delete ---------------------------------------------------------------------------------


def test_delete_record_needs_a_reason(product, editor):
    control = save_record(new_control(product), by=editor, reason="")
    with pytest.raises(ValidationError) as excinfo:
        delete_record(control, by=editor, reason="")
    assert "change_reason" in excinfo.value.message_dict
    assert RiskControl.objects.filter(pk=control.pk).exists()


def test_delete_record_leaves_a_history_row(product, editor):
    control = save_record(new_control(product), by=editor, reason="")
    pk = control.pk
    delete_record(control, by=editor, reason="Superseded by RC-002")
    row = RiskControl.history.filter(id=pk).first()
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "-",
        editor,
        "Superseded by RC-002",
    )


# --- next_code ------------------------------------------------------------------------------


def test_next_code_starts_at_001(product):
    assert next_code(product.hazards.all(), "HAZ") == "HAZ-001"


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["HAZ-001", "HAZ-002"], "HAZ-003"),
        (["HAZ-009"], "HAZ-010"),
        (["HAZ-002", "HAZ-040"], "HAZ-041"),
        (["HAZ-999"], "HAZ-1000"),
        (["HAZ-12a", "HAZX-900", "SEC-500", "HAZ-003"], "HAZ-004"),
    ],
)
def test_next_code_follows_the_highest_code(product, codes, expected):
    for code in codes:
        factories.HazardFactory(product=product, code=code)
    assert next_code(product.hazards.all(), "HAZ") == expected


def test_next_code_counts_codes_kept_in_history(product, editor):
    control = save_record(new_control(product, code="RC-007"), by=editor, reason="")
    delete_record(control, by=editor, reason="Duplicate")
    assert next_code(product.controls.all(), "RC") == "RC-001"
    history = RiskControl.history.filter(product_id=product.pk)
    assert next_code(product.controls.all(), "RC", history=history) == "RC-008"


def test_next_code_history_of_another_product_does_not_count(product, other_product, editor):
    save_record(new_control(other_product, code="RC-030"), by=editor, reason="")
    history = RiskControl.history.filter(product_id=product.pk)
    assert next_code(product.controls.all(), "RC", history=history) == "RC-001"


# --- links ----------------------------------------------------------------------------------


@pytest.fixture
def ends(product, editor):
    hazard = factories.HazardFactory(product=product, version=3)
    control = save_record(new_control(product), by=editor, reason="")
    return hazard, control


def test_link_create_records_both_versions_user_and_reason(ends, editor):
    hazard, control = ends
    link = link_create(HazardControl, hazard=hazard, control=control, by=editor, reason="")
    assert (link.source_version, link.target_version) == (3, 1)
    assert link.created_by == editor
    assert not link.is_suspect
    assert link.history.get().history_change_reason == "Linked"


def test_link_create_validates_uniqueness(ends, editor):
    hazard, control = ends
    link_create(HazardControl, hazard=hazard, control=control, by=editor)
    with pytest.raises(ValidationError):
        link_create(HazardControl, hazard=hazard, control=control, by=editor)
    assert HazardControl.objects.count() == 1


def test_link_review_clears_suspicion_and_records_who_and_why(ends, editor):
    hazard, control = ends
    link = link_create(HazardControl, hazard=hazard, control=control, by=editor)
    control.title = "Occlusion alarm, louder"
    save_record(control, by=editor, reason="")
    link = HazardControl.objects.get(pk=link.pk)
    assert link.is_suspect

    with pytest.raises(ValidationError) as excinfo:
        link_review(link, by=editor, reason=" ")
    assert "review_reason" in excinfo.value.message_dict
    assert HazardControl.objects.get(pk=link.pk).is_suspect

    reviewed = link_review(link, by=editor, reason="Louder alarm still reduces the risk")
    assert not HazardControl.objects.get(pk=link.pk).is_suspect
    assert (reviewed.reviewed_by, reviewed.target_version) == (editor, 2)
    assert reviewed.reviewed_at is not None
    assert reviewed.history.first().history_change_reason.startswith("Reviewed: Louder alarm")


@pytest.mark.parametrize(
    ("recorded_source", "current_source", "recorded_target", "current_target", "suspect"),
    [(1, 1, 1, 1, False), (1, 2, 1, 1, True), (1, 1, 4, 5, True), (3, 3, 5, 5, False)],
)
def test_is_suspect(recorded_source, current_source, recorded_target, current_target, suspect):
    assert is_suspect(recorded_source, current_source, recorded_target, current_target) is suspect


# --- no write may bypass the history ------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "venv", ".git", "tests", "bench", "migrations", "node_modules",
                "static", "staticfiles", "media", "templates", "__pycache__"}  # fmt: skip
# Calls that read or narrow a queryset: `.update()` on their result is a bulk UPDATE.
QUERYSET_CALLS = {
    "all", "filter", "exclude", "select_for_update", "select_related", "prefetch_related",
    "order_by", "annotate", "alias", "only", "defer", "distinct", "using", "none", "values",
    "values_list", "reverse", "get_queryset", "for_log", "complex_filter",
}  # fmt: skip
MANAGERS = {"objects", "_default_manager", "_base_manager", "history"}
QUERYSET_VARIABLE = re.compile(r"^(qs|queryset|.+_qs|.+_queryset)$")

# Documented exceptions: (path, text on the line) → why it does not bypass the audit trail.
# Each must also carry a comment at the place itself.
ALLOWED: dict[tuple[str, str], str] = {
    ("riskbench/bulk.py", "_default_manager.using(using).bulk_update("): (
        "update_with_history: the imports' bulk path writes each record's history row right "
        "after (as simple-history's bulk_update_with_history does), and chains it"
    ),
}


def _protected_models():
    """Models whose rows have a history, and the history models themselves (editing a history
    row would be tampering with the audit trail)."""
    historied = {
        m
        for m in apps.get_models()
        if hasattr(m._meta, "simple_history_manager_attribute") or issubclass(m, HistoricalChanges)
    }
    return historied, {m.__name__ for m in apps.get_models()}


def _accessors(historied) -> set[str]:
    """Reverse-relation names that hand out querysets of historied models (`product.hazards`)."""
    names = set()
    for model in apps.get_models():
        for rel in model._meta.related_objects:
            if rel.related_model in historied:
                names.add(rel.get_accessor_name())
    return names


def _chain(node) -> list[str]:
    """`Hazard.objects.filter(x)` → ['Hazard', 'objects', 'filter()']."""
    parts = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
            if isinstance(node, ast.Attribute):
                parts.append(node.attr + "()")
                node = node.value
                continue
            if isinstance(node, ast.Name):
                parts.append(node.id + "()")
            break
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
            continue
        if isinstance(node, ast.Name):
            parts.append(node.id)
        break
    return list(reversed(parts))


def find_history_bypasses(source: str, *, model_names, historied_names, accessors):
    """Line numbers and kinds of writes that skip simple-history's signals: `.update()` on a
    queryset or manager, `bulk_create` / `bulk_update` (use the `*_with_history` helpers), and
    `F()` assigned to a model attribute. Plain `dict.update()` and reads with F() pass."""
    found = []

    def is_protected_queryset(receiver) -> bool:
        parts = _chain(receiver)
        if not parts:
            return False
        root = parts[0]
        if root in model_names:
            return root in historied_names
        rest = parts[1:]
        return bool(
            QUERYSET_VARIABLE.match(root)
            or any(p in MANAGERS or p in accessors for p in rest)
            or any(p.endswith("()") and p[:-2] in QUERYSET_CALLS for p in rest)
        )

    def is_f(node) -> bool:
        return isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Name) and node.func.id == "F")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "F")
        )

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, receiver = node.func.attr, node.func.value
            if attr == "update" and is_protected_queryset(receiver):
                found.append((node.lineno, "queryset.update()"))
            elif attr in {"bulk_create", "bulk_update"}:
                root = (_chain(receiver) or [""])[0]
                if root not in model_names or root in historied_names:
                    found.append((node.lineno, attr))
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) for t in targets) and any(
                is_f(n) for n in ast.walk(node.value)
            ):
                found.append((node.lineno, "F() assigned to a field"))
    return sorted(found)


@pytest.fixture(scope="module")
def scan_context():
    historied, model_names = _protected_models()
    return {
        "model_names": model_names,
        "historied_names": {m.__name__ for m in historied},
        "accessors": _accessors(historied),
    }


def test_the_scanner_tells_history_bypasses_from_harmless_code(scan_context):
    source = """
from django.db.models import F
settings = {}
settings.update(DEBUG=True)                                      # 4 dict: fine
Hazard.objects.filter(product=p).update(status="approved")       # 5
product.hazards.update(owner=None)                               # 6
qs = Hazard.objects.all()
qs.update(version=1)                                             # 8
Hazard.objects.bulk_create(rows)                                 # 9
RiskControl.objects.bulk_update(rows, ["title"])                 # 10
bulk_create_with_history(rows, Hazard)                           # 11 fine
hazard.version = F("version") + 1                                # 12
Hazard.objects.filter(severity=F("residual_severity")).count()   # 13 read: fine
AccessLogEntry.objects.bulk_create(rows)                         # 14 not historied: fine
Hazard.history.filter(id=1).update(history_change_reason="x")    # 15 tampering
self.update(request)                                             # 16 DRF: fine
digest.update(chunk)                                             # 17 hashlib: fine
hazard.version += F("version")                                   # 18
Hazard.objects.select_for_update().filter(pk=1).update(title="") # 19
"""
    found = find_history_bypasses(source, **scan_context)
    assert [line for line, _ in found] == [5, 6, 8, 9, 10, 12, 15, 18, 19]


def _source_files():
    for path in sorted(REPO.rglob("*.py")):
        relative = path.relative_to(REPO)
        if not SKIPPED_DIRS.intersection(relative.parts[:-1]):
            yield relative, path


def test_no_write_bypasses_the_history(scan_context):
    """STYLE.md: on historied models never `queryset.update()`, `bulk_create` / `bulk_update`
    without the `*_with_history` helpers, or F() assignments — they leave no history row, so the
    audit trail (21 CFR 11.10(e)) would silently miss a change."""
    files = list(_source_files())
    assert any(str(rel) == "hazards/services.py" for rel, _ in files)  # the scan sees the code
    offences = []
    for relative, path in files:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for lineno, kind in find_history_bypasses(text, **scan_context):
            line = lines[lineno - 1].strip()
            if any(
                str(relative) == allowed_path and snippet in line
                for allowed_path, snippet in ALLOWED
            ):
                continue
            offences.append(f"{relative}:{lineno}: {kind}: {line}")
    assert not offences, "Writes that bypass the history:\n" + "\n".join(offences)


def test_every_allowed_exception_still_exists():
    """A stale allow-list entry would silently permit a future bypass at that place."""
    for (allowed_path, snippet), why in ALLOWED.items():
        assert why.strip()
        assert snippet in (REPO / allowed_path).read_text(encoding="utf-8"), allowed_path


def test_hazard_model_is_seen_as_historied(scan_context):
    assert "Hazard" in scan_context["historied_names"]
    assert "HistoricalHazard" in scan_context["historied_names"]
    assert "hazards" in scan_context["accessors"]
    assert Hazard.__name__ in scan_context["model_names"]
