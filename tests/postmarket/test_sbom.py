"""`manage.py export_sbom`: CycloneDX 1.6 JSON of the SOUP list with VEX assessments, valid
under cyclonedx-python-lib's strict validator."""

import contextlib
import io
import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from django.core.management import call_command
from django.core.management.base import CommandError

from postmarket import services
from postmarket.models import AnalysisState, Justification, Vulnerability
from tests import factories
from tests.postmarket.conftest import KEV, OSV_DIR
from traceability.integrations.sbom import parse_sbom


@pytest.fixture
def assessed(product, editor, soup):
    with contextlib.suppress(CommandError):
        call_command(
            "vulncheck",
            product.slug,
            f"--osv={OSV_DIR}",
            f"--kev={KEV}",
            "--user=editor",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    security = factories.HazardFactory(product=product, category="security", code="HAZ-077")
    log4j = Vulnerability.objects.get(advisory_id="GHSA-jfh8-c2jp-5v3q")
    services.vulnerability_assess(
        vulnerability=log4j,
        by=editor,
        analysis_state=AnalysisState.AFFECTED,
        hazard=security,
        expected_version=log4j.version,
    )
    django = Vulnerability.objects.get(advisory_id="GHSA-6w2r-r2m5-xq5w")
    services.vulnerability_assess(
        vulnerability=django,
        by=editor,
        analysis_state=AnalysisState.NOT_AFFECTED,
        justification=Justification.CODE_NOT_REACHABLE,
        analysis_detail="truncatewords_html is not used by the device's web UI.",
        expected_version=django.version,
    )
    return product


def export(product, tmp_path) -> dict:
    path = tmp_path / "sbom.json"
    call_command("export_sbom", product.slug, "-o", str(path), stdout=io.StringIO())
    text = path.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    return json.loads(text)


def test_the_sbom_lists_every_soup_item_and_passes_the_strict_validator(assessed, tmp_path):
    document = export(assessed, tmp_path)
    assert document["specVersion"] == "1.6"
    names = {c["name"]: c for c in document["components"]}
    assert len(names) == 10
    log4j = names["Log4j core"]
    assert log4j["version"] == "2.14.1"
    assert log4j["purl"] == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"


def test_vex_analysis_follows_the_assessments(assessed, tmp_path):
    document = export(assessed, tmp_path)
    by_id = {v["id"]: v for v in document["vulnerabilities"]}
    log4j = by_id["GHSA-jfh8-c2jp-5v3q"]
    assert log4j["analysis"]["state"] == "exploitable"
    assert "HAZ-077" in log4j["analysis"]["detail"]
    assert log4j["ratings"][0]["method"] == "CVSSv31" and log4j["ratings"][0]["score"] == 10.0
    assert log4j["references"][0]["id"] == "CVE-2021-44228"
    assert {"name": "riskbench:kev", "value": "true"} in log4j["properties"]
    django = by_id["GHSA-6w2r-r2m5-xq5w"]
    assert django["analysis"] == {
        "state": "not_affected",
        "justification": "code_not_reachable",
        "detail": "truncatewords_html is not used by the device's web UI.",
    }
    assert by_id["OSV-2024-1234"]["analysis"]["state"] == "in_triage"
    target = {c["bom-ref"] for c in document["components"] if c["name"] == "Django"}
    assert {a["ref"] for a in django["affects"]} == target


def test_supplier_licence_support_and_hashes_where_known(product, soup, tmp_path):
    item = soup["SW-101"]
    item.manufacturer = "Django Software Foundation"
    item.licence = "BSD-3-Clause"
    item.support_status = "end_of_support"
    item.end_of_support = "2026-04-30"
    item.purl = "pkg:pypi/django@4.2.10?checksum=sha256:" + "ab" * 32
    item.save()
    component = next(c for c in export(product, tmp_path)["components"] if c["name"] == "Django")
    assert component["supplier"]["name"] == "Django Software Foundation"
    assert component["licenses"] == [{"license": {"id": "BSD-3-Clause"}}]
    assert component["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
    props = {p["name"]: p["value"] for p in component["properties"]}
    assert props["riskbench:end_of_support"] == "2026-04-30"
    assert props["riskbench:support_status"] == "end_of_support"


def test_the_same_data_gives_the_same_bytes(assessed, tmp_path):
    first = export(assessed, tmp_path)
    assert export(assessed, tmp_path) == first


def test_the_export_reimports_as_the_same_soup_list(assessed, tmp_path):
    path = tmp_path / "sbom.json"
    call_command("export_sbom", assessed.slug, "-o", str(path), stdout=io.StringIO())
    components = parse_sbom(path.read_bytes())
    assert {(c.name, c.version) for c in components} >= {
        ("Django", "4.2.10"),
        ("lodash", "4.17.21"),
    }


def test_an_unknown_product_cannot_be_exported(db, tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("export_sbom", "nope", "-o", str(tmp_path / "x.json"))
    assert exc.value.returncode == 2
