"""The risk management report (ISO 14971 §8, §9): services, signing by the named reviewers,
segregation of duties, and the release-gate check."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from riskbench import signatures
from riskbench.models import Status
from riskbench.services import StaleEditError
from tests.report.conftest import PASSWORD
from traceability import gate
from traceability.report import checks, services
from traceability.report.selectors import current_report, report_state

pytestmark = pytest.mark.django_db


def sign(report, user, meaning="approved"):
    return signatures.record_sign(
        record=report,
        by=user,
        username=user.username,
        password=PASSWORD,
        meaning=meaning,
        reason="Reviewed before release",
        expected_version=report.version,
    )


def gap_messages(product):
    return [g.message for g in checks.report_not_signed(product)]


def test_create_leaves_a_history_row_with_user_and_reason(report, editor):
    row = report.history.get()
    assert row.history_user == editor
    assert row.history_change_reason == "Release 2.1 review"
    assert report.status == Status.DRAFT and report.release == "2.1"
    assert [r["role"] for r in report.reviewers] == ["Chair of the review", "Clinical reviewer"]


def test_a_stale_edit_is_refused(report, editor):
    services.report_update(
        report=report,
        by=editor,
        reason="typo",
        data_considered="More data",
        expected_version=report.version,
    )
    with pytest.raises(StaleEditError):
        services.report_update(
            report=report, by=editor, expected_version=1, reason="late", data_considered="Old"
        )


def test_an_auditor_or_non_editor_cannot_be_a_reviewer(report, editor, auditor):
    with pytest.raises(ValidationError, match="auditors only read"):
        services.report_update(
            report=report,
            by=editor,
            reason="Add auditor",
            reviewers=[{"user": auditor.pk, "role": "Auditor"}],
            expected_version=report.version,
        )


def test_a_reviewer_needs_a_role(report, editor, reviewers):
    with pytest.raises(ValidationError, match="role in the review"):
        services.report_update(
            report=report,
            by=editor,
            reason="x",
            reviewers=[{"user": reviewers[0].pk}],
            expected_version=report.version,
        )


def test_an_incomplete_report_cannot_be_submitted_nor_signed(report, editor, reviewers):
    services.report_update(
        report=report,
        by=editor,
        reason="Rethink",
        plan_implemented=False,
        expected_version=report.version,
    )
    report.refresh_from_db()
    with pytest.raises(ValidationError, match="9 a"):
        services.report_set_status(
            report=report, status=Status.IN_REVIEW, by=editor, expected_version=report.version
        )
    with pytest.raises(signatures.SignatureRefused, match="not complete"):
        sign(report, reviewers[0], meaning="reviewed")


def test_approval_is_never_a_status_change(report, editor):
    with pytest.raises(ValidationError, match="signatures"):
        services.report_set_status(
            report=report, status=Status.APPROVED, by=editor, expected_version=report.version
        )


def test_only_named_reviewers_sign_the_review(in_review, editor, product):
    other = type(editor).objects.create_user("other", password=PASSWORD)
    from tests import factories

    factories.MembershipFactory(product=product, user=other)
    other.groups.add(*editor.groups.all())
    with pytest.raises(signatures.SignatureRefused, match="Only the reviewers named"):
        sign(in_review, other, meaning="reviewed")
    # The author may sign their authorship.
    sign(in_review, editor, meaning="authored")


def test_gate_without_a_report_names_the_release(product):
    assert gap_messages(product) == [
        "No risk management report for 2.1: the overall residual risk evaluation (§8) and the "
        "risk management review (§9) are not recorded."
    ]
    assert gate.label(checks.KIND) == "Risk management report not signed"
    assert gate.clause(checks.KIND) == "ISO 14971 8, 9"
    assert checks.report_not_signed in gate.registered_checks()


def test_gate_passes_only_when_every_named_reviewer_signed_the_current_content(
    in_review, reviewers, editor, product
):
    messages = gap_messages(product)
    assert len(messages) == 3  # two reviewers unsigned, not approved
    sign(in_review, reviewers[0])
    in_review.refresh_from_db()
    assert in_review.status == Status.APPROVED
    assert gap_messages(product) == [
        "Report 2.1: Cleo Reviewer (Clinical reviewer) has not signed its current content "
        "(version 1)."
    ]
    sign(in_review, reviewers[1], meaning="reviewed")
    assert gap_messages(product) == []
    assert report_state(in_review).signed_off

    # An edit supersedes every signature: back to review, and the gate sees it.
    services.report_update(
        report=in_review,
        by=editor,
        reason="New field data",
        data_considered="And more data",
        expected_version=in_review.version,
    )
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW
    assert len(gap_messages(product)) == 3


def test_the_report_of_the_version_under_review_counts(report, product, editor):
    assert current_report(product) == report
    product.model_number = "2.2"
    product.save()
    assert current_report(product) is None
    assert "No risk management report for 2.2" in gap_messages(product)[0]


@override_settings(RISKBENCH_SEGREGATION_OF_DUTIES=True)
def test_the_author_of_the_report_cannot_approve_it(in_review, editor, reviewers):
    in_review.reviewers = [*in_review.reviewers, {"user": editor.pk, "role": "Author"}]
    services.report_update(
        report=in_review,
        by=editor,
        reason="Author reviews too",
        reviewers=in_review.reviewers,
        expected_version=in_review.version,
    )
    in_review.refresh_from_db()
    with pytest.raises(signatures.SignatureRefused, match="Segregation of duties"):
        sign(in_review, editor, meaning="approved")
    sign(in_review, editor, meaning="reviewed")  # the author may attest the review
    sign(in_review, reviewers[0], meaning="approved")
    in_review.refresh_from_db()
    assert in_review.status == Status.APPROVED
