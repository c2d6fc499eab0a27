"""The CI endpoint: a job POSTs its JUnit XML with a token and gets test runs as evidence
(IEC 62304 5.7.5); a bad file writes nothing."""

import hashlib

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests import factories
from tests.api.conftest import history_counts, token_client
from traceability.models import TestRun

URL = "/api/products/insulin-pump/junit/"

JUNIT = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="ci">
  <testsuite name="pump" timestamp="2026-03-01T10:00:00" tests="3">
    <properties><property name="software_version" value="2.1.0-rc3"/></properties>
    <testcase classname="tests.test_occlusion" name="test_TC_001_stops_within_2s" time="0.4"/>
    <testcase classname="tests.test_alarm" name="test_alarm_sounds" time="0.2">
      <properties><property name="test_case" value="TC-002"/></properties>
      <failure message="no sound">AssertionError</failure>
    </testcase>
    <testcase classname="tests.test_misc" name="test_unrelated" time="0.1"/>
  </testsuite>
</testsuites>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<testsuites><testsuite name="&lol2;"><testcase name="TC-001"/></testsuite></testsuites>
"""


def upload(client, data: bytes, name: str = "junit.xml"):
    return client.post(
        URL, {"file": SimpleUploadedFile(name, data, "application/xml")}, format="multipart"
    )


def test_ci_job_posts_junit_and_gets_runs_with_evidence(product, editor):
    factories.TestCaseFactory(product=product, code="TC-001")
    factories.TestCaseFactory(product=product, code="TC-002")
    response = upload(token_client(editor), JUNIT)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["evidence_sha256"] == hashlib.sha256(JUNIT).hexdigest()
    assert body["unmatched"] == ["tests.test_misc.test_unrelated"]
    results = {run["test_case"]: run["result"] for run in body["created_runs"]}
    assert results == {"TC-001": "pass", "TC-002": "fail"}
    runs = TestRun.objects.filter(test_case__product=product)
    assert runs.count() == 2
    for run in runs:
        assert run.executed_by == editor
        assert run.software_version == "2.1.0-rc3"
        assert run.evidence_sha256 == body["evidence_sha256"]
        assert run.history.latest().history_user == editor


def test_file_with_no_matching_case_records_nothing(product, editor):
    response = upload(token_client(editor), JUNIT)
    assert response.status_code == 200, response.content
    assert response.json()["created_runs"] == []
    assert len(response.json()["unmatched"]) == 3
    assert not TestRun.objects.exists()


def test_auditor_token_cannot_post_results(product, auditor):
    factories.TestCaseFactory(product=product, code="TC-001")
    before = history_counts()
    assert upload(token_client(auditor), JUNIT).status_code == 403
    assert not TestRun.objects.exists()
    assert history_counts() == before


def test_entity_expansion_is_refused_and_nothing_written(product, editor):
    factories.TestCaseFactory(product=product, code="TC-001")
    before = history_counts()
    response = upload(token_client(editor), BILLION_LAUGHS)
    assert response.status_code == 400
    assert "entit" in response.json()["file"][0]
    assert not TestRun.objects.exists()
    assert history_counts() == before


@override_settings(RISKBENCH_MAX_UPLOAD_BYTES=100)
def test_oversized_file_is_refused_by_its_size(product, editor):
    factories.TestCaseFactory(product=product, code="TC-001")
    response = upload(token_client(editor), JUNIT)
    assert response.status_code == 400
    assert "limit" in response.json()["file"][0]
    assert not TestRun.objects.exists()


def test_same_report_twice_is_refused(product, editor):
    factories.TestCaseFactory(product=product, code="TC-001")
    client = token_client(editor)
    assert upload(client, JUNIT).status_code == 201
    again = upload(client, JUNIT)
    assert again.status_code == 400
    assert "imported before" in again.json()["file"][0]
    assert TestRun.objects.count() == 1


def test_not_xml_is_a_clear_400(product, editor):
    response = upload(token_client(editor), b"name,result\nTC-001,pass\n", "junit.csv")
    assert response.status_code == 400
    assert "JUnit" in response.json()["file"][0]
