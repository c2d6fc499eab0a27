"""The report pages: who may read, edit and sign; the dossier section read back with pypdf."""

import io

import pytest
from pypdf import PdfReader

from riskbench.models import Signature, Status
from tests.report.conftest import COMPLETE, PASSWORD
from traceability.dossier.services import render_dossier
from traceability.report.models import RiskManagementReport

pytestmark = pytest.mark.django_db


def urls(report):
    slug = report.product.slug
    return {
        "list": f"/p/{slug}/report/",
        "detail": f"/p/{slug}/report/{report.pk}/",
        "edit": f"/p/{slug}/report/{report.pk}/edit/",
        "history": f"/p/{slug}/report/{report.pk}/history/",
        "new": f"/p/{slug}/report/new/",
    }


def test_anonymous_is_sent_to_login(client, report):
    for url in urls(report).values():
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_outsider_gets_404(outsider_client, report):
    for url in urls(report).values():
        assert outsider_client.get(url).status_code == 404


def test_auditor_reads_but_never_edits_nor_signs(auditor_client, report):
    u = urls(report)
    for name in ("list", "detail", "history"):
        assert auditor_client.get(u[name]).status_code == 200
    page = auditor_client.get(u["detail"]).content.decode()
    assert "Sign this record" not in page and ">Edit<" not in page
    assert auditor_client.get(u["edit"]).status_code == 403
    assert auditor_client.get(u["new"]).status_code == 403
    assert auditor_client.post(u["edit"], {"release": "9"}).status_code == 403
    status_url = f"/p/{report.product.slug}/report/{report.pk}/status/"
    assert auditor_client.post(status_url, {"status": "in_review", "version": 1}).status_code == 403


def test_editor_creates_a_report_with_reviewers(editor_client, product, reviewers):
    response = editor_client.post(
        f"/p/{product.slug}/report/new/",
        {
            "release": "2.1",
            **{k: ("on" if v is True else v) for k, v in COMPLETE.items()},
            "reviewer_0": reviewers[0].pk,
            "reviewer_0_role": "Chair",
            "reviewer_1": reviewers[1].pk,
            "reviewer_1_role": "Clinical",
            "change_reason": "Release review",
        },
    )
    report = RiskManagementReport.objects.get(product=product)
    assert response.status_code == 302 and response["Location"] == report.get_absolute_url()
    assert report.reviewers == [
        {"user": reviewers[0].pk, "role": "Chair"},
        {"user": reviewers[1].pk, "role": "Clinical"},
    ]
    assert report.history.get().history_change_reason == "Release review"


def test_a_reviewer_without_a_role_is_refused_on_the_form(editor_client, report, reviewers):
    response = editor_client.post(
        urls(report)["edit"],
        {"release": "2.1", "version": report.version, "reviewer_0": reviewers[0].pk},
    )
    assert response.status_code == 200
    assert "Give the reviewer&#x27;s role in the review." in response.content.decode()


def test_editor_submits_and_a_reviewer_signs_on_the_page(client, editor, report, reviewers):
    client.force_login(editor)
    status_url = f"/p/{report.product.slug}/report/{report.pk}/status/"
    client.post(status_url, {"status": "in_review", "version": report.version})
    report.refresh_from_db()
    assert report.status == Status.IN_REVIEW
    client.force_login(reviewers[0])
    page = client.get(urls(report)["detail"]).content.decode()
    assert "Sign this record" in page and "Not signed" in page
    client.post(
        f"/signatures/report/{report.pk}/sign/",
        {
            "meaning": "approved",
            "username": "quinn",
            "password": PASSWORD,
            "expected_version": report.version,
        },
    )
    report.refresh_from_db()
    assert report.status == Status.APPROVED
    assert Signature.objects.get().signer == reviewers[0]
    page = client.get(urls(report)["detail"]).content.decode()
    assert "Head of quality" in page  # competence shown with the signature (4.3)


def test_detail_page_query_count(editor_client, in_review, count_queries):
    url = urls(in_review)["detail"]
    editor_client.get(url)
    with count_queries() as queries:
        assert editor_client.get(url).status_code == 200
    # 1 session, 2 user, 3 product + policy, 4 memberships, 5 report, 6 its signatures (state of
    # each reviewer), 7 the reviewers, 8 groups (role check), 9 history rows, 10 product
    # switcher, 11 signature panel; 12-14 session save. No signature yet: no competence query.
    assert queries.count == 14, queries.dump()


def test_the_dossier_prints_the_report_as_its_own_section(in_review, reviewers, product):
    from riskbench import signatures

    for user, meaning in ((reviewers[0], "approved"), (reviewers[1], "reviewed")):
        signatures.record_sign(
            record=in_review, by=user, username=user.username, password=PASSWORD,
            meaning=meaning, expected_version=in_review.version,
        )  # fmt: skip
    rendered = render_dossier(product)
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(rendered.pdf)).pages).split()
    )
    assert "Risk management report" in text
    assert "9 a — risk management plan" in text
    assert "Confirmed: the overall residual risk is acceptable in relation to the" in text
    assert "Quinn Reviewer" in text and "Chair of the review" in text
    assert "Head of quality" in text  # role and qualification at signing (4.3)
    assert "NOT SIGNED" not in text
    section = next(e for e in rendered.data.extensions if e.section == "report")
    assert section.title == "Risk management report"


def test_the_dossier_says_when_no_report_exists(product):
    rendered = render_dossier(product)
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(rendered.pdf)).pages).split()
    )
    assert "No risk management report has been recorded for 2.1" in text
