"""SOUP vulnerability pages. Thin: load through selectors, check the role, call a
service. Every view needs a login (middleware), `product_for` (members only: others get 404)
to read and `require_editor` (auditors get 403) to write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from hazards.selectors import product_for
from postmarket import imports, sbom, selectors, services
from postmarket.forms import (
    AssessForm,
    FeedUploadForm,
    VulnerabilityListFilters,
)
from postmarket.models import (
    AnalysisState,
    ImportStatus,
    Vulnerability,
    VulnerabilityImport,
)
from postmarket.tasks import run_vulnerability_import

# --- Vulnerabilities ----------------------------------------------------------------------------
from postmarket.views.common import _act, _history, _page
from riskbench import roles
from riskbench.accesslog import record_access
from riskbench.filters import read_filters
from riskbench.forms_flow import add_service_errors
from riskbench.history import versions
from riskbench.models import AccessAction


@require_GET
def vulnerability_list(request, slug):
    product = product_for(request, slug)
    filters = read_filters(request, VulnerabilityListFilters)
    page, query = _page(request, selectors.vulnerability_list(product, filters))
    return render(
        request,
        "postmarket/vulnerability_list.html",
        {
            "product": product,
            "page": page,
            "query": query,
            "filters": filters,
            "states": AnalysisState.choices,
            "eos": selectors.soup_past_end_of_support(product),
        },
    )


@require_GET
def vulnerability_detail(request, slug, code):
    product = product_for(request, slug)
    vulnerability = selectors.vulnerability_detail(product, code)
    vulnerability.product = product
    form = AssessForm(
        product=product,
        initial={
            "analysis_state": vulnerability.analysis_state,
            "justification": vulnerability.justification,
            "analysis_detail": vulnerability.analysis_detail,
            "hazard": vulnerability.hazard_id,
            "problem_report": vulnerability.problem_report_id,
            "version": vulnerability.version,
        },
    )
    return render(
        request,
        "postmarket/vulnerability_detail.html",
        {
            "product": product,
            "v": vulnerability,
            "form": form,
            "versions": versions(vulnerability, limit=5),
        },
    )


def _vulnerability(product, code) -> Vulnerability:
    return get_object_or_404(Vulnerability, product=product, code=code)


@require_POST
def vulnerability_assess(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    vulnerability = _vulnerability(product, code)
    form = AssessForm(request.POST, product=product)
    if not form.is_valid():
        messages.error(
            request,
            "Not saved: "
            + "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()),
        )
    else:
        data = form.cleaned_data
        _act(
            request,
            lambda: services.vulnerability_assess(
                vulnerability=vulnerability,
                by=request.user,
                reason=data["reason"],
                expected_version=data["version"],
                analysis_state=data["analysis_state"],
                justification=data["justification"],
                analysis_detail=data["analysis_detail"],
                hazard=data["hazard"],
                problem_report=data["problem_report"],
            ),
            f"{code} assessed.",
        )
    return redirect(vulnerability.get_absolute_url())


@require_POST
def vulnerability_new_hazard(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    vulnerability = _vulnerability(product, code)
    hazard = _act(
        request,
        lambda: services.vulnerability_new_hazard(
            vulnerability=vulnerability,
            by=request.user,
            expected_version=_int(request.POST.get("version")),
        ),
        f"{code} is affected: a security hazard was opened for it — analyse it.",
    )
    if hazard is not None:
        return redirect(hazard.get_absolute_url())
    return redirect(vulnerability.get_absolute_url())


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_GET
def vulnerability_history(request, slug, code):
    product = product_for(request, slug)
    return _history(request, product, _vulnerability(product, code))


def vulnerability_import(request, slug):
    """Upload an OSV feed (and KEV): checked in the background, progress shown here."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    form = FeedUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = imports.import_request(
                product=product,
                by=request.user,
                feed=form.cleaned_data["feed"],
                kev=form.cleaned_data.get("kev"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            run_vulnerability_import.enqueue(record.pk)
            record.refresh_from_db()
            if record.status == ImportStatus.FAILED:
                messages.error(request, f"The feed was refused: {record.error}")
            elif record.status == ImportStatus.DONE:
                created = len(record.summary.get("created", []))
                messages.success(request, f"Feed checked: {created} new vulnerabilities.")
            else:
                messages.success(request, "The feed is being checked; progress shows below.")
            return redirect("postmarket:vulnerability_import", slug)
    runs = list(
        VulnerabilityImport.objects.filter(product=product).select_related("created_by")[:20]
    )
    return render(
        request,
        "postmarket/vulnerability_import.html",
        {
            "product": product,
            "form": form,
            "runs": runs,
            "pending": any(r.is_pending for r in runs),
        },
    )


@require_GET
def vulnerability_import_status(request, slug, pk):
    """Progress of one check as JSON, polled by dossier/progress.js (same keys)."""
    product = product_for(request, slug)
    record = get_object_or_404(VulnerabilityImport, pk=pk, product=product)
    return JsonResponse(
        {
            "id": record.pk,
            "status": record.status,
            "status_label": record.get_status_display(),
            "progress": record.progress,
            "stage": record.stage,
            "pending": record.is_pending,
        }
    )


@require_GET
def sbom_download(request, slug):
    """The SOUP list with VEX assessments as CycloneDX 1.6 JSON (export: access-logged)."""
    product = product_for(request, slug)
    text = sbom.export_sbom(product)
    record_access(
        request.user, AccessAction.EXPORT, f"CycloneDX SBOM of {slug}", request, product=product
    )
    response = HttpResponse(text, content_type="application/vnd.cyclonedx+json")
    response["Content-Disposition"] = f'attachment; filename="{slug}-sbom.cdx.json"'
    return response
