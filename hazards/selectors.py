"""Reads of the risk register that span relations, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.urls import reverse

from hazards import risk
from hazards.models import Category, Hazard, HazardControl, Product, RiskControl, RiskPolicy
from riskbench import lists, roles
from riskbench.cache import cached_analysis


def product_for(request, slug: str) -> Product:
    """The product named in the URL, if the user may see it (404 otherwise)."""
    product = get_object_or_404(Product.objects.select_related("risk_policy"), slug=slug)
    roles.require_member(request.user, product)
    request.current_product = product
    return product


def _count(model_qs):
    """A correlated COUNT subquery per product: annotating several reverse relations with
    Count() would join them and multiply the rows (hazards × controls)."""
    counted = model_qs.filter(product=OuterRef("pk")).order_by().values("product")
    return Subquery(counted.annotate(n=Count("pk")).values("n")[:1])


def policy_template(ref) -> RiskPolicy | None:
    """A risk policy template by name, or by id when `ref` is a number and no name matches.
    A product's own policy is never a template (it has a product)."""
    templates = RiskPolicy.objects.filter(product__isnull=True)
    ref = str(ref).strip()
    template = templates.filter(name=ref).first()
    if template is None and ref.isascii() and ref.isdigit():
        template = templates.filter(pk=int(ref)).first()
    return template


def template_names() -> str:
    return (
        ", ".join(
            RiskPolicy.objects.filter(product__isnull=True)
            .order_by("name")
            .values_list("name", flat=True)
        )
        or "none"
    )


def products_for_user(user):
    qs = Product.objects.all() if user.is_superuser else user.products.all()
    return qs.annotate(
        hazard_count=Coalesce(_count(Hazard.objects.all()), 0),
        control_count=Coalesce(_count(RiskControl.objects.all()), 0),
        unacceptable_residual=Coalesce(
            _count(Hazard.objects.filter(residual_acceptability="unacceptable")), 0
        ),
    ).order_by("name")


SORTS = {
    "code": ("code",),
    "title": ("title", "code"),
    "category": ("category", "code"),
    "severity": ("-severity", "code"),
    "probability": ("-probability", "code"),
    "status": ("status", "code"),
    "initial": ("-initial_risk_index", "code"),
    "residual": ("-residual_risk_index", "code"),
    "owner": ("owner__username", "code"),
    "updated": ("-updated_at", "code"),
}
# Columns whose natural order is "highest first" (a click shows the worst risks on top).
DESCENDING_SORTS = {"severity", "probability", "initial", "residual", "updated"}
NOT_ESTIMATED = "none"  # the acceptability filters' value for "not estimated"
LEVEL_FILTERS = ("severity", "probability", "residual_severity", "residual_probability")


