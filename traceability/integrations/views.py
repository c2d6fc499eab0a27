"""Import / export pages of a product. Thin: forms check the upload, the integration modules
parse and plan, services write. Every view checks membership (read) or the editor role (write)
server-side; non-members get 404.

Imports that change existing records go in three steps — upload, preview (a dry run listing
what will be created, updated or rejected), confirm — with the uploaded file kept between the
steps as a StagedUpload (Django storage, so any app server can finish the import).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib

from django.contrib import messages
from django.core.files.base import ContentFile
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import get_valid_filename
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from hazards.selectors import product_for
from riskbench import roles
from riskbench.filters import whole_number
from traceability.integrations import confirm as confirm_step
from traceability.integrations import hazard_table, product_json, reqif, sbom
from traceability.integrations.forms import (
    HazardUploadForm,
    MappingForm,
    ProductImportForm,
    ReqifUploadForm,
    UploadForm,
)
from traceability.integrations.junit import import_junit
from traceability.integrations.models import ImportMapping, StagedUpload, UploadKind
from traceability.integrations.uploads import UploadError

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "reqif": "application/xml",
    "json": "application/json",
}
STAGED_FOR = dt.timedelta(days=1)


def _download(data: bytes, filename: str, fmt: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _format(request, default: str = "xlsx") -> str:
    fmt = request.GET.get("format", default)
    if fmt not in {"csv", "xlsx"}:
        raise Http404("Unknown format.")
    return fmt


def _stage(request, product, kind: str, form: UploadForm) -> StagedUpload:
    """Keep the checked upload until its preview is confirmed; drop stale ones."""
    for old in StagedUpload.objects.filter(uploaded_at__lt=timezone.now() - STAGED_FOR):
        old.file.delete(save=False)
        old.delete()
    data = form.data_bytes
    name = get_valid_filename(form.cleaned_data["file"].name.rsplit("/", 1)[-1])[:120] or "upload"
    staged = StagedUpload(
        product=product,
        kind=kind,
        filename=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        uploaded_by=request.user,
    )
    staged.file.save(name, ContentFile(data), save=False)
    staged.save()
    return staged


def _staged(request, product, kind: str) -> StagedUpload | None:
    upload_id = request.POST.get("upload") or request.GET.get("upload")
    try:
        pk = whole_number(upload_id, minimum=1)
    except ValueError:
        return None
    return get_object_or_404(
        StagedUpload, pk=pk, product=product, kind=kind, uploaded_by=request.user
    )


def _finish(staged: StagedUpload) -> None:
    staged.file.delete(save=False)
    staged.delete()


def _preview_url(name: str, product, staged: StagedUpload, **extra) -> str:
    query = urlencode({"upload": staged.pk, **extra})
    return f"{reverse(name, args=[product.slug])}?{query}"


# --- Hub ----------------------------------------------------------------------------------------


@require_GET
def index(request, slug):
    product = product_for(request, slug)
    return render(
        request,
        "integrations/index.html",
        {
            "product": product,
            "can_edit": roles.can_edit(request.user, product),
            "can_create_products": roles.is_administrator(request.user),
            "mappings": product.import_mappings.all(),
        },
    )


# --- Hazard log ---------------------------------------------------------------------------------


def hazards_import(request, slug):
    product = product_for(request, slug)
    form = HazardUploadForm(product=product)
    if request.method == "POST":
        roles.require_editor(request.user, product)
        form = HazardUploadForm(request.POST, request.FILES, product=product)
        if form.is_valid():
            staged = _stage(request, product, UploadKind.HAZARDS, form)
            extra = (
                {"mapping": form.cleaned_data["mapping"].pk} if form.cleaned_data["mapping"] else {}
            )
            return redirect(_preview_url("integrations:hazards_preview", product, staged, **extra))
    return render(
        request,
        "integrations/upload.html",
        {
            "product": product,
            "form": form,
            "can_edit": roles.can_edit(request.user, product),
            "title": "Import a hazard log",
            "intro": "CSV (comma, semicolon or tab separated, UTF-8) or Excel .xlsx. Next you "
            "map the columns and see a preview; nothing is written until you confirm.",
        },
    )


def hazards_preview(request, slug):
    product = product_for(request, slug)
    if request.method == "POST":
        roles.require_editor(request.user, product)
    staged = _staged(request, product, UploadKind.HAZARDS)
    if staged is None:
        return redirect("integrations:hazards_import", slug=product.slug)
    try:
        table = hazard_table.read_table(staged.read())
    except UploadError as exc:
        messages.error(request, f"{staged.filename}: {exc}")
        _finish(staged)
        return redirect("integrations:hazards_import", slug=product.slug)

    if request.method == "POST":
        form = MappingForm(request.POST, headers=table.headers)
    elif any(key.startswith("col_") for key in request.GET):
        form = MappingForm(request.GET, headers=table.headers)
    else:
        saved = None
        with contextlib.suppress(ValueError):
            mapping_id = whole_number(request.GET.get("mapping", ""), minimum=1)
            saved = product.import_mappings.filter(pk=mapping_id).first()
        initial = saved.columns if saved else hazard_table.suggest_mapping(table.headers)
        usable = {k: v for k, v in initial.items() if v in table.headers}
        form = MappingForm(initial=MappingForm.initial_for(usable), headers=table.headers)
    mapping = form.mapping() if form.is_bound and form.is_valid() else {
        name[4:]: value for name, value in form.initial.items() if value
    }  # fmt: skip

    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["save_as"]:
            ImportMapping.objects.update_or_create(
                product=product,
                name=form.cleaned_data["save_as"],
                defaults={"columns": mapping, "created_by": request.user},
            )
            messages.success(request, f"Mapping “{form.cleaned_data['save_as']}” saved.")
        planned = confirm_step.decode_versions(request.POST.get("planned_versions"))
        if request.POST.get("action") == "confirm" and planned is None:
            messages.error(request, confirm_step.MISSING_PLAN)
        elif request.POST.get("action") == "confirm":
            try:
                plan = hazard_table.import_hazards(
                    product=product,
                    table=table,
                    mapping=mapping,
                    by=request.user,
                    reason=f"Imported from {staged.filename}",
                    expected_versions=planned,
                )
            except UploadError as exc:
                messages.error(request, f"Nothing was imported. {exc}")
            else:
                _finish(staged)
                messages.success(request, f"{staged.filename} imported: {plan.summary()}.")
                return redirect("hazards:hazard_list", slug=product.slug)
        else:
            return redirect(
                _preview_url(
                    "integrations:hazards_preview", product, staged, **{
                        f"col_{k}": v for k, v in mapping.items()
                    }
                )
            )  # fmt: skip

    plan, mapping_error = None, ""
    try:
        plan = hazard_table.plan_import(product, table, mapping)
    except UploadError as exc:
        mapping_error = str(exc)
    return render(
        request,
        "integrations/hazards_preview.html",
        {
            "product": product,
            "staged": staged,
            "table": table,
            "form": form,
            "plan": plan,
            "mapping_error": mapping_error,
            "can_edit": roles.can_edit(request.user, product),
            "shown_rows": [r for r in plan.rows if r.action != "unchanged"][:500] if plan else [],
            "planned_versions": confirm_step.encode_versions(plan.planned_versions())
            if plan
            else "",
        },
    )


@require_GET
def hazards_export(request, slug):
    product = product_for(request, slug)
    fmt = _format(request)
    return _download(
        hazard_table.export_hazards(product, fmt), f"{product.slug}-hazard-log.{fmt}", fmt
    )


@require_GET
def matrix_export(request, slug):
    product = product_for(request, slug)
    fmt = _format(request)
    return _download(
        hazard_table.export_matrix(product, fmt), f"{product.slug}-traceability.{fmt}", fmt
    )


# --- JUnit --------------------------------------------------------------------------------------


def junit_import(request, slug):
    product = product_for(request, slug)
    form, result = UploadForm(), None
    if request.method == "POST":
        roles.require_editor(request.user, product)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = import_junit(
                    product=product,
                    data=form.data_bytes,
                    filename=form.cleaned_data["file"].name,
                    by=request.user,
                )
            except UploadError as exc:
                form.add_error("file", str(exc))
            else:
                runs, unmatched = len(result.created_runs), len(result.unmatched)
                messages.success(
                    request,
                    ngettext("%d test run recorded; ", "%d test runs recorded; ", runs) % runs
                    + ngettext("%d JUnit case unmatched.", "%d JUnit cases unmatched.", unmatched)
                    % unmatched,
                )
    return render(
        request,
        "integrations/junit.html",
        {
            "product": product,
            "form": form,
            "result": result,
            "can_edit": roles.can_edit(request.user, product),
        },
    )


# --- SBOM ---------------------------------------------------------------------------------------


def sbom_import(request, slug):
    product = product_for(request, slug)
    form = UploadForm()
    if request.method == "POST":
        roles.require_editor(request.user, product)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            staged = _stage(request, product, UploadKind.SBOM, form)
            return redirect(_preview_url("integrations:sbom_preview", product, staged))
    return render(
        request,
        "integrations/upload.html",
        {
            "product": product,
            "form": form,
            "can_edit": roles.can_edit(request.user, product),
            "title": "Import a CycloneDX SBOM",
            "intro": "CycloneDX JSON or XML from your build. Next you see what is added, removed "
            "and which versions changed; nothing is written until you confirm.",
        },
    )


def sbom_preview(request, slug):
    product = product_for(request, slug)
    if request.method == "POST":
        roles.require_editor(request.user, product)
    staged = _staged(request, product, UploadKind.SBOM)
    if staged is None:
        return redirect("integrations:sbom_import", slug=product.slug)
    confirm = request.method == "POST" and request.POST.get("action") == "confirm"
    planned = confirm_step.decode_versions(request.POST.get("planned_versions"))
    if confirm and planned is None:
        messages.error(request, confirm_step.MISSING_PLAN)
        return redirect(_preview_url("integrations:sbom_preview", product, staged))
    try:
        diff = sbom.import_sbom(
            product=product,
            data=staged.read(),
            filename=staged.filename,
            by=request.user,
            dry_run=not confirm,
            expected_versions=planned,
        )
    except confirm_step.ImportConflict as exc:
        messages.error(request, f"{staged.filename}: {exc}")
        return redirect(_preview_url("integrations:sbom_preview", product, staged))
    except UploadError as exc:
        messages.error(request, f"{staged.filename}: {exc} Nothing was imported.")
        _finish(staged)
        return redirect("integrations:sbom_import", slug=product.slug)
    if confirm:
        _finish(staged)
        messages.success(request, f"SBOM {staged.filename} applied: {diff.summary()}.")
        return redirect("traceability:software_item_list", slug=product.slug)
    return render(
        request,
        "integrations/sbom_preview.html",
        {
            "product": product,
            "staged": staged,
            "diff": diff,
            "planned_versions": confirm_step.encode_versions(diff.planned_versions()),
            "can_edit": roles.can_edit(request.user, product),
        },
    )


# --- ReqIF --------------------------------------------------------------------------------------


@require_GET
def reqif_export(request, slug):
    product = product_for(request, slug)
    return _download(reqif.export_reqif(product), f"{product.slug}-requirements.reqif", "reqif")


def reqif_import(request, slug):
    product = product_for(request, slug)
    form = ReqifUploadForm()
    if request.method == "POST":
        roles.require_editor(request.user, product)
        form = ReqifUploadForm(request.POST, request.FILES)
        if form.is_valid():
            staged = _stage(request, product, UploadKind.REQIF, form)
            return redirect(
                _preview_url(
                    "integrations:reqif_preview", product, staged,
                    prefix=form.cleaned_data["prefix"],
                )
            )  # fmt: skip
    return render(
        request,
        "integrations/upload.html",
        {
            "product": product,
            "form": form,
            "can_edit": roles.can_edit(request.user, product),
            "title": "Import requirements from ReqIF",
            "intro": "A .reqif file from DOORS, Polarion, StrictDoc or RiskBench. Requirements "
            "are matched by code (ReqIF.ForeignID); next you see a preview.",
        },
    )


def reqif_preview(request, slug):
    product = product_for(request, slug)
    if request.method == "POST":
        roles.require_editor(request.user, product)
    staged = _staged(request, product, UploadKind.REQIF)
    if staged is None:
        return redirect("integrations:reqif_import", slug=product.slug)
    prefix = request.POST.get("prefix") or request.GET.get("prefix") or "REQ"
    if not prefix.isalpha() or not prefix.isupper() or len(prefix) > 10:
        prefix = "REQ"
    confirm = request.method == "POST" and request.POST.get("action") == "confirm"
    planned = confirm_step.decode_versions(request.POST.get("planned_versions"))
    if confirm and planned is None:
        messages.error(request, confirm_step.MISSING_PLAN)
        return redirect(_preview_url("integrations:reqif_preview", product, staged, prefix=prefix))
    try:
        result = reqif.import_reqif(
            product=product,
            data=staged.read(),
            filename=staged.filename,
            by=request.user,
            dry_run=not confirm,
            prefix=prefix,
            expected_versions=planned,
        )
    except confirm_step.ImportConflict as exc:
        messages.error(request, f"{staged.filename}: {exc}")
        return redirect(_preview_url("integrations:reqif_preview", product, staged, prefix=prefix))
    except UploadError as exc:
        messages.error(request, f"{staged.filename}: {exc} Nothing was imported.")
        _finish(staged)
        return redirect("integrations:reqif_import", slug=product.slug)
    if confirm:
        _finish(staged)
        messages.success(request, f"ReqIF {staged.filename} imported: {result.summary()}.")
        return redirect("traceability:requirement_list", slug=product.slug)
    return render(
        request,
        "integrations/reqif_preview.html",
        {
            "product": product,
            "staged": staged,
            "result": result,
            "prefix": prefix,
            "planned_versions": confirm_step.encode_versions(result.planned),
            "can_edit": roles.can_edit(request.user, product),
        },
    )


# --- Whole product ------------------------------------------------------------------------------


@require_GET
def product_export(request, slug):
    product = product_for(request, slug)
    return _download(
        product_json.export_product_json(product), f"{product.slug}-product.json", "json"
    )


def product_import(request, slug):
    """Create a new product from an export (for example a copy of this one). Administrators
    only, on GET as on POST: creating a product and choosing its people are theirs to do."""
    product = product_for(request, slug)
    roles.require_administrator(request.user)
    form = ProductImportForm()
    if request.method == "POST":
        form = ProductImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = product_json.import_product(
                    data=form.data_bytes,
                    by=request.user,
                    slug=form.cleaned_data["slug"],
                    name=form.cleaned_data["name"] or None,
                    template=form.cleaned_data["template"],
                )
            except UploadError as exc:
                form.add_error("file", str(exc))
            else:
                new = result.product
                for warning in result.warnings:
                    messages.warning(request, warning)
                messages.success(request, f"Product {new.slug} imported.")
                if roles.is_member(request.user, new):
                    return redirect("hazards:dashboard", slug=new.slug)
                return redirect("hazards:product_list")
    return render(
        request,
        "integrations/upload.html",
        {
            "product": product,
            "form": form,
            "can_edit": roles.can_edit(request.user, product),
            "title": "Import a product from JSON",
            "intro": "A file written by “Export the whole product”. It becomes a NEW product "
            "under the slug you give; this product is not changed.",
        },
    )
