"""Pages of the risk register. Thin: load through selectors, check the role, call a service."""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import slug_re
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET, require_POST

from hazards import risk, selectors, services
from hazards.forms import (
    ControlListFilters,
    HazardForm,
    HazardLogFilters,
    LinkControlForm,
    LinkHazardForm,
    PolicyTemplateCreateForm,
    PolicyTemplateForm,
    ProductCreateForm,
    ProductForm,
    ReasonForm,
    RiskControlForm,
    RiskPolicyForm,
    StatusForm,
)
from hazards.models import (
    Acceptability,
    Category,
    ControlIntroducedHazard,
    ControlOption,
    Hazard,
    HazardControl,
    HazardTransfer,
    ImplementationStatus,
    RiskControl,
    RiskPolicy,
    SecurityControlCategory,
)
from riskbench import lists, navigation, roles
from riskbench.filters import read_filters
from riskbench.forms_flow import add_service_errors, submit_versioned_form
from riskbench.history import versions
from riskbench.models import Status
from riskbench.services import StaleEditError

# --- Products -----------------------------------------------------------------------------------


@require_GET
def product_list(request):
    products = selectors.products_for_user(request.user)
    return render(
        request,
        "hazards/product_list.html",
        {"products": products, "can_create_products": roles.is_administrator(request.user)},
    )


@require_GET
def product_switch(request):
    slug = request.GET.get("product", "")
    if not slug:
        return redirect("hazards:product_list")
    if not slug_re.match(slug):
        raise Http404("No such product.")
    return redirect("hazards:dashboard", slug)


@require_GET
def dashboard(request, slug):
    product = selectors.product_for(request, slug)
    panels = []
    for path in navigation.DASHBOARD_PANELS:
        try:
            panel = import_string(path)
        except ImportError:
            continue
        rendered = panel(request, product)
        if rendered:
            panels.append(rendered)
    return render(
        request,
        "hazards/dashboard.html",
        {
            "product": product,
            "counts": selectors.dashboard_counts(product),
            "heat_maps": selectors.heat_maps(product),
            "recent": selectors.recent_changes(product),
            "panels": panels,
        },
    )


def product_create(request):
    """Open a new product's risk management file: administrators only (a quality engineer gets
    403 here as on every other route; the service checks again)."""
    if not roles.is_administrator(request.user):
        raise PermissionDenied("Only administrators create products.")
    form = ProductCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            product = services.product_create(
                by=request.user,
                reason="Risk management file opened (ISO 14971 4.5)",
                **fields,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Product {product.slug} created with its own copy of "
                f"{fields['template'].name}. Its team approves the risk policy with a "
                "signature before risks are evaluated.",
            )
            if roles.is_member(request.user, product):
                return redirect("hazards:dashboard", product.slug)
            return redirect("hazards:product_list")
    return render(request, "hazards/product_create.html", {"form": form})


def product_edit(request, slug):
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    form = ProductForm(request.POST or None, instance=product)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, version: services.product_update(
            product=product, by=request.user, reason=reason, expected_version=version, **fields
        ),
        success="Scope and plan saved.",
    )
    if submitted.saved:
        return redirect("hazards:dashboard", slug)
    return render(
        request,
        "hazards/product_form.html",
        {
            "product": product,
            "form": form,
            "stale_changes": submitted.stale_changes,
            "plan_approval": selectors.plan_approval(product),
        },
    )


@require_GET
def product_history(request, slug):
    product = selectors.product_for(request, slug)
    return render(
        request,
        "hazards/history.html",
        {"product": product, "record": product, "versions": versions(product)},
    )


@require_GET
def search(request, slug):
    product = selectors.product_for(request, slug)
    query = request.GET.get("q", "").strip()
    hits = []
    if query:
        for path in navigation.SEARCH_PROVIDERS:
            try:
                provider = import_string(path)
            except ImportError:
                continue
            hits.extend(provider(product, query))
    exact = [h for h in hits if h.code.lower() == query.lower()]
    if len(exact) == 1:
        return HttpResponseRedirect(exact[0].url)
    return render(
        request,
        "hazards/search.html",
        {"product": product, "hits": hits, "search_query": query},
    )


