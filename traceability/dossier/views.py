"""Dossier pages: list a product's exports, ask for a new one, poll its progress, download it.

Members only (editors and auditors alike: an auditor may generate and download the file he
audits); everyone else gets 404 from `product_for`. Every request for and download of a dossier
is written to the access log (21 CFR 11.10(d)).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from hazards.selectors import product_for
from traceability.dossier import services
from traceability.dossier.models import DossierExport, ExportStatus
from traceability.dossier.tasks import generate_dossier

LISTED = 50


def _export(request, slug: str, pk: int) -> DossierExport:
    product = product_for(request, slug)
    return get_object_or_404(
        DossierExport.objects.select_related("product", "created_by"), pk=pk, product=product
    )


@require_GET
def dossier_list(request, slug):
    product = product_for(request, slug)
    exports = list(
        DossierExport.objects.filter(product=product).select_related("created_by", "baseline")[
            :LISTED
        ]
    )
    return render(
        request,
        "dossier/list.html",
        {
            "product": product,
            "exports": exports,
            "pending": any(e.is_pending for e in exports),
        },
    )


@require_POST
def dossier_generate(request, slug):
    product = product_for(request, slug)
    export = services.export_request(product=product, by=request.user, request=request)
    generate_dossier.enqueue(export.pk)
    export.refresh_from_db()
    if export.status == ExportStatus.DONE:
        messages.success(
            request,
            f"Dossier generated: {export.page_count} page{pluralize(export.page_count)}, "
            f"SHA-256 {export.sha256}.",
        )
    elif export.status == ExportStatus.FAILED:
        messages.error(request, f"The dossier could not be generated: {export.error}")
    else:
        messages.success(
            request, "The dossier is being generated in the background; this page shows progress."
        )
    return redirect("dossier:list", slug=product.slug)


@require_GET
def dossier_status(request, slug, pk):
    """Progress of one export as JSON, polled by dossier/progress.js."""
    export = _export(request, slug, pk)
    done = export.status == ExportStatus.DONE
    return JsonResponse(
        {
            "id": export.pk,
            "status": export.status,
            "status_label": export.get_status_display(),
            "progress": export.progress,
            "stage": export.stage,
            "pending": export.is_pending,
            "sha256": export.sha256,
            "download_url": reverse("dossier:download", args=[slug, export.pk]) if done else None,
        }
    )


@require_GET
def dossier_download(request, slug, pk):
    export = _export(request, slug, pk)
    if export.status != ExportStatus.DONE or not export.file:
        raise Http404("This dossier is not available.")
    services.export_download_logged(export=export, by=request.user, request=request)
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.filename,
        content_type="application/pdf",
    )


def dashboard_panel(request, product):
    """ "Generate dossier" on the product dashboard, with the latest export
    (riskbench.navigation.DASHBOARD_PANELS). One query."""
    latest = DossierExport.objects.filter(product=product).select_related("created_by").first()
    return "dossier/_dashboard_panel.html", {"latest": latest}
