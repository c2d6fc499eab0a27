"""Pages of the post-market records. Thin: load through selectors, check the role, call a
service. Every view needs a login (middleware), `product_for` (members only: others get 404)
to read and `require_editor` (auditors get 403) to write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from hazards.models import Category
from hazards.selectors import product_for
from postmarket import imports, sbom, selectors, services
from postmarket.forms import (
    AssessForm,
    ChangeRequestForm,
    ChangeStatusForm,
    CloseForm,
    ExposureForm,
    FeedUploadForm,
    FieldRecordForm,
    FieldRecordListFilters,
    FieldReviewForm,
    ProblemReportForm,
    ProblemReportListFilters,
    ProblemStatusForm,
    ReestimateForm,
    ReportHazardForm,
    ReportItemForm,
    ReportRunForm,
    ReviewReasonForm,
    VulnerabilityListFilters,
)
from postmarket.models import (
    AnalysisState,
    ChangeRequest,
    ChangeStatus,
    FieldDecision,
    FieldKind,
    FieldRecord,
    FieldRecordHazard,
    ImportStatus,
    ProblemReport,
    ProblemReportHazard,
    ProblemReportItem,
    ProblemReportRun,
    ProblemSource,
    ProblemStatus,
    TrendCategory,
    Vulnerability,
    VulnerabilityImport,
)
from postmarket.tasks import run_vulnerability_import
from riskbench import roles, signatures
from riskbench.accesslog import record_access
from riskbench.filters import paginate, read_filters
from riskbench.forms_flow import add_service_errors, submit_versioned_form
from riskbench.history import versions
from riskbench.models import AccessAction
from riskbench.services import StaleEditError
from traceability.models import TestRun

PAGE_SIZE = 100


def _errors(exc) -> str:
    return " ".join(getattr(exc, "messages", [str(exc)]))


def _act(request, action, success: str) -> None:
    """Run a service call from a POST; say what happened either way."""
    try:
        result = action()
    except (ValidationError, StaleEditError, signatures.SignatureRefused) as exc:
        messages.error(request, _errors(exc))
        return None
    messages.success(request, success)
    return result


def _page(request, queryset):
    page = paginate(request, queryset, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _history(request, product, record):
    return render(
        request,
        "hazards/history.html",
        {"product": product, "record": record, "versions": versions(record)},
    )


# --- Problem reports (IEC 62304 §9) -----------------------------------------------------------


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


# --- Vulnerabilities ----------------------------------------------------------------------------


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


# --- Field information (ISO 14971 §10) ----------------------------------------------------------


def _field(product, code) -> FieldRecord:
    return get_object_or_404(FieldRecord, product=product, code=code)


@require_GET
def field_record_list(request, slug):
    product = product_for(request, slug)
    filters = read_filters(request, FieldRecordListFilters)
    page, query = _page(request, selectors.field_record_list(product, filters))
    return render(
        request,
        "postmarket/field_record_list.html",
        {
            "product": product,
            "page": page,
            "query": query,
            "filters": filters,
            "kinds": FieldKind.choices,
            "decisions": FieldDecision.choices,
        },
    )


def field_record_create(request, slug):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    form = FieldRecordForm(request.POST or None)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, _v: services.field_record_create(
            product=product, by=request.user, reason=reason, **fields
        ),
        success=lambda record: f"{record.code} recorded.",
    )
    if submitted.saved:
        return redirect(submitted.record.get_absolute_url())
    return render(
        request,
        "postmarket/field_record_form.html",
        {"product": product, "form": form, "stale_changes": submitted.stale_changes},
    )


def field_record_edit(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    record = _field(product, code)
    form = FieldRecordForm(request.POST or None, instance=record)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, version: services.field_record_update(
            record=record, by=request.user, reason=reason, expected_version=version, **fields
        ),
        success=f"{code} saved.",
    )
    if submitted.saved:
        return redirect(record.get_absolute_url())
    return render(
        request,
        "postmarket/field_record_form.html",
        {
            "product": product,
            "form": form,
            "record": record,
            "stale_changes": submitted.stale_changes,
        },
    )


@require_GET
def field_record_detail(request, slug, code):
    product = product_for(request, slug)
    record = selectors.field_record_detail(product, code)
    record.product = product
    links = list(record.hazard_links.all())
    return render(
        request,
        "postmarket/field_record_detail.html",
        {
            "product": product,
            "record": record,
            "links": [
                (
                    link,
                    ReestimateForm(initial={"version": link.hazard.version}, prefix=f"h{link.pk}"),
                )
                for link in links
            ],
            "review_form": FieldReviewForm(
                initial={
                    "version": record.version,
                    "safety_relevant": "true" if record.safety_relevant else "false",
                    "decision": record.decision or FieldDecision.NO_CHANGE,
                    "review_notes": record.review_notes,
                }
            ),
            "hazard_form": ReportHazardForm(product=product),
            "versions": versions(record, limit=5),
        },
    )


@require_POST
def field_record_review(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    record = _field(product, code)
    form = FieldReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not saved: give the relevance, the decision and the review.")
        return redirect(record.get_absolute_url())
    data = form.cleaned_data
    new_hazard = None
    if data["decision"] == FieldDecision.NEW_HAZARD:
        new_hazard = {
            "title": data["new_hazard_title"],
            "category": data["new_hazard_category"] or Category.SAFETY,
        }
    _act(
        request,
        lambda: services.field_record_review(
            record=record,
            by=request.user,
            reason=data["reason"],
            expected_version=data["version"],
            safety_relevant=data["safety_relevant"],
            decision=data["decision"],
            review_notes=data["review_notes"],
            new_hazard=new_hazard,
        ),
        f"{code} reviewed: {FieldDecision(data['decision']).label}.",
    )
    return redirect(record.get_absolute_url())


@require_POST
def field_record_link_hazard(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    record = _field(product, code)
    form = ReportHazardForm(request.POST, product=product)
    if not form.is_valid():
        messages.error(request, "Choose a hazard of this product.")
    else:
        hazard = form.cleaned_data["hazard"]
        _act(
            request,
            lambda: services.field_record_link_hazard(
                record=record, hazard=hazard, by=request.user, reason=form.cleaned_data["reason"]
            ),
            f"{code} now concerns {hazard.code}.",
        )
    return redirect(record.get_absolute_url())


@require_POST
def field_record_reestimate(request, slug, code, link_id):
    """Re-estimate a linked hazard; the hazard's history names this record as the reason."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    record = _field(product, code)
    link = get_object_or_404(FieldRecordHazard, pk=link_id, field_record=record)
    form = ReestimateForm(request.POST, prefix=f"h{link.pk}")
    if not form.is_valid() or not form.estimate():
        messages.error(request, "Give at least one new estimate value.")
    else:
        _act(
            request,
            lambda: services.field_record_reestimate(
                record=record,
                hazard=link.hazard,
                by=request.user,
                expected_version=form.cleaned_data["version"],
                note=form.cleaned_data["note"],
                **form.estimate(),
            ),
            f"{link.hazard.code} re-estimated after {code}.",
        )
    return redirect(record.get_absolute_url())


