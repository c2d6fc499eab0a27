"""The whole risk file as a workbook (issue 13 §1, §2): round trip, idempotency, all or
nothing, source codes kept, mappings with value maps, implied controls, dangling references."""

import io
import json
import zipfile

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hazards.models import Hazard, HazardControl, RiskControl
from tests import factories
from tests.integrations.helpers import db_counts
from traceability.integrations import mappings, workbook
from traceability.integrations.uploads import UploadError
from traceability.models import ControlRequirement, Requirement, RequirementTest, TestCase, TestRun


def cells(path) -> dict[str, list[list]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}
    finally:
        book.close()


def write_csvs(folder, files: dict[str, str]):
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


SOURCE = {
    "hazards.csv": (
        "id,category,title,hazard,sequence_of_events,hazardous_situation,harm,severity,p1,p2,"
        "residual_severity,residual_p1,residual_p2\n"
        "1.10.3,safety,Over-delivery,Insulin,Bolus repeated,Too much insulin,Hypoglycaemia,4,3,3,"
        "4,1,1\n"
        "GIP 1.1,safety,Under-delivery,Insulin,Occlusion,No insulin,Hyperglycaemia,3,2,2,3,1,1\n"
    ),
    "controls.csv": (
        "id,title,type,hazard_ids\n"
        "RC 7,Occlusion alarm,protective measure,GIP 1.1\n"
        "RC-8,Bolus limit,inherent safety by design,1.10.3; GIP 1.1\n"
    ),
    "requirements.csv": (
        "id,title,text,parent_id,control_ids\n"
        "REQ-000123,Safe delivery,The pump delivers safely.,,\n"
        "REQ-000124,Stop on occlusion,The pump stops within 2 s.,REQ-000123,RC 7\n"
        "REQ-000125,Limit bolus,A bolus never exceeds 10 U.,REQ-000123,RC-8\n"
    ),
    "tests.csv": (
        "id,title,requirement_ids,result,date\n"
        "T.1,Occlusion test,REQ-000124,pass,2026-03-01\n"
        "T.2,Bolus limit test,REQ-000125,fail,2026-03-02T10:30:00+01:00\n"
    ),
}


@pytest.fixture
def source(tmp_path):
    return write_csvs(tmp_path / "risk-file", SOURCE)


def test_plain_headers_import_keeps_source_codes_exactly(product, editor, source):
    plan = workbook.import_workbook(product=product, source=workbook.read_source(source), by=editor)
    assert plan.written
    assert sorted(Hazard.objects.values_list("code", flat=True)) == ["1.10.3", "GIP 1.1"]
    assert set(RiskControl.objects.values_list("code", flat=True)) == {"RC 7", "RC-8"}
    child = Requirement.objects.get(code="REQ-000124")
    assert child.parent.code == "REQ-000123" and child.status == "draft"
    assert set(HazardControl.objects.values_list("hazard__code", "control__code")) == {
        ("GIP 1.1", "RC 7"),
        ("1.10.3", "RC-8"),
        ("GIP 1.1", "RC-8"),
    }
    assert ControlRequirement.objects.count() == 2 and RequirementTest.objects.count() == 2
    runs = {r.test_case.code: r for r in TestRun.objects.select_related("test_case")}
    assert runs["T.2"].result == "fail"
    assert runs["T.2"].executed_at.isoformat() == "2026-03-02T09:30:00+00:00"
    assert runs["T.1"].executed_by is None and "Recorded by import" in runs["T.1"].notes
    # One history row per record, with the importer and the reason.
    history = Requirement.history.filter(code="REQ-000124")
    assert history.count() == 1
    assert history.get().history_user == editor
    assert history.get().history_change_reason == "Imported from risk-file"


