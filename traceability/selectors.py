"""Reads of the traceability side that span relations, each in a fixed number of queries,
plus the contributions to shared pages (dashboard panel, search) named in
`riskbench.navigation`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse

from hazards.models import ControlIntroducedHazard, HazardControl, HazardTransfer, Product
from hazards.selectors import SearchHit
from traceability import graph as tg
from traceability.models import (
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementTest,
    SoftwareItem,
    SoftwareItemHazard,
    TestCase,
    TestRun,
)
from traceability.summary import product_summary

# --- Links to items -----------------------------------------------------------------------------

DETAIL_URLS = {
    tg.HAZARD: "hazards:hazard_detail",
    tg.CONTROL: "hazards:control_detail",
    tg.REQUIREMENT: "traceability:requirement_detail",
    tg.TEST: "traceability:test_case_detail",
    tg.SOFTWARE_ITEM: "traceability:software_item_detail",
}
_PLACEHOLDER = "CODE-PLACEHOLDER-0"


class Linker:
    """URLs of item pages by (kind, code), reversing each pattern once per request: a matrix
    export of thousands of rows must not pay for thousands of `reverse()` calls."""

    def __init__(self, slug: str):
        self.slug = slug
        self._prefix: dict[str, str] = {}

    def url(self, kind: str, code: str) -> str:
        if kind not in self._prefix:
            self._prefix[kind] = reverse(DETAIL_URLS[kind], args=[self.slug, _PLACEHOLDER])
        return self._prefix[kind].replace(_PLACEHOLDER, quote(code, safe=""))

    def node(self, graph, node) -> str:
        return self.url(node[0], graph.nodes[node].get("code", ""))


# --- The graph of a product ---------------------------------------------------------------------


def product_analysis(product: Product) -> tg.Analysis:
    """Build the product's trace graph (13 queries) and run every analysis on it once.

    Pages that need only the results use `traceability.summary.product_summary` (cached per
    change); pages about one item load its neighbourhood (`traceability.neighbourhood`)."""
    return tg.analyse(tg.build_graph(product))


def latest_run_annotations():
    latest = TestRun.objects.filter(test_case=OuterRef("pk")).order_by("-executed_at", "-id")
    return {
        "latest_result": Subquery(latest.values("result")[:1]),
        "latest_run_at": Subquery(latest.values("executed_at")[:1]),
    }


# --- Software items -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeRow:
    item: SoftwareItem
    depth: int


def software_tree(product: Product) -> list[TreeRow]:
    """The architecture as an indented list, parents before children (one query + one for the
    requirement counts)."""
    items = list(
        product.software_items.annotate(requirement_count=Count("requirements")).order_by("code")
    )
    children: dict[int | None, list[SoftwareItem]] = {}
    ids = {item.pk for item in items}
    for item in items:
        parent = item.parent_id if item.parent_id in ids else None
        children.setdefault(parent, []).append(item)
    rows: list[TreeRow] = []
    seen: set[int] = set()

    def walk(parent, depth):
        for child in sorted(children.get(parent, []), key=lambda i: tg.code_key(i.code)):
            if child.pk in seen:
                continue
            seen.add(child.pk)
            rows.append(TreeRow(child, depth))
            walk(child.pk, depth + 1)

    walk(None, 0)
    # Items caught in a parent cycle (corrupt data) still appear, at the top level.
    rows.extend(TreeRow(i, 0) for i in items if i.pk not in seen)
    return rows


def software_item_detail(product: Product, code: str) -> SoftwareItem:
    return get_object_or_404(
        SoftwareItem.objects.select_related("parent").prefetch_related(
            Prefetch("children", SoftwareItem.objects.order_by("code")),
            Prefetch("requirements", Requirement.objects.order_by("code")),
            Prefetch(
                "hazard_links",
                SoftwareItemHazard.objects.select_related("hazard").order_by("hazard__code"),
            ),
        ),
        product=product,
        code=code,
    )


# --- Requirements -------------------------------------------------------------------------------


def requirement_list(product: Product, filters: dict):
    """Requirements with their item, controls and tests: 3 queries whatever the count."""
    qs = (
        product.requirements.select_related("software_item")
        .prefetch_related(
            Prefetch(
                "control_links",
                ControlRequirement.objects.select_related("control").order_by("control__code"),
            ),
            Prefetch(
                "test_links",
                RequirementTest.objects.select_related("test_case").order_by("test_case__code"),
            ),
        )
        .order_by("code")
    )
    if filters.get("level"):
        qs = qs.filter(level=filters["level"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("q"):
        text = filters["q"]
        qs = qs.filter(Q(code__icontains=text) | Q(title__icontains=text) | Q(text__icontains=text))
    return qs


def requirement_detail(product: Product, code: str) -> Requirement:
    tests = TestCase.objects.annotate(**latest_run_annotations())
    return get_object_or_404(
        Requirement.objects.select_related("parent", "software_item").prefetch_related(
            Prefetch("children", Requirement.objects.order_by("code")),
            Prefetch(
                "control_links",
                ControlRequirement.objects.select_related("control").order_by("control__code"),
            ),
            Prefetch(
                "test_links",
                RequirementTest.objects.order_by("test_case__code").prefetch_related(
                    Prefetch("test_case", tests)
                ),
            ),
        ),
        product=product,
        code=code,
    )


# --- Tests --------------------------------------------------------------------------------------


def test_case_list(product: Product, filters: dict):
    """Test cases with their latest run and what they verify: 4 queries whatever the count."""
    qs = (
        product.test_cases.annotate(**latest_run_annotations(), run_count=Count("runs"))
        .prefetch_related(
            Prefetch(
                "requirement_links",
                RequirementTest.objects.select_related("requirement").order_by("requirement__code"),
            ),
            Prefetch(
                "implementation_control_links",
                ControlImplementationTest.objects.select_related("control").order_by(
                    "control__code"
                ),
            ),
            Prefetch(
                "effectiveness_control_links",
                ControlEffectivenessTest.objects.select_related("control").order_by(
                    "control__code"
                ),
            ),
        )
        .order_by("code")
    )
    if filters.get("level"):
        qs = qs.filter(level=filters["level"])
    if filters.get("method"):
        qs = qs.filter(method=filters["method"])
    if filters.get("q"):
        text = filters["q"]
        qs = qs.filter(Q(code__icontains=text) | Q(title__icontains=text))
    result = filters.get("result")
    if result == "none":
        qs = qs.filter(latest_result__isnull=True)
    elif result:
        qs = qs.filter(latest_result=result)
    return qs


def test_case_detail(product: Product, code: str) -> TestCase:
    return get_object_or_404(
        TestCase.objects.prefetch_related(
            Prefetch(
                "runs",
                TestRun.objects.select_related("executed_by").order_by("-executed_at", "-id"),
            ),
            Prefetch(
                "requirement_links",
                RequirementTest.objects.select_related("requirement").order_by("requirement__code"),
            ),
            Prefetch(
                "implementation_control_links",
                ControlImplementationTest.objects.select_related("control").order_by(
                    "control__code"
                ),
            ),
            Prefetch(
                "effectiveness_control_links",
                ControlEffectivenessTest.objects.select_related("control").order_by(
                    "control__code"
                ),
            ),
        ),
        product=product,
        code=code,
    )


# --- A control's trace (shown on the control page, owned by `hazards`) ---------------------------


@dataclass(frozen=True)
class ControlTrace:
    requirement_links: list
    implementation_links: list
    effectiveness_links: list
    implementation: str  # evidence status (graph.evidence_status)
    effectiveness: str


def control_trace(control) -> ControlTrace:
    """Requirements and verification of one control with latest results: 3 queries."""
    tests = TestCase.objects.annotate(**latest_run_annotations())
    req_links = list(
        control.requirement_links.select_related("requirement").order_by("requirement__code")
    )
    impl = list(
        control.implementation_test_links.order_by("test_case__code").prefetch_related(
            Prefetch("test_case", tests)
        )
    )
    eff = list(
        control.effectiveness_test_links.order_by("test_case__code").prefetch_related(
            Prefetch("test_case", tests)
        )
    )
    return ControlTrace(
        req_links,
        impl,
        eff,
        tg.evidence_status([link.test_case.latest_result for link in impl]),
        tg.evidence_status([link.test_case.latest_result for link in eff]),
    )


# --- Suspect links ------------------------------------------------------------------------------

LINK_MODELS_BY_KIND = {
    model.KIND: model
    for model in (
        HazardControl,
        ControlIntroducedHazard,
        HazardTransfer,
        ControlRequirement,
        RequirementTest,
        ControlImplementationTest,
        ControlEffectivenessTest,
        SoftwareItemHazard,
    )
}


@dataclass(frozen=True)
class SuspectLink:
    kind: str
    phrase: str
    link: object  # the link row, with both ends loaded
    source: tuple
    target: tuple
    source_code: str
    source_title: str
    target_code: str
    target_title: str
    source_changed: bool
    target_changed: bool
    source_url: str
    target_url: str


def suspect_links(product: Product, gaps: list[tg.Gap]) -> list[SuspectLink]:
    """The suspect links of `gaps` (one page of the product's "suspect_link" gaps) with the
    versions they recorded and their ends' current versions: one query per link table on the
    page (at most 8), whatever the product's size."""
    linker = Linker(product.slug)
    wanted: dict[str, list[int]] = {}
    for gap in gaps:
        wanted.setdefault(gap.link[0], []).append(gap.link[1])
    rows: dict[tuple[str, int], object] = {}
    for kind, ids in wanted.items():
        model = LINK_MODELS_BY_KIND[kind]
        qs = model.objects.filter(pk__in=ids).select_related(
            "reviewed_by", "created_by", model.SOURCE_FIELD, model.TARGET_FIELD
        )
        for link in qs:
            rows[(kind, link.pk)] = link
    result = []
    for gap in gaps:
        kind, link_id, target = gap.link
        link = rows.get((kind, link_id))
        if link is None:
            continue
        s, t = link.source, link.target
        result.append(
            SuspectLink(
                kind=kind,
                phrase=tg.LINK_KINDS[kind][2],
                link=link,
                source=gap.node,
                target=target,
                source_code=s.code,
                source_title=_title(s),
                target_code=t.code,
                target_title=_title(t),
                source_changed=s.version > link.source_version,
                target_changed=t.version > link.target_version,
                source_url=linker.url(gap.node[0], s.code),
                target_url=linker.url(target[0], t.code),
            )
        )
    return result


def _title(record) -> str:
    return getattr(record, "title", None) or getattr(record, "name", "")


# --- Contributions to shared pages ---------------------------------------------------------------


# Pages of gap records that are not trace-graph nodes, by URL name (no import of the apps above:
# DESIGN.md §1); (kind → (url name, argument taken from the gap: "pk" or "code")).
RECORD_PAGES = {
    "product": ("hazards:dashboard", None),
    "policy": ("hazards:product_policy", None),
    "report": ("report:detail", "pk"),
    "problem_report": ("postmarket:problem_report_detail", "code"),
    "vulnerability": ("postmarket:vulnerability_detail", "code"),
}


def record_url(product: Product, gap) -> str:
    """The page of a gap's record that is not a node of the trace graph (the product's scope
    and plan, its risk policy, the report, post-market records); empty when it has none."""
    name, arg = RECORD_PAGES.get(gap.node[0], (None, None))
    if name is None:
        return ""
    args = [product.slug] + ([gap.node[1]] if arg == "pk" else [gap.code] if arg else [])
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def dashboard_panel(request, product: Product):
    """Coverage summary on the product dashboard (riskbench.navigation.DASHBOARD_PANELS): the
    same checks as `riskcheck` (traceability.gate), cached per change."""
    analysis = product_summary(product)
    verification = analysis.hazards
    counts = {state: 0 for state in tg.HAZARD_STATES}
    for state in verification.values():
        counts[state] += 1
    return (
        "traceability/_dashboard_panel.html",
        {
            "coverage": analysis.coverage,
            "gap_count": analysis.gap_count,
            "verification": list(counts.items()),
            "top_gaps": [row for row in analysis.coverage if row.gaps],
        },
    )


def search_traceability(product: Product, query: str) -> list[SearchHit]:
    """Requirements, tests and software items by code or words (riskbench SEARCH_PROVIDERS)."""
    text = query.strip()
    if not text:
        return []
    linker = Linker(product.slug)
    hits = []
    for req in product.requirements.filter(
        Q(code__icontains=text) | Q(title__icontains=text) | Q(text__icontains=text)
    ).order_by("code")[:50]:
        hits.append(
            SearchHit(req.code, req.title, "Requirement", linker.url(tg.REQUIREMENT, req.code))
        )
    for test in product.test_cases.filter(
        Q(code__icontains=text) | Q(title__icontains=text) | Q(procedure__icontains=text)
    ).order_by("code")[:50]:
        hits.append(SearchHit(test.code, test.title, "Test case", linker.url(tg.TEST, test.code)))
    for item in product.software_items.filter(
        Q(code__icontains=text)
        | Q(name__icontains=text)
        | Q(manufacturer__icontains=text)
        | Q(purl__icontains=text)
    ).order_by("code")[:50]:
        hits.append(
            SearchHit(
                item.code, item.name, "Software item", linker.url(tg.SOFTWARE_ITEM, item.code)
            )
        )
    return hits
