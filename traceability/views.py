"""Pages of the traceability side. Thin: load through selectors, check the role, call a
service. Every view needs a login (middleware), `require_member` to read and `require_editor` to
write; non-members get 404."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from hazards.forms import StatusForm
from hazards.models import Category, RiskControl
from hazards.selectors import product_for
from hazards.views import change_status
from riskbench import roles
from riskbench.filters import paginate, read_filters
from riskbench.forms_flow import add_service_errors, submit_versioned_form
from riskbench.history import versions
from riskbench.models import Status
from riskbench.navigation import safe_next_url
from traceability import graph as tg
from traceability import selectors, services
from traceability.forms import (
    ControlTestLinkForm,
    ItemHazardForm,
    LinkControlForm,
    LinkRequirementForm,
    LinkTestForm,
    MatrixFilters,
    ReasonForm,
    RequirementForm,
    RequirementListFilters,
    ReviewForm,
    SoftwareItemForm,
    TestCaseForm,
    TestCaseListFilters,
    TestControlLinkForm,
    TestRunForm,
)
from traceability.models import (
    LINK_MODELS,
    RequirementLevel,
    SoftwareItem,
    TestCase,
    TestLevel,
    TestMethod,
    TestResult,
    TestRun,
)
from traceability.svg import render_trace_svg


def _back(request, default: str):
    """Redirect to the page the form came from (`next`), if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next")
    return HttpResponseRedirect(safe_next_url(request, target) or default)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _delete_with_reason(request, code: str, delete, *, page: str, list_page: str):
    """POST of a record's delete button. A reason is required (it stays in the history with
    the deleted values, 21 CFR 11.10(e)); `delete(reason)` calls the service. Back to the
    record's `page` when nothing was deleted, to the `list_page` when it was."""
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for the deletion.")
        return redirect(page)
    try:
        delete(form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect(page)
    messages.success(request, f"{code} deleted; its history is kept in the audit trail.")
    return redirect(list_page)


def _link_from_form(request, form, link, *, invalid: str) -> None:
    """POST of a form that makes (or reviews) a trace link: `link(cleaned_data)` calls the
    link service and returns what to tell the user. A choice the form refuses says `invalid`;
    a link the service refuses says why. The caller redirects."""
    if not form.is_valid():
        messages.error(request, invalid)
        return
    try:
        text = link(form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, text)


# --- Software items and SOUP (IEC 62304 4.3, 5.3, 8.1.2) ----------------------------------------


@require_GET
def software_item_list(request, slug):
    product = product_for(request, slug)
    analysis = selectors.product_analysis(product)
    required = {node[1]: cls for node, cls in analysis.required_classes.items()}
    gaps = tg.gaps_by_node(analysis.gaps)
    tree = selectors.software_tree(product)
    rows = [
        {
            "item": row.item,
            "depth": row.depth,
            "indent": row.depth * 1.25,
            "required": required.get(row.item.pk, "A"),
            "too_low": any(
                g.kind == "software_class_too_low"
                for g in gaps.get((tg.SOFTWARE_ITEM, row.item.pk), ())
            ),
            "gaps": [
                g for g in gaps.get((tg.SOFTWARE_ITEM, row.item.pk), ()) if g.kind != "suspect_link"
            ],
        }
        for row in tree
    ]
    soup = [r for r in rows if r["item"].is_soup]
    return render(
        request,
        "traceability/software_item_list.html",
        {"product": product, "rows": rows, "soup": soup},
    )


def software_item_create(request, slug):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    form = SoftwareItemForm(request.POST or None, product=product)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, _version: services.software_item_create(
            product=product, by=request.user, reason=reason, **fields
        ),
        success=lambda item: f"{item.code} added to the architecture.",
    )
    if submitted.saved:
        return redirect(submitted.record.get_absolute_url())
    return render(
        request,
        "traceability/software_item_form.html",
        {"product": product, "form": form, "stale_changes": submitted.stale_changes},
    )


def _item(product, code) -> SoftwareItem:
    return get_object_or_404(SoftwareItem, product=product, code=code)