def test_reimport_changes_nothing(product, editor, source):
    workbook.import_workbook(product=product, source=workbook.read_source(source), by=editor)
    before = db_counts()
    plan = workbook.import_workbook(product=product, source=workbook.read_source(source), by=editor)
    assert (plan.created, plan.updated, plan.link_count, len(plan.new_runs)) == (0, 0, 0, 0)
    assert db_counts() == before


def test_update_writes_one_history_row_and_raises_the_version(product, editor, source):
    workbook.import_workbook(product=product, source=workbook.read_source(source), by=editor)
    text = SOURCE["requirements.csv"].replace("within 2 s", "within 1 s")
    write_csvs(source, {"requirements.csv": text})
    plan = workbook.import_workbook(
        product=product, source=workbook.read_source(source), by=editor, reason="Tightened"
    )
    assert plan.counts()["Requirements"]["update"] == 1
    requirement = Requirement.objects.get(code="REQ-000124")
    assert requirement.version == 2 and requirement.text == "The pump stops within 1 s."
    newest = requirement.history.first()
    assert (newest.history_type, newest.history_user, newest.history_change_reason) == (
        "~",
        editor,
        "Tightened",
    )


def copy_target(source_product):
    """A new product with the source's software items (an import never creates them)."""
    target = factories.ProductFactory(slug="copy")
    for item in source_product.software_items.all():
        factories.SoftwareItemFactory(product=target, code=item.code, name=item.name)
    return target


def test_export_import_export_is_identical_cell_by_cell(full_product, editor, tmp_path):
    first = tmp_path / "first.xlsx"
    run("export_workbook", full_product.slug, str(first))
    copy_target(full_product)
    run("import_workbook", "copy", str(first), "--user", "editor")
    second = tmp_path / "second.xlsx"
    run("export_workbook", "copy", str(second))
    exported = cells(first)
    assert exported == cells(second)
    assert set(exported) == {"Hazards", "Controls", "Requirements", "Tests", "Runs"}
    assert len(exported["Requirements"]) == 4 and len(exported["Runs"]) == 2
    assert exported["Requirements"][2][-1] == "SW-001"  # the software item implementing it


def test_software_item_that_is_not_in_the_product_is_a_dangling_reference(product, editor, source):
    text = "id,title,text,software_item_id\nR-1,A,The text.,SW-404\n"
    write_csvs(source, {"requirements.csv": text})
    plan = workbook.plan_workbook(product, workbook.read_source(source))
    assert ("Requirements", 2, "software_item_id", "SW-404") in plan.dangling


def test_zip_and_folder_round_trip(full_product, editor, tmp_path):
    archive = tmp_path / "file.zip"
    run("export_workbook", full_product.slug, str(archive))
    target = copy_target(full_product)
    run("import_workbook", "copy", str(archive), "--user", "editor")
    folder = tmp_path / "folder"
    run("export_workbook", "copy", str(folder))
    with zipfile.ZipFile(archive) as z:
        for name in z.namelist():
            assert z.read(name) == (folder / name).read_bytes(), name
    assert target.requirements.count() == full_product.requirements.count()


def test_one_rejection_imports_nothing(product, editor, source):
    text = SOURCE["tests.csv"] + "T.3,Broken,REQ-000125,maybe,2026-03-03\n"
    write_csvs(source, {"tests.csv": text})
    before = db_counts()
    with pytest.raises(workbook.WorkbookRefused) as caught:
        workbook.import_workbook(product=product, source=workbook.read_source(source), by=editor)
    assert db_counts() == before
    assert caught.value.plan.rejections() == [
        ("Tests", 4, "result", "Unknown result 'maybe'; use one of: pass, fail, blocked, not_run.")
    ]


