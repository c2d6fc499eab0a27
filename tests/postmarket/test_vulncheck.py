"""`manage.py vulncheck`: what it records, in which order it reports, and that a re-run on the
same feed changes nothing."""

import io
import json
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from postmarket import services
from postmarket.models import AnalysisState, Justification, Vulnerability
from tests import factories
from tests.postmarket.conftest import KEV, OSV_DIR
from tests.test_all_urls import history_total
from traceability import services as trace_services


def run(product, *args, user="editor"):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("vulncheck", product.slug, *args, f"--user={user}", stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def by_item(product):
    return {
        (v.software_item.code, v.advisory_id): v
        for v in Vulnerability.objects.filter(product=product).select_related("software_item")
    }


def test_matches_are_recorded_per_advisory_and_soup_item(product, editor, soup):
    code, out, _ = run(product, f"--osv={OSV_DIR}", f"--kev={KEV}")
    assert code == 1
    found = by_item(product)
    assert set(found) == {
        ("SW-101", "GHSA-6w2r-r2m5-xq5w"),  # PyPI range
        ("SW-103", "GHSA-jfh8-c2jp-5v3q"),  # Maven, KEV
        ("SW-104", "DSA-5532-1"),  # Debian
        ("SW-105", "GO-2023-2102"),  # Go SEMVER, KEV
        ("SW-106", "PYSEC-2022-42991"),  # explicit versions
        ("SW-107", "OSV-2024-1234"),  # GIT range: not comparable, to assess
        ("SW-108", "OSV-2024-2222"),  # GIT with tags listed
    }
    log4j = found[("SW-103", "GHSA-jfh8-c2jp-5v3q")]
    assert log4j.in_kev and log4j.kev_date_added == "2021-12-10"
    assert log4j.aliases == ["CVE-2021-44228"]
    assert str(log4j.cvss_score) == "10.0"
    assert log4j.analysis_state == AnalysisState.UNDER_INVESTIGATION
    assert "not comparable" in found[("SW-107", "OSV-2024-1234")].match_basis
    assert "SW-110" in out  # no purl: reported as not checked
    row = log4j.history.get()
    assert row.history_user == editor and "matches SW-103" in row.history_change_reason


def test_kev_listed_vulnerabilities_come_first(product, editor, soup):
    _, out, _ = run(product, f"--osv={OSV_DIR}", f"--kev={KEV}")
    lines = [line for line in out.splitlines() if line.startswith("  - ")]
    assert "[CISA KEV]" in lines[0] and "[CISA KEV]" in lines[1]
    assert all("[CISA KEV]" not in line for line in lines[2:])
    assert "CVSS 10.0" in lines[0]  # then by score


def test_rerunning_the_same_feed_changes_nothing(product, editor, soup, osv_zip):
    run(product, f"--osv={osv_zip}", f"--kev={KEV}")
    before = history_total()
    code, out, _ = run(product, f"--osv={osv_zip}", f"--kev={KEV}")
    assert code == 1
    assert history_total() == before
    assert "0 new, 0 updated" in out


def test_zip_folder_and_single_file_feeds_record_the_same(product, editor, soup, osv_zip, tmp_path):
    run(product, f"--osv={osv_zip}")
    from_zip = set(by_item(product))
    single = tmp_path / "feed.json"
    single.write_text(json.dumps([json.loads(p.read_text()) for p in OSV_DIR.glob("*.json")]))
    before = history_total()
    run(product, f"--osv={single}")
    run(product, f"--osv={OSV_DIR}")
    assert set(by_item(product)) == from_zip
    assert history_total() == before


def test_withdrawn_advisories_are_ignored(product, editor, soup):
    run(product, f"--osv={OSV_DIR}")
    assert not Vulnerability.objects.filter(advisory_id="GHSA-wwww-wwww-wwww").exists()


def test_an_advisory_withdrawn_later_marks_the_record(product, editor, soup, tmp_path):
    run(product, f"--osv={OSV_DIR}")
    later = tmp_path / "later"
    shutil.copytree(OSV_DIR, later)
    path = later / "GHSA-xxxx-django-sqli.json"
    doc = json.loads(path.read_text())
    doc["withdrawn"] = "2024-04-01T00:00:00Z"
    path.write_text(json.dumps(doc))
    run(product, f"--osv={later}")
    record = Vulnerability.objects.get(advisory_id="GHSA-6w2r-r2m5-xq5w")
    assert record.withdrawn
    assert "withdrawn" in record.history.first().history_change_reason


def test_kev_listing_later_updates_the_record_with_history(product, editor, soup):
    run(product, f"--osv={OSV_DIR}")
    record = Vulnerability.objects.get(advisory_id="GHSA-jfh8-c2jp-5v3q")
    assert not record.in_kev
    run(product, f"--osv={OSV_DIR}", f"--kev={KEV}")
    record.refresh_from_db()
    assert record.in_kev and record.version == 2
    assert "KEV" in record.history.first().history_change_reason


def test_a_soup_update_out_of_range_marks_the_vulnerability_fixed(product, editor, soup):
    run(product, f"--osv={OSV_DIR}")
    trace_services.software_item_update(
        item=soup["SW-101"],
        by=editor,
        reason="Django 4.2.11",
        soup_version="4.2.11",
        purl="pkg:pypi/django@4.2.11",
        expected_version=soup["SW-101"].version,
    )
    run(product, f"--osv={OSV_DIR}")
    record = Vulnerability.objects.get(advisory_id="GHSA-6w2r-r2m5-xq5w")
    assert record.analysis_state == AnalysisState.FIXED


def test_exit_zero_once_everything_is_assessed_and_linked(product, editor, soup):
    run(product, f"--osv={OSV_DIR}")
    security = factories.HazardFactory(product=product, category="security", code="HAZ-050")
    for v in Vulnerability.objects.filter(product=product):
        if v.software_item.code == "SW-103":
            services.vulnerability_assess(
                vulnerability=v,
                by=editor,
                analysis_state=AnalysisState.AFFECTED,
                hazard=security,
                expected_version=v.version,
            )
        else:
            services.vulnerability_assess(
                vulnerability=v,
                by=editor,
                analysis_state=AnalysisState.NOT_AFFECTED,
                justification=Justification.CODE_NOT_REACHABLE,
                expected_version=v.version,
            )
    code, out, _ = run(product, f"--osv={OSV_DIR}", "--format=json")
    assert code == 0
    assert json.loads(out)["ok"] is True


def test_an_affected_vulnerability_without_link_keeps_exit_one(product, editor, soup):
    run(product, f"--osv={OSV_DIR}")
    v = Vulnerability.objects.get(advisory_id="GHSA-jfh8-c2jp-5v3q")
    with pytest.raises(Exception, match="must link a security hazard"):
        services.vulnerability_assess(
            vulnerability=v,
            by=editor,
            analysis_state=AnalysisState.AFFECTED,
            expected_version=v.version,
        )


def test_json_report_lists_outstanding_with_kev_first(product, editor, soup):
    code, out, _ = run(product, f"--osv={OSV_DIR}", f"--kev={KEV}", "--format=json")
    document = json.loads(out)
    assert code == 1 and document["ok"] is False
    assert [o["kev"] for o in document["outstanding"]][:3] == [True, True, False]
    assert document["soup_without_purl"] == ["SW-110"]


def test_an_unreadable_advisory_makes_the_check_incomplete_exit_two(
    product, editor, soup, tmp_path
):
    feed = tmp_path / "feed"
    shutil.copytree(OSV_DIR, feed)
    (feed / "broken.json").write_text(
        '{"id": "GHSA-b", "affected": [{"package": '
        '{"ecosystem": "PyPI", "name": "django"}, "ranges": 5}]}'
    )
    (feed / "truncated.json").write_text('{"id": "X", "affected": [{"package": {"name": "django"')
    code, _, err = run(product, f"--osv={feed}")
    assert code == 2
    assert "broken.json" in err and "truncated.json" in err
    assert Vulnerability.objects.filter(product=product).count() == 7  # the rest is recorded


def test_a_hostile_zip_is_refused_and_nothing_recorded(product, editor, soup, tmp_path):
    from tests.postmarket.conftest import make_zip

    path = tmp_path / "evil.zip"
    path.write_bytes(
        make_zip({"../../x.json": (OSV_DIR / "GHSA-xxxx-django-sqli.json").read_bytes()})
    )
    code, _, err = run(product, f"--osv={path}")
    assert code == 2 and "leaves the archive" in err
    assert not Vulnerability.objects.exists()


def test_without_a_user_the_command_does_not_run(product, soup, monkeypatch):
    monkeypatch.delenv("RISKBENCH_USER", raising=False)
    with pytest.raises(CommandError) as exc:
        call_command("vulncheck", product.slug, f"--osv={OSV_DIR}")
    assert exc.value.returncode == 2


def test_another_products_soup_is_not_touched(product, other_product, editor, soup):
    factories.SoftwareItemFactory(
        product=other_product, is_soup=True, purl="pkg:pypi/django@4.2.10", soup_version="4.2.10"
    )
    run(product, f"--osv={OSV_DIR}")
    assert not Vulnerability.objects.filter(product=other_product).exists()
