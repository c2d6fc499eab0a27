"""Dossier pages: who may use them (anonymous, auditor, editor, member of another product),
the background generation and its progress, the download and the access log."""

import hashlib
from unittest import mock

import pytest
from django.urls import reverse

from riskbench.models import AccessLogEntry
from traceability.dossier import services
from traceability.dossier.models import DossierExport, ExportStatus


@pytest.fixture
def export(risk_file, editor):
    export = services.export_request(product=risk_file, by=editor)
    return services.export_generate(export.pk)


def _urls(product, export):
    return {
        "list": ("get", reverse("dossier:list", args=[product.slug])),
        "generate": ("post", reverse("dossier:generate", args=[product.slug])),
        "status": ("get", reverse("dossier:status", args=[product.slug, export.pk])),
        "download": ("get", reverse("dossier:download", args=[product.slug, export.pk])),
    }


@pytest.mark.parametrize("name", ["list", "generate", "status", "download"])
def test_anonymous_is_sent_to_login(client, risk_file, export, name):
    method, url = _urls(risk_file, export)[name]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["list", "generate", "status", "download"])
def test_a_member_of_another_product_gets_404(outsider_client, risk_file, export, name):
    method, url = _urls(risk_file, export)[name]
    assert getattr(outsider_client, method)(url).status_code == 404
    assert DossierExport.objects.count() == 1  # nothing generated for the outsider


@pytest.mark.parametrize("client_fixture", ["auditor_client", "editor_client"])
def test_members_list_generate_poll_and_download(
    request, risk_file, auditor, editor, export, client_fixture
):
    # Both members exist before the first export, so the data of both exports is the same.
    client = request.getfixturevalue(client_fixture)
    urls = _urls(risk_file, export)
    page = client.get(urls["list"][1])
    assert page.status_code == 200
    assert export.sha256 in page.content.decode()
    assert "Generate dossier" in page.content.decode()

    response = client.post(urls["generate"][1], follow=True)
    assert response.status_code == 200
    new = DossierExport.objects.order_by("-pk").first()
    assert new.pk != export.pk and new.status == ExportStatus.DONE
    assert new.created_by.username == client_fixture.removesuffix("_client")
    assert "Dossier generated" in response.content.decode()
    assert new.history.count() == 3  # requested, started, generated
    assert {h.history_change_reason for h in new.history.all()} >= {"Dossier requested"}

    status = client.get(urls["status"][1]).json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["download_url"] == urls["download"][1]

    download = client.get(urls["download"][1])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    body = b"".join(download.streaming_content)
    assert body.startswith(b"%PDF") and hashlib.sha256(body).hexdigest() == export.sha256
    # Same data, same bytes: the new export has the same SHA-256 as the first.
    assert new.sha256 == export.sha256


def test_requests_and_downloads_are_in_the_access_log(auditor_client, risk_file, export, auditor):
    urls = _urls(risk_file, export)
    auditor_client.post(urls["generate"][1])
    auditor_client.get(urls["download"][1])
    entries = AccessLogEntry.objects.filter(user=auditor, action="export", product=risk_file)
    details = [e.detail for e in entries]
    assert any("Requested the dossier" in d for d in details)
    assert any(f"SHA-256 {export.sha256}" in d and "Downloaded" in d for d in details)


def test_a_pending_export_shows_progress_and_refreshes_without_javascript(
    editor_client, risk_file, editor
):
    export = services.export_request(product=risk_file, by=editor)
    export.progress, export.stage = 42, "Laying out: 6  Hazard analysis"
    export.save_without_historical_record()
    page = editor_client.get(reverse("dossier:list", args=[risk_file.slug])).content.decode()
    assert '<noscript><meta http-equiv="refresh"' in page
    assert 'value="42"' in page and "dossier/progress.js" in page
    assert "Laying out: 6  Hazard analysis" in page
    status = editor_client.get(reverse("dossier:status", args=[risk_file.slug, export.pk])).json()
    assert status == {
        "id": export.pk,
        "status": "queued",
        "status_label": "Queued",
        "progress": 42,
        "stage": "Laying out: 6  Hazard analysis",
        "pending": True,
        "sha256": "",
        "download_url": None,
    }
    # Not finished: nothing to download yet.
    url = reverse("dossier:download", args=[risk_file.slug, export.pk])
    assert editor_client.get(url).status_code == 404


def test_a_failed_generation_is_recorded_and_reported(editor_client, risk_file):
    with mock.patch.object(services.selectors, "gather", side_effect=RuntimeError("disk full")):
        response = editor_client.post(
            reverse("dossier:generate", args=[risk_file.slug]), follow=True
        )
    export = DossierExport.objects.get()
    assert export.status == ExportStatus.FAILED and "disk full" in export.error
    assert "could not be generated" in response.content.decode()


def test_progress_is_reported_while_generating_but_not_kept_in_history(risk_file, editor):
    export = services.export_request(product=risk_file, by=editor)
    seen = []
    original = services._Progress.__call__

    def spy(self, fraction, stage):
        original(self, fraction, stage)
        seen.append(DossierExport.objects.values_list("progress", flat=True).get(pk=export.pk))

    with mock.patch.object(services._Progress, "__call__", spy):
        services.export_generate(export.pk)
    assert seen == sorted(seen) and seen[-1] >= 90 and len(set(seen)) > 5
    history = DossierExport.history.filter(id=export.pk)
    assert history.count() == 3
    assert not hasattr(history.first(), "progress")


def test_the_dashboard_panel_offers_the_button_and_the_latest_export(
    rf, risk_file, export, editor, count_queries
):
    from django.template.loader import render_to_string

    from traceability.dossier.views import dashboard_panel

    request = rf.get("/")
    request.user = editor
    with count_queries() as q:
        template, context = dashboard_panel(request, risk_file)
    assert q.count == 1  # the latest export with its author
    html = render_to_string(template, {"panel": context, "product": risk_file}, request=request)
    assert "Generate dossier" in html and reverse("dossier:generate", args=[risk_file.slug]) in html
    assert export.filename in html
