"""Baseline pages: list and take (signed), one baseline, its JSON, and the diff between two
baselines or a baseline and the current state. Thin: role checks here, reads in `selectors`,
writes in `services`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods

from hazards.models import Product
from hazards.selectors import product_for
from riskbench import roles, signatures
from riskbench.accesslog import record_access
from riskbench.display import show_value
from riskbench.models import AccessAction, Signature
from traceability import gate
from traceability.baselines import selectors, services
from traceability.baselines.forms import BaselineForm, DiffForm
from traceability.baselines.models import Baseline, BaselineKind

CODE_URLS = {
    "hazards": "hazards:hazard_detail",
    "controls": "hazards:control_detail",
    "software_items": "traceability:software_item_detail",
    "requirements": "traceability:requirement_detail",
    "test_cases": "traceability:test_case_detail",
}


def _baselines(product):
    return list(product.baselines.select_related("created_by").order_by("-created_at", "-id"))


def _signatures_by_baseline(baselines) -> dict[int, list[Signature]]:
    """All signatures of these baselines in one query."""
    found = defaultdict(list)
    if baselines:
        ct = ContentType.objects.get_for_model(Baseline)
        for s in Signature.objects.filter(
            content_type=ct, object_id__in=[b.pk for b in baselines]
        ).order_by("signed_at", "id"):
            found[s.object_id].append(s)
    return found


@require_http_methods(["GET", "POST"])
def baseline_list(request, slug):
    product = product_for(request, slug)
    may_edit = roles.can_edit(request.user, product)
    form = BaselineForm(request.POST or None)
    blockers = []
    if request.method == "POST":
        roles.require_editor(request.user, product)
        if form.is_valid():
            data = form.cleaned_data
            try:
                baseline = services.baseline_create(
                    product=product,
                    name=data["name"],
                    kind=data["kind"] or BaselineKind.WORKING,
                    note=data["note"],
                    by=request.user,
                    username=data["username"],
                    password=data["password"],
                    meaning=data["meaning"],
                    reason=data["note"],
                    request=request,
                )
            except signatures.SignatureRefused as exc:
                messages.error(request, f"No baseline taken: {exc}")
            except services.ReleaseRefused as exc:
                blockers = exc.gaps
                form.add_error("kind", exc.message_dict["kind"])
                messages.error(request, "No release baseline taken: see what blocks it.")
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
                messages.error(request, "No baseline taken: see the form.")
            else:
                messages.success(
                    request,
                    f"Baseline “{baseline.name}” taken and signed: SHA-256 "
                    f"{baseline.content_sha256}.",
                )
                return redirect(baseline.get_absolute_url())
        else:
            messages.error(request, "No baseline taken: see the form.")
    baselines = _baselines(product)
    signed = _signatures_by_baseline(baselines)
    rows = []
    for i, baseline in enumerate(baselines):
        previous = baselines[i + 1] if i + 1 < len(baselines) else None
        rows.append((baseline, signed.get(baseline.pk, []), previous))
    return render(
        request,
        "baselines/list.html",
        {
            "product": product,
            "rows": rows,
            "form": form if may_edit else None,
            "blockers": [
                {"gap": gap, "label": gate.label(gap.kind), "clause": gate.clause(gap.kind)}
                for gap in blockers
            ],
        },
    )


def _baseline(product, pk) -> Baseline:
    return get_object_or_404(Baseline.objects.select_related("created_by"), product=product, pk=pk)


@require_GET
def baseline_detail(request, slug, pk):
    product = product_for(request, slug)
    baseline = _baseline(product, pk)
    data = selectors.load(baseline)
    previous = (
        product.baselines.filter(created_at__lt=baseline.created_at)
        .order_by("-created_at", "-id")
        .first()
    )
    return render(
        request,
        "baselines/detail.html",
        {
            "product": product,
            "baseline": baseline,
            "summary": selectors.summary(data),
            "intact": selectors.is_intact(baseline),
            "anchor_holds": selectors.anchor_holds(baseline),
            "previous": previous,
            "unchanged_since": selectors.snapshot_sha256(selectors.snapshot(product))
            == baseline.content_sha256,
        },
    )


@require_GET
def baseline_json(request, slug, pk):
    """The frozen snapshot, byte for byte (its SHA-256 is the baseline's); access-logged."""
    product = product_for(request, slug)
    baseline = _baseline(product, pk)
    record_access(
        request.user,
        AccessAction.EXPORT,
        f"Baseline “{baseline.name}” snapshot JSON, SHA-256 {baseline.content_sha256}",
        request,
        product=product,
    )
    response = HttpResponse(baseline.snapshot_json.encode("utf-8"), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="baseline-{baseline.pk}.json"'
    return response


# --- Diff -----------------------------------------------------------------------------------------


@dataclass
class FieldRow:
    label: str
    before: str
    after: str


@dataclass
class ItemRow:
    section: str
    key: str
    kind: str
    url: str | None
    fields: list[FieldRow] = field(default_factory=list)


def _field(section: str, name: str):
    """The model field a snapshot value comes from (for its label and type), if any."""
    model = next((m for s, _, m in selectors.SECTIONS if s == section), None)
    if section == "policy":
        model = Product._meta.get_field("risk_policy").related_model
    if model is None or name is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _show(value, section: str = "", name: str | None = None) -> str:
    """A snapshot value as a person reads it: choice labels, local times, "—" (a foreign key
    is already its natural key, e.g. a code)."""
    field = _field(section, name)
    if field is not None and field.is_relation:
        field = None
    return show_value(field, value)


def _url(slug, section, key) -> str | None:
    name = CODE_URLS.get(section)
    if not name:
        return None
    try:
        return reverse(name, args=[slug, key])
    except NoReverseMatch:
        return None


def diff_rows(product, changes) -> list[tuple[str, list[ItemRow]]]:
    """Changes grouped by section, then by record, ready for the template."""
    grouped: dict[str, dict[str, ItemRow]] = {}
    for change in changes:
        items = grouped.setdefault(change.section, {})
        item = items.get(change.key)
        if item is None:
            url = (
                None if change.kind == "removed" else _url(product.slug, change.section, change.key)
            )
            item = items[change.key] = ItemRow(change.section, change.key, change.kind, url)
        if change.kind == "changed":
            item.fields.append(
                FieldRow(
                    selectors.field_label(change.section, change.field),
                    _show(change.before, change.section, change.field),
                    _show(change.after, change.section, change.field),
                )
            )
        else:
            record = change.after if change.kind == "added" else change.before
            for name in sorted(record or {}):
                value = _show(record[name], change.section, name)
                item.fields.append(
                    FieldRow(
                        selectors.field_label(change.section, name),
                        value if change.kind == "removed" else "",
                        value if change.kind == "added" else "",
                    )
                )
    return [
        (selectors.section_label(section), list(items.values()))
        for section, items in grouped.items()
    ]


@require_GET
def baseline_diff(request, slug):
    """What changed between two baselines, or since a baseline (ISO 14971 4.5; IEC 62304 7.4)."""
    product = product_for(request, slug)
    baselines = _baselines(product)
    if not baselines:
        return render(request, "baselines/diff.html", {"product": product, "form": None})
    initial = {"a": str(baselines[0].pk), "b": "now"}
    form = DiffForm(request.GET or initial, baselines=baselines)
    if not form.is_valid():
        raise Http404("No such baseline.")
    by_pk = {str(b.pk): b for b in baselines}
    a = by_pk[form.cleaned_data["a"]]
    b = by_pk.get(form.cleaned_data["b"])
    data_a = selectors.load(a)
    data_b = selectors.load(b) if b else selectors.snapshot(product)
    changes = selectors.diff(data_a, data_b)
    counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in ("added", "removed")}
    counts["changed"] = len({(c.section, c.key) for c in changes if c.kind == "changed"})
    return render(
        request,
        "baselines/diff.html",
        {
            "product": product,
            "form": form,
            "a": a,
            "b": b,
            "sha_b": b.content_sha256 if b else selectors.snapshot_sha256(data_b),
            "sections": diff_rows(product, changes),
            "counts": counts,
        },
    )