# --- Hazard log -----------------------------------------------------------------------------------

NO_STATES = SimpleNamespace(hazards={}, controls={})


def verification_states(product):
    """Verification state of the product's hazards and controls (contributed by traceability
    through `navigation.VERIFICATION_STATES`; empty when it is not installed)."""
    try:
        provider = import_string(navigation.VERIFICATION_STATES)
    except ImportError:
        return NO_STATES
    return provider(product)


def page_verification_states(product, *, hazards=(), controls=()):
    """Verification state of one page of hazards or controls, from their neighbourhood only
    (`navigation.PAGE_VERIFICATION_STATES`): a list page costs what it shows, not what the
    product holds. Filtering by state needs every state: `verification_states`."""
    try:
        provider = import_string(navigation.PAGE_VERIFICATION_STATES)
    except ImportError:
        return NO_STATES
    return provider(product, hazards=hazards, controls=controls)


def _verification_filter(states: dict, wanted: str):
    """The pks in the wanted verification state, or None when not filtering by it."""
    if wanted not in VERIFICATION_LABELS:
        return None
    return [pk for pk, state in states.items() if state == wanted]


VERIFICATION_LABELS = {
    "verified": "Verified",
    "partly": "Partly verified",
    "failed": "Failed",
    "none": "Not verified",
}


def _level_label(levels: list[dict], value: str) -> str:
    for level in levels:
        if str(level["value"]) == value:
            return f"{value} {level['name']}"
    return value


def _cell_filters(filters: dict, policy, category: str) -> list[dict]:
    """The risk-matrix cell filters (a heat-map drill-down) as words, each with the URL
    parameter to drop, so the log says exactly which hazards it shows."""
    scales = {
        "severity": ("Initial", policy.severity_scale(category or "safety")),
        "probability": ("Initial", policy.likelihood_scale(category or "safety")),
        "residual_severity": ("Residual", policy.severity_scale(category or "safety")),
        "residual_probability": ("Residual", policy.likelihood_scale(category or "safety")),
    }
    axes = risk.AXIS_NAMES[risk.Category(category or "safety")]
    shown = []
    for name, (when, scale) in scales.items():
        if name == "severity" or not filters.get(name):
            continue  # the initial severity has its own select in the toolbar
        axis = axes[0] if name.endswith("severity") else axes[1]
        shown.append(
            {
                "name": name,
                "label": f"{when} {axis.lower()}: {_level_label(scale, filters[name])}",
            }
        )
    return shown


HAZARD_EXPORT_HEADERS = [
    "Code",
    "Category",
    "Title",
    "Hazard",
    "Sequence of events",
    "Hazardous situation",
    "Harm",
    "Severity / impact",
    "Probability / exploitability / likelihood",
    "Initial risk",
    "Risk controls",
    "Residual severity",
    "Residual likelihood",
    "Residual risk",
    "Verification",
    "Status",
    "Owner",
]


def _risk_label(category: str, acceptability: str, index) -> str:
    if not acceptability:
        return "Not estimated"
    label = risk.ACCEPTABILITY_LABELS[risk.Category(category)][risk.Acceptability(acceptability)]
    return f"{label} ({index})" if index else label


def _hazard_export_rows(hazards, states):
    for h in hazards:
        yield [
            h.code,
            h.get_category_display(),
            h.title,
            h.hazard,
            h.sequence_of_events,
            h.hazardous_situation,
            h.harm,
            h.severity,
            h.probability,
            _risk_label(h.category, h.initial_acceptability, h.initial_risk_index),
            ", ".join(link.control.code for link in h.control_links.all()),
            h.residual_severity,
            h.residual_probability,
            _risk_label(h.category, h.residual_acceptability, h.residual_risk_index),
            VERIFICATION_LABELS.get(states.get(h.pk, "none"), ""),
            h.get_status_display(),
            h.owner.username if h.owner else "",
        ]


