import datetime as dt
import hashlib

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings

from tests import factories
from tests.integrations.helpers import BILLION_LAUGHS, JUNIT_PASS_FAIL, XXE, db_counts
from traceability.integrations.junit import import_junit
from traceability.integrations.uploads import UploadError
from traceability.models import TestCase, TestRun


@pytest.fixture
def cases(product):
    return [
        factories.TestCaseFactory(product=product, code="TC-001"),
        factories.TestCaseFactory(product=product, code="TC-002"),
    ]


def test_matched_and_unmatched_cases(product, editor, cases):
    result = import_junit(product=product, data=JUNIT_PASS_FAIL, filename="ci.xml", by=editor)

    by_code = {run.test_case.code: run for run in result.created_runs}
    assert set(by_code) == {"TC-001", "TC-002"}
    # TC-001: one pass and one skipped case → pass; TC-002 (by property) failed.
    assert by_code["TC-001"].result == "pass"
    assert by_code["TC-002"].result == "fail"
    assert result.unmatched == ["tests.test_misc.test_unrelated"]
    assert result.evidence_sha256 == hashlib.sha256(JUNIT_PASS_FAIL).hexdigest()
    run = by_code["TC-001"]
    assert run.software_version == "2.1.0-rc3"
    assert run.executed_at.isoformat() == "2026-03-01T10:00:00+00:00"
    assert run.evidence_sha256 == result.evidence_sha256
    with default_storage.open(run.evidence.name, "rb") as stored:
        assert stored.read() == JUNIT_PASS_FAIL
    history = run.history.get()
    assert history.history_user == editor
    assert history.history_change_reason.startswith("Imported from JUnit ci.xml")


def test_same_file_twice_is_refused(product, editor, cases):
    import_junit(product=product, data=JUNIT_PASS_FAIL, filename="ci.xml", by=editor)
    before = db_counts()
    with pytest.raises(UploadError, match="imported before"):
        import_junit(product=product, data=JUNIT_PASS_FAIL, filename="ci.xml", by=editor)
    assert db_counts() == before


def test_nothing_matched_creates_no_run(product, editor):
    result = import_junit(product=product, data=JUNIT_PASS_FAIL, filename="ci.xml", by=editor)
    assert result.created_runs == []
    assert len(result.unmatched) == 4
    assert TestRun.objects.count() == 0


def test_cases_of_another_product_are_not_matched(product, other_product, editor):
    factories.TestCaseFactory(product=other_product, code="TC-001")
    result = import_junit(product=product, data=JUNIT_PASS_FAIL, filename="ci.xml", by=editor)
    assert result.created_runs == []


def test_unknown_code_in_property_is_reported_not_invented(product, editor, cases):
    data = JUNIT_PASS_FAIL.replace(b'value="TC-002"', b'value="TC-999"')
    result = import_junit(product=product, data=data, filename="ci.xml", by=editor)
    assert [run.test_case.code for run in result.created_runs] == ["TC-001"]
    assert "tests.test_alarm.test_alarm_sounds (test_case TC-999 not in this product)" in (
        result.unmatched
    )
    assert not TestCase.objects.filter(code="TC-999").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (BILLION_LAUGHS, "entity expansion"),
        (XXE, "external entity"),
        (b"", "empty"),
        (b"%PDF-1.7 ...", "PDF"),
        (b"name,result\nTC-001,pass\n", "not a JUnit XML"),
        (b"<testsuites><testsuite>", "not well-formed"),
        (b"<html><body/></html>", "root element is <html>"),
        (b"<testsuites><testsuite name='x'/></testsuites>", "no <testcase>"),
        (b"<testsuites>\xff\xfe</testsuites>", "not well-formed"),
    ],
)
def test_bad_files_write_nothing(product, editor, cases, data, message):
    before = db_counts()
    with pytest.raises(UploadError, match=message):
        import_junit(product=product, data=data, filename="bad.xml", by=editor)
    assert db_counts() == before


@override_settings(RISKBENCH_MAX_UPLOAD_BYTES=100)
def test_oversized_file_is_refused(product, editor, cases):
    before = db_counts()
    with pytest.raises(UploadError, match="limit"):
        import_junit(product=product, data=JUNIT_PASS_FAIL, filename="ci.xml", by=editor)
    assert db_counts() == before


PER_CASE_TIMES = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="nightly" timestamp="2026-03-01T10:00:00Z">
    <testcase name="TC-001 first night" timestamp="2026-03-01T10:05:00Z"/>
    <testcase name="TC-001 second night" timestamp="2026-03-02T10:05:00Z">
      <failure message="x"/>
    </testcase>
    <testcase name="TC-002 no own time"/>
  </testsuite>
  <testsuite name="later" timestamp="2026-03-04T09:00:00+01:00">
    <testcase name="TC-002 in the later suite"/>
  </testsuite>
</testsuites>
"""


def test_each_case_keeps_its_own_timestamp(product, editor, cases):
    result = import_junit(product=product, data=PER_CASE_TIMES, filename="ci.xml", by=editor)
    runs = sorted(
        (r.test_case.code, r.executed_at.astimezone(dt.UTC).isoformat(), str(r.result))
        for r in TestRun.objects.filter(pk__in=[r.pk for r in result.created_runs])
    )
    assert runs == [
        ("TC-001", "2026-03-01T10:05:00+00:00", "pass"),
        ("TC-001", "2026-03-02T10:05:00+00:00", "fail"),
        ("TC-002", "2026-03-01T10:00:00+00:00", "pass"),  # its suite's time
        ("TC-002", "2026-03-04T08:00:00+00:00", "pass"),  # its own suite's, not the first's
    ]
    assert TestRun.history.count() == 4  # one history row per run


def test_a_bad_case_timestamp_is_refused_naming_the_case(product, editor, cases):
    data = PER_CASE_TIMES.replace(b"2026-03-02T10:05:00Z", b"yesterday")
    with pytest.raises(UploadError, match="Test case 'TC-001 second night' timestamp"):
        import_junit(product=product, data=data, filename="ci.xml", by=editor)
