"""Pages of the traceability side. Thin: load through selectors, check the role, call a
service. Every view needs a login (middleware), `require_member` to read and `require_editor` to
write; non-members get 404."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Length
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from hazards.forms import StatusForm
from hazards.models import Category, Hazard, RiskControl
from hazards.selectors import product_for
from hazards.views import change_status
from riskbench import lists, roles
from riskbench.filters import read_filters
from riskbench.forms_flow import add_service_errors, submit_versioned_form
from riskbench.history import versions
from riskbench.models import Status
from riskbench.navigation import safe_next_url
from riskbench.services import StaleEditError
from traceability import graph as tg
from traceability import neighbourhood, selectors, services, summary
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
from traceability.summary import product_summary
from traceability.svg import render_trace_svg


def _back(request, default: str):
    """Redirect to the page the form came from (`next`), if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next")
    return HttpResponseRedirect(safe_next_url(request, target) or default)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _delete_with_reason(request, code: str, delete, *, page: str, list_page: str):
    """POST of a record's delete button. A reason is required (it stays in the history with
    the deleted values, 21 CFR 11.10(e)) and so is the version the page showed (a record
    changed since is not deleted); `delete(reason)` calls the service. Back to the
    record's `page` when nothing was deleted, to the `list_page` when it was."""
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for the deletion.")
        return redirect(page)
    try:
        delete(form.cleaned_data["reason"])
    except StaleEditError as exc:
        messages.error(request, f"Not deleted: {exc}")
        return redirect(page)
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


SOFTWARE_EXPORT_HEADERS = [
    "Code",
    "Name",
    "Parent",
    "Recorded safety class",
    "Required safety class",
    "Requirements",
    "SOUP",
    "Manufacturer",
    "SOUP version",
    "Package URL",
    "Licence",
    "Anomalies reviewed",
    "Support",
    "End of support",
    "Findings",
]


def _software_export_rows(rows):
    codes = {r["item"].pk: r["item"].code for r in rows}
    for r in rows:
        item = r["item"]
        yield [
            item.code,
            item.name,
            codes.get(item.parent_id, ""),
            item.safety_class,
            r["required"],
            item.requirement_count,
            "yes" if item.is_soup else "",
            item.manufacturer,
            item.soup_version,
            item.purl,
            item.licence,
            item.anomalies_reviewed_at.strftime("%Y-%m-%d") if item.anomalies_reviewed_at else "",
            item.get_support_status_display() if item.is_soup else "",
            item.end_of_support.strftime("%Y-%m-%d") if item.end_of_support else "",
            "; ".join(g.message for g in r["gaps"]),
        ]


