"""Baseline pages: who may use them, what they show, fixed query counts."""

import pytest
from django.urls import reverse

from hazards import services as hazard_services
from riskbench.models import AccessLogEntry
from tests import factories
from tests.riskbench.test_signatures import PASSWORD
from traceability.baselines import services
from traceability.baselines.models import Baseline

pytestmark = pytest.mark.django_db


@pytest.fixture
def baseline(product, editor):
    factories.HazardFactory(product=product, code="HAZ-001", title="Over-delivery")
    return services.baseline_create(
        product=product, name="R1", by=editor, username="editor", password=PASSWORD
    )


def urls(product, baseline):
    return [
        reverse("baselines:list", args=[product.slug]),
        reverse("baselines:detail", args=[product.slug, baseline.pk]),
        reverse("baselines:json", args=[product.slug, baseline.pk]),
        reverse("baselines:diff", args=[product.slug]),
    ]


def take_post(client, product, **overrides):
    data = {
        "name": "Release 2.1 submission",
        "note": "",
        "meaning": "approved",
        "username": "editor",
        "password": PASSWORD,
    }
    data.update(overrides)
    return client.post(reverse("baselines:list", args=[product.slug]), data)


def test_anonymous_users_are_sent_to_login(client, product, baseline):
    for url in urls(product, baseline):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    take_post(client, product)
    assert Baseline.objects.count() == 1


def test_outsiders_get_404_everywhere(outsider_client, product, baseline):
    for url in urls(product, baseline):
        assert outsider_client.get(url).status_code == 404, url
    assert take_post(outsider_client, product, username="outsider").status_code == 404
    assert Baseline.objects.count() == 1


def test_auditors_read_but_cannot_take_baselines(auditor_client, product, baseline):
    for url in urls(product, baseline):
        assert auditor_client.get(url).status_code == 200, url
    page = auditor_client.get(reverse("baselines:list", args=[product.slug]))
    assert b"Take and sign baseline" not in page.content
    assert take_post(auditor_client, product, username="auditor").status_code == 403
    assert Baseline.objects.count() == 1


def test_editor_takes_a_signed_baseline(editor_client, product, baseline):
    response = take_post(editor_client, product)
    created = Baseline.objects.get(name="Release 2.1 submission")
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    page = editor_client.get(created.get_absolute_url())
    html = page.content.decode()
    assert created.content_sha256 in html and "Intact" in html and "Approved" in html
    assert "Unchanged" in html


def test_wrong_password_takes_nothing_and_says_so(editor_client, product, baseline):
    response = take_post(editor_client, product, password="wrong")
    assert response.status_code == 200
    assert "Wrong user ID or password" in response.content.decode()
    assert Baseline.objects.count() == 1


def test_a_duplicate_name_is_shown_on_the_form(editor_client, product, baseline):
    response = take_post(editor_client, product, name="R1")
    assert response.status_code == 200
    assert "already has a baseline" in response.content.decode()


def test_the_snapshot_download_is_the_hashed_bytes_and_is_logged(auditor_client, product, baseline):
    import hashlib

    response = auditor_client.get(reverse("baselines:json", args=[product.slug, baseline.pk]))
    assert hashlib.sha256(response.content).hexdigest() == baseline.content_sha256
    assert AccessLogEntry.objects.filter(action="export", product=product).exists()


def test_diff_page_shows_changes_since_a_baseline(editor_client, editor, product, baseline):
    hazard = product.hazards.get(code="HAZ-001")
    hazard_services.hazard_update(
        hazard=hazard, by=editor, reason="", title="Bolus overdose", expected_version=hazard.version
    )
    factories.HazardFactory(product=product, code="HAZ-002")
    page = editor_client.get(reverse("baselines:diff", args=[product.slug]))
    html = page.content.decode()
    assert "<del>Over-delivery</del>" in html and "<ins>Bolus overdose</ins>" in html
    assert reverse("hazards:hazard_detail", args=[product.slug, "HAZ-002"]) in html
    assert page.context["counts"] == {"added": 1, "removed": 0, "changed": 1}


def test_diff_between_two_baselines_and_bad_ids(editor_client, editor, product, baseline):
    factories.HazardFactory(product=product, code="HAZ-002")
    second = services.baseline_create(
        product=product, name="R2", by=editor, username="editor", password=PASSWORD
    )
    url = reverse("baselines:diff", args=[product.slug])
    page = editor_client.get(url, {"a": baseline.pk, "b": second.pk})
    assert page.context["counts"]["added"] == 1
    assert editor_client.get(url, {"a": 999999, "b": "now"}).status_code == 404


def test_empty_states(editor_client, product):
    assert (
        b"No baselines yet"
        in editor_client.get(reverse("baselines:list", args=[product.slug])).content
    )
    assert (
        b"No baselines yet"
        in editor_client.get(reverse("baselines:diff", args=[product.slug])).content
    )


def test_list_and_diff_queries_do_not_grow(editor_client, editor, product, baseline, count_queries):
    list_url = reverse("baselines:list", args=[product.slug])
    diff_url = reverse("baselines:diff", args=[product.slug])
    editor_client.get(list_url)
    with count_queries() as small_list:
        editor_client.get(list_url)
    with count_queries() as small_diff:
        editor_client.get(diff_url)
    for i in range(10):
        factories.HazardControlFactory(
            hazard=factories.HazardFactory(product=product, code=f"H-{i}")
        )
    for name in ("R2", "R3"):
        services.baseline_create(
            product=product, name=name, by=editor, username="editor", password=PASSWORD
        )
    with count_queries() as large_list:
        editor_client.get(list_url)
    with count_queries() as large_diff:
        editor_client.get(diff_url)
    assert small_list.count == large_list.count, large_list.dump()
    assert small_diff.count == large_diff.count, large_diff.dump()
