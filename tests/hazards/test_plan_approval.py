"""The risk management plan (ISO 14971 4.4): 4.4 b and 4.4 c on the scope and plan page and in
the dossier; the plan is approved by a person's signature on its current content, never by a
status, and — with segregation of duties — not by its last author."""

import io

import pytest
from django.test import override_settings
from pypdf import PdfReader

from hazards import selectors, services
from riskbench import roles, signatures
from tests import factories
from traceability.dossier.services import render_dossier

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


@pytest.fixture
def manager(product):
    user = factories.UserFactory(
        username="manager", first_name="Mona", last_name="Manager", role=roles.QUALITY_ENGINEER
    )
    factories.MembershipFactory(product=product, user=user)
    return user


def write_plan(product, editor):
    return services.product_update(
        product=product,
        by=editor,
        reason="Plan 4.4 b and c",
        expected_version=product.version,
        responsibilities_and_authorities="The risk manager leads; the head of quality approves.",
        review_requirements="Design reviews at each phase; a release review per ISO 14971 9.",
    )


def sign_plan(product, user, meaning="approved"):
    return signatures.record_sign(
        record=product, by=user, username=user.username, password=PASSWORD, meaning=meaning,
        expected_version=product.version,
    )  # fmt: skip


def test_editor_writes_4_4_b_and_c_on_the_plan_page(editor_client, product):
    form = editor_client.get(f"/p/{product.slug}/edit/").content.decode()
    assert "Responsibilities and authorities" in form
    assert "Requirements for review of risk management activities" in form
    data = {
        "name": product.name,
        "slug": product.slug,
        "software_safety_class": "C",
        "responsibilities_and_authorities": "Risk manager: Mona.",
        "review_requirements": "Release review by the board.",
        "version": product.version,
        "change_reason": "Plan completed",
    }
    response = editor_client.post(f"/p/{product.slug}/edit/", data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.responsibilities_and_authorities == "Risk manager: Mona."
    assert product.history.first().history_change_reason == "Plan completed"


def test_the_plan_is_approved_by_a_signature_and_an_edit_supersedes_it(product, editor, manager):
    product = write_plan(product, editor)
    assert selectors.plan_approval(product) is None
    signature = sign_plan(product, manager)
    assert signature.product == product
    assert selectors.plan_approval(product) == signature
    product = services.product_update(
        product=product,
        by=editor,
        reason="New reviewer",
        expected_version=product.version,
        review_requirements="Monthly.",
    )
    assert selectors.plan_approval(product) is None


def test_a_reviewed_signature_does_not_approve_the_plan(product, editor, manager):
    product = write_plan(product, editor)
    sign_plan(product, manager, meaning="reviewed")
    assert selectors.plan_approval(product) is None


@override_settings(RISKBENCH_SEGREGATION_OF_DUTIES=True)
def test_the_last_author_of_the_plan_cannot_approve_it(product, editor, manager):
    product = write_plan(product, editor)
    with pytest.raises(signatures.SignatureRefused, match="Segregation of duties"):
        sign_plan(product, editor)
    assert sign_plan(product, manager)


def test_an_auditor_sees_the_plan_signatures_but_cannot_sign(auditor_client, product, editor):
    product = write_plan(product, editor)
    page = auditor_client.get(f"/signatures/plan/{product.pk}/")
    assert page.status_code == 200 and "Sign this record" not in page.content.decode()
    response = auditor_client.post(
        f"/signatures/plan/{product.pk}/sign/",
        {"meaning": "approved", "username": "auditor", "password": PASSWORD},
    )
    assert response.status_code == 403


def test_the_dossier_plan_section_prints_4_4_b_c_and_the_approval(product, editor, manager):
    product = write_plan(product, editor)
    sign_plan(product, manager)
    pdf = render_dossier(product).pdf
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Responsibilities and authorities (4.4 b)" in text
    assert "The risk manager leads; the head of quality approves." in text
    assert "Design reviews at each phase" in text
    assert "Approved: Mona Manager — Approved —" in text
