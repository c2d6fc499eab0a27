import csv
import io
import os
import tempfile

import openpyxl
import pytest
from django.core.files.uploadedfile import UploadedFile
from django.test import override_settings

from hazards import risk
from hazards import services as hazard_services
from hazards.models import Hazard, HazardControl
from riskbench.models import Status
from tests import factories
from tests.integrations.helpers import db_counts
from traceability.integrations import hazard_table as ht
from traceability.integrations.uploads import UploadError, read_upload
from traceability.models import ControlRequirement

HEADERS = [
    "ID",
    "Hazard",
    "Hazardous Situation",
    "Harm",
    "Sev",
    "P1",
    "P2",
    "Risk Control Measures",
    "Title",
]


def csv_bytes(rows, delimiter=",", headers=HEADERS) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


ROWS = [
    ["HAZ-001", "Excess insulin", "Bolus larger than programmed", "Hypoglycaemia", "4", "3", "3",
     "RC-001", "Over-delivery"],
    ["", "Occlusion", "No insulin delivered", "Hyperglycaemia", "Serious", "2", "4", "",
     "Under-delivery"],
]  # fmt: skip


@pytest.fixture
def control(product):
    return factories.RiskControlFactory(product=product, code="RC-001")


def do_import(product, editor, data, *, mapping=None, dry_run=False):
    table = ht.read_table(data)
    mapping = mapping if mapping is not None else ht.suggest_mapping(table.headers)
    return ht.import_hazards(
        product=product, table=table, mapping=mapping, by=editor, reason="Import test",
        dry_run=dry_run,
    )  # fmt: skip


# --- Mapping ------------------------------------------------------------------------------------


def test_mapping_is_suggested_from_synonyms():
    mapping = ht.suggest_mapping(HEADERS + ["Residual Sev", "Status", "Unrelated notes"])
    assert mapping == {
        "code": "ID",
        "hazard": "Hazard",
        "hazardous_situation": "Hazardous Situation",
        "harm": "Harm",
        "severity": "Sev",
        "p1": "P1",
        "p2": "P2",
        "controls": "Risk Control Measures",
        "title": "Title",
        "residual_severity": "Residual Sev",
    }


def test_second_severity_column_is_taken_as_residual():
    table = ht.read_table(csv_bytes([["x", "4", "2"]], headers=["Title", "Severity", "Severity"]))
    assert table.headers == ["Title", "Severity", "Severity (2)"]
    mapping = ht.suggest_mapping(table.headers)
    assert mapping["severity"] == "Severity"
    assert mapping["residual_severity"] == "Severity (2)"


def test_mapping_naming_a_missing_column_is_refused():
    table = ht.read_table(csv_bytes(ROWS))
    with pytest.raises(UploadError, match="no such column"):
        ht.check_mapping({"severity": "Severity"}, table.headers)


def test_one_column_mapped_twice_is_refused():
    table = ht.read_table(csv_bytes(ROWS))
    with pytest.raises(UploadError, match="mapped to both"):
        ht.check_mapping({"severity": "Sev", "residual_severity": "Sev"}, table.headers)


# --- Import -------------------------------------------------------------------------------------


def test_dry_run_previews_without_writing(product, editor, control):
    before = db_counts()
    plan = do_import(product, editor, csv_bytes(ROWS), dry_run=True)
    assert [(r.row, r.action) for r in plan.rows] == [(2, "create"), (3, "create")]
    assert not plan.written
    assert db_counts() == before


def test_import_creates_rows_links_and_history(product, editor, control):
    plan = do_import(product, editor, csv_bytes(ROWS))
    assert plan.written and plan.created == 2
    first = Hazard.objects.get(product=product, code="HAZ-001")
    policy = product.risk_policy.data
    expected = risk.estimate(policy, "safety", 4, p1=3, p2=3)
    assert (first.severity, first.p1, first.p2) == (4, 3, 3)
    assert first.probability == expected.probability == risk.probability_of_harm(policy, 3, 3)
    assert first.initial_acceptability == expected.acceptability
    second = Hazard.objects.get(product=product, code="HAZ-002")  # code drawn for the blank ID
    assert second.severity == 3  # "Serious" read from the policy's scale
    link = HazardControl.objects.get(hazard=first, control=control)
    assert link.created_by == editor and not link.is_suspect
    for record in (first, second, link):
        history = record.history.get()
        assert history.history_user == editor
        assert history.history_change_reason.endswith("Import test")