def test_every_dangling_reference_is_reported_with_its_code(product, editor, source):
    write_csvs(source, {
        "controls.csv": "id,title,type,hazard_ids\nRC-1,Alarm,protective measure,HAZ-9; 1.10.3\n",
        "requirements.csv": "id,title,text,parent_id,control_ids\n"
                            "R-1,A,The text.,R-0,RC-1; RC-404\n",
        "tests.csv": "id,title,requirement_ids\nT.1,Test,R-1; R-2\n",
    })  # fmt: skip
    plan = workbook.import_workbook(
        product=product, source=workbook.read_source(source), by=editor, dry_run=True
    )
    assert plan.dangling == [
        ("Controls", 2, "hazard_ids", "HAZ-9"),
        ("Requirements", 2, "control_ids", "RC-404"),
        ("Requirements", 2, "parent_id", "R-0"),
        ("Tests", 2, "requirement_ids", "R-2"),
    ]
    assert all("Dangling reference" in why for *_, why in plan.rejections())


def test_bad_codes_are_refused_by_the_one_code_rule(product, editor, source):
    text = "id,title,type\nRC;1,Alarm,protective measure\nABCDEFGHIJKLMNOPQRSTUV,Long,inherent\n"
    write_csvs(source, {"controls.csv": text})
    plan = workbook.plan_workbook(product, workbook.read_source(source))
    reasons = [why for sheet, _, _, why in plan.rejections() if sheet == "Controls"]
    assert "'RC;1' is not a valid code" in reasons[0]
    assert "has 22 characters; at most 20" in reasons[1]


def test_long_title_is_refused_naming_the_code_never_cut(product, editor, source):
    title = "x" * 226
    write_csvs(source, {"tests.csv": f"id,title\nT.9,{title}\n"})
    plan = workbook.plan_workbook(product, workbook.read_source(source))
    assert plan.rejections()[0][:3] == ("Tests", 2, "title")
    assert "T.9: the title has 226 characters; at most 200" in plan.rejections()[0][3]


def test_mapping_file_with_value_maps(product, editor, tmp_path):
    folder = write_csvs(tmp_path / "src", {"hazards.csv": (
        "Ref,Kind,Name,Sev,Occ 1,Occ 2\n"
        "H1,Electrical,Shock,4,2,2\n"
        "H2,Software,Wrong dose,3,2,1\n"
    )})  # fmt: skip
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"sheets": {"Hazards": {
        "columns": {"code": "Ref", "title": "Name", "severity": "Sev", "p1": "Occ 1",
                    "p2": "Occ 2"},
        "values": {"Kind": {
            "Electrical": {"category": "safety", "hazard_type": "energy"},
            "Software": {"category": "safety", "hazard_type": "performance"},
        }},
    }}}))  # fmt: skip
    out = run("import_workbook", product.slug, str(folder), "--mapping", str(mapping),
              "--user", "editor")  # fmt: skip
    assert "Imported" in out
    assert dict(Hazard.objects.values_list("code", "hazard_type")) == {
        "H1": "energy",
        "H2": "performance",
    }
    # Saved, listed, shown (downloadable) and reused by name.
    run("mappings", product.slug, "save", "legacy", str(mapping), "--user", "editor")
    assert run("mappings", product.slug, "list").startswith("legacy\tHazards")
    shown = json.loads(run("mappings", product.slug, "show", "legacy"))
    assert shown["sheets"]["Hazards"]["values"]["Kind"]["Electrical"]["hazard_type"] == "energy"
    assert mappings.load(product, "legacy") == shown


def test_value_missing_from_a_value_map_rejects_its_row(product, editor, tmp_path):
    folder = write_csvs(tmp_path / "src", {"hazards.csv": "id,title,Kind\nH1,Shock,Thermal\n"})
    doc = {"sheets": {"Hazards": {"values": {"Kind": {"Electrical": {"category": "safety"}}}}}}
    plan = workbook.plan_workbook(product, workbook.read_source(folder), doc)
    assert plan.rejections()[0][:3] == ("Hazards", 2, "Kind")
    assert "'Thermal' is not in the mapping's value map" in plan.rejections()[0][3]