@require_GET
def hazard_list(request, slug):
    product = selectors.product_for(request, slug)
    policy = product.risk_policy.evaluation_data
    filters = read_filters(request, HazardLogFilters, policy=policy)
    fmt = lists.export_format(request)
    whole = fmt or filters["verification"] in VERIFICATION_LABELS
    states = verification_states(product) if whole else None
    hazards = selectors.hazard_log(
        product,
        filters,
        verification_pks=_verification_filter(states.hazards, filters["verification"])
        if states
        else None,
    )
    if fmt:
        return lists.export_response(
            request,
            fmt,
            name=f"{slug}-hazard-log",
            title="Hazard log",
            headers=HAZARD_EXPORT_HEADERS,
            rows=_hazard_export_rows(hazards, states.hazards),
            product=product,
        )
    page, query = lists.paginate(request, hazards)
    if states is None:
        states = page_verification_states(product, hazards=[h.pk for h in page.object_list])
    for hazard in page.object_list:
        hazard.verification = states.hazards.get(hazard.pk, "none")
    owners = product.members.order_by("username").values_list("username", flat=True).distinct()
    return render(
        request,
        "hazards/hazard_list.html",
        {
            "product": product,
            "page": page,
            "filters": filters,
            "filtered": any(v for k, v in filters.items() if k != "sort"),
            "cell_filters": _cell_filters(filters, policy, filters["category"]),
            "query": query,
            "categories": Category.choices,
            "statuses": Status.choices,
            "acceptabilities": [*Acceptability.choices, (selectors.NOT_ESTIMATED, "Not estimated")],
            "verifications": list(VERIFICATION_LABELS.items()),
            "severities": policy.severity_scale(filters["category"] or "safety"),
            "owners": owners,
            "default_sort": "code",
        },
    )


def _hazard(product, code):
    return get_object_or_404(
        Hazard.objects.select_related("owner", "product__risk_policy"), product=product, code=code
    )


@require_GET
def hazard_detail(request, slug, code):
    product = selectors.product_for(request, slug)
    hazard = get_object_or_404(
        Hazard.objects.select_related("owner").prefetch_related(
            Prefetch("control_links", HazardControl.objects.select_related("control")),
            Prefetch(
                "introduced_by_links", ControlIntroducedHazard.objects.select_related("control")
            ),
            Prefetch("leads_to_links", HazardTransfer.objects.select_related("safety_hazard")),
            Prefetch(
                "caused_by_security_links",
                HazardTransfer.objects.select_related("security_hazard"),
            ),
        ),
        product=product,
        code=code,
    )
    hazard.product = product
    policy = product.risk_policy.evaluation_data
    category = hazard.category
    linked = [link.control_id for link in hazard.control_links.all()]
    context = {
        "product": product,
        "hazard": hazard,
        "policy": policy,
        "severity_name": risk.level_name(policy.severity_scale(category), hazard.severity),
        "likelihood_name": risk.level_name(policy.likelihood_scale(category), hazard.probability),
        "residual_severity_name": risk.level_name(
            policy.severity_scale(category), hazard.residual_severity
        ),
        "residual_likelihood_name": risk.level_name(
            policy.likelihood_scale(category), hazard.residual_probability
        ),
        "p1_name": risk.level_name(policy.p1_levels, hazard.p1),
        "p2_name": risk.level_name(policy.p2_levels, hazard.p2),
        "residual_p1_name": risk.level_name(policy.p1_levels, hazard.residual_p1),
        "residual_p2_name": risk.level_name(policy.p2_levels, hazard.residual_p2),
        "axis": risk.AXIS_NAMES[risk.Category(category)],
        "approval": services.hazard_approval_check(hazard),
        "needs_benefit_risk": risk.requires_benefit_risk(hazard.residual_estimate),
        "link_form": LinkControlForm(product=product, exclude=linked),
        "introduced_form": LinkControlForm(product=product, auto_id="introduced_%s"),
        "transfer_form": LinkHazardForm(
            queryset=product.hazards.filter(category=Category.SAFETY),
            product=product,
            kind="safety_hazard",
        )
        if category == Category.SECURITY
        else None,
        "status_form": StatusForm(initial={"version": hazard.version}),
        "versions": versions(hazard, limit=5),
    }
    return render(request, "hazards/hazard_detail.html", context)


