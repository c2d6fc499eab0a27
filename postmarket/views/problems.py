"""Problem report pages (IEC 62304 §9). Thin: load through selectors, check the role, call a
service. Every view needs a login (middleware), `product_for` (members only: others get 404)
to read and `require_editor` (auditors get 403) to write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from hazards.selectors import product_for
from postmarket import selectors, services
from postmarket.forms import (
    ChangeRequestForm,
    ChangeStatusForm,
    CloseForm,
    ProblemReportForm,
    ProblemReportListFilters,
    ProblemStatusForm,
    ReportHazardForm,
    ReportItemForm,
    ReportRunForm,
    ReviewReasonForm,
)
from postmarket.models import (
    ChangeRequest,
    ChangeStatus,
    ProblemReport,
    ProblemReportHazard,
    ProblemReportItem,
    ProblemReportRun,
    ProblemSource,
    ProblemStatus,
    TrendCategory,
)

# --- Problem reports (IEC 62304 §9) -----------------------------------------------------------
from postmarket.views.common import _act, _errors, _history, _page
from riskbench import roles, signatures
from riskbench.filters import read_filters
from riskbench.forms_flow import submit_versioned_form
from riskbench.history import versions
from traceability.models import TestRun


def _report(product, code) -> ProblemReport:
    return get_object_or_404(ProblemReport, product=product, code=code)


@require_GET
def problem_report_list(request, slug):
    product = product_for(request, slug)
    filters = read_filters(request, ProblemReportListFilters)
    page, query = _page(request, selectors.problem_report_list(product, filters))
    return render(
        request,
        "postmarket/problem_report_list.html",
        {
            "product": product,
            "page": page,
            "query": query,
            "filters": filters,
            "statuses": ProblemStatus.choices,
            "sources": ProblemSource.choices,
            "trends": TrendCategory.choices,
        },
    )


def problem_report_create(request, slug):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    form = ProblemReportForm(request.POST or None)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, _v: services.problem_report_create(
            product=product, by=request.user, reason=reason, **fields
        ),
        success=lambda report: f"{report.code} reported.",
    )
    if submitted.saved:
        return redirect(submitted.record.get_absolute_url())
    return render(
        request,
        "postmarket/problem_report_form.html",
        {"product": product, "form": form, "stale_changes": submitted.stale_changes},
    )


def problem_report_edit(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, code)
    form = ProblemReportForm(request.POST or None, instance=report)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, version: services.problem_report_update(
            report=report, by=request.user, reason=reason, expected_version=version, **fields
        ),
        success=f"{code} saved.",
    )
    if submitted.saved:
        return redirect(report.get_absolute_url())
    return render(
        request,
        "postmarket/problem_report_form.html",
        {
            "product": product,
            "form": form,
            "report": report,
            "stale_changes": submitted.stale_changes,
        },
    )


@require_GET
def problem_report_detail(request, slug, code):
    product = product_for(request, slug)
    report = selectors.problem_report_detail(product, code)
    report.product = product
    can_edit = roles.can_edit(request.user, product)
    return render(
        request,
        "postmarket/problem_report_detail.html",
        {
            "product": product,
            "report": report,
            "closure_problems": services.closure_problems(report) if report.is_open else [],
            "status_form": ProblemStatusForm(initial={"version": report.version}),
            "close_form": CloseForm(initial={"version": report.version}),
            "hazard_form": ReportHazardForm(product=product) if can_edit else None,
            "item_form": ReportItemForm(product=product) if can_edit else None,
            "run_form": ReportRunForm(product=product) if can_edit else None,
            "change_form": ChangeRequestForm(),
            "change_statuses": ChangeStatus.choices,
            "review_form": ReviewReasonForm(),
            "signatures": signatures.signatures_of(report),
            "versions": versions(report, limit=5),
        },
    )


@require_POST
def problem_report_status(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, code)
    form = ProblemStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status.")
    else:
        data = form.cleaned_data
        _act(
            request,
            lambda: services.problem_report_set_status(
                report=report,
                status=data["status"],
                by=request.user,
                reason=data["reason"],
                expected_version=data["version"],
            ),
            f"{code} is now {ProblemStatus(data['status']).label}.",
        )
    return redirect(report.get_absolute_url())


@require_POST
def problem_report_close(request, slug, code):
    """Close with an electronic signature (IEC 62304 9.8; 21 CFR 11.50, 11.200)."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, code)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not closed: give your user ID and password.")
        return redirect(report.get_absolute_url())
    data = form.cleaned_data
    _act(
        request,
        lambda: services.problem_report_close(
            report=report,
            by=request.user,
            username=data["username"],
            password=data["password"],
            reason=data["reason"],
            expected_version=data["version"],
            request=request,
        ),
        f"{code} closed and signed.",
    )
    return redirect(report.get_absolute_url())


