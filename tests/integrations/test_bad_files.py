"""Damaged and hostile files (issue 9 §4): a truncated CSV is a bad row, never a silent blank; an
empty cell in an update keeps the stored value unless it says `<blank>`; NUL characters and
100,000-deep JSON are refused with a message before anything is written."""

import io
import json
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hazards import services as hazard_services
from hazards.models import Hazard
from tests import factories
from tests.cli import run_command
from tests.integrations.helpers import JUNIT_PASS_FAIL, db_counts
from traceability.integrations import hazard_table as ht
from traceability.integrations import product_json
from traceability.integrations.junit import import_junit
from traceability.integrations.sbom import import_sbom
from traceability.integrations.uploads import UploadError

# The fields of the hazard a cut file used to blank (issue 9: "blanked 12 fields").
RICH = dict(
    category="safety", title="Over-delivery", hazard_type="energy", hazard="Excess insulin",
    sequence_of_events="Occlusion released", hazardous_situation="Large bolus",
    harm="Hypoglycaemia", severity=4, p1=3, p2=3, residual_severity=4, residual_p1=1,
    residual_p2=2, benefit_risk_justification="Benefit outweighs, see RMR",
)  # fmt: skip


@pytest.fixture
def rich_hazards(product, editor):
    first = hazard_services.hazard_create(product=product, by=editor, owner=editor, **RICH)
    last = hazard_services.hazard_create(
        product=product, by=editor, owner=editor, **{**RICH, "title": "Under-delivery"}
    )
    return first, last


def stored(hazard) -> dict:
    hazard.refresh_from_db()
    return {name: getattr(hazard, name) for name in RICH} | {"version": hazard.version}


def plan_for(product, data, *, dry_run=True, by=None):
    table = ht.read_table(data)
    return ht.import_hazards(
        product=product, table=table, mapping=ht.suggest_mapping(table.headers), by=by,
        reason="Import test", dry_run=dry_run,
    )  # fmt: skip


def edited_export(product, edit) -> bytes:
    """The product's CSV export with `edit(rows)` applied to its rows (lists of cells)."""
    headers, rows = ht.export_rows(product)
    edit(headers, rows)
    return ht.write_csv(headers, rows)


# --- Truncated CSV ------------------------------------------------------------------------------


def test_a_csv_cut_mid_row_is_a_rejected_row_not_a_blanked_hazard(product, editor, rich_hazards):
    """The reproduction: the export cut just after the last row's title. Before the fix the
    plan read "1 to update, 0 rejected" and blanked the hazard's other fields."""
    _, last = rich_hazards
    exported = ht.export_hazards(product, "csv")
    cut = exported[: exported.index(b"Under-delivery") + len(b"Under-delivery")]
    before, counts = stored(last), db_counts()

    plan = plan_for(product, cut)
    assert (plan.updated, plan.rejected) == (0, 1)
    row, column, reason = plan.rejections[0]
    assert row == 3 and column == "Hazard type"
    assert "3 cell(s) but the header has" in reason and "cut short" in reason
    with pytest.raises(ht.ImportRefused, match="row 3"):
        plan_for(product, cut, dry_run=False, by=editor)
    assert stored(last) == before
    assert db_counts() == counts  # no row, no history row


def test_a_csv_cut_inside_a_quoted_cell_names_the_row(product, editor, rich_hazards):
    exported = ht.export_hazards(product, "csv")
    cut = exported[: exported.rindex(b"Benefit outweighs, see RMR") + 9]  # '…,"Benefit o'
    assert cut.count(b'"') % 2 == 1, "the cut must leave a quote open"
    counts = db_counts()
    with pytest.raises(UploadError, match=r"row 3: .*unterminated quote"):
        plan_for(product, cut, dry_run=False, by=editor)
    assert db_counts() == counts


def test_a_cell_with_text_after_its_closing_quote_is_a_bad_row(product):
    data = b'Code,Title\nHAZ-001,"Over" delivery\n'
    with pytest.raises(UploadError, match=r"row 2: The CSV row is malformed"):
        plan_for(product, data)


def test_a_row_with_more_cells_than_the_header_is_rejected(product):
    data = b"Code,Title,Harm\nHAZ-001,Over-delivery,Hypo, glycaemia\n"
    plan = plan_for(product, data)
    assert plan.rejections[0][:2] == (2, "Harm")
    assert "' glycaemia' has no column" in plan.rejections[0][2]


