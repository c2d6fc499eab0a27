"""A product with a complete risk management report, its author (the editor) and two named
reviewers who sign it; the reviewers' roles and qualifications are on record (ISO 14971 4.3)."""

import pytest

from riskbench import roles
from riskbench import services as core_services
from riskbench.models import Status
from tests import factories
from traceability.report import services

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory

COMPLETE = {
    "evaluation_method": "Residual risks weighed together per the plan's method (4.4 f).",
    "data_considered": "Hazard analysis, verification results, field data of the predecessor.",
    "overall_residual_risk_conclusion": "The benefit of remote bolus delivery outweighs the "
    "remaining residual risks.",
    "overall_residual_risk_acceptable": True,
    "significant_residual_risks": "Hypoglycaemia after a mistyped dose: IFU section 4.",
    "plan_implemented": True,
    "plan_implemented_basis": "Every activity of the plan has its record in this file.",
    "residual_risk_acceptable": True,
    "residual_risk_acceptable_basis": "Section 8 above.",
    "post_production_methods_in_place": True,
    "post_production_methods_basis": "Complaint handling SOP-12 and vulnerability monitoring.",
}


@pytest.fixture
def product(db):
    return factories.ProductFactory(name="Insulin pump", slug="insulin-pump", model_number="2.1")


@pytest.fixture
def reviewers(product):
    admin = factories.UserFactory(username="admin", is_superuser=True)
    people = []
    for username, first, role, qualification in (
        ("quinn", "Quinn", "Head of quality", "MSc biomedical engineering; ISO 14971 lead auditor"),
        ("cleo", "Cleo", "Clinical expert", "MD endocrinology, 12 years of insulin therapy"),
    ):
        user = factories.UserFactory(
            username=username, first_name=first, last_name="Reviewer", role=roles.QUALITY_ENGINEER
        )
        factories.MembershipFactory(product=product, user=user)
        core_services.profile_update(
            user=user, by=admin, reason="Appointed", role_title=role, qualification=qualification
        )
        people.append(user)
    return people


@pytest.fixture
def report(product, editor, reviewers):
    return services.report_create(
        product=product,
        by=editor,
        reason="Release 2.1 review",
        reviewers=[
            {"user": reviewers[0].pk, "role": "Chair of the review"},
            {"user": reviewers[1].pk, "role": "Clinical reviewer"},
        ],
        **COMPLETE,
    )


@pytest.fixture
def in_review(report, editor):
    services.report_set_status(
        report=report, status=Status.IN_REVIEW, by=editor, expected_version=report.version
    )
    report.refresh_from_db()
    return report
