"""Pages of signatures, the audit trail and the access log: who may use them, what they show,
and that their query counts do not grow with the data."""

import pytest
from django.urls import reverse

from hazards import services
from hazards.models import RiskPolicy
from riskbench.models import AccessLogEntry, Signature, Status
from tests import factories
from tests.riskbench.test_signatures import PASSWORD, approvable_hazard

pytestmark = pytest.mark.django_db


@pytest.fixture
def hazard(product, editor):
    return approvable_hazard(product, editor)


def sign_post(client, hazard, user, **overrides):
    data = {
        "meaning": "approved",
        "username": user.username,
        "password": PASSWORD,
        "reason": "Residual risk acceptable",
        "expected_version": hazard.version,
        "next": "/somewhere-safe/",
    }
    data.update(overrides)
    return client.post(reverse("core:sign", args=["hazard", hazard.pk]), data)


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages]


# --- Signatures page and sign view ---------------------------------------------------------------


def test_anonymous_users_are_sent_to_login_everywhere(client, hazard):
    urls = [
        reverse("core:audit_trail"),
        reverse("core:audit_trail_csv"),
        reverse("core:access_log"),
        reverse("core:access_log_csv"),
        reverse("core:record_signatures", args=["hazard", hazard.pk]),
        reverse("core:open_record", args=["hazards.hazard", hazard.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    response = sign_post(client, hazard, factories.UserFactory())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Signature.objects.exists()


def test_editor_signs_and_approves_from_the_page(editor_client, editor, hazard):
    response = sign_post(editor_client, hazard, editor)
    assert response.status_code == 302 and response["Location"] == "/somewhere-safe/"
    assert any(m.startswith("Signed: ") for m in messages_of(response))
    hazard.refresh_from_db()
    assert hazard.status == Status.APPROVED
    signature = Signature.objects.get()
    assert signature.reason == "Residual risk acceptable"


def test_wrong_password_on_the_page_signs_nothing_and_says_so(editor_client, editor, hazard):
    response = sign_post(editor_client, hazard, editor, password="wrong")
    assert response.status_code == 302
    assert any("Wrong user ID or password" in m for m in messages_of(response))
    assert not Signature.objects.exists()
    hazard.refresh_from_db()
    assert hazard.status == Status.IN_REVIEW


def test_an_offsite_next_url_is_ignored(editor_client, editor, hazard):
    response = sign_post(editor_client, hazard, editor, next="https://evil.example/")
    assert "evil.example" not in response["Location"]


def test_auditor_may_read_signatures_but_not_sign(auditor_client, auditor, hazard):
    page = auditor_client.get(reverse("core:record_signatures", args=["hazard", hazard.pk]))
    assert page.status_code == 200
    assert b"Sign this record" not in page.content
    assert sign_post(auditor_client, hazard, auditor).status_code == 403
    assert not Signature.objects.exists()


def test_outsider_gets_404_for_another_products_record(outsider_client, outsider, hazard):
    url = reverse("core:record_signatures", args=["hazard", hazard.pk])
    assert outsider_client.get(url).status_code == 404
    assert sign_post(outsider_client, hazard, outsider).status_code == 404
    url = reverse("core:open_record", args=["hazards.hazard", hazard.pk])
    assert outsider_client.get(url).status_code == 404
    assert not Signature.objects.exists()


def test_unknown_record_kinds_and_ids_are_404(editor_client, hazard):
    assert editor_client.get(reverse("core:record_signatures", args=["user", 1])).status_code == 404
    missing = reverse("core:record_signatures", args=["hazard", hazard.pk + 999])
    assert editor_client.get(missing).status_code == 404


def test_the_signatures_panel_shows_each_manifestation_and_state(editor_client, editor, hazard):
    editor.first_name, editor.last_name = "Ada", "Quinn"
    editor.save()
    sign_post(editor_client, hazard, editor)
    services.hazard_update(
        hazard=hazard, by=editor, reason="Field data", harm="Death", expected_version=hazard.version
    )
    page = editor_client.get(reverse("core:record_signatures", args=["hazard", hazard.pk]))
    html = page.content.decode()
    assert "Ada Quinn" in html and "Approved" in html and " UTC" in html
    assert "Superseded" in html
    assert "Sign this record" in html and 'type="password"' in html


def test_the_signatures_include_renders_on_any_page(rf, editor, hazard):
    from django.template import engines

    request = rf.get("/")
    request.user = editor
    html = (
        engines["django"]
        .from_string('{% include "riskbench/_signatures.html" with record=record %}')
        .render({"record": hazard}, request)
    )
    assert "Electronic signatures" in html and "Sign this record" in html
    policy = hazard.product.risk_policy
    html = (
        engines["django"]
        .from_string('{% include "riskbench/_signatures.html" with record=record %}')
        .render({"record": policy}, request)
    )
    assert reverse("core:sign", args=["policy", policy.pk]) in html


def test_a_policy_signatures_page_is_open_to_the_products_members_only(
    auditor_client, product, other_product
):
    url = reverse("core:record_signatures", args=["policy", product.risk_policy.pk])
    assert auditor_client.get(url).status_code == 200
    theirs = reverse("core:record_signatures", args=["policy", other_product.risk_policy.pk])
    assert auditor_client.get(theirs).status_code == 404


# --- Audit trail ---------------------------------------------------------------------------


def test_audit_trail_shows_every_change_with_who_why_and_values(editor_client, editor, hazard):
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="Clarified harm",
        harm="Coma",
        expected_version=hazard.version,
    )
    page = editor_client.get(reverse("core:audit_trail"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "HAZ-001" in html and "Clarified harm" in html
    assert "<ins>Coma</ins>" in html
    assert reverse("core:open_record", args=["hazards.hazard", hazard.pk]) in html


def test_audit_trail_filters_by_product_user_type_date_and_text(
    editor_client, editor, product, hazard
):
    services.hazard_update(
        hazard=hazard, by=editor, reason="Needle text", harm="Coma", expected_version=hazard.version
    )
    url = reverse("core:audit_trail")

    def count(**params):
        return editor_client.get(url, params).context["page"].paginator.count

    total = count()
    assert count(product=product.slug) < total  # the global policy chain is left out
    assert count(model="hazards.hazard") == 3  # created, submitted for review, edited
    assert count(model="hazards.hazard", action="~") == 2
    assert count(q="needle") == 1
    assert count(user="editor") >= 4
    assert count(user="nobody") == 0
    assert count(date_from="2000-01-01", date_to="2000-01-02") == 0
    assert count(model="hazards.hazard", date_from=hazard.created_at.date().isoformat()) == 3
    assert count(model="hazards.hazard", object=str(hazard.pk)) == 3


def test_outsider_sees_none_of_another_products_trail(outsider_client, product, hazard):
    url = reverse("core:audit_trail")
    page = outsider_client.get(url)
    assert page.status_code == 200
    assert b"HAZ-001" not in page.content
    assert outsider_client.get(url, {"product": product.slug}).status_code == 404
    csv = outsider_client.get(reverse("core:audit_trail_csv"))
    assert b"HAZ-001" not in b"".join(csv.streaming_content)


def test_auditor_reads_the_trail_and_exports_it(auditor_client, auditor, product, hazard):
    assert auditor_client.get(reverse("core:audit_trail")).status_code == 200
    response = auditor_client.get(reverse("core:audit_trail_csv"), {"product": product.slug})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("when_utc,product,record_type,record")
    assert any("HAZ-001" in line for line in lines[1:])
    log = AccessLogEntry.objects.get(action="export")
    assert log.user == auditor and log.product == product


def test_csv_export_neutralises_spreadsheet_formulas(editor_client, editor, hazard):
    services.hazard_update(
        hazard=hazard, by=editor, reason="=HYPERLINK(1)", harm="x", expected_version=hazard.version
    )
    body = b"".join(editor_client.get(reverse("core:audit_trail_csv")).streaming_content)
    assert b",'=HYPERLINK(1)," in body


def test_audit_trail_queries_do_not_grow_with_data(editor_client, editor, product, count_queries):
    def load(n):
        for _ in range(n):
            approvable_hazard(product, editor)

    url = reverse("core:audit_trail")
    load(1)
    editor_client.get(url)  # warm caches (content types, sessions)
    with count_queries() as small:
        editor_client.get(url)
    load(20)
    with count_queries() as large:
        response = editor_client.get(url)
    assert response.context["page"].paginator.count > 50  # more than one page
    # session, user, memberships → products, groups, count, page (with user, product),
    # navigation (products, role).
    assert small.count == large.count, large.dump()


def test_open_record_follows_a_link_entry_to_the_trail(editor_client, hazard):
    link = hazard.control_links.get()
    response = editor_client.get(
        reverse("core:open_record", args=["hazards.hazardcontrol", link.pk])
    )
    assert response.status_code == 302
    assert "object=" in response["Location"] or response["Location"].startswith("/p/")


# --- Access log ----------------------------------------------------------------------------


def test_access_log_shows_signatures_and_refusals(editor_client, editor, product, hazard):
    sign_post(editor_client, hazard, editor, password="wrong")
    sign_post(editor_client, hazard, editor)
    page = editor_client.get(reverse("core:access_log"))
    actions = [e.action for e in page.context["page"].object_list]
    assert "signature" in actions and "signature_failed" in actions


def test_access_log_keeps_other_users_logins_private(client, editor, outsider, auditor):
    client.force_login(outsider)
    client.post(reverse("logout"))
    client.force_login(editor)
    page = client.get(reverse("core:access_log"))
    names = {e.username for e in page.context["page"].object_list}
    assert "outsider" not in names
    client.force_login(auditor)
    page = client.get(reverse("core:access_log"))
    assert "outsider" in {e.username for e in page.context["page"].object_list}
    assert client.get(reverse("core:access_log_csv")).status_code == 200


def test_access_log_product_filter_is_404_for_non_members(outsider_client, product):
    url = reverse("core:access_log")
    assert outsider_client.get(url, {"product": product.slug}).status_code == 404


def test_a_draft_is_not_offered_for_approval(editor_client, editor, product):
    draft = services.hazard_create(product=product, by=editor, title="Draft", category="safety")
    page = editor_client.get(reverse("core:record_signatures", args=["hazard", draft.pk]))
    html = page.content.decode()
    assert 'value="reviewed"' in html and 'value="approved"' not in html


def test_an_approved_record_without_a_matching_approval_signature_is_flagged(
    editor_client, editor, product
):
    # A template marked approved without a signature (as a data migration once did; hazards
    # 0007 withdraws such approvals, and the seed is a draft now).
    seeded = RiskPolicy.objects.get(product__isnull=True)
    assert seeded.status == "draft"
    policy = RiskPolicy.objects.create(
        name="Legacy approved template",
        status="approved",
        **{name: getattr(seeded, name) for name in seeded.criteria()},
    )
    page = editor_client.get(reverse("core:record_signatures", args=["policy", policy.pk]))
    assert "no “Approved” signature matches" in page.content.decode()