# --- Empty cells keep, <blank> clears -----------------------------------------------------------


def test_an_empty_cell_in_an_update_keeps_the_stored_value(product, editor, rich_hazards):
    first, _ = rich_hazards

    def empty_most_cells(headers, rows):
        keep = {"Code", "Title"}
        rows[0][:] = [c if h in keep else "" for h, c in zip(headers, rows[0], strict=True)]

    data = edited_export(product, empty_most_cells)
    before, counts = stored(first), db_counts()
    plan = plan_for(product, data, dry_run=False, by=editor)
    assert (plan.updated, plan.unchanged, plan.rejected) == (0, 2, 0)
    assert stored(first) == before
    assert db_counts() == counts


def test_blank_marker_clears_a_value_and_the_plan_says_so(product, editor, rich_hazards):
    first, _ = rich_hazards

    def blank_harm_and_owner(headers, rows):
        rows[0][headers.index("Harm")] = "<blank>"
        rows[0][headers.index("Owner")] = "<BLANK>"
        rows[0][headers.index("Hazard")] = ""  # stays

    data = edited_export(product, blank_harm_and_owner)
    plan = plan_for(product, data)
    assert plan.updated == 1
    assert plan.rows[0].changes == ["Harm → <blank>", "Owner → <blank>"]
    plan_for(product, data, dry_run=False, by=editor)
    first.refresh_from_db()
    assert (first.harm, first.owner, first.hazard) == ("", None, "Excess insulin")
    assert first.history.first().history_user == editor


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("Title", "A title is required"),
        ("Code", "A code cannot be <blank>"),
        ("P1", "Enter both P1 and P2"),  # the policy still checks what a blank leaves
    ],
)
def test_blank_marker_cannot_clear_what_a_hazard_needs(
    product, editor, rich_hazards, column, message
):
    data = edited_export(product, lambda h, rows: rows[0].__setitem__(h.index(column), "<blank>"))
    plan = plan_for(product, data)
    assert plan.rejected == 1
    assert message in plan.rejections[0][2]


