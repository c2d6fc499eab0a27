"""Pages of the risk management report: list, create, edit, view and sign, history. Thin:
members read, editors write through `traceability.report.services`; signing goes through the
shared signature form (`core:sign`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from hazards import selectors as hazard_selectors
from hazards.forms import StatusForm
from riskbench import roles
from riskbench.forms_flow import submit_versioned_form
from riskbench.history import versions
from riskbench.models import Status
from riskbench.services import StaleEditError
from traceability.report import services
from traceability.report.forms import ReportForm
from traceability.report.models import RiskManagementReport
from traceability.report.selectors import current_report, report_state


def _report(product, pk) -> RiskManagementReport:
    return get_object_or_404(
        RiskManagementReport.objects.select_related("product"), product=product, pk=pk
    )


@require_GET
def report_list(request, slug):
    product = hazard_selectors.product_for(request, slug)
    reports = list(RiskManagementReport.objects.filter(product=product).order_by("-created_at"))
    current = current_report(product)
    return render(
        request,
        "report/list.html",
        {
            "product": product,
            "reports": reports,
            "current": current,
            "can_edit": roles.can_edit(request.user, product),
        },
    )


def report_create(request, slug):
    product = hazard_selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    form = ReportForm(
        request.POST or None,
        product=product,
        initial={
            "release": product.model_number,
            "evaluation_method": product.overall_residual_risk_method,
        },
    )
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, _version: services.report_create(
            product=product, by=request.user, reason=reason, **fields
        ),
        success=lambda report: f"{report} recorded as a draft.",
    )
    if submitted.saved:
        return redirect(submitted.record.get_absolute_url())
    return render(request, "report/form.html", {"product": product, "form": form})


def report_edit(request, slug, pk):
    product = hazard_selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, pk)
    form = ReportForm(request.POST or None, instance=report, product=product)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, version: services.report_update(
            report=report, by=request.user, reason=reason, expected_version=version, **fields
        ),
        success="Report saved.",
    )
    if submitted.saved:
        return redirect(report.get_absolute_url())
    return render(
        request,
        "report/form.html",
        {
            "product": product,
            "form": form,
            "report": report,
            "stale_changes": submitted.stale_changes,
        },
    )


@require_GET
def report_detail(request, slug, pk):
    product = hazard_selectors.product_for(request, slug)
    report = _report(product, pk)
    return render(
        request,
        "report/detail.html",
        {
            "product": product,
            "report": report,
            "state": report_state(report),
            "problems": services.report_problems(report),
            "can_edit": roles.can_edit(request.user, product),
            "versions": versions(report, limit=5),
        },
    )


@require_POST
def report_status(request, slug, pk):
    """Submit for review or return to draft; approval is by signature."""
    product = hazard_selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status.")
        return redirect(report.get_absolute_url())
    try:
        services.report_set_status(
            report=report,
            status=form.cleaned_data["status"],
            by=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except (StaleEditError, ValidationError) as exc:
        messages.error(request, "Not changed: " + "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        label = Status(form.cleaned_data["status"]).label
        messages.success(request, f"The report is now {label.lower()}.")
    return redirect(report.get_absolute_url())


@require_GET
def report_history(request, slug, pk):
    product = hazard_selectors.product_for(request, slug)
    report = _report(product, pk)
    return render(
        request,
        "hazards/history.html",
        {"product": product, "record": report, "versions": versions(report)},
    )