def hazard_create(request, slug):
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    category = request.GET.get("category") or request.POST.get("category") or Category.SAFETY
    if category not in Category.values:
        category = Category.SAFETY
    form = HazardForm(request.POST or None, product=product, category=category)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, _version: services.hazard_create(
            product=product, by=request.user, reason=reason, **fields
        ),
        success=lambda hazard: f"{hazard.code} added to the hazard log.",
    )
    if submitted.saved:
        return redirect("hazards:hazard_detail", slug, submitted.record.code)
    return render(
        request,
        "hazards/hazard_form.html",
        {"product": product, "form": form, "category": category, "categories": Category.choices},
    )


def hazard_edit(request, slug, code):
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    hazard = _hazard(product, code)
    form = HazardForm(
        request.POST or None, instance=hazard, product=product, category=hazard.category
    )
    submitted = submit_versioned_form(
        request,
        form,
        # `fields=`: the model field `hazard` would clash with the service's `hazard` argument.
        lambda fields, reason, version: services.hazard_update(
            hazard=hazard, by=request.user, reason=reason, expected_version=version, fields=fields
        ),
        success=f"{code} saved.",
    )
    if submitted.saved:
        return redirect("hazards:hazard_detail", slug, code)
    return render(
        request,
        "hazards/hazard_form.html",
        {
            "product": product,
            "form": form,
            "hazard": hazard,
            "category": hazard.category,
            "stale_changes": submitted.stale_changes,
        },
    )


