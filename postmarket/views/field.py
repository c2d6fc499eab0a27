"""Production and post-production information pages (ISO 14971 §10) and the dashboard panel.
Thin: load through selectors, check the role, call a service. Every view needs a login
(middleware), `product_for` (members only: others get 404) to read and `require_editor`
(auditors get 403) to write."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from hazards.models import Category
from hazards.selectors import product_for
from postmarket import selectors, services
from postmarket.forms import (
    ExposureForm,
    FieldRecordForm,
    FieldRecordListFilters,
    FieldReviewForm,
    ReestimateForm,
    ReportHazardForm,
)
from postmarket.models import (
    FieldDecision,
    FieldKind,
    FieldRecord,
    FieldRecordHazard,
)

# --- Field information (ISO 14971 §10) ----------------------------------------------------------
from postmarket.views.common import _act, _history, _page
from riskbench import roles
from riskbench.filters import read_filters
from riskbench.forms_flow import submit_versioned_form
from riskbench.history import versions


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