@require_GET
def field_record_history(request, slug, code):
    product = product_for(request, slug)
    return _history(request, product, _field(product, code))


@require_GET
def field_trend(request, slug):
    """Per hazard: linked field information and whether the estimated probability holds."""
    product = product_for(request, slug)
    hazard_code = request.GET.get("hazard", "").strip()[:20]
    rows, exposure = selectors.hazard_trends(product, hazard_code)
    return render(
        request,
        "postmarket/field_trend.html",
        {
            "product": product,
            "rows": rows,
            "exposure": exposure,
            "hazard_code": hazard_code,
            "exposure_form": ExposureForm(),
        },
    )


@require_POST
def field_exposure_create(request, slug):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    form = ExposureForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Not saved: "
            + "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()),
        )
    else:
        _act(
            request,
            lambda: services.field_exposure_create(
                product=product, by=request.user, **form.cleaned_data
            ),
            "Exposure recorded.",
        )
    return redirect(reverse("postmarket:field_trend", args=[slug]))


# --- Dashboard panel (riskbench.navigation.DASHBOARD_PANELS) -------------------------------------


def dashboard_panel(request, product):
    """Post-market state on the product dashboard: open problem reports, vulnerabilities to
    handle, SOUP past end of support. Three queries."""
    return "postmarket/_dashboard_panel.html", {
        "pm": selectors.dashboard_counts(product),
        "eos": selectors.soup_past_end_of_support(product),
    }