def change_status(request, record) -> None:
    """Submit for review or return to draft from a status form, with a message either way.
    Approval needs an electronic signature and is done on the signature form instead."""
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status.")
        return
    try:
        services.record_set_status(
            record=record,
            status=form.cleaned_data["status"],
            by=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except (StaleEditError, ValidationError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        status = Status(form.cleaned_data["status"]).label
        messages.success(request, f"{getattr(record, 'code', None) or record} is now {status}.")


@require_POST
def hazard_status(request, slug, code):
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    change_status(request, _hazard(product, code))
    return redirect("hazards:hazard_detail", slug, code)


@require_POST
def hazard_delete(request, slug, code):
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    hazard = _hazard(product, code)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for the deletion.")
        return redirect("hazards:hazard_detail", slug, code)
    try:
        services.hazard_delete(
            hazard=hazard,
            by=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=request.POST.get("version"),
        )
    except StaleEditError as exc:
        messages.error(request, f"Not deleted: {exc}")
        return redirect("hazards:hazard_detail", slug, code)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("hazards:hazard_detail", slug, code)
    messages.success(request, f"{code} deleted; its history is kept in the audit trail.")
    return redirect("hazards:hazard_list", slug)


@require_GET
def hazard_history(request, slug, code):
    product = selectors.product_for(request, slug)
    hazard = _hazard(product, code)
    return render(
        request,
        "hazards/history.html",
        {"product": product, "record": hazard, "versions": versions(hazard)},
    )


def _link_action(request, slug, code, action):
    """Shared body of the link views: role check, form, service, message, back to the hazard."""
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    hazard = _hazard(product, code)
    try:
        text = action(product, hazard)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, text)
    return redirect("hazards:hazard_detail", slug, code)


@require_POST
def hazard_link_control(request, slug, code):
    def action(product, hazard):
        form = LinkControlForm(request.POST, product=product)
        if not form.is_valid():
            raise ValidationError("Choose a risk control of this product.")
        control = form.cleaned_data["control"]
        services.hazard_control_link(
            hazard=hazard, control=control, by=request.user, reason=form.cleaned_data["reason"]
        )
        return f"{control.code} now reduces {hazard.code}."

    return _link_action(request, slug, code, action)


@require_POST
def hazard_link_introduced(request, slug, code):
    def action(product, hazard):
        form = LinkControlForm(request.POST, product=product)
        if not form.is_valid():
            raise ValidationError("Choose a risk control of this product.")
        control = form.cleaned_data["control"]
        services.control_introduces_link(
            control=control, hazard=hazard, by=request.user, reason=form.cleaned_data["reason"]
        )
        return f"Recorded that {control.code} introduces {hazard.code} (ISO 14971 7.5)."

    return _link_action(request, slug, code, action)


@require_POST
def hazard_link_transfer(request, slug, code):
    def action(product, hazard):
        form = LinkHazardForm(request.POST, queryset=product.hazards.all())
        if not form.is_valid():
            raise ValidationError("Choose a safety hazard of this product.")
        target = form.cleaned_data["hazard"]
        services.hazard_transfer_link(
            security_hazard=hazard,
            safety_hazard=target,
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
        return f"{hazard.code} can lead to {target.code}: transferred to the safety analysis."

    return _link_action(request, slug, code, action)


LINK_MODELS = {
    "reduces": HazardControl,
    "introduces": ControlIntroducedHazard,
    "transfer": HazardTransfer,
}


@require_POST
def hazard_unlink(request, slug, code, kind, link_id):
    def action(product, hazard):
        model = LINK_MODELS.get(kind)
        if model is None:
            raise ValidationError("Unknown link.")
        link = get_object_or_404(model, pk=link_id)
        if hazard.pk not in (getattr(link, f"{e}_id", None) for e in model_ends(model)):
            raise ValidationError("That link does not belong to this hazard.")
        form = ReasonForm(request.POST)
        if not form.is_valid():
            raise ValidationError("Give a reason for removing the link.")
        services.link_delete(link=link, by=request.user, reason=form.cleaned_data["reason"])
        return f"Link removed: {link}."

    return _link_action(request, slug, code, action)


def model_ends(model) -> tuple[str, str]:
    return model.SOURCE_FIELD, model.TARGET_FIELD


# --- Risk controls --------------------------------------------------------------------------------


CONTROL_EXPORT_HEADERS = [
    "Code",
    "Title",
    "Description",
    "Option (ISO 14971 7.1)",
    "Security category",
    "Implementation",
    "Verification",
    "Status",
    "Reduces hazards",
]


def _control_export_rows(controls, states):
    for c in controls:
        yield [
            c.code,
            c.title,
            c.description,
            c.get_option_display(),
            c.get_security_category_display() if c.security_category else "",
            c.get_implementation_status_display(),
            VERIFICATION_LABELS.get(states.get(c.pk, "none"), ""),
            c.get_status_display(),
            ", ".join(link.hazard.code for link in c.hazard_links.all()),
        ]


@require_GET
def control_list(request, slug):
    """The risk controls with the hazard log's filters, sorting, pagination and exports."""
    product = selectors.product_for(request, slug)
    filters = read_filters(request, ControlListFilters)
    fmt = lists.export_format(request)
    whole = fmt or filters["verification"] in VERIFICATION_LABELS
    states = verification_states(product) if whole else None
    controls = selectors.control_list(
        product,
        filters,
        verification_pks=_verification_filter(states.controls, filters["verification"])
        if states
        else None,
    )
    if fmt:
        return lists.export_response(
            request,
            fmt,
            name=f"{slug}-risk-controls",
            title="Risk controls",
            headers=CONTROL_EXPORT_HEADERS,
            rows=_control_export_rows(controls, states.controls),
            product=product,
        )
    page, query = lists.paginate(request, controls)
    if states is None:
        states = page_verification_states(product, controls=[c.pk for c in page.object_list])
    for control in page.object_list:
        control.verification = states.controls.get(control.pk, "none")
    return render(
        request,
        "hazards/control_list.html",
        {
            "product": product,
            "page": page,
            "filters": filters,
            "filtered": any(v for k, v in filters.items() if k != "sort"),
            "query": query,
            "options": ControlOption.choices,
            "security_categories": SecurityControlCategory.choices,
            "implementations": ImplementationStatus.choices,
            "statuses": Status.choices,
            "verifications": list(VERIFICATION_LABELS.items()),
            "default_sort": "code",
        },
    )


def _control(product, code):
    return get_object_or_404(RiskControl, product=product, code=code)


@require_GET
def control_detail(request, slug, code):
    product = selectors.product_for(request, slug)
    control = get_object_or_404(
        RiskControl.objects.prefetch_related(
            Prefetch("hazard_links", HazardControl.objects.select_related("hazard")),
            Prefetch("introduced_links", ControlIntroducedHazard.objects.select_related("hazard")),
        ),
        product=product,
        code=code,
    )
    linked = [link.hazard_id for link in control.hazard_links.all()]
    return render(
        request,
        "hazards/control_detail.html",
        {
            "product": product,
            "control": control,
            "link_form": LinkHazardForm(
                queryset=product.hazards.exclude(pk__in=linked), product=product
            ),
            "status_form": StatusForm(initial={"version": control.version}),
            "versions": versions(control, limit=5),
        },
    )


def control_create(request, slug):
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    form = RiskControlForm(request.POST or None)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, _version: services.control_create(
            product=product, by=request.user, reason=reason, **fields
        ),
        success=lambda control: f"{control.code} recorded.",
    )
    if submitted.saved:
        control = submitted.record
        hazard_code = request.GET.get("hazard")
        if hazard_code:
            hazard = product.hazards.filter(code=hazard_code).first()
            if hazard:
                services.hazard_control_link(hazard=hazard, control=control, by=request.user)
                return redirect("hazards:hazard_detail", slug, hazard.code)
        return redirect("hazards:control_detail", slug, control.code)
    return render(request, "hazards/control_form.html", {"product": product, "form": form})


def control_edit(request, slug, code):
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    control = _control(product, code)
    form = RiskControlForm(request.POST or None, instance=control)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, version: services.control_update(
            control=control, by=request.user, reason=reason, expected_version=version, **fields
        ),
        success=f"{code} saved.",
    )
    if submitted.saved:
        return redirect("hazards:control_detail", slug, code)
    return render(
        request,
        "hazards/control_form.html",
        {
            "product": product,
            "form": form,
            "control": control,
            "stale_changes": submitted.stale_changes,
        },
    )


