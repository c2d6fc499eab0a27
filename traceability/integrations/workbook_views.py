"""Pages of the workbook import (upload → preview → confirm), the workbook export, and the
saved mappings (list, upload, download). Thin: `workbook.py` reads, plans and writes;
`mappings.py` checks mapping documents. Members read; editors import and save mappings.

The confirmation re-plans under a lock on the product and is refused when the plan differs from
the one previewed (its fingerprint: actions and the versions seen), so nothing that moved since
the preview is overwritten (DESIGN §7)."""

from __future__ import annotations

import contextlib
import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from hazards.selectors import product_for
from riskbench import roles
from riskbench.filters import whole_number
from traceability.integrations import mappings, workbook
from traceability.integrations import workbook_export as export
from traceability.integrations.forms import MappingUploadForm, WorkbookUploadForm
from traceability.integrations.models import ImportMapping, UploadKind
from traceability.integrations.uploads import UploadError
from traceability.integrations.views import _finish, _preview_url, _stage, _staged

SHOWN_PROBLEMS = 500


def workbook_import(request, slug):
    product = product_for(request, slug)
    form = WorkbookUploadForm(product=product)
    if request.method == "POST":
        roles.require_editor(request.user, product)
        form = WorkbookUploadForm(request.POST, request.FILES, product=product)
        if form.is_valid():
            staged = _stage(request, product, UploadKind.WORKBOOK, form)
            extra = {"implied": "1"} if form.cleaned_data["implied_controls"] else {}
            if form.cleaned_data["mapping"]:
                extra["mapping"] = form.cleaned_data["mapping"].pk
            return redirect(_preview_url("integrations:workbook_preview", product, staged, **extra))
    return render(
        request,
        "integrations/upload.html",
        {
            "product": product,
            "form": form,
            "can_edit": roles.can_edit(request.user, product),
            "title": "Import a risk file workbook",
            "intro": "One sheet per record type, link columns holding codes separated by ';'. "
            "Plain English headers need no mapping. Next you see what would be created, "
            "updated, ignored or rejected; nothing is written until you confirm.",
        },
    )


def _mapping_of(request, product):
    raw = request.POST.get("mapping") or request.GET.get("mapping") or ""
    with contextlib.suppress(ValueError):
        saved = product.import_mappings.filter(pk=whole_number(raw, minimum=1)).first()
        if saved is not None:
            return saved, mappings.validate(mappings.document(saved))
    return None, None


def workbook_preview(request, slug):
    product = product_for(request, slug)
    if request.method == "POST":
        roles.require_editor(request.user, product)
    staged = _staged(request, product, UploadKind.WORKBOOK)
    if staged is None:
        return redirect("integrations:workbook_import", slug=product.slug)
    implied = (request.POST.get("implied") or request.GET.get("implied")) == "1"
    confirm = request.method == "POST" and request.POST.get("action") == "confirm"
    try:
        saved, mapping = _mapping_of(request, product)
        source = workbook.read_bytes(staged.read(), staged.filename)
        plan = workbook.import_workbook(
            product=product,
            source=source,
            mapping=mapping,
            by=request.user,
            dry_run=not confirm,
            implied_controls=implied,
            expected_fingerprint=request.POST.get("fingerprint", "") if confirm else None,
        )
    except workbook.WorkbookRefused as exc:
        plan, saved = exc.plan, None
        messages.error(request, f"Nothing was imported. {exc}")
    except (UploadError, mappings.MappingError) as exc:
        messages.error(request, f"{staged.filename}: {exc} Nothing was imported.")
        if not isinstance(exc, UploadError) or "changed since the preview" not in str(exc):
            _finish(staged)
            return redirect("integrations:workbook_import", slug=product.slug)
        extra = {"implied": "1"} if implied else {}
        if request.POST.get("mapping"):
            extra["mapping"] = request.POST["mapping"]
        return redirect(_preview_url("integrations:workbook_preview", product, staged, **extra))
    else:
        if plan.written:
            _finish(staged)
            messages.success(request, f"{staged.filename} imported: {plan.summary()}.")
            return redirect("integrations:index", slug=product.slug)
    return render(
        request,
        "integrations/workbook_preview.html",
        {
            "product": product,
            "staged": staged,
            "plan": plan,
            "mapping": saved,
            "implied": implied,
            "rejections": plan.rejections()[:SHOWN_PROBLEMS],
            "ignored": plan.ignored()[:SHOWN_PROBLEMS],
            "can_edit": roles.can_edit(request.user, product),
        },
    )


@require_GET
def workbook_export(request, slug):
    product = product_for(request, slug)
    if request.GET.get("format") == "zip":
        data, name = export.export_zip(product), f"{product.slug}-risk-file.zip"
        content_type = "application/zip"
    else:
        data, name = export.export_xlsx(product), f"{product.slug}-risk-file.xlsx"
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def mapping_list(request, slug):
    """Saved mappings: listed, downloadable, and new ones uploaded (editors)."""
    product = product_for(request, slug)
    form = MappingUploadForm()
    if request.method == "POST":
        roles.require_editor(request.user, product)
        form = MappingUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                doc = json.loads(form.data_bytes.decode("utf-8-sig"))
                mappings.save(product, form.cleaned_data["name"], doc, by=request.user)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                form.add_error("file", f"Not a JSON file: {exc}.")
            except mappings.MappingError as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(request, f"Mapping “{form.cleaned_data['name']}” saved.")
                return redirect("integrations:mapping_list", slug=product.slug)
    rows = [
        (saved, ", ".join(mappings.document(saved).get("sheets", {})))
        for saved in product.import_mappings.select_related("created_by").order_by("name")
    ]
    return render(
        request,
        "integrations/mappings.html",
        {
            "product": product,
            "rows": rows,
            "form": form,
            "can_edit": roles.can_edit(request.user, product),
        },
    )


@require_GET
def mapping_download(request, slug, pk):
    product = product_for(request, slug)
    saved = get_object_or_404(ImportMapping, pk=pk, product=product)
    response = HttpResponse(
        mappings.dumps(mappings.document(saved)), content_type="application/json"
    )
    filename = f"{product.slug}-mapping-{saved.pk}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