def test_reimporting_the_same_file_writes_nothing(product, editor, control):
    data = csv_bytes([ROWS[0], ["HAZ-002", *ROWS[1][1:]]])
    do_import(product, editor, data)
    before = db_counts()
    plan = do_import(product, editor, data)
    assert plan.unchanged == 2 and plan.created == plan.updated == 0
    assert db_counts() == before  # no history row either: history tables are counted


def test_update_by_code_bumps_version_and_reopens_approved_row(product, editor, control):
    do_import(product, editor, csv_bytes(ROWS))
    hazard = Hazard.objects.get(code="HAZ-001")
    hazard.status = Status.APPROVED
    hazard.save()
    rows = [ROWS[0][:4] + ["5"] + ROWS[0][5:]]
    plan = do_import(product, editor, csv_bytes(rows))
    assert plan.updated == 1 and plan.rows[0].changes[0] == "Severity"
    hazard.refresh_from_db()
    assert (hazard.severity, hazard.version, hazard.status, hazard.revision) == (
        5,
        2,
        Status.IN_REVIEW,
        2,
    )
    latest = hazard.history.first()
    assert latest.severity == 5 and latest.history_user == editor
    assert latest.history_type == "~"
    # The link made at version 1 is now suspect (IEC 62304 7.4: the hazard changed).
    assert HazardControl.objects.get(hazard=hazard).is_suspect


def test_requirements_are_linked_to_the_rows_control(product, editor, control):
    factories.RequirementFactory(product=product, code="SRS-001")
    headers = ["ID", "Title", "Risk controls", "Requirements"]
    do_import(product, editor, csv_bytes([["HAZ-001", "t", "RC-001", "SRS-001"]], headers=headers))
    link = ControlRequirement.objects.get()
    assert (link.control.code, link.requirement.code) == ("RC-001", "SRS-001")


def test_import_is_all_or_nothing(product, editor, control):
    rows = ROWS + [["HAZ-003", "x", "y", "z", "9", "1", "1", "", "Bad severity"]]
    before = db_counts()
    with pytest.raises(ht.ImportRefused) as exc:
        do_import(product, editor, csv_bytes(rows))
    assert exc.value.plan.created == 2 and exc.value.plan.rejected == 1
    assert db_counts() == before


def test_import_into_other_product_sees_only_its_own_controls(product, other_product, editor):
    factories.RiskControlFactory(product=other_product, code="RC-001")
    with pytest.raises(ht.ImportRefused, match="Unknown control RC-001"):
        do_import(product, editor, csv_bytes(ROWS))


# --- Hostile input: a clear message and an unchanged database -----------------------------------

BAD_INPUTS = [
    ("wrong type (PDF)", b"%PDF-1.4 binary", None, "PDF document"),
    ("wrong type (legacy xls)", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, None, "legacy"),
    ("wrong type (XML)", b"<testsuites/>", None, "CSV or XLSX"),
    ("empty file", b"", None, "empty"),
    ("only blank lines", b"\n\n  \n", None, "empty"),
    ("header only", b"ID,Title,Sev\n", None, "no data rows"),
    ("invalid UTF-8", b"ID,Title\nHAZ-001,ok\nHAZ-002,caf\xe9\n", None, "row 3.*UTF-8"),
]


@pytest.mark.parametrize(("label", "data", "mapping", "message"), BAD_INPUTS)
def test_unreadable_files_are_refused(product, editor, label, data, mapping, message):
    before = db_counts()
    with pytest.raises(UploadError, match=message):
        do_import(product, editor, data, mapping=mapping)
    assert db_counts() == before