def _level(value: str) -> int | None:
    """A scale level from the URL; anything but a small whole number is ignored."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 3 else None


def hazard_log(product: Product, filters: dict, *, verification_pks=None):
    """The hazard log with its filters (category, status, acceptability — or "none" for not
    estimated —, risk-matrix cell, owner, text) in the requested order (`sort`, or `-sort` for
    the reverse). `verification_pks`: the hazards to keep when filtering by verification state.

    Query plan: hazards with owner (1) + control links with controls (1).
    """
    qs = product.hazards.select_related("owner").prefetch_related("control_links__control")
    if filters.get("category"):
        qs = qs.filter(category=filters["category"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    for name, prefix in (("initial", ""), ("residual", "residual_")):
        value = filters.get(name)
        if value == NOT_ESTIMATED:
            qs = qs.filter(
                Q(**{f"{name}_acceptability": ""})
                | Q(**{f"{prefix}severity__isnull": True})
                | Q(**{f"{prefix}probability__isnull": True})
            )
        elif value:
            qs = qs.filter(**{f"{name}_acceptability": value})
    for name in LEVEL_FILTERS:
        level = _level(filters.get(name, ""))
        if level is not None:
            qs = qs.filter(**{name: level})
    if filters.get("owner"):
        qs = qs.filter(owner__username=filters["owner"])
    if verification_pks is not None:
        qs = qs.filter(pk__in=list(verification_pks))
    if filters.get("q"):
        text = filters["q"]
        qs = qs.filter(
            Q(code__icontains=text)
            | Q(title__icontains=text)
            | Q(hazard__icontains=text)
            | Q(hazardous_situation__icontains=text)
            | Q(harm__icontains=text)
        )
    return qs.order_by(*lists.parse_sort(filters.get("sort", ""), SORTS, "code").order_by)


CONTROL_SORTS = {
    "code": ("code",),
    "title": ("title", "code"),
    "option": ("option", "code"),
    "security_category": ("security_category", "code"),
    "implementation": ("implementation_status", "code"),
    "status": ("status", "code"),
}


def control_list(product: Product, filters: dict, *, verification_pks=None):
    """The risk controls with their filters (option, security category, implementation,
    status, text) in the requested order; hazards each reduces prefetched.

    Query plan: controls (1) + hazard links with hazards (1).
    """
    qs = product.controls.prefetch_related(
        Prefetch("hazard_links", HazardControl.objects.select_related("hazard"))
    )
    for name, field in (
        ("option", "option"),
        ("security_category", "security_category"),
        ("implementation", "implementation_status"),
        ("status", "status"),
    ):
        if filters.get(name):
            qs = qs.filter(**{field: filters[name]})
    if verification_pks is not None:
        qs = qs.filter(pk__in=list(verification_pks))
    if filters.get("q"):
        text = filters["q"]
        qs = qs.filter(
            Q(code__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
        )
    return qs.order_by(*lists.parse_sort(filters.get("sort", ""), CONTROL_SORTS, "code").order_by)


def heat_maps(product: Product) -> list[dict]:
    """The heat maps of `_heat_maps`, computed once per change of the product
    (riskbench.cache)."""
    return cached_analysis("heat_maps", product.pk, lambda: _heat_maps(product))


def _heat_maps(product: Product) -> list[dict]:
    """Initial and residual heat maps for each category, from one query, with how many hazards
    each map leaves out because they are not estimated (the map must not hide them)."""
    policy = product.risk_policy.evaluation_data
    rows = list(
        product.hazards.values_list(
            "category",
            "severity",
            "probability",
            "initial_acceptability",
            "residual_severity",
            "residual_probability",
            "residual_acceptability",
        )
    )

    def not_estimated(severity, likelihood, acceptability) -> bool:
        return severity is None or likelihood is None or not acceptability

    maps = []
    for category in Category.values:
        mine = [r for r in rows if r[0] == category]
        maps.append(
            {
                "category": category,
                "label": Category(category).label,
                "initial": risk.heat_map_grid(policy, category, [(r[1], r[2]) for r in mine]),
                "residual": risk.heat_map_grid(policy, category, [(r[4], r[5]) for r in mine]),
                "initial_not_estimated": sum(1 for r in mine if not_estimated(*r[1:4])),
                "residual_not_estimated": sum(1 for r in mine if not_estimated(*r[4:7])),
                "count": len(mine),
            }
        )
    return maps


def dashboard_counts(product: Product) -> dict:
    agg = product.hazards.aggregate(
        total=Count("id"),
        safety=Count("id", filter=Q(category=Category.SAFETY)),
        security=Count("id", filter=Q(category=Category.SECURITY)),
        privacy=Count("id", filter=Q(category=Category.PRIVACY)),
        approved=Count("id", filter=Q(status="approved")),
        in_review=Count("id", filter=Q(status="in_review")),
        draft=Count("id", filter=Q(status="draft")),
        residual_not_estimated=Count("id", filter=Q(residual_acceptability="")),
        residual_unacceptable=Count("id", filter=Q(residual_acceptability="unacceptable")),
        residual_investigate=Count("id", filter=Q(residual_acceptability="investigate")),
    )
    # A separate query: joining the links into the aggregate above would multiply its counts.
    agg["without_control"] = product.hazards.filter(control_links__isnull=True).count()
    agg["controls"] = product.controls.count()
    return agg


def recent_changes(product: Product, limit: int = 12) -> list:
    """Latest history rows of the product's hazards and controls (two queries)."""
    hazard_rows = list(
        Hazard.history.filter(product_id=product.pk)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    control_rows = list(
        RiskControl.history.filter(product_id=product.pk)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    rows = sorted(hazard_rows + control_rows, key=lambda r: r.history_date, reverse=True)
    return rows[:limit]


@dataclass(frozen=True)
class SearchHit:
    code: str
    title: str
    kind: str
    url: str


def search_register(product: Product, query: str) -> list[SearchHit]:
    text = query.strip()
    hits = []
    hazards = product.hazards.filter(
        Q(code__iexact=text)
        | Q(code__icontains=text)
        | Q(title__icontains=text)
        | Q(hazard__icontains=text)
        | Q(hazardous_situation__icontains=text)
        | Q(harm__icontains=text)
        | Q(sequence_of_events__icontains=text)
    )[:50]
    for h in hazards:
        url = reverse("hazards:hazard_detail", args=[product.slug, h.code])
        hits.append(SearchHit(h.code, h.title, "Hazard", url))
    controls = product.controls.filter(
        Q(code__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
    )[:50]
    for c in controls:
        url = reverse("hazards:control_detail", args=[product.slug, c.code])
        hits.append(SearchHit(c.code, c.title, "Risk control", url))
    return hits


def plan_approval(product: Product):
    """The "approved" signature that approves the current scope and risk management plan
    (ISO 14971 4.4), or None. The plan is approved by a person's signature on its current
    content, never by a status: once the plan is edited, the earlier approval is superseded and
    the plan needs a new one. Two queries at most (signatures; content type cached)."""
    from riskbench import signatures
    from riskbench.models import SignatureMeaning

    for shown in reversed(signatures.signatures_of(product)):
        if (
            shown.state == signatures.SignatureState.VALID
            and shown.signature.meaning == SignatureMeaning.APPROVED
        ):
            return shown.signature
    return None