@require_POST
def problem_report_link(request, slug, code, what):
    """Link a hazard, a software item or a test run to the report."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, code)
    forms = {"hazards": ReportHazardForm, "items": ReportItemForm, "runs": ReportRunForm}
    if what not in forms:
        raise Http404("Nothing to link here.")
    form = forms[what](request.POST, product=product)
    if not form.is_valid():
        messages.error(request, "Choose a record of this product.")
        return redirect(report.get_absolute_url())
    data = form.cleaned_data
    if what == "hazards":
        action = lambda: services.problem_report_link_hazard(  # noqa: E731
            report=report, hazard=data["hazard"], by=request.user, reason=data["reason"]
        )
    elif what == "items":
        action = lambda: services.problem_report_link_item(  # noqa: E731
            report=report, item=data["software_item"], by=request.user, reason=data["reason"]
        )
    else:
        action = lambda: services.problem_report_link_run(  # noqa: E731
            report=report,
            run=data["test_run"],
            role=data["role"],
            by=request.user,
            reason=data["reason"],
        )
    _act(request, action, "Linked.")
    return redirect(report.get_absolute_url())


LINK_KINDS = {"hazard": ProblemReportHazard, "item": ProblemReportItem, "run": ProblemReportRun}


@require_POST
def problem_report_unlink(request, slug, code, kind, link_id):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, code)
    if kind not in LINK_KINDS:
        raise Http404("Unknown link.")
    link = get_object_or_404(LINK_KINDS[kind], pk=link_id, problem_report=report)
    reason = request.POST.get("reason", "").strip()[:100]
    if not reason:
        messages.error(request, "Give a reason for removing the link.")
    else:
        text = str(link)
        _act(
            request,
            lambda: services.problem_report_unlink(link=link, by=request.user, reason=reason),
            f"Link removed: {text}.",
        )
    return redirect(report.get_absolute_url())


@require_POST
def problem_hazard_reevaluated(request, slug, code, link_id):
    """The linked hazard was re-evaluated and its estimate holds (reason kept)."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, code)
    link = get_object_or_404(ProblemReportHazard, pk=link_id, problem_report=report)
    form = ReviewReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the hazard's estimate still holds.")
    else:
        _act(
            request,
            lambda: services.problem_hazard_review(
                link=link, by=request.user, reason=form.cleaned_data["reason"]
            ),
            f"{link.hazard.code} recorded as re-evaluated.",
        )
    return redirect(report.get_absolute_url())


@require_POST
def change_request_create(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, code)
    form = ChangeRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the change a title.")
    else:
        _act(
            request,
            lambda: services.change_request_create(
                report=report, by=request.user, **form.cleaned_data
            ),
            "Change requested.",
        )
    return redirect(report.get_absolute_url())


@require_POST
def change_request_status(request, slug, code, change_code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    report = _report(product, code)
    change = get_object_or_404(ChangeRequest, problem_report=report, code=change_code)
    form = ChangeStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status.")
    else:
        data = form.cleaned_data
        fields = {"status": data["status"]}
        if data["implemented_in"]:
            fields["implemented_in"] = data["implemented_in"]
        _act(
            request,
            lambda: services.change_request_update(
                change=change,
                by=request.user,
                reason=data["reason"],
                expected_version=data["version"],
                **fields,
            ),
            f"{change_code} saved.",
        )
    return redirect(report.get_absolute_url())


@require_GET
def problem_report_history(request, slug, code):
    product = product_for(request, slug)
    return _history(request, product, _report(product, code))


@require_POST
def problem_report_from_run(request, slug, code, run_id):
    """One click from a failed run on the test page: a problem report linked to it."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    run = get_object_or_404(TestRun, pk=run_id, test_case__product=product, test_case__code=code)
    try:
        report, created = services.problem_report_from_run(run=run, by=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("traceability:test_case_detail", slug, code)
    if created:
        messages.success(request, f"{report.code} reported from the failed run of {code}.")
    else:
        messages.info(request, f"This run is already reported in {report.code}.")
    return redirect(report.get_absolute_url())