def test_unmapped_columns_are_reported(product, editor, source):
    write_csvs(source, {"tests.csv": "id,title,Owner team\nT.1,Test,QA\n"})
    plan = workbook.plan_workbook(product, workbook.read_source(source))
    assert any("column 'Owner team' is not imported" in n for n in plan.notes)


HAZARDS_TO_REQUIREMENTS = {
    "hazards.csv": "id,category,title,severity,requirement_ids\n"
                   "H-1,safety,Shock,4,SR-1; SR-2\nH-2,safety,Burn,3,SR-2\n",
    "requirements.csv": "id,title,text\nSR-1,Insulate,Insulated.\nSR-2,Limit,Limited.\n",
}  # fmt: skip


def test_hazards_linked_straight_to_requirements_need_the_documented_option(
    product, editor, tmp_path
):
    folder = write_csvs(tmp_path / "src", HAZARDS_TO_REQUIREMENTS)
    plan = workbook.plan_workbook(product, workbook.read_source(folder))
    assert "--implied-controls" in plan.rejections()[0][3]
    out = run("import_workbook", product.slug, str(folder), "--implied-controls",
              "--user", "editor")  # fmt: skip
    assert "create RC-H-1 (implied risk control of H-1)" in out
    control = RiskControl.objects.get(code="RC-H-1")
    assert control.title == "Implied risk control of H-1 (import)"
    assert "Implied by the import" in control.description
    assert set(control.requirement_links.values_list("requirement__code", flat=True)) == {
        "SR-1",
        "SR-2",
    }
    assert set(HazardControl.objects.values_list("hazard__code", "control__code")) == {
        ("H-1", "RC-H-1"),
        ("H-2", "RC-H-2"),
    }
    before = db_counts()
    run("import_workbook", product.slug, str(folder), "--implied-controls", "--user", "editor")
    assert db_counts() == before


def test_p1_p2_of_security_rows_are_reported_as_ignored(product, editor, tmp_path):
    folder = write_csvs(tmp_path / "src", {"hazards.csv": (
        "id,category,title,severity,p1,p2,probability\nS-1,security,Spoof,4,3,2,3\n"
    )})  # fmt: skip
    out = run("import_workbook", product.slug, str(folder), "--dry-run")
    assert "Hazards row 2: ignored — column 'p1': P1 '3' ignored: security risk" in out
    assert "Hazards row 2: ignored — column 'p2': P2 '2' ignored" in out


def test_out_of_scale_value_names_the_policy_and_how_to_change_it(product, editor, tmp_path):
    folder = write_csvs(tmp_path / "src", {"hazards.csv": (
        "id,category,title,severity,probability\nP-1,privacy,Leak,5,2\n"
    )})  # fmt: skip
    plan = workbook.plan_workbook(product, workbook.read_source(folder))
    reason = plan.rejections()[0][3]
    assert "outside the policy's severity scale for privacy (1–4)" in reason
    assert product.risk_policy.name in reason and "Risk policy → Edit" in reason


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"../hazards.csv": "id\n"}, "has a path"),
        ({"dir/hazards.csv": "id\n"}, "has a path"),
        ({f"f{i}.csv": "x" for i in range(25)}, "at most 20"),
        ({"hazards.csv": "id,title\n" + "H-1,x\n" * 200_000}, "compressed implausibly"),
    ],
)
def test_hostile_zip_is_refused(product, entries, message):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    with pytest.raises(UploadError, match=message):
        workbook.read_bytes(out.getvalue(), "x.zip")


def test_refused_import_exits_2_listing_every_rejection(product, editor, source):
    write_csvs(source, {"tests.csv": "id,title,requirement_ids\nT.1,A,NOPE-1\nT.2,B,NOPE-2\n"})
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_workbook", product.slug, str(source), "--user", "editor",
                     stdout=io.StringIO(), stderr=err)  # fmt: skip
    assert caught.value.returncode == 2
    assert "NOPE-1" in err.getvalue() and "NOPE-2" in err.getvalue()
    assert not TestCase.objects.exists()