REJECTED_ROWS = [
    (
        "duplicate codes",
        ["ID", "Title"],
        [["HAZ-001", "a"], ["HAZ-001", "b"]],
        (3, "ID", "Duplicate code HAZ-001 (also on row 2)"),
    ),
    (
        "severity outside the policy",
        ["ID", "Title", "Severity"],
        [["HAZ-001", "a", "7"]],
        (2, "Severity", "7 is outside the policy's severity scale for safety (1–5)"),
    ),
    (
        "severity name not on the scale",
        ["ID", "Title", "Severity"],
        [["HAZ-001", "a", "Deadly"]],
        (2, "Severity", "'Deadly' is not a level of the policy's scale"),
    ),
    (
        "unknown category",
        ["ID", "Title", "Category"],
        [["HAZ-001", "a", "Financial"]],
        (2, "Category", "Unknown category 'Financial'"),
    ),
    (
        "malformed CVSS vector",
        ["ID", "Title", "Category", "Severity", "CVSS"],
        [["HAZ-001", "a", "security", "3", "CVSS:3.1/AV:X/AC:L"]],
        (2, "CVSS", "Malformed CVSS vector"),
    ),
    (
        "CVSS vector that is not v3",
        ["ID", "Title", "Category", "Severity", "CVSS"],
        [["HAZ-001", "a", "security", "3", "AV:N/AC:L/Au:N/C:P/I:P/A:P"]],
        (2, "CVSS", "CVSS v3.1 vector"),
    ),
    (
        "unknown control reference",
        ["ID", "Title", "Controls"],
        [["HAZ-001", "a", "RC-404"]],
        (2, "Controls", "Unknown control RC-404"),
    ),
    (
        "free text where control codes are expected",
        ["ID", "Title", "Controls"],
        [["HAZ-001", "a", "Alarm on occlusion"]],
        (2, "Controls", "is not a control code"),
    ),
    (
        "unknown requirement reference",
        ["ID", "Title", "Controls", "Requirements"],
        [["HAZ-001", "a", "RC-001", "SRS-404"]],
        (2, "Requirements", "Unknown requirement SRS-404"),
    ),
    (
        "P1 without P2",
        ["ID", "Title", "Sev", "P1"],
        [["HAZ-001", "a", "3", "2"]],
        (2, "P2", "Enter both P1 and P2"),
    ),
    (
        "owner who is not a member",
        ["ID", "Title", "Owner"],
        [["HAZ-001", "a", "mallory"]],
        (2, "Owner", "'mallory' is not a member"),
    ),
    (
        "blank title",
        ["ID", "Title"],
        [["HAZ-001", ""]],
        (2, "Title", "A title is required"),
    ),
    ("title too long", ["ID", "Title"], [["HAZ-001", "x" * 201]], (2, "Title", "At most 200")),
]


@pytest.mark.parametrize(("label", "headers", "rows", "expected"), REJECTED_ROWS)
def test_bad_rows_are_rejected_with_row_column_and_reason(
    product, editor, control, label, headers, rows, expected
):
    before = db_counts()
    data = csv_bytes(rows, headers=headers)
    plan = do_import(product, editor, data, dry_run=True)
    assert plan.rejected >= 1
    row, column, reason = plan.rejections[0]
    assert (row, column) == expected[:2]
    assert expected[2] in reason
    with pytest.raises(ht.ImportRefused):
        do_import(product, editor, data)
    assert db_counts() == before


def test_formula_cells_are_refused_never_evaluated(product, editor):
    data = xlsx_bytes([["HAZ-001", "=1+2", "s", "h", "=2*2", "", "", "", "Formula row"]])
    before = db_counts()
    plan = do_import(product, editor, data, dry_run=True)
    assert plan.rejections == [
        (2, "Hazard", "Formula cells are not evaluated; paste the value instead."),
        (2, "Sev", "Formula cells are not evaluated; paste the value instead."),
    ]
    with pytest.raises(ht.ImportRefused):
        do_import(product, editor, data)
    assert db_counts() == before


def test_formula_text_in_csv_stays_text(product, editor):
    data = csv_bytes([["HAZ-001", '=HYPERLINK("http://x")', "", "", "", "", "", "", "t"]])
    do_import(product, editor, data)
    assert Hazard.objects.get().hazard == '=HYPERLINK("http://x")'


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_delimiter_is_sniffed(product, editor, control, delimiter):
    plan = do_import(product, editor, csv_bytes(ROWS, delimiter=delimiter))
    assert plan.created == 2
    assert Hazard.objects.get(code="HAZ-001").harm == "Hypoglycaemia"


class UnreadableUpload(UploadedFile):
    def read(self, *args):
        pytest.fail("the file was read before its size was checked")


