"""The demo shows every post-market feature on the Aurora pump, idempotently; the pacemaker
stays complete; the dossier prints the post-release sections (read back with pypdf)."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from pypdf import PdfReader

from hazards.models import Hazard, Product
from postmarket.models import AnalysisState, FieldRecord, ProblemReport, Vulnerability
from tests.cli import run_command
from traceability.dossier.services import render_dossier

AURORA = "aurora-insulin-pump"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        override_settings(DEMO_LOGIN_ENABLED=True),  # signed approvals: the pacemaker releases
    ):
        out = io.StringIO()
        call_command("loaddemo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def aurora(demo, db):
    return Product.objects.get(slug=AURORA)


def test_a_failed_test_has_its_problem_report(aurora):
    report = ProblemReport.objects.get(product=aurora)
    run = report.run_links.get().test_run
    assert run.test_case.code == "TC-001" and run.result == "fail"
    assert report.safety_related and report.hazard_links.get().re_evaluated
    assert report.change_requests.count() == 1 and report.anomaly_evaluation


def test_one_vulnerability_affected_with_a_security_hazard_one_not_affected(aurora):
    states = {v.software_item.code: v for v in Vulnerability.objects.filter(product=aurora)}
    nimble, mbedtls = states["SW-007"], states["SW-008"]
    assert nimble.analysis_state == AnalysisState.AFFECTED
    assert nimble.hazard.code == "HAZ-015" and nimble.hazard.category == "security"
    assert mbedtls.analysis_state == AnalysisState.NOT_AFFECTED and mbedtls.justification


def test_field_complaints_led_to_a_re_estimation_in_the_hazard_history(aurora):
    hazard = Hazard.objects.get(product=aurora, code="HAZ-002")
    assert hazard.p1 == 5
    first = FieldRecord.objects.filter(product=aurora, kind="complaint").order_by("code").first()
    reasons = [r.history_change_reason for r in hazard.history.all()]
    assert any(first.code in reason and "Re-estimated" in reason for reason in reasons)
    row = hazard.history.filter(history_change_reason__startswith="Re-estimated").first()
    assert hazard.status == row.prev_record.status  # back where it was (re-approved if it was)


def test_riskcheck_flags_end_of_support_and_keeps_the_pacemaker_complete(aurora):
    result = run_command("riskcheck", AURORA, "--format", "json")
    gaps = {(g["kind"], g["code"]) for g in json.loads(result.out)["gaps"]}
    assert ("soup_end_of_support", "SW-006") in gaps
    assert not {kind for kind, _ in gaps} & {
        "failed_run_without_problem_report",
        "vulnerability_unassessed",
        "vulnerability_affected_unlinked",
    }
    assert run_command("riskcheck", "cadence-pacemaker").code == 0


def test_a_second_load_changes_nothing(demo, aurora):
    before = (
        ProblemReport.history.count(),
        Vulnerability.history.count(),
        FieldRecord.history.count(),
        Hazard.history.count(),
    )
    out = io.StringIO()
    call_command("loaddemo", stdout=out)
    assert "postmarket.demo: already loaded, nothing changed" in out.getvalue()
    assert before == (
        ProblemReport.history.count(),
        Vulnerability.history.count(),
        FieldRecord.history.count(),
        Hazard.history.count(),
    )


def test_the_dossier_prints_the_post_release_sections(aurora):
    rendered = render_dossier(aurora)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.pdf)).pages)
    assert "Post-release records" in text
    assert "Known residual anomalies" in text and "PR-001" in text
    assert "SOUP vulnerabilities and their assessments" in text
    assert "DEMO-OSV-2026-0001" in text and "Not affected" in text
    assert "Production and post-production information" in text and "FI-001" in text
    assert any(s.title == "Known residual anomalies" for s in rendered.data.extensions)