@require_GET
def software_item_detail(request, slug, code):
    product = product_for(request, slug)
    item = selectors.software_item_detail(product, code)
    item.product = product
    analysis = selectors.product_analysis(product)
    node = (tg.SOFTWARE_ITEM, item.pk)
    return render(
        request,
        "traceability/software_item_detail.html",
        {
            "product": product,
            "item": item,
            "required_class": analysis.required_classes.get(node, "A"),
            "gaps": [g for g in tg.gaps_by_node(analysis.gaps).get(node, ())],
            "hazard_form": ItemHazardForm(product=product),
            "delete_form": ReasonForm(),
            "versions": versions(item, limit=5),
        },
    )


def software_item_edit(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    item = _item(product, code)
    form = SoftwareItemForm(request.POST or None, instance=item, product=product)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, version: services.software_item_update(
            item=item, by=request.user, reason=reason, expected_version=version, **fields
        ),
        success=f"{code} saved.",
    )
    if submitted.saved:
        return redirect("traceability:software_item_detail", slug, code)
    return render(
        request,
        "traceability/software_item_form.html",
        {
            "product": product,
            "form": form,
            "item": item,
            "stale_changes": submitted.stale_changes,
        },
    )


@require_POST
def software_item_delete(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    item = _item(product, code)
    return _delete_with_reason(
        request,
        code,
        lambda reason: services.software_item_delete(item=item, by=request.user, reason=reason),
        page=reverse("traceability:software_item_detail", args=[slug, code]),
        list_page=reverse("traceability:software_item_list", args=[slug]),
    )


@require_POST
def software_item_link_hazard(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    item = _item(product, code)

    def link(data):
        services.software_item_hazard_link(
            software_item=item,
            hazard=data["hazard"],
            cause_type=data["cause_type"],
            cause=data["cause"],
            by=request.user,
            reason=data["reason"],
        )
        return f"{item.code} now contributes to {data['hazard'].code}."

    form = ItemHazardForm(request.POST, product=product)
    _link_from_form(request, form, link, invalid="Choose a hazard of this product and a cause.")
    return redirect("traceability:software_item_detail", slug, code)


@require_GET
def software_item_history(request, slug, code):
    product = product_for(request, slug)
    item = _item(product, code)
    return render(
        request,
        "hazards/history.html",
        {"product": product, "record": item, "versions": versions(item)},
    )


# --- Requirements (IEC 62304 5.2, 7.2) ---------------------------------------------------------


@require_GET
def requirement_list(request, slug):
    product = product_for(request, slug)
    filters = read_filters(request, RequirementListFilters)
    requirements = selectors.requirement_list(product, filters)
    page = paginate(request, requirements, 200)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "traceability/requirement_list.html",
        {
            "product": product,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "levels": RequirementLevel.choices,
            "statuses": Status.choices,
        },
    )


def requirement_create(request, slug):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    form = RequirementForm(request.POST or None, product=product)
    control_code = request.GET.get("control", "")

    def save(fields, reason, _version):
        requirement = services.requirement_create(
            product=product, by=request.user, reason=reason, **fields
        )
        control = product.controls.filter(code=control_code).first() if control_code else None
        if control is not None:
            services.control_requirement_link(
                control=control, requirement=requirement, by=request.user
            )
        return requirement

    submitted = submit_versioned_form(
        request, form, save, success=lambda requirement: f"{requirement.code} recorded."
    )
    if submitted.saved:
        return redirect(submitted.record.get_absolute_url())
    return render(
        request,
        "traceability/requirement_form.html",
        {
            "product": product,
            "form": form,
            "control_code": control_code,
            "stale_changes": submitted.stale_changes,
        },
    )


def _requirement(product, code):
    return get_object_or_404(product.requirements, code=code)


@require_GET
def requirement_detail(request, slug, code):
    product = product_for(request, slug)
    requirement = selectors.requirement_detail(product, code)
    requirement.product = product
    linked_controls = [link.control_id for link in requirement.control_links.all()]
    linked_tests = [link.test_case_id for link in requirement.test_links.all()]
    return render(
        request,
        "traceability/requirement_detail.html",
        {
            "product": product,
            "requirement": requirement,
            "control_form": LinkControlForm(product=product, exclude=linked_controls),
            "test_form": LinkTestForm(product=product, exclude=linked_tests),
            "status_form": StatusForm(initial={"version": requirement.version}),
            "versions": versions(requirement, limit=5),
        },
    )


def requirement_edit(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    requirement = _requirement(product, code)
    form = RequirementForm(request.POST or None, instance=requirement, product=product)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, version: services.requirement_update(
            requirement=requirement,
            by=request.user,
            reason=reason,
            expected_version=version,
            **fields,
        ),
        success=f"{code} saved; its links are now suspect until reviewed.",
    )
    if submitted.saved:
        return redirect("traceability:requirement_detail", slug, code)
    return render(
        request,
        "traceability/requirement_form.html",
        {
            "product": product,
            "form": form,
            "requirement": requirement,
            "stale_changes": submitted.stale_changes,
        },
    )


@require_POST
def requirement_status(request, slug, code):
    """Submit for review or return to draft (approval is signed on the signature page)."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    change_status(request, _requirement(product, code))
    return redirect("traceability:requirement_detail", slug, code)


@require_POST
def requirement_delete(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    requirement = _requirement(product, code)
    return _delete_with_reason(
        request,
        code,
        lambda reason: services.requirement_delete(
            requirement=requirement, by=request.user, reason=reason
        ),
        page=reverse("traceability:requirement_detail", args=[slug, code]),
        list_page=reverse("traceability:requirement_list", args=[slug]),
    )


@require_POST
def requirement_link_control(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    requirement = _requirement(product, code)

    def link(data):
        control = data["control"]
        services.control_requirement_link(
            control=control, requirement=requirement, by=request.user, reason=data["reason"]
        )
        return f"{control.code} is now implemented by {code}."

    form = LinkControlForm(request.POST, product=product)
    _link_from_form(request, form, link, invalid="Choose a risk control of this product.")
    return _back(request, reverse("traceability:requirement_detail", args=[slug, code]))


@require_POST
def requirement_link_test(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    requirement = _requirement(product, code)

    def link(data):
        test_case = data["test_case"]
        services.requirement_test_link(
            requirement=requirement, test_case=test_case, by=request.user, reason=data["reason"]
        )
        return f"{code} is now verified by {test_case.code}."

    form = LinkTestForm(request.POST, product=product)
    _link_from_form(request, form, link, invalid="Choose a test case of this product.")
    return _back(request, reverse("traceability:requirement_detail", args=[slug, code]))


@require_GET
def requirement_history(request, slug, code):
    product = product_for(request, slug)
    requirement = _requirement(product, code)
    return render(
        request,
        "hazards/history.html",
        {"product": product, "record": requirement, "versions": versions(requirement)},
    )


# --- Tests and their runs (IEC 62304 5.5–5.7, 7.3.1) -------------------------------------------


@require_GET
def test_case_list(request, slug):
    product = product_for(request, slug)
    filters = read_filters(request, TestCaseListFilters)
    tests = selectors.test_case_list(product, filters)
    page = paginate(request, tests, 200)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "traceability/test_case_list.html",
        {
            "product": product,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "levels": TestLevel.choices,
            "methods": TestMethod.choices,
            "results": [*TestResult.choices, ("none", "Never run")],
        },
    )


def test_case_create(request, slug):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    form = TestCaseForm(request.POST or None)
    requirement_code = request.GET.get("requirement", "")

    def save(fields, reason, _version):
        test_case = services.test_case_create(
            product=product, by=request.user, reason=reason, **fields
        )
        requirement = (
            product.requirements.filter(code=requirement_code).first() if requirement_code else None
        )
        if requirement is not None:
            services.requirement_test_link(
                requirement=requirement, test_case=test_case, by=request.user
            )
        return test_case

    submitted = submit_versioned_form(
        request, form, save, success=lambda test_case: f"{test_case.code} recorded."
    )
    if submitted.saved:
        return redirect(submitted.record.get_absolute_url())
    return render(
        request,
        "traceability/test_case_form.html",
        {
            "product": product,
            "form": form,
            "requirement_code": requirement_code,
            "stale_changes": submitted.stale_changes,
        },
    )


def _test_case(product, code) -> TestCase:
    return get_object_or_404(TestCase, product=product, code=code)


@require_GET
def test_case_detail(request, slug, code):
    product = product_for(request, slug)
    test_case = selectors.test_case_detail(product, code)
    test_case.product = product
    runs = list(test_case.runs.all())
    linked_reqs = [link.requirement_id for link in test_case.requirement_links.all()]
    return render(
        request,
        "traceability/test_case_detail.html",
        {
            "product": product,
            "test_case": test_case,
            "runs": runs,
            "latest": runs[0] if runs else None,
            "requirement_form": LinkRequirementForm(product=product, exclude=linked_reqs),
            "control_form": ControlTestLinkForm(product=product),
            "run_form": TestRunForm(),
            "delete_form": ReasonForm(),
            "versions": versions(test_case, limit=5),
        },
    )


def test_case_edit(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    test_case = _test_case(product, code)
    form = TestCaseForm(request.POST or None, instance=test_case)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, version: services.test_case_update(
            test_case=test_case,
            by=request.user,
            reason=reason,
            expected_version=version,
            **fields,
        ),
        success=f"{code} saved; its links are now suspect until reviewed.",
    )
    if submitted.saved:
        return redirect("traceability:test_case_detail", slug, code)
    return render(
        request,
        "traceability/test_case_form.html",
        {
            "product": product,
            "form": form,
            "test_case": test_case,
            "stale_changes": submitted.stale_changes,
        },
    )


@require_POST
def test_case_delete(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    test_case = _test_case(product, code)
    return _delete_with_reason(
        request,
        code,
        lambda reason: services.test_case_delete(
            test_case=test_case, by=request.user, reason=reason
        ),
        page=reverse("traceability:test_case_detail", args=[slug, code]),
        list_page=reverse("traceability:test_case_list", args=[slug]),
    )


@require_POST
def test_case_link_requirement(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    test_case = _test_case(product, code)

    def link(data):
        requirement = data["requirement"]
        services.requirement_test_link(
            requirement=requirement, test_case=test_case, by=request.user, reason=data["reason"]
        )
        return f"{code} now verifies {requirement.code}."

    form = LinkRequirementForm(request.POST, product=product)
    _link_from_form(request, form, link, invalid="Choose a requirement of this product.")
    return redirect("traceability:test_case_detail", slug, code)


CONTROL_TEST_SERVICES = {
    "implementation": services.control_implementation_test_link,
    "effectiveness": services.control_effectiveness_test_link,
}


@require_POST
def test_case_link_control(request, slug, code):
    """This test verifies a control's implementation or its effectiveness (ISO 14971 7.2)."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    test_case = _test_case(product, code)

    def link(data):
        control, aspect = data["control"], data["aspect"]
        CONTROL_TEST_SERVICES[aspect](
            control=control, test_case=test_case, by=request.user, reason=data["reason"]
        )
        return f"{code} now verifies the {aspect} of {control.code}."

    form = ControlTestLinkForm(request.POST, product=product)
    _link_from_form(
        request, form, link, invalid="Choose a risk control and what the test verifies."
    )
    return redirect("traceability:test_case_detail", slug, code)


def test_run_create(request, slug, code):
    """Record a run with optional evidence (hashed on upload; IEC 62304 5.7.5)."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    test_case = _test_case(product, code)
    form = TestRunForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = services.test_run_record(
                test_case=test_case,
                by=request.user,
                result=data["result"],
                executed_at=data["executed_at"],
                software_version=data["software_version"],
                notes=data["notes"],
                external_reference=data["external_reference"],
                evidence=data.get("evidence"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            text = f"Run of {code} recorded: {run.get_result_display()}."
            if run.evidence_sha256:
                text += f" Evidence SHA-256 {run.evidence_sha256[:16]}…"
            messages.success(request, text)
            return redirect("traceability:test_case_detail", slug, code)
    return render(
        request,
        "traceability/test_run_form.html",
        {"product": product, "test_case": test_case, "form": form},
    )


@require_GET
def evidence_download(request, slug, code, run_id):
    """Serve a run's evidence as an attachment, only to members (never as inline HTML)."""
    product = product_for(request, slug)
    run = get_object_or_404(TestRun, pk=run_id, test_case__product=product, test_case__code=code)
    if not run.evidence:
        raise Http404("This run has no evidence file.")
    response = FileResponse(
        run.evidence.open("rb"),
        as_attachment=True,
        filename=run.evidence_name or "evidence",
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
def test_case_history(request, slug, code):
    product = product_for(request, slug)
    test_case = _test_case(product, code)
    return render(
        request,
        "hazards/history.html",
        {"product": product, "record": test_case, "versions": versions(test_case)},
    )


# --- Links from a control's page (the control page belongs to `hazards`) ------------------------


@require_POST
def control_link_requirement(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    control = get_object_or_404(RiskControl, product=product, code=code)

    def link(data):
        requirement = data["requirement"]
        services.control_requirement_link(
            control=control, requirement=requirement, by=request.user, reason=data["reason"]
        )
        return f"{code} is now implemented by {requirement.code}."

    form = LinkRequirementForm(request.POST, product=product)
    _link_from_form(request, form, link, invalid="Choose a requirement of this product.")
    return redirect("hazards:control_detail", slug, code)


@require_POST
def control_link_test(request, slug, code):
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    control = get_object_or_404(RiskControl, product=product, code=code)

    def link(data):
        test_case, aspect = data["test_case"], data["aspect"]
        CONTROL_TEST_SERVICES[aspect](
            control=control, test_case=test_case, by=request.user, reason=data["reason"]
        )
        return f"The {aspect} of {code} is now verified by {test_case.code}."

    form = TestControlLinkForm(request.POST, product=product)
    _link_from_form(request, form, link, invalid="Choose a test case and what it verifies.")
    return redirect("hazards:control_detail", slug, code)


# --- Links: delete, suspect review --------------------------------------------------------------

TRACE_LINK_KINDS = {model.KIND: model for model in LINK_MODELS}


def _product_link(product, kind: str, link_id: int, kinds: dict):
    model = kinds.get(kind)
    if model is None:
        raise Http404("Unknown link kind.")
    link = get_object_or_404(model, pk=link_id)
    if link.source.product_id != product.pk or link.target.product_id != product.pk:
        raise Http404("No such link in this product.")
    return link


@require_POST
def link_delete(request, slug, kind, link_id):
    """Remove a traceability link (the risk register's own links are removed on its pages)."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    link = _product_link(product, kind, link_id, TRACE_LINK_KINDS)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for removing the link.")
    else:
        text = str(link)
        services.trace_link_delete(link=link, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"Link removed: {text}.")
    return _back(request, reverse("traceability:matrix", args=[slug]))


@require_GET
def suspect_link_list(request, slug):
    product = product_for(request, slug)
    analysis = selectors.product_analysis(product)
    links = selectors.suspect_links(product, analysis)
    return render(
        request,
        "traceability/suspect_links.html",
        {"product": product, "links": links, "review_form": ReviewForm()},
    )


@require_POST
def suspect_link_clear(request, slug, kind, link_id):
    """Clear a suspect link with a reason (IEC 62304 7.4); the reason is in its history."""
    product = product_for(request, slug)
    roles.require_editor(request.user, product)
    all_kinds = {k: services.link_model_for(k) for k in tg.LINK_KINDS}
    link = _product_link(product, kind, link_id, all_kinds)

    def review(data):
        services.trace_link_review(link=link, by=request.user, reason=data["reason"])
        return f"Reviewed and cleared: {link}."

    form = ReviewForm(request.POST)
    _link_from_form(request, form, review, invalid="Say why the link still holds.")
    return _back(request, reverse("traceability:suspect_links", args=[slug]))


# --- Traceability matrix (ISO 14971 4.5; IEC 62304 7.3.3) ---------------------------------------

MATRIX_PAGE_ROWS = 200


def _matrix(request, product):
    """The matrix rows the request's filters select, with the analysis they come from.

    Filters stay in the URL: category, status (the hazard's workflow status), verification
    (the hazard's verification status), gaps=1 (only rows with a gap or a suspect link), q
    (hazard code or title).
    """
    filters = read_filters(request, MatrixFilters)
    analysis = selectors.product_analysis(product)
    graph = analysis.graph
    hazards = analysis.index.nodes(tg.HAZARD)
    text = filters["q"].lower()
    selected = []
    for node in hazards:
        attrs = graph.nodes[node]
        if filters["category"] and attrs.get("category") != filters["category"]:
            continue
        if filters["status"] and attrs.get("status") != filters["status"]:
            continue
        if filters["verification"] and analysis.hazards.get(node) != filters["verification"]:
            continue
        if (
            text
            and text not in attrs.get("code", "").lower()
            and text not in (attrs.get("title", "").lower())
        ):
            continue
        selected.append(node)
    rows = tg.trace_rows(graph, selected, analysis=analysis)
    if filters["gaps"]:
        rows = [row for row in rows if row.gaps or row.suspect]
    return filters, analysis, rows


@require_GET
def matrix(request, slug):
    product = product_for(request, slug)
    filters, analysis, rows = _matrix(request, product)
    page = paginate(request, rows, MATRIX_PAGE_ROWS)
    linker = selectors.Linker(slug)
    labels = tg.GAP_KINDS
    shown = [
        {
            "row": row,
            "hazard_url": linker.url(tg.HAZARD, row.hazard_code),
            "control_url": linker.url(tg.CONTROL, row.control_code) if row.control else "",
            "requirement_url": linker.url(tg.REQUIREMENT, row.requirement_code)
            if row.requirement
            else "",
            "test_url": linker.url(tg.TEST, row.test_code) if row.test else "",
            "gap_labels": [labels[g] for g in row.gaps],
        }
        for row in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "traceability/matrix.html",
        {
            "product": product,
            "page": page,
            "rows": shown,
            "row_count": len(rows),
            "gap_row_count": sum(1 for r in rows if r.gaps),
            "filters": filters,
            "query": query.urlencode(),
            "categories": Category.choices,
            "statuses": Status.choices,
            "verifications": tg.HAZARD_STATES,
        },
    )


EXPORT_HEADER = [
    "Hazard",
    "Hazard title",
    "Category",
    "Hazard status",
    "Initial risk",
    "Residual risk",
    "Hazard verification",
    "Risk control",
    "Control title",
    "Implementation verified",
    "Effectiveness verified",
    "Requirement",
    "Requirement title",
    "Test",
    "Test title",
    "Latest result",
    "Latest run (UTC)",
    "Suspect link",
    "Gaps",
]


def _export_rows(rows):
    for row in rows:
        yield [
            row.hazard_code,
            row.hazard_title,
            row.category,
            row.hazard_status,
            row.initial_acceptability or "not estimated",
            row.residual_acceptability or "not estimated",
            row.hazard_verification,
            row.control_code,
            row.control_title,
            row.control_implementation,
            row.control_effectiveness,
            row.requirement_code,
            row.requirement_title,
            row.test_code,
            row.test_title,
            row.latest_result or ("never run" if row.test else ""),
            row.latest_run_at.strftime("%Y-%m-%d %H:%M") if row.latest_run_at else "",
            "yes" if row.suspect else "",
            "; ".join(tg.GAP_KINDS[g] for g in row.gaps),
        ]


def _cell(value):
    """Neutralise spreadsheet formulas in user text (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@require_GET
def matrix_csv(request, slug):
    product = product_for(request, slug)
    _filters, _analysis, rows = _matrix(request, product)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    for values in _export_rows(rows):
        writer.writerow([_cell(v) for v in values])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-traceability-matrix.csv"'
    return response


@require_GET
def matrix_xlsx(request, slug):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    product = product_for(request, slug)
    _filters, _analysis, rows = _matrix(request, product)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Traceability matrix")
    sheet.freeze_panes = "B2"
    bold = Font(bold=True)
    header = []
    for title in EXPORT_HEADER:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    gap_fill = PatternFill("solid", fgColor="FFF1F0")
    for row, values in zip(rows, _export_rows(rows), strict=True):
        if row.gaps:
            cells = []
            for value in values:
                cell = WriteOnlyCell(sheet, value=_cell(value))
                cell.fill = gap_fill
                cells.append(cell)
            sheet.append(cells)
        else:
            sheet.append([_cell(v) for v in values])
    sheet.auto_filter.ref = f"A1:S{len(rows) + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{slug}-traceability-matrix.xlsx"'
    return response


# --- Coverage, impact, trace picture ------------------------------------------------------------


@require_GET
def coverage(request, slug):
    """Counts and percentages per gap kind, each gap a link to the item to fix."""
    product = product_for(request, slug)
    analysis = selectors.product_analysis(product)
    linker = selectors.Linker(slug)
    graph = analysis.graph
    suspect_url = reverse("traceability:suspect_links", args=[slug])
    groups = {row.kind: [] for row in analysis.coverage}
    for gap in analysis.gaps:
        url = suspect_url if gap.kind == "suspect_link" else linker.node(graph, gap.node)
        groups[gap.kind].append({"gap": gap, "url": url})
    sections = [{"row": row, "gaps": groups[row.kind]} for row in analysis.coverage]
    return render(
        request,
        "traceability/coverage.html",
        {
            "product": product,
            "coverage": analysis.coverage,
            "sections": sections,
            "gap_count": len(analysis.gaps),
        },
    )


def _find_node(analysis: tg.Analysis, kind: str, code: str):
    if kind not in tg.NODE_KINDS:
        raise Http404("Unknown item kind.")
    graph = analysis.graph
    for node in analysis.index.nodes(kind):
        if graph.nodes[node].get("code") == code:
            return node
    raise Http404(f"No {kind} {code} in this product.")


@require_GET
def impact_start(request, slug):
    """Pick an item by code; redirect to its impact analysis."""
    product = product_for(request, slug)
    code = request.GET.get("code", "").strip().upper()
    if code:
        analysis = selectors.product_analysis(product)
        for node in analysis.graph.nodes:
            if analysis.graph.nodes[node].get("code", "").upper() == code:
                return redirect(
                    "traceability:impact", slug, node[0], analysis.graph.nodes[node]["code"]
                )
        messages.error(request, f"No item {code} in this product.")
    return render(request, "traceability/impact_start.html", {"product": product, "code": code})


@require_GET
def impact(request, slug, kind, code):
    """What a change to this item puts at stake (ISO 14971 10.4; IEC 62304 7.4)."""
    product = product_for(request, slug)
    analysis = selectors.product_analysis(product)
    graph = analysis.graph
    node = _find_node(analysis, kind, code)
    result = tg.impact(graph, node)
    linker = selectors.Linker(slug)

    def describe(n):
        attrs = graph.nodes[n]
        return {
            "node": n,
            "kind": tg.NODE_KIND_LABELS[n[0]],
            "code": attrs.get("code", ""),
            "title": attrs.get("title", ""),
            "url": linker.node(graph, n),
            "latest_result": attrs.get("latest_result"),
            "verification": analysis.hazards.get(n, ""),
            "residual": attrs.get("residual_acceptability", ""),
            "category": attrs.get("category", ""),
            "upstream": n in set(result.upstream),
        }

    groups = []
    for group_kind in tg.NODE_KINDS:
        members = [describe(n) for n in result.affected if n[0] == group_kind]
        if members:
            groups.append({"label": tg.NODE_KIND_LABELS[group_kind], "items": members})
    return render(
        request,
        "traceability/impact.html",
        {
            "product": product,
            "item": describe(node),
            "hazards": [describe(n) for n in result.upstream_hazards],
            "tests": [describe(n) for n in result.downstream_tests],
            "groups": groups,
            "affected_count": len(result.affected),
        },
    )


@require_GET
def hazard_trace_svg(request, slug, code):
    """The hazard's trace neighbourhood as an SVG picture (embedded on the hazard page)."""
    product = product_for(request, slug)
    analysis = selectors.product_analysis(product)
    node = _find_node(analysis, tg.HAZARD, code)
    linker = selectors.Linker(slug)
    sub = tg.neighbourhood(analysis.graph, node)
    svg = render_trace_svg(
        sub, node, url_for=lambda n: linker.node(sub, n), controls=analysis.controls
    )
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-cache"
    return response