def test_hundred_megabyte_upload_is_refused_by_size_before_reading(product, editor):
    # A sparse file: 100 MB on paper, no memory or disk actually used.
    with tempfile.NamedTemporaryFile() as handle:
        handle.truncate(100 * 1024 * 1024)
        upload = UnreadableUpload(file=open(handle.name, "rb"), name="huge.csv")  # noqa: SIM115
        upload.size = os.path.getsize(handle.name)
        before = db_counts()
        with pytest.raises(UploadError, match=r"100\.0 MB; the limit is"):
            read_upload(upload)
        upload.file.close()
    assert db_counts() == before


@override_settings(RISKBENCH_MAX_UPLOAD_BYTES=50)
def test_size_limit_applies_to_bytes_too(product, editor):
    with pytest.raises(UploadError, match="limit"):
        do_import(product, editor, csv_bytes(ROWS))


def test_xlsx_import_reads_numbers_and_names(product, editor, control):
    rows = [[*r[:4], int(r[4]) if r[4].isdigit() else r[4], *r[5:]] for r in ROWS]
    plan = do_import(product, editor, xlsx_bytes(rows))
    assert plan.created == 2
    assert Hazard.objects.get(code="HAZ-001").severity == 4


# --- Export and round trips --------------------------------------------------------------------


@pytest.fixture
def rich_log(product, editor):
    """A log with every kind of row, written through the services."""
    control = hazard_services.control_create(
        product=product, by=editor, title="Occlusion alarm", option="protective_measure"
    )
    other = hazard_services.control_create(
        product=product, by=editor, title="=cmd|' /C calc'!A0", option="inherent_safety"
    )
    req = factories.RequirementFactory(product=product, code="SRS-001")
    req2 = factories.RequirementFactory(product=product, code="SRS-002")
    safety = hazard_services.hazard_create(
        product=product, by=editor, category="safety", title="Over-delivery",
        hazard="Excess insulin", sequence_of_events="Occlusion released",
        hazardous_situation="Large bolus", harm="Hypoglycaemia", severity=4, p1=3, p2=3,
        residual_severity=4, residual_p1=1, residual_p2=2, hazard_type="energy", owner=editor,
        benefit_risk_justification="-5 % risk; see RMR", benefit_risk_region="investigate",
        further_control_not_practicable="A lower rate limit would stop therapy.",
        benefit_risk_benefits="Glycaemic control.",
        severity_reduction_rationale="None claimed: severity unchanged.",
    )  # fmt: skip
    security = hazard_services.hazard_create(
        product=product, by=editor, category="security", title="Spoofed bolus command",
        asset="Bolus API", threat="spoofing", vulnerability="No message authentication",
        cvss_vector="CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", severity=4,
        residual_cvss_vector="CVSS:3.1/AV:A/AC:H/PR:H/UI:R/S:U/C:N/I:H/A:H", residual_severity=4,
        residual_cvss_rationale="Pairing needs the pump in hand: PR:H, UI:R.",
    )  # fmt: skip
    privacy = hazard_services.hazard_create(
        product=product, by=editor, category="privacy", title="Glucose history leak",
        data_elements=["names", "dates", "device_ids"], linddun_category="data_disclosure",
        severity=3, probability=2, harm="@attacker learns diagnosis", asset="Glucose history",
    )  # fmt: skip
    for hazard, ctrl in ((safety, control), (safety, other), (security, other)):
        hazard_services.hazard_control_link(hazard=hazard, control=ctrl, by=editor)
    for ctrl, requirement in ((control, req), (other, req2)):
        ControlRequirement.objects.create(control=ctrl, requirement=requirement)
    return [safety, security, privacy]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_reimports_into_a_fresh_product_without_loss(
    product, editor, rich_log, fmt, other_product
):
    exported = ht.export_hazards(product, fmt)
    # A fresh product with the same controls, requirements and members.
    fresh = factories.ProductFactory(slug="fresh")
    factories.MembershipFactory(product=fresh, user=editor)
    for control in product.controls.all():
        factories.RiskControlFactory(
            product=fresh, code=control.code, title=control.title, option=control.option
        )
    for requirement in product.requirements.all():
        factories.RequirementFactory(product=fresh, code=requirement.code)
    for link in ControlRequirement.objects.filter(control__product=product):
        ControlRequirement.objects.create(
            control=fresh.controls.get(code=link.control.code),
            requirement=fresh.requirements.get(code=link.requirement.code),
        )

    plan = do_import(fresh, editor, exported)
    assert plan.created == 3, plan.rejections

    assert ht.export_rows(fresh) == ht.export_rows(product)
    assert ht.export_hazards(fresh, "csv") == ht.export_hazards(product, "csv")


