import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hazards.models import Hazard, Product
from tests import factories
from tests.integrations.helpers import JUNIT_PASS_FAIL, db_counts
from traceability.integrations.models import ImportMapping
from traceability.models import Requirement, SoftwareItem, TestRun


@pytest.fixture(autouse=True)
def acting_user(editor, monkeypatch):
    monkeypatch.setenv("RISKBENCH_USER", "editor")


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("ID;Title;Sev;Prob\nHAZ-001;Over-delivery;4;2\n", encoding="utf-8")
    return path


def test_import_hazards_dry_run_then_import(product, editor, csv_file):
    out = run("import_hazards", product.slug, str(csv_file), "--dry-run")
    assert "row 2: create HAZ-001" in out and "Nothing was written" in out
    assert not Hazard.objects.exists()
    out = run("import_hazards", str(product.pk), str(csv_file), "--user", "editor")
    assert "Imported: 1 to create" in out
    hazard = Hazard.objects.get()
    assert (hazard.severity, hazard.probability) == (4, 2)
    assert hazard.history.get().history_user == editor


def test_import_hazards_with_saved_mapping(product, editor, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("Ref,Thing,Badness\nH-1,Leak,3\n", encoding="utf-8")
    ImportMapping.objects.create(
        product=product, name="supplier", columns={"code": "Ref", "title": "Thing",
                                                   "severity": "Badness"}
    )  # fmt: skip
    run("import_hazards", product.slug, str(path), "--mapping", "supplier")
    assert Hazard.objects.get().code == "H-1"
    with pytest.raises(CommandError, match="No saved mapping 'nope'"):
        run("import_hazards", product.slug, str(path), "--mapping", "nope")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ID,Title,Sev\nHAZ-001,x,9\n", "rejected"),
        ("ID,Title\n", "no data rows"),
        ("", "empty"),
    ],
)
def test_import_hazards_bad_file_exits_non_zero(product, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    before = db_counts()
    with pytest.raises(CommandError, match=message):
        run("import_hazards", product.slug, str(path))
    assert db_counts() == before


def test_unknown_product_and_missing_file(product, tmp_path):
    with pytest.raises(CommandError, match="No product with id or slug 'nope'"):
        run("export_hazards", "nope", "-o", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_junit", product.slug, str(tmp_path / "missing.xml"))
    with pytest.raises(CommandError, match=r"\.csv or \.xlsx"):
        run("export_hazards", product.slug, "-o", str(tmp_path / "x.pdf"))


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_hazards_by_extension(product, editor, tmp_path, suffix):
    factories.HazardFactory(product=product, code="HAZ-001")
    path = tmp_path / f"log.{suffix}"
    run("export_hazards", product.slug, "-o", str(path))
    data = path.read_bytes()
    assert data.startswith(b"PK" if suffix == "xlsx" else b"\xef\xbb\xbfCode,")
    run("export_hazards", product.slug, "-o", str(tmp_path / f"m.{suffix}"), "--matrix")


def test_import_junit_command(product, tmp_path):
    factories.TestCaseFactory(product=product, code="TC-001")
    path = tmp_path / "ci.xml"
    path.write_bytes(JUNIT_PASS_FAIL)
    out = run("import_junit", product.slug, str(path))
    assert "TC-001: Pass" in out and "2 unmatched" in out
    assert TestRun.objects.count() == 1
    with pytest.raises(CommandError, match="imported before"):
        run("import_junit", product.slug, str(path))


def test_import_sbom_command(product, tmp_path):
    path = tmp_path / "bom.json"
    path.write_text(json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [{"type": "library", "name": "zlib", "version": "1.3",
                        "purl": "pkg:generic/zlib@1.3"}],
    }), encoding="utf-8")  # fmt: skip
    out = run("import_sbom", product.slug, str(path), "--dry-run")
    assert "added: zlib 1.3" in out and not SoftwareItem.objects.exists()
    run("import_sbom", product.slug, str(path))
    assert SoftwareItem.objects.get().soup_version == "1.3"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError, match="not a CycloneDX SBOM"):
        run("import_sbom", product.slug, str(path))


def test_reqif_commands_round_trip(full_product, tmp_path):
    path = tmp_path / "rm.reqif"
    run("export_reqif", full_product.slug, "-o", str(path))
    fresh = factories.ProductFactory(slug="fresh")
    out = run("import_reqif", "fresh", str(path))
    assert "3 requirement(s) created" in out
    assert Requirement.objects.filter(product=fresh).count() == 3
    path.write_bytes(b"<nope/>")
    with pytest.raises(CommandError, match="root must be <REQ-IF>"):
        run("import_reqif", "fresh", str(path))


def test_product_commands_round_trip(full_product, tmp_path, admin_user):
    path = tmp_path / "product.json"
    run("export_product", full_product.slug, "-o", str(path))
    as_admin = ("--user", admin_user.username)
    with pytest.raises(CommandError, match="exists already"):
        run("import_product", str(path), *as_admin)
    out = run("import_product", str(path), "--slug", "copy", "--name", "Copy", *as_admin)
    assert "Imported copy" in out
    assert "members: not imported" in out
    copy = Product.objects.get(slug="copy")
    assert copy.name == "Copy"
    assert copy.risk_policy.template is None and copy.risk_policy.status == "draft"
    template = factories.default_policy()
    run("import_product", str(path), "--slug", "copy2", "--policy", template.name, *as_admin)
    assert Product.objects.get(slug="copy2").risk_policy.template == template


def test_import_product_is_refused_to_a_quality_engineer(full_product, tmp_path, editor):
    path = tmp_path / "product.json"
    run("export_product", full_product.slug, "-o", str(path))
    before = db_counts()
    with pytest.raises(CommandError, match="Only administrators"):
        run("import_product", str(path), "--slug", "copy")  # RISKBENCH_USER=editor
    with pytest.raises(CommandError, match="No risk policy template 'Nope'"):
        run("import_product", str(path), "--slug", "copy", "--policy", "Nope")
    assert db_counts() == before


def test_a_change_needs_an_author(product, csv_file, monkeypatch):
    monkeypatch.delenv("RISKBENCH_USER")
    with pytest.raises(CommandError, match="--user USERNAME"):
        call_command("import_hazards", product.slug, str(csv_file))
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("import_hazards", product.slug, str(csv_file), "--user", "ghost")