@require_GET
def software_item_list(request, slug):
    product = product_for(request, slug)
    analysis = product_summary(product)
    required = {node[1]: cls for node, cls in analysis.required_classes.items()}
    tree = selectors.software_tree(product)
    rows = [
        {
            "item": row.item,
            "depth": row.depth,
            "indent": row.depth * 1.25,
            "required": required.get(row.item.pk, "A"),
            "too_low": any(
                g.kind == "software_class_too_low"
                for g in analysis.gaps_at((tg.SOFTWARE_ITEM, row.item.pk))
            ),
            "gaps": [
                g
                for g in analysis.gaps_at((tg.SOFTWARE_ITEM, row.item.pk))
                if g.kind != "suspect_link"
            ],
        }
        for row in tree
    ]
    soup = [r for r in rows if r["item"].is_soup]
    fmt = lists.export_format(request)
    if fmt:
        return lists.export_response(
            request,
            fmt,
            name=f"{slug}-software-items",
            title="Software items",
            headers=SOFTWARE_EXPORT_HEADERS,
            rows=_software_export_rows(rows),
            product=product,
        )
    page, query = lists.paginate(request, rows)
    return render(
        request,
        "traceability/software_item_list.html",
        {
            "product": product,
            "rows": page.object_list,
            "item_count": len(rows),
            "page": page,
            "query": query,
            "soup": soup,
        },
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
    analysis = product_summary(product)
    node = (tg.SOFTWARE_ITEM, item.pk)
    return render(
        request,
        "traceability/software_item_detail.html",
        {
            "product": product,
            "item": item,
            "required_class": analysis.required_classes.get(node, "A"),
            "gaps": list(analysis.gaps_at(node)),
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
        lambda reason: services.software_item_delete(
            item=item, by=request.user, reason=reason, expected_version=request.POST.get("version")
        ),
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


REQUIREMENT_EXPORT_HEADERS = [
    "Code",
    "Level",
    "Title",
    "Text",
    "Rationale",
    "Status",
    "Software item",
    "Implements risk controls",
    "Verified by tests",
]


def _requirement_export_rows(requirements):
    for r in requirements:
        yield [
            r.code,
            r.get_level_display(),
            r.title,
            r.text,
            r.rationale,
            r.get_status_display(),
            r.software_item.code if r.software_item else "",
            ", ".join(link.control.code for link in r.control_links.all()),
            ", ".join(link.test_case.code for link in r.test_links.all()),
        ]


@require_GET
def requirement_list(request, slug):
    product = product_for(request, slug)
    filters = read_filters(request, RequirementListFilters)
    requirements = selectors.requirement_list(product, filters)
    fmt = lists.export_format(request)
    if fmt:
        return lists.export_response(
            request,
            fmt,
            name=f"{slug}-requirements",
            title="Requirements",
            headers=REQUIREMENT_EXPORT_HEADERS,
            rows=_requirement_export_rows(requirements),
            product=product,
        )
    page, query = lists.paginate(request, requirements)
    return render(
        request,
        "traceability/requirement_list.html",
        {
            "product": product,
            "page": page,
            "filters": filters,
            "query": query,
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
            requirement=requirement,
            by=request.user,
            reason=reason,
            expected_version=request.POST.get("version"),
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


TEST_EXPORT_HEADERS = [
    "Code",
    "Title",
    "Method",
    "Level",
    "Latest result",
    "Latest run (UTC)",
    "Runs",
    "Verifies requirements",
    "Verifies implementation of",
    "Verifies effectiveness of",
]


def _test_export_rows(tests):
    for t in tests:
        yield [
            t.code,
            t.title,
            t.get_method_display(),
            t.get_level_display(),
            _label(TestResult.choices, t.latest_result) or "never run",
            t.latest_run_at.strftime("%Y-%m-%d %H:%M") if t.latest_run_at else "",
            t.run_count,
            ", ".join(link.requirement.code for link in t.requirement_links.all()),
            ", ".join(link.control.code for link in t.implementation_control_links.all()),
            ", ".join(link.control.code for link in t.effectiveness_control_links.all()),
        ]


@require_GET
def test_case_list(request, slug):
    product = product_for(request, slug)
    filters = read_filters(request, TestCaseListFilters)
    tests = selectors.test_case_list(product, filters)
    fmt = lists.export_format(request)
    if fmt:
        return lists.export_response(
            request,
            fmt,
            name=f"{slug}-tests",
            title="Test cases",
            headers=TEST_EXPORT_HEADERS,
            rows=_test_export_rows(tests),
            product=product,
        )
    page, query = lists.paginate(request, tests)
    return render(
        request,
        "traceability/test_case_list.html",
        {
            "product": product,
            "page": page,
            "filters": filters,
            "query": query,
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
            test_case=test_case,
            by=request.user,
            reason=reason,
            expected_version=request.POST.get("version"),
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


# Python's own table only (the same on every server, whatever /etc/mime.types says), plus the
# plain-text files test evidence often is.
EVIDENCE_TYPES = mimetypes.MimeTypes(filenames=())
for _ext in (".log", ".out", ".md", ".csv"):
    EVIDENCE_TYPES.add_type("text/csv" if _ext == ".csv" else "text/plain", _ext)


@require_GET
def evidence_download(request, slug, code, run_id):
    """Serve a run's evidence as an attachment, only to members (never as inline HTML)."""
    product = product_for(request, slug)
    run = get_object_or_404(TestRun, pk=run_id, test_case__product=product, test_case__code=code)
    if not run.evidence:
        raise Http404("This run has no evidence file.")
    filename = run.evidence_name or "evidence"
    # The real type, from the name stored at upload (a PDF opens as a PDF, a log as text), yet
    # always as an attachment with nosniff: the browser never renders it inside RiskBench.
    content_type, encoding = EVIDENCE_TYPES.guess_type(filename, strict=False)
    if not content_type or encoding:
        content_type = "application/octet-stream"
    elif content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    response = FileResponse(
        run.evidence.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type=content_type,
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


# --- Type-ahead link pickers ----------------------------------------------------------------------

PICKER_LIMIT = 20


def _picker_queryset(product, kind: str):
    """The records of `kind` a link picker may offer, and the field that names them."""
    querysets = {
        "hazard": (product.hazards.all(), "title"),
        "safety_hazard": (product.hazards.filter(category=Category.SAFETY), "title"),
        "control": (product.controls.all(), "title"),
        "requirement": (product.requirements.all(), "title"),
        "test": (product.test_cases.all(), "title"),
        "software_item": (product.software_items.all(), "name"),
    }
    return querysets.get(kind, (None, ""))


@require_GET
def picker(request, slug):
    """JSON for a link picker: up to 20 records of one kind of this product whose code or
    title contains `q` (`?kind=hazard|safety_hazard|control|requirement|test|software_item`).
    Members only (404 otherwise), like every page of the product."""
    product = product_for(request, slug)
    kind = request.GET.get("kind", "hazard")
    qs, title = _picker_queryset(product, kind)
    if qs is None:
        return JsonResponse({"error": f"kind: unknown kind of record {kind[:40]!r}."}, status=400)
    text = request.GET.get("q", "").strip()[:100]
    if text:
        qs = qs.filter(Q(code__icontains=text) | Q(**{f"{title}__icontains": text}))
    rows = qs.order_by("code").values_list("code", title)[:PICKER_LIMIT]
    return JsonResponse({"results": [{"code": code, "title": name} for code, name in rows]})


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
    gaps = product_summary(product).gaps_of("suspect_link")
    page, query = lists.paginate(request, gaps)
    links = selectors.suspect_links(product, page.object_list)
    return render(
        request,
        "traceability/suspect_links.html",
        {
            "product": product,
            "links": links,
            "page": page,
            "query": query,
            "count": len(gaps),
            "review_form": ReviewForm(),
        },
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

MATRIX_PAGE_ROWS = 100  # rows of the "only rows with gaps" view (every chain computed)


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


# Hazards per matrix page: each brings its whole chain (controls, requirements, tests, runs,
# about four rows), so a page of 25 is ~100 rows, as long as the other lists' pages.
MATRIX_PAGE_HAZARDS = 25


def _matrix_page(request, product):
    """One page of the matrix without the product's graph: the page's hazards are chosen and
    counted in the database (the verification filter reads the cached summary), their chains
    come from their neighbourhood (`neighbourhood.matrix_rows`). (filters, page, rows)"""
    filters = read_filters(request, MatrixFilters)
    hazards = Hazard.objects.filter(product=product)
    if filters["category"]:
        hazards = hazards.filter(category=filters["category"])
    if filters["status"]:
        hazards = hazards.filter(status=filters["status"])
    if filters["q"]:
        hazards = hazards.filter(Q(code__icontains=filters["q"]) | Q(title__icontains=filters["q"]))
    if filters["verification"]:
        states = product_summary(product).hazards
        wanted = [node[1] for node, state in states.items() if state == filters["verification"]]
        hazards = hazards.filter(pk__in=wanted)
    ordered = hazards.order_by(Length("code"), "code").values_list("pk", flat=True)
    page, query = lists.paginate(request, ordered, MATRIX_PAGE_HAZARDS)
    nodes = [(tg.HAZARD, pk) for pk in page.object_list]
    graph, analysis = neighbourhood.matrix_rows(product, nodes)
    return filters, page, query, tg.trace_rows(graph, nodes, analysis=analysis)


@require_GET
def matrix(request, slug):
    product = product_for(request, slug)
    fmt = lists.export_format(request)
    if fmt or request.GET.get("gaps"):
        # Exports hold every row; "only rows with gaps" needs every chain's gaps.
        filters, analysis, rows = _matrix(request, product)
        if fmt:
            return _matrix_export(request, product, rows, fmt)
        page, query = lists.paginate(request, rows, MATRIX_PAGE_ROWS)
        page_rows = page.object_list
        counts = {"row_count": len(rows), "gap_row_count": sum(1 for r in rows if r.gaps)}
    else:
        filters, page, query, page_rows = _matrix_page(request, product)
        counts = {"hazard_count": page.paginator.count}
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
        for row in page_rows
    ]
    return render(
        request,
        "traceability/matrix.html",
        {
            "product": product,
            "page": page,
            "rows": shown,
            **counts,
            "filters": filters,
            "query": query,
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


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value or ""))


def _risk_words(category: str, acceptability: str) -> str:
    from hazards import risk

    if not acceptability:
        return "Not estimated"
    try:
        return risk.ACCEPTABILITY_LABELS[risk.Category(category)][risk.Acceptability(acceptability)]
    except ValueError:
        return acceptability


def _export_rows(rows):
    for row in rows:
        yield [
            row.hazard_code,
            row.hazard_title,
            _label(Category.choices, row.category),
            _label(Status.choices, row.hazard_status),
            _risk_words(row.category, row.initial_acceptability),
            _risk_words(row.category, row.residual_acceptability),
            row.hazard_verification,
            row.control_code,
            row.control_title,
            row.control_implementation,
            row.control_effectiveness,
            row.requirement_code,
            row.requirement_title,
            row.test_code,
            row.test_title,
            _label(TestResult.choices, row.latest_result) or ("never run" if row.test else ""),
            row.latest_run_at.strftime("%Y-%m-%d %H:%M") if row.latest_run_at else "",
            "yes" if row.suspect else "",
            "; ".join(tg.GAP_KINDS[g] for g in row.gaps),
        ]


@require_GET
def matrix_csv(request, slug):
    product = product_for(request, slug)
    _filters, _analysis, rows = _matrix(request, product)
    return _matrix_export(request, product, rows, lists.CSV)


@require_GET
def matrix_xlsx(request, slug):
    product = product_for(request, slug)
    _filters, _analysis, rows = _matrix(request, product)
    return _matrix_export(request, product, rows, lists.XLSX)


def _matrix_export(request, product, rows, fmt):
    return lists.export_response(
        request,
        fmt,
        name=f"{product.slug}-traceability-matrix",
        title="Traceability matrix",
        headers=EXPORT_HEADER,
        rows=_export_rows(rows),
        product=product,
    )


# --- Coverage, impact, trace picture ------------------------------------------------------------


def _gap_url(gap, product, linker, suspect_url: str) -> str:
    """The page where a gap is fixed: the record's own page, the suspect-link review, or the
    page of a record outside the trace graph (scope and plan, policy, report, post-market
    records: `selectors.record_url`, by URL name); empty when it has none."""
    if gap.kind == "suspect_link":
        return suspect_url
    if gap.node[0] in selectors.DETAIL_URLS:
        return linker.url(gap.node[0], gap.code)
    return selectors.record_url(product, gap)


@require_GET
def coverage(request, slug):
    """Counts and percentages per check of the release gate (DESIGN.md §8), each gap a link to
    the record to fix."""
    product = product_for(request, slug)
    analysis = product_summary(product)
    linker = selectors.Linker(slug)
    suspect_url = reverse("traceability:suspect_links", args=[slug])
    kinds = {row.kind for row in analysis.coverage}
    shown = request.GET.get("kind", "")
    shown = shown if shown in kinds else ""
    sections, page, query = [], None, ""
    for row in analysis.coverage:
        if shown and row.kind != shown:
            continue
        if shown:  # one kind, every gap, page by page
            page, query = lists.paginate(request, analysis.gaps_of(row.kind))
            gaps = page.object_list
        else:  # the overview: the first gaps of each kind, a link to the rest
            gaps = analysis.previews.get(row.kind, [])[:COVERAGE_PREVIEW]
        items = [
            {
                "gap": gap,
                "url": _gap_url(gap, product, linker, suspect_url),
            }
            for gap in gaps
        ]
        sections.append({"row": row, "gaps": items, "more": row.gaps - len(items)})
    return render(
        request,
        "traceability/coverage.html",
        {
            "product": product,
            "coverage": analysis.coverage,
            "sections": sections,
            "gap_count": analysis.gap_count,
            "shown_kind": shown,
            "page": page,
            "query": query,
        },
    )


COVERAGE_PREVIEW = summary.PREVIEW  # gaps of each kind on the overview; ?kind= pages the rest


def _node_for_code(product, kind: str, code: str):
    if kind not in tg.NODE_KINDS:
        raise Http404("Unknown item kind.")
    node = neighbourhood.node_for_code(product, kind, code)
    if node is None:
        raise Http404(f"No {kind} {code} in this product.")
    return node


IMPACT_SEARCH_LIMIT = 100


@require_GET
def impact_start(request, slug):
    """Find the item to analyse by code or words (any kind); an exact code goes straight to
    its impact analysis. Searched in the database: two queries per kind of item (count and the
    first matches), whatever the product's size."""
    product = product_for(request, slug)
    text = (request.GET.get("q") or request.GET.get("code") or "").strip()
    matches, match_count = [], 0
    if text:
        linker = selectors.Linker(slug)
        for kind in tg.NODE_KINDS:
            model = neighbourhood.NODE_MODELS[kind]
            title = "name" if kind == tg.SOFTWARE_ITEM else "title"
            found = model.objects.filter(product=product).filter(
                Q(code__icontains=text) | Q(**{f"{title}__icontains": text})
            )
            exact = found.filter(code__iexact=text).values_list("code", flat=True).first()
            if exact:
                return redirect("traceability:impact", slug, kind, exact)
            match_count += found.count()
            room = IMPACT_SEARCH_LIMIT - len(matches)
            rows = found.order_by(Length("code"), "code").values_list("code", title)[:room]
            matches += [
                {
                    "kind": tg.NODE_KIND_LABELS[kind],
                    "code": code,
                    "title": name,
                    "url": reverse("traceability:impact", args=[slug, kind, code]),
                    "page": linker.url(kind, code),
                }
                for code, name in (rows if room > 0 else [])
            ]
    return render(
        request,
        "traceability/impact_start.html",
        {
            "product": product,
            "q": text,
            "matches": matches,
            "match_count": match_count,
            "limit": IMPACT_SEARCH_LIMIT,
        },
    )


@require_GET
def impact(request, slug, kind, code):
    """What a change to this item puts at stake (ISO 14971 10.4; IEC 62304 7.4)."""
    product = product_for(request, slug)
    node = _node_for_code(product, kind, code)
    graph = neighbourhood.closure(product, node)
    analysis = product_summary(product)
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
    node = _node_for_code(product, tg.HAZARD, code)
    linker = selectors.Linker(slug)
    sub, controls = neighbourhood.hazard_picture(product, node)
    svg = render_trace_svg(sub, node, url_for=lambda n: linker.node(sub, n), controls=controls)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-cache"
    return response