def test_the_dry_run_command_shows_what_blank_clears(product, editor, rich_hazards, tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(
        edited_export(product, lambda h, rows: rows[0].__setitem__(h.index("Harm"), "<blank>"))
    )
    result = run_command(
        "import_hazards", product.slug, str(path), "--dry-run", "--user", editor.username
    )
    assert result.code == 0, result.err
    assert "update HAZ-001 (Harm → <blank>)" in result.out
    assert Hazard.objects.get(code="HAZ-001").harm == "Hypoglycaemia"


def test_the_preview_page_shows_what_blank_clears(editor_client, product, rich_hazards):
    data = edited_export(product, lambda h, rows: rows[0].__setitem__(h.index("Harm"), "<blank>"))
    response = editor_client.post(
        reverse("integrations:hazards_import", args=[product.slug]),
        {"file": SimpleUploadedFile("log.csv", data)},
    )
    preview = editor_client.get(response.url)
    assert "Harm → &lt;blank&gt;" in preview.content.decode()


# --- NUL characters -----------------------------------------------------------------------------


def test_a_nul_in_a_csv_is_refused_naming_its_row(product, editor):
    rows = [f"HAZ-{n:03d},Hazard {n}" for n in range(1, 400)]  # past the 4 KB type sniff
    rows[300] = "HAZ-301,Over\x00dose"
    data = ("Code,Title\n" + "\n".join(rows) + "\n").encode()
    assert data.index(b"\x00") > 4096
    counts = db_counts()
    with pytest.raises(UploadError, match=r"row 302: The file contains a NUL character"):
        plan_for(product, data, dry_run=False, by=editor)
    early = b"Code,Title\nHAZ-001,Over\x00dose\n"
    with pytest.raises(UploadError, match=r"row 2: This is a binary file \(it holds a NUL byte"):
        plan_for(product, early, dry_run=False, by=editor)
    assert db_counts() == counts


def _xlsx_with_cell_xml(text: str) -> bytes:
    """A workbook whose only data cell holds `text` written straight into its XML."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["Code", "Title"])
    workbook.active.append(["HAZ-001", "PLACEHOLDER"])
    original = io.BytesIO()
    workbook.save(original)
    patched = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(original.getvalue())) as source,
        zipfile.ZipFile(patched, "w") as target,
    ):
        for item in source.infolist():
            content = source.read(item.filename).replace(b"PLACEHOLDER", text.encode())
            target.writestr(item, content)
    return patched.getvalue()


@pytest.mark.parametrize("cell", ["Over&#0;dose", "Over\x00dose"])
def test_a_nul_in_an_xlsx_cell_is_refused(product, editor, cell):
    counts = db_counts()
    with pytest.raises(UploadError, match="workbook cannot be read"):
        plan_for(product, _xlsx_with_cell_xml(cell), dry_run=False, by=editor)
    assert db_counts() == counts


def test_an_escaped_nul_in_an_xlsx_cell_stays_text(product, editor):
    """openpyxl keeps `_x0000_` as written (it unescapes only headers and table names)."""
    plan = plan_for(product, _xlsx_with_cell_xml("Over_x0000_dose"), dry_run=False, by=editor)
    assert plan.created == 1
    assert Hazard.objects.get().title == "Over_x0000_dose"


SBOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "components": [{"type": "library", "name": "zlib", "version": "1.3"}],
}


def test_a_nul_in_an_sbom_string_is_refused_naming_where(product, editor):
    document = json.loads(json.dumps(SBOM))
    document["components"][0]["name"] = "zl\x00ib"
    counts = db_counts()
    with pytest.raises(UploadError, match=r"\$\.components\[0\]\.name contains a NUL"):
        import_sbom(product=product, data=json.dumps(document).encode(), filename="b", by=editor)
    assert db_counts() == counts


def test_a_nul_in_a_product_export_is_refused_naming_where(product, admin_user):
    factories.HazardFactory(product=product, title="Over-delivery")
    document = product_json.export_product(product)
    document["hazards"][0]["title"] = "Over\x00delivery"
    counts = db_counts()
    with pytest.raises(UploadError, match=r"\$\.hazards\[0\]\.title contains a NUL"):
        product_json.import_product(
            data=product_json.dumps(document), by=admin_user, slug="copy"
        )  # importing creates a product: administrators only
    assert db_counts() == counts


@pytest.mark.parametrize("nul", [b"&#0;", b"\x00"])
def test_a_nul_in_junit_xml_is_refused(product, editor, nul):
    factories.TestCaseFactory(product=product, code="TC-001")
    data = JUNIT_PASS_FAIL.replace(b'name="pump"', b'name="pu' + nul + b'mp"')
    counts = db_counts()
    with pytest.raises(UploadError, match="not well-formed|NUL"):
        import_junit(product=product, data=data, filename="ci.xml", by=editor)
    assert db_counts() == counts


# --- 100,000-deep JSON --------------------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_a_100000_deep_sbom_is_refused_with_a_message(product, editor):
    data = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": ' + DEEP + b"}"
    with pytest.raises(UploadError, match="nested 100001 levels deep; at most 64"):
        import_sbom(product=product, data=data, filename="deep.json", by=editor)


def test_a_100000_deep_product_export_is_refused_with_a_message(admin_user):
    data = b'{"format": "riskbench-product", "hazards": ' + DEEP + b"}"
    with pytest.raises(UploadError, match="nested 100001 levels deep"):
        product_json.import_product(data=data, by=admin_user, slug="deep")


def test_a_100000_deep_sbom_upload_page_answers_with_a_message(editor_client, product):
    data = b'{"bomFormat": "CycloneDX", "components": ' + DEEP + b"}"
    editor_client.raise_request_exception = False
    response = editor_client.post(
        reverse("integrations:sbom_import", args=[product.slug]),
        {"file": SimpleUploadedFile("deep.json", data)},
        follow=True,
    )
    assert response.status_code == 200
    assert "nested 100001 levels deep" in response.content.decode()


def test_a_100000_deep_junit_xml_is_refused(product, editor):
    data = b"<testsuites>" + b"<testsuite>" * 100_000 + b"</testsuite>" * 100_000 + b"</testsuites>"
    with pytest.raises(UploadError, match="XML"):
        import_junit(product=product, data=data, filename="deep.xml", by=editor)