@require_POST
def control_status(request, slug, code):
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    change_status(request, _control(product, code))
    return redirect("hazards:control_detail", slug, code)


@require_POST
def control_link_hazard(request, slug, code):
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    control = _control(product, code)
    form = LinkHazardForm(request.POST, queryset=product.hazards.all())
    if form.is_valid():
        try:
            services.hazard_control_link(
                hazard=form.cleaned_data["hazard"],
                control=control,
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{code} now reduces {form.cleaned_data['hazard'].code}.")
    else:
        messages.error(request, "Choose a hazard of this product.")
    return redirect("hazards:control_detail", slug, code)


@require_GET
def control_history(request, slug, code):
    product = selectors.product_for(request, slug)
    control = _control(product, code)
    return render(
        request,
        "hazards/history.html",
        {"product": product, "record": control, "versions": versions(control)},
    )


# --- Risk policy ----------------------------------------------------------------------------------


@require_GET
def product_policy(request, slug):
    product = selectors.product_for(request, slug)
    return _policy_page(request, product.risk_policy, product)


@require_GET
def policy_templates(request):
    """The templates a new product's policy is copied from (readable by every signed-in user;
    kept by administrators)."""
    return render(
        request,
        "hazards/policy_templates.html",
        {
            "templates": RiskPolicy.objects.filter(product__isnull=True).order_by("name", "pk"),
            "is_administrator": roles.is_administrator(request.user),
        },
    )


@require_GET
def policy_detail(request, pk):
    """A template's page; a product's policy lives on its product's page (members only)."""
    policy = get_object_or_404(RiskPolicy.objects.select_related("product"), pk=pk)
    if policy.product_id:
        roles.require_member(request.user, policy.product)
        return redirect("hazards:product_policy", policy.product.slug)
    return _policy_page(request, policy, None)


def _policy_page(request, policy, product):
    data = policy.data
    matrices = [risk.heat_map_grid(data, category, []) for category in risk.Category]
    approved = policy.approved_data
    show_approved = approved is not None and approved.criteria() != data.criteria()
    if product is not None:
        editable = roles.can_edit(request.user, product)
    else:
        editable = roles.is_administrator(request.user)
    return render(
        request,
        "hazards/policy_detail.html",
        {
            "product": product,
            "policy": policy,
            "data": data,
            "matrices": matrices,
            "approved_matrices": (
                [risk.heat_map_grid(approved, category, []) for category in risk.Category]
                if show_approved
                else []
            ),
            "mapping_rows": list(zip(data.p1_levels, data.probability_mapping, strict=False)),
            "can_edit_policy": editable,
            "status_form": StatusForm(initial={"version": policy.version}),
            "template_form": (
                PolicyTemplateForm(initial={"version": policy.version}) if product else None
            ),
            "versions": versions(policy, limit=10),
        },
    )


def product_policy_edit(request, slug):
    """Edit the working criteria of this product's plan: only its editors (the service checks
    again). Risk evaluation changes only once the new version is approved by signature."""
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    return _policy_edit(request, product.risk_policy, product)


def policy_edit(request, pk):
    """Edit a template (administrators) or, by its id, a product's own policy (that product's
    editors, as on the product's policy page)."""
    policy = get_object_or_404(RiskPolicy.objects.select_related("product"), pk=pk)
    if policy.product_id:
        roles.require_editor(request.user, policy.product)
        return _policy_edit(request, policy, policy.product)
    if not roles.is_administrator(request.user):
        raise PermissionDenied("Only administrators change risk policy templates.")
    return _policy_edit(request, policy, None)


def _policy_edit(request, policy, product):
    action = request.POST.get("policy_action", "") if request.method == "POST" else ""
    if action:
        # "Add a level" / "Remove level n": show the resized scales and grids, save nothing.
        form = RiskPolicyForm.after_level_change(request.POST, instance=policy, action=action)
        return render(
            request,
            "hazards/policy_form.html",
            {"policy": policy, "form": form, "product": product},
        )
    form = RiskPolicyForm(request.POST or None, instance=policy)
    submitted = submit_versioned_form(
        request,
        form,
        lambda fields, reason, version: services.policy_update(
            policy=policy, by=request.user, reason=reason, expected_version=version, **fields
        ),
        success="Risk policy saved. Risks are evaluated against it once this version is "
        "approved with a signature.",
    )
    if submitted.saved:
        return redirect(policy.get_absolute_url())
    return render(
        request,
        "hazards/policy_form.html",
        {
            "policy": policy,
            "form": form,
            "stale_changes": submitted.stale_changes,
            "product": product,
        },
    )


@require_POST
def product_policy_status(request, slug):
    """Submit the product's policy for review, or take it back to draft; approval is an
    electronic signature on the policy page."""
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    change_status(request, product.risk_policy)
    return redirect("hazards:product_policy", slug)


@require_POST
def product_policy_template(request, slug):
    """Replace the product's working criteria by a copy of a template (a regulated change)."""
    product = selectors.product_for(request, slug)
    roles.require_editor(request.user, product)
    form = PolicyTemplateForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"Not changed: {errors}")
        return redirect("hazards:product_policy", slug)
    try:
        policy = services.policy_copy_template(
            policy=product.risk_policy,
            template=form.cleaned_data["template"],
            by=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except (StaleEditError, ValidationError) as exc:
        messages.error(request, "Not changed: " + "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request,
            f"The working criteria are now a copy of {policy.template.name} "
            f"v{policy.template_version}. Risks are evaluated against them once approved "
            "with a signature.",
        )
    return redirect("hazards:product_policy", slug)


def policy_template_create(request):
    """A new template, copied from a template or a product's policy (administrators)."""
    if not roles.is_administrator(request.user):
        raise PermissionDenied("Only administrators keep risk policy templates.")
    form = PolicyTemplateCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        source = form.cleaned_data["source"]
        try:
            template = services.policy_template_create(
                by=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                source=source,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Template {template.name} created.")
            return redirect("hazards:policy_detail", template.pk)
    return render(request, "hazards/policy_template_form.html", {"form": form})
