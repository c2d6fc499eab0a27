"""The demo's plan, competence and reports: the releasable pacemaker has its plan approved and
its report signed by two reviewers who did not write it (segregation of duties on); the pumps
show the gate's "report not signed" gaps. Loaded once for the module, as `make run` does."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from pypdf import PdfReader

from hazards.models import Product
from hazards.selectors import plan_approval
from riskbench.models import Status
from tests.cli import run_command
from traceability.dossier.services import render_dossier
from traceability.report.checks import report_not_signed
from traceability.report.models import RiskManagementReport
from traceability.report.selectors import report_state

CADENCE, AURORA, VELA = "cadence-pacemaker", "aurora-insulin-pump", "vela-infusion-pump"


def load() -> str:
    out = io.StringIO()
    with override_settings(DEMO_LOGIN_ENABLED=True, RISKBENCH_SEGREGATION_OF_DUTIES=True):
        call_command("loaddemo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield load()
        transaction.set_rollback(True)


@pytest.fixture
def products(demo, db):
    return {p.slug: p for p in Product.objects.all()}


def test_every_plan_names_responsibilities_and_reviews(products):
    for slug in (CADENCE, AURORA, VELA):
        product = products[slug]
        assert "Head of quality" in product.responsibilities_and_authorities
        assert "ISO 14971 9" in product.review_requirements


def test_the_releasable_plan_is_approved_by_a_reviewer_not_its_author(products):
    product = products[CADENCE]
    signature = plan_approval(product)
    assert signature is not None and signature.signer.username == "riley"
    assert product.history.first().history_user.username == "demo"  # the plan's last author


def test_the_releasable_report_is_signed_by_two_reviewers_not_its_author(products):
    report = RiskManagementReport.objects.get(product=products[CADENCE])
    state = report_state(report)
    assert report.status == Status.APPROVED and state.signed_off
    assert [r.username for r in state.reviewers] == ["riley", "sam"]
    assert report.history.earliest("history_date").history_user.username == "demo"
    assert report_not_signed(products[CADENCE]) == []
    assert run_command("riskcheck", CADENCE).code == 0


def test_the_other_products_show_the_gap(products):
    aurora = report_not_signed(products[AURORA])
    assert aurora and all(g.kind == "report_not_signed" for g in aurora)
    assert RiskManagementReport.objects.get(product=products[AURORA]).status == Status.DRAFT
    assert not RiskManagementReport.objects.filter(product=products[VELA]).exists()
    assert "No risk management report for" in report_not_signed(products[VELA])[0].message


def test_a_second_run_changes_nothing(demo, products):
    assert "traceability.report.demo: created" in demo
    assert "traceability.report.demo: already loaded, nothing changed" in load()


def test_the_release_dossier_prints_the_report_with_the_reviewers_competence(products):
    pdf = render_dossier(products[CADENCE]).pdf
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Risk management report" in text
    assert "Riley Reviewer" in text and "Head of quality and regulatory affairs" in text
    assert "Sam Clinician" in text and "Clinical safety officer" in text
    assert "Responsibilities and authorities (4.4 b)" in text
    assert "Approved: Riley Reviewer — Approved" in text
    assert "NOT SIGNED" not in text