def test_reimporting_an_export_into_its_own_product_changes_nothing(product, editor, rich_log):
    before = db_counts()
    for fmt in ("csv", "xlsx"):
        plan = do_import(product, editor, ht.export_hazards(product, fmt))
        assert plan.unchanged == 3, [(r.row, r.changes, r.errors) for r in plan.rows]
    assert db_counts() == before


def test_csv_export_escapes_formula_starts(product, editor, rich_log):
    text = ht.export_hazards(product, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows for c in row]
    assert "'@attacker learns diagnosis" in cells
    assert "'-5 % risk; see RMR" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)


def test_xlsx_export_has_no_formula_cells(product, editor, rich_log):
    workbook = openpyxl.load_workbook(io.BytesIO(ht.export_hazards(product, "xlsx")))
    types = {cell.data_type for row in workbook.active.iter_rows() for cell in row}
    assert "f" not in types


def test_export_query_count_does_not_grow_with_rows(product, editor, count_queries):
    factories.HazardFactory(product=product)
    with count_queries() as small:
        ht.export_rows(product)
    for _ in range(20):
        link = factories.HazardControlFactory(hazard__product=product)
        ControlRequirement.objects.create(
            control=link.control, requirement=factories.RequirementFactory(product=product)
        )
    with count_queries() as large:
        _, rows = ht.export_rows(product)
    # hazards with owner (1) + hazard→control codes (1) + control→requirement codes (1)
    assert small.count == large.count == 3, large.dump()
    assert len(rows) == 21


def test_plan_query_count_does_not_grow_with_rows(product, editor, control, count_queries):
    def plan_for(n):
        rows = [[f"HAZ-{i:03d}", "h", "s", "x", "3", "2", "2", "RC-001", f"t{i}"] for i in range(n)]
        table = ht.read_table(csv_bytes(rows))
        with count_queries() as q:
            ht.plan_import(product, table, ht.suggest_mapping(table.headers))
        return q

    # hazards (1) + controls (1) + requirements (1) + hazard-control links (1)
    # + control-requirement links (1) + members (1)
    assert plan_for(2).count == plan_for(50).count == 6


def test_traceability_matrix_export(product, editor, rich_log):
    text = ht.export_matrix(product, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Hazard", "Hazard title", "Category"]
    assert {r[0] for r in rows[1:]} == {h.code for h in rich_log}
    workbook = openpyxl.load_workbook(io.BytesIO(ht.export_matrix(product, "xlsx")))
    assert workbook.active.title == "Traceability matrix"


def test_codes_of_deleted_hazards_are_not_reused(product, editor):
    hazard = hazard_services.hazard_create(
        product=product, by=editor, title="Old", code="HAZ-007", category="safety"
    )
    hazard_services.hazard_delete(
        hazard=hazard, by=editor, reason="Duplicate", expected_version=hazard.version
    )
    do_import(product, editor, csv_bytes([["x"]], headers=["Title"]))
    assert Hazard.objects.get().code == "HAZ-008"


def test_future_suite_timestamp_is_refused(product, editor):
    from traceability.integrations.junit import import_junit

    factories.TestCaseFactory(product=product, code="TC-001")
    data = b'<testsuite timestamp="2999-01-01T00:00:00"><testcase name="TC-001"/></testsuite>'
    with pytest.raises(UploadError, match="future"):
        import_junit(product=product, data=data, filename="x.xml", by=editor)


def test_p1_p2_of_a_security_row_are_reported_as_ignored_in_the_dry_run(product, editor):
    data = csv_bytes(
        [["HAZ-001", "security", "Spoofed bolus", "4", "3", "2", "3"]],
        headers=["Code", "Category", "Title", "Severity", "P1", "P2", "Probability"],
    )
    plan = do_import(product, editor, data, dry_run=True)
    assert plan.ok
    assert plan.ignored == [
        (2, "P1", "P1 '3' ignored: security risk is estimated from exploitability (CVSS or a "
                  "level), not P1 × P2 (AAMI TIR57)."),
        (2, "P2", "P2 '2' ignored: security risk is estimated from exploitability (CVSS or a "
                  "level), not P1 × P2 (AAMI TIR57)."),
    ]  # fmt: skip
