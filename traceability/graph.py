"""The traceability graph of one product and the analyses an auditor runs over it.

ISO 14971 4.5 asks the risk management file to trace every hazard to its risk analysis,
evaluation, the implementation and verification of its risk controls and the residual risk;
IEC 62304 7.3.3 asks the same from hazardous situation to software item, cause, control and
verification. `build_graph` loads a product into one `networkx.DiGraph` in a fixed number of
queries (one `values_list` per node table and per link table, whatever the size of the product);
every other function here is pure: it reads the graph and never the database, so it is unit-tested
on hand-built graphs and is cheap enough to run on every page view.

Nodes are `(kind, pk)` tuples (never model instances) with the attributes listed in
`build_graph`. Edges point the way the links are modelled (source → target), which is also the
way the trace flows from risk to evidence:

    software_item ─contributes_to→ hazard ─reduces→ control ─implemented_by→ requirement
    security hazard ─can_lead_to→ safety hazard          requirement ─verified_by→ test
    control ─introduces→ hazard                          control ─implementation_verified_by→ test
                                                         control ─effectiveness_verified_by→ test

Each edge carries `kind`, `link_id` and `suspect` of its (first) link, and `links`: a tuple of
`LinkRef(kind, link_id, suspect, cause_type)` for *every* link between the two nodes — a DiGraph
holds one edge per ordered pair, and the same test may verify both the implementation and the
effectiveness of a control, or a software item contribute to a hazard through two causes.
Analyses always read `links`; use `iter_links` / `has_link` rather than `kind` when in doubt.
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple

import networkx as nx

from hazards.risk import Acceptability, SoftwareContribution, software_safety_class

NodeKind = Literal["hazard", "control", "requirement", "test", "software_item"]
Node = tuple[str, int]

HAZARD: NodeKind = "hazard"
CONTROL: NodeKind = "control"
REQUIREMENT: NodeKind = "requirement"
TEST: NodeKind = "test"
SOFTWARE_ITEM: NodeKind = "software_item"
NODE_KINDS: tuple[str, ...] = (HAZARD, CONTROL, REQUIREMENT, TEST, SOFTWARE_ITEM)
NODE_KIND_LABELS = {
    HAZARD: "Hazard",
    CONTROL: "Risk control",
    REQUIREMENT: "Requirement",
    TEST: "Test case",
    SOFTWARE_ITEM: "Software item",
}

# Link kinds, as stored on the edges (and equal to each link model's KIND).
REDUCES = "reduces"
INTRODUCES = "introduces"
CAN_LEAD_TO = "can_lead_to"
IMPLEMENTED_BY = "implemented_by"
VERIFIED_BY = "verified_by"
IMPLEMENTATION_VERIFIED_BY = "implementation_verified_by"
EFFECTIVENESS_VERIFIED_BY = "effectiveness_verified_by"
CONTRIBUTES_TO = "contributes_to"
LINK_KINDS: dict[str, tuple[str, str, str]] = {
    # kind: (source node kind, target node kind, human phrase "source … target")
    REDUCES: (HAZARD, CONTROL, "is reduced by"),
    INTRODUCES: (CONTROL, HAZARD, "introduces"),
    CAN_LEAD_TO: (HAZARD, HAZARD, "can lead to"),
    IMPLEMENTED_BY: (CONTROL, REQUIREMENT, "is implemented by"),
    VERIFIED_BY: (REQUIREMENT, TEST, "is verified by"),
    IMPLEMENTATION_VERIFIED_BY: (CONTROL, TEST, "implementation is verified by"),
    EFFECTIVENESS_VERIFIED_BY: (CONTROL, TEST, "effectiveness is verified by"),
    CONTRIBUTES_TO: (SOFTWARE_ITEM, HAZARD, "contributes to"),
}

PASS = "pass"  # noqa: S105 (a test result, not a password)
FAIL = "fail"
BLOCKED = "blocked"
NOT_RUN = "not_run"


class LinkRef(NamedTuple):
    """One link row behind an edge (a named tuple: thousands are made per graph)."""

    kind: str
    link_id: int
    suspect: bool
    cause_type: str = ""


class Link(NamedTuple):
    """One trace link read from the graph (see `iter_links`)."""

    kind: str
    source: Node
    target: Node
    link_id: int
    suspect: bool
    cause_type: str = ""


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while a graph or an analysis is built.

    Both create tens of thousands of small tuples and dicts, none in a reference cycle, and
    each burst of allocations would otherwise trigger full collections that walk the whole
    graph again: ~40 % of the time at 1,000 hazards. Reference counting still frees memory;
    the collector is switched back on (if it was on) as soon as the work is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_CODE_RE = re.compile(r"^(.*?)(\d+)$")


def code_key(code: str) -> tuple:
    """Natural order of item codes, so HAZ-1000 sorts after HAZ-999."""
    code = code or ""
    prefix, dash, number = code.rpartition("-")
    if dash and number.isdecimal():  # the usual "PREFIX-123": no regex needed
        return (prefix + dash, int(number), code)
    match = _CODE_RE.match(code)
    if match:
        return (match.group(1), int(match.group(2)), code)
    return (code, -1, code)


_KIND_ORDER = {kind: i for i, kind in enumerate(NODE_KINDS)}


def node_key(graph: nx.DiGraph, node: Node) -> tuple:
    """Stable order: by node kind (hazard first), then natural code order, then pk."""
    return record_key(node, graph.nodes[node].get("code", ""))


def record_key(node: Node, code: str) -> tuple:
    """`node_key` of a record whose code is known (without its graph)."""
    return (_KIND_ORDER.get(node[0], len(NODE_KINDS)), code_key(code), node[1])


def sort_nodes(graph: nx.DiGraph, nodes: Iterable[Node]) -> list[Node]:
    return sorted(nodes, key=lambda n: node_key(graph, n))


# ---------------------------------------------------------------------------------------------
# Building the graph (the only part that touches the database)
# ---------------------------------------------------------------------------------------------


def add_link(
    graph: nx.DiGraph,
    kind: str,
    source: Node,
    target: Node,
    link_id: int,
    *,
    suspect: bool = False,
    cause_type: str = "",
) -> None:
    """Add one link to a graph (merging with an existing edge between the same two nodes).

    Used by `build_graph` and by tests that hand-build graphs.
    """
    ref = LinkRef(kind, link_id, suspect, cause_type)
    if graph.has_edge(source, target):
        data = graph.edges[source, target]
        data["links"] = (*data["links"], ref)
        data["suspect"] = data["suspect"] or suspect
    else:
        graph.add_edge(source, target, kind=kind, link_id=link_id, suspect=suspect, links=(ref,))


def build_graph(product, *, only: dict[str, set[int]] | None = None) -> nx.DiGraph:
    """Load `product`'s trace graph: 5 node queries + 8 link queries, whatever its size.

    `only` (kind → pks) loads just those nodes and the links between them (a neighbourhood,
    see `traceability.neighbourhood`); kinds and link tables with nothing to load are skipped.

    Node attributes (all nodes: `code`, `title`, `version`):
    - hazard: category, severity, residual_severity, initial_acceptability,
      residual_acceptability, has_benefit_risk, status;
    - control: option, status, implementation_status;
    - requirement: level, status, software_item (node or None: the implementing item);
    - test: latest_result ("pass" | "fail" | "blocked" | "not_run" | None when never run),
      latest_run_at, method, level, status;
    - software_item: safety_class, is_soup, anomalies_reviewed, has_soup_requirements,
      has_segregation, parent (node or None), status.
    Graph attributes: product_id, product_slug.
    """
    with gc_paused():
        return _load_graph(product, only)


def _load_graph(product, only=None) -> nx.DiGraph:
    from django.db.models import OuterRef, Subquery

    from hazards.models import ControlIntroducedHazard, Hazard, HazardControl, HazardTransfer
    from hazards.models import RiskControl as Control
    from riskbench.models import is_suspect
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

    # node → its attribute dict, in the order the nodes enter the graph (kinds as queried):
    # plain rows, one dict literal each, handed to the graph at once (`_adjacency`). One
    # `add_node` call per node (~50,000 at 5,000 hazards) cost more than the queries.
    attrs: dict[Node, dict] = {}

    def rows(model, *fields, qs=None, kind=None):
        qs = qs if qs is not None else model.objects.filter(product=product)
        if only is not None:
            if not only.get(kind):
                return []
            qs = qs.filter(pk__in=only[kind])
        return qs.order_by().values_list("pk", "code", "version", *fields)

    hazard_fields = (
        "title",
        "category",
        "severity",
        "residual_severity",
        "initial_acceptability",
        "residual_acceptability",
        "benefit_risk_justification",
        "status",
    )
    for pk, code, version, title, cat, sev, res_sev, initial, residual, br, status in rows(
        Hazard, *hazard_fields, kind=HAZARD
    ):
        attrs[(HAZARD, pk)] = {
            "code": code,
            "title": title,
            "version": version,
            "category": cat,
            "severity": sev,
            "residual_severity": res_sev,
            "initial_acceptability": initial or "",
            "residual_acceptability": residual or "",
            "has_benefit_risk": bool((br or "").strip()),
            "status": status,
        }
    control_fields = ("title", "option", "status", "implementation_status")
    for pk, code, version, title, option, status, implementation in rows(
        Control, *control_fields, kind=CONTROL
    ):
        attrs[(CONTROL, pk)] = {
            "code": code,
            "title": title,
            "version": version,
            "option": option,
            "status": status,
            "implementation_status": implementation,
        }
    item_fields = (
        "name",
        "safety_class",
        "is_soup",
        "anomalies_reviewed_at",
        "soup_requirements",
        "segregation_note",
        "parent_id",
        "status",
    )
    for (
        pk,
        code,
        version,
        name,
        safety_class,
        soup,
        reviewed,
        soup_reqs,
        segregation,
        parent,
        status,
    ) in rows(SoftwareItem, *item_fields, kind=SOFTWARE_ITEM):
        attrs[(SOFTWARE_ITEM, pk)] = {
            "code": code,
            "title": name,
            "version": version,
            "safety_class": safety_class,
            "is_soup": soup,
            "anomalies_reviewed": reviewed is not None,
            "has_soup_requirements": bool((soup_reqs or "").strip()),
            "has_segregation": bool((segregation or "").strip()),
            "parent": (SOFTWARE_ITEM, parent) if parent else None,
            "status": status,
        }
    requirement_fields = ("title", "level", "status", "software_item_id")
    for pk, code, version, title, level, status, item in rows(
        Requirement, *requirement_fields, kind=REQUIREMENT
    ):
        attrs[(REQUIREMENT, pk)] = {
            "code": code,
            "title": title,
            "version": version,
            "level": level,
            "status": status,
            "software_item": (SOFTWARE_ITEM, item) if item else None,
        }
    # The latest run of each test (by executed_at, then id) as two correlated sub-queries that
    # use TestRun's (test_case, -executed_at, -id) index: still one query.
    latest = TestRun.objects.filter(test_case=OuterRef("pk")).order_by("-executed_at", "-id")
    tests = TestCase.objects.filter(product=product).annotate(
        latest_result=Subquery(latest.values("result")[:1]),
        latest_run_at=Subquery(latest.values("executed_at")[:1]),
    )
    test_fields = ("title", "method", "level", "status", "latest_result", "latest_run_at")
    for pk, code, version, title, method, level, status, result, run_at in rows(
        TestCase, *test_fields, qs=tests, kind=TEST
    ):
        attrs[(TEST, pk)] = {
            "code": code,
            "title": title,
            "version": version,
            "method": method,
            "level": level,
            "status": status,
            "latest_result": result,
            "latest_run_at": run_at,
        }

    link_tables = (
        (HazardControl, "hazard", "control", HAZARD, CONTROL, "hazard__product"),
        (ControlIntroducedHazard, "control", "hazard", CONTROL, HAZARD, "hazard__product"),
        (
            HazardTransfer,
            "security_hazard",
            "safety_hazard",
            HAZARD,
            HAZARD,
            "security_hazard__product",
        ),
        (ControlRequirement, "control", "requirement", CONTROL, REQUIREMENT, "control__product"),
        (RequirementTest, "requirement", "test_case", REQUIREMENT, TEST, "requirement__product"),
        (
            ControlImplementationTest,
            "control",
            "test_case",
            CONTROL,
            TEST,
            "control__product",
        ),
        (ControlEffectivenessTest, "control", "test_case", CONTROL, TEST, "control__product"),
        (
            SoftwareItemHazard,
            "software_item",
            "hazard",
            SOFTWARE_ITEM,
            HAZARD,
            "software_item__product",
        ),
    )
    graph = nx.DiGraph(product_id=product.pk, product_slug=product.slug)
    succ, pred = _adjacency(graph, attrs)
    for model, src_field, tgt_field, src_kind, tgt_kind, product_path in link_tables:
        columns = ["pk", f"{src_field}_id", f"{tgt_field}_id", "source_version", "target_version"]
        has_cause = model is SoftwareItemHazard
        if has_cause:
            columns.append("cause_type")
        kind = model.KIND
        links = model.objects.filter(**{product_path: product})
        if only is not None:
            if not (only.get(src_kind) and only.get(tgt_kind)):
                continue
            links = links.filter(
                **{f"{src_field}_id__in": only[src_kind], f"{tgt_field}_id__in": only[tgt_kind]}
            )
        for row in links.order_by("pk").values_list(*columns):
            link_id, src_id, tgt_id, src_version, tgt_version = row[:5]
            source, target = (src_kind, src_id), (tgt_kind, tgt_id)
            out, into = succ.get(source), pred.get(target)
            if out is None or into is None:
                continue  # an end in another product: database rules forbid it, never trust it
            suspect = is_suspect(
                src_version, attrs[source]["version"], tgt_version, attrs[target]["version"]
            )
            ref = LinkRef(kind, link_id, suspect, row[5] if has_cause else "")
            data = out.get(target)
            if data is None:  # the first link between the two: the edge (what `add_link` does)
                out[target] = into[source] = {
                    "kind": kind,
                    "link_id": link_id,
                    "suspect": suspect,
                    "links": (ref,),
                }
            else:
                data["links"] = (*data["links"], ref)
                data["suspect"] = data["suspect"] or suspect
    nx._clear_cache(graph)
    return graph


def _adjacency(graph: nx.DiGraph, nodes: dict[Node, dict]) -> tuple[dict, dict]:
    """Put `nodes` (node → its attribute dict, kept as is) into the empty DiGraph `graph` and
    return its successor and predecessor dicts, for `_load_graph` to write each edge's data
    dict into both, as `add_edges_from` does: the same structure without its per-item checks,
    copies and calls, a third of a 5,000-hazard build. Call `nx._clear_cache(graph)` when done.
    These are networkx's own (documented) adjacency dicts, `_node`, `_succ` and `_pred` (pinned
    version in requirements.txt): tests/traceability/test_gate_fast_paths.py compares the
    result with a build through the public API."""
    if len(graph):
        raise ValueError("the graph must be empty")
    succ, pred = graph._succ, graph._pred
    graph._node.update(nodes)
    for node in nodes:
        succ[node] = {}
        pred[node] = {}
    return succ, pred


# ---------------------------------------------------------------------------------------------
# Reading the graph
# ---------------------------------------------------------------------------------------------


def _refs(data: dict) -> tuple[LinkRef, ...]:
    """The links an edge stands for; tolerates edges added by hand with only `kind`."""
    links = data.get("links")
    if links is None and "kind" in data:
        return (
            LinkRef(
                data["kind"],
                data.get("link_id"),
                bool(data.get("suspect")),
                data.get("cause_type", ""),
            ),
        )
    return links or ()


def edge_links(data: dict) -> tuple[LinkRef, ...]:
    """The links one edge stands for (`graph.edges[u, v]`)."""
    return _refs(data)


def nodes_of(graph: nx.DiGraph, kind: str) -> list[Node]:
    """Nodes of one kind in stable (natural code) order."""
    return sort_nodes(graph, (n for n in graph.nodes if n[0] == kind))


def iter_links(graph: nx.DiGraph, kind: str | None = None) -> Iterator[Link]:
    """Every link of the graph (one per link row), optionally of one kind."""
    for source, target, data in graph.edges(data=True):
        for ref in _refs(data):
            if kind is None or ref.kind == kind:
                yield Link(ref.kind, source, target, ref.link_id, ref.suspect, ref.cause_type)


def has_link(graph: nx.DiGraph, source: Node, target: Node, kind: str) -> bool:
    if not graph.has_edge(source, target):
        return False
    return any(ref.kind == kind for ref in _refs(graph.edges[source, target]))


def successors_by(graph: nx.DiGraph, node: Node, kind: str) -> list[Node]:
    """Targets of `node`'s outgoing links of `kind`, in stable order."""
    return sort_nodes(graph, (t for t in graph.successors(node) if has_link(graph, node, t, kind)))


def predecessors_by(graph: nx.DiGraph, node: Node, kind: str) -> list[Node]:
    """Sources of `node`'s incoming links of `kind`, in stable order."""
    return sort_nodes(
        graph, (s for s in graph.predecessors(node) if has_link(graph, s, node, kind))
    )


def controls_of(graph: nx.DiGraph, hazard: Node) -> list[Node]:
    return successors_by(graph, hazard, REDUCES)


def label(graph: nx.DiGraph, node: Node) -> str:
    return graph.nodes[node].get("code") or f"{node[0]} {node[1]}"


class TraceIndex:
    """Sort keys and adjacency by link kind, computed once (O(E log E)) so that a full analysis
    of a 1,000-hazard product stays well under a second. Read-only view of the graph at the
    time it was made: build a new one after changing the graph."""

    def __init__(self, graph: nx.DiGraph):
        self.graph = graph
        kinds = _KIND_ORDER
        other = len(NODE_KINDS)
        # node → its attribute dict (the graph's own dicts): a plain dict lookup for the
        # analyses, ~50,000 of them at 5,000 hazards, where `graph.nodes[n]` is a Python call.
        self.attrs: dict[Node, dict] = dict(graph.nodes(data=True))
        self.key = {
            node: (kinds.get(node[0], other), code_key(attrs.get("code", "")), node[1])
            for node, attrs in self.attrs.items()
        }
        key = self.key.__getitem__
        # Adjacency by (node, link kind), each neighbour once: only an edge standing for several
        # links can repeat a kind, so only those are de-duplicated.
        out: dict[tuple, list] = {}
        inn: dict[tuple, list] = {}
        suspect = []
        count = 0
        for source, targets in graph.adjacency():
            for target, data in targets.items():
                refs = data.get("links")
                if refs is None:
                    refs = _refs(data)
                count += len(refs)
                for ref in refs:
                    if ref.suspect:
                        suspect.append(
                            Link(ref.kind, source, target, ref.link_id, True, ref.cause_type)
                        )
                edge_kinds = (refs[0].kind,) if len(refs) == 1 else {ref.kind for ref in refs}
                for kind in edge_kinds:
                    targets_of = out.get((source, kind))
                    if targets_of is None:
                        out[(source, kind)] = [target]
                    else:
                        targets_of.append(target)
                    sources_of = inn.get((target, kind))
                    if sources_of is None:
                        inn[(target, kind)] = [source]
                    else:
                        sources_of.append(source)
        # Most adjacency lists hold one node: sort only the others.
        for adjacent in (out, inn):
            for nodes in adjacent.values():
                if len(nodes) > 1:
                    nodes.sort(key=key)
        self._out = out
        self._in = inn
        by_kind: dict[str, list] = defaultdict(list)
        for node in self.attrs:
            by_kind[node[0]].append(node)
        for nodes in by_kind.values():
            nodes.sort(key=key)
        self._kind = dict(by_kind)
        self.link_count = count
        self.suspect_links = self._sorted_links(suspect)

    def _sorted_links(self, links: list[Link]) -> list[Link]:
        key = self.key.__getitem__
        return sorted(
            links, key=lambda lk: (key(lk.source), key(lk.target), lk.kind, lk.link_id or 0)
        )

    @cached_property
    def links(self) -> list[Link]:
        """Every link (one per link row), ordered by source, target, kind."""
        return self._sorted_links(list(iter_links(self.graph)))

    def nodes(self, kind: str) -> list[Node]:
        return self._kind.get(kind, [])

    def succ(self, node: Node, kind: str) -> list[Node]:
        return self._out.get((node, kind), [])

    def pred(self, node: Node, kind: str) -> list[Node]:
        return self._in.get((node, kind), [])

    def sort(self, nodes: Iterable[Node]) -> list[Node]:
        return sorted(nodes, key=self.key.__getitem__)


def requirements_of_item(graph: nx.DiGraph, *, index: TraceIndex | None = None):
    """Requirements implemented by each software item (the requirement's `software_item`)."""
    ix = index or TraceIndex(graph)
    result: dict[Node, list[Node]] = defaultdict(list)
    nodes = ix.attrs
    for req in ix.nodes(REQUIREMENT):
        item = nodes[req].get("software_item")
        if item is not None:
            result[item].append(req)
    return result


# ---------------------------------------------------------------------------------------------
# Verification status (ISO 14971 7.2; IEC 62304 7.3.1)
# ---------------------------------------------------------------------------------------------

VERIFIED = "verified"
FAILED = "failed"
PENDING = "pending"
NO_TEST = "no test"

HAZARD_VERIFIED = "verified"
HAZARD_PARTIAL = "partially verified"
HAZARD_NOT_VERIFIED = "not verified"
HAZARD_NO_CONTROLS = "no controls"
HAZARD_STATES = (HAZARD_VERIFIED, HAZARD_PARTIAL, HAZARD_NOT_VERIFIED, HAZARD_NO_CONTROLS)


def evidence_status(results: list[str | None]) -> str:
    """Status of a piece of verification from the latest results of the tests that provide it.

    "verified" only when there is at least one test and every one passed its latest run; a fail
    anywhere is "failed"; a blocked or missing run leaves it "pending".
    """
    if not results:
        return NO_TEST
    if any(r == FAIL for r in results):
        return FAILED
    if all(r == PASS for r in results):
        return VERIFIED
    return PENDING


def control_verification(graph: nx.DiGraph, *, index: TraceIndex | None = None) -> dict[Node, dict]:
    """Per control: verification of implementation and of effectiveness (ISO 14971 7.2, two
    separate pieces of evidence), each from its own links, with the latest results.

    Value: {"implementation": status, "effectiveness": status, "verified": bool,
    "implementation_tests": [(test node, latest_result)], "effectiveness_tests": [...]}, where
    status is "verified" | "failed" | "pending" | "no test". Tests of the requirements that
    implement the control are *not* counted: they verify the requirement, and the standard asks
    for evidence about the control itself.
    """
    ix = index or TraceIndex(graph)
    nodes = ix.attrs
    result = {}
    for control in ix.nodes(CONTROL):
        impl = [
            (t, nodes[t].get("latest_result")) for t in ix.succ(control, IMPLEMENTATION_VERIFIED_BY)
        ]
        eff = [
            (t, nodes[t].get("latest_result")) for t in ix.succ(control, EFFECTIVENESS_VERIFIED_BY)
        ]
        impl_status = evidence_status([r for _, r in impl])
        eff_status = evidence_status([r for _, r in eff])
        result[control] = {
            "implementation": impl_status,
            "effectiveness": eff_status,
            "verified": impl_status == VERIFIED and eff_status == VERIFIED,
            "implementation_tests": impl,
            "effectiveness_tests": eff,
        }
    return result


def hazard_verification(
    graph: nx.DiGraph,
    controls: dict[Node, dict] | None = None,
    *,
    index: TraceIndex | None = None,
) -> dict[Node, str]:
    """Per hazard: "verified" when it has controls and every one is verified (implementation and
    effectiveness); "partially verified" when some evidence exists; "not verified" when none;
    "no controls" when nothing reduces it."""
    ix = index or TraceIndex(graph)
    controls = controls if controls is not None else control_verification(graph, index=ix)
    result = {}
    for hazard in ix.nodes(HAZARD):
        states = [controls[c] for c in ix.succ(hazard, REDUCES)]
        if not states:
            result[hazard] = HAZARD_NO_CONTROLS
        elif all(s["verified"] for s in states):
            result[hazard] = HAZARD_VERIFIED
        elif any(VERIFIED in (s["implementation"], s["effectiveness"]) for s in states):
            result[hazard] = HAZARD_PARTIAL
        else:
            result[hazard] = HAZARD_NOT_VERIFIED
    return result


# ---------------------------------------------------------------------------------------------
# IEC 62304 4.3: the safety class each software item should have
# ---------------------------------------------------------------------------------------------

CLASS_ORDER = {"A": 0, "B": 1, "C": 2}
# Severity levels of the default 5-level scale (ISO/TR 24971 style): 1 Negligible, 2 Minor
# (injury not needing professional intervention → IEC 62304 "non-serious injury"), 3 Serious
# (needs professional medical intervention → IEC 62304 "serious injury") and above.
INJURY_SEVERITY = 2
SERIOUS_INJURY_SEVERITY = 3


def class_for_severity(severity: int | None) -> str:
    """IEC 62304 4.3: A — no injury possible, B — non-serious injury, C — death or serious
    injury. An unestimated severity counts as the worst case (C): it cannot rule out injury."""
    if severity is None:
        return "C"
    if severity >= SERIOUS_INJURY_SEVERITY:
        return "C"
    if severity >= INJURY_SEVERITY:
        return "B"
    return "A"


def _max_class(*classes: str) -> str:
    return max(classes, key=lambda c: CLASS_ORDER.get(c, 0)) if classes else "A"


def hazards_reached(graph: nx.DiGraph, item: Node, *, index: TraceIndex | None = None):
    """Hazards an item contributes to, plus the safety hazards those can lead to."""
    ix = index or TraceIndex(graph)
    reached = set(ix.succ(item, CONTRIBUTES_TO))
    frontier = list(reached)
    while frontier:
        for nxt in ix.succ(frontier.pop(), CAN_LEAD_TO):
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
    return ix.sort(reached)


def control_in_software(graph: nx.DiGraph, control: Node, *, index: TraceIndex | None = None):
    """A risk control implemented in the software system: one of its requirements is a
    software requirement or is allocated to a software item (IEC 62304 7.2)."""
    ix = index or TraceIndex(graph)
    return any(
        graph.nodes[req].get("software_item") is not None
        or graph.nodes[req].get("level") == "software"
        for req in ix.succ(control, IMPLEMENTED_BY)
    )


def software_contribution(graph: nx.DiGraph, hazard: Node, *, index: TraceIndex | None = None):
    """What the IEC 62304 4.3 decision needs of one hazard the software contributes to: is its
    risk acceptable once risk controls *external to the software system* are considered? Yes
    when its initial risk is acceptable, or when every control reducing it is external and its
    residual risk is acceptable; unknown otherwise (a control in the software itself may not
    be counted)."""
    ix = index or TraceIndex(graph)
    attrs = graph.nodes[hazard]
    controls = ix.succ(hazard, REDUCES)
    acceptable = None
    if attrs.get("initial_acceptability") == Acceptability.ACCEPTABLE or (
        controls
        and attrs.get("residual_acceptability") == Acceptability.ACCEPTABLE
        and not any(control_in_software(graph, c, index=ix) for c in controls)
    ):
        acceptable = True
    return SoftwareContribution(acceptable, attrs.get("severity"))


def own_safety_classes(
    graph: nx.DiGraph, *, index: TraceIndex | None = None
) -> dict[Node, tuple[str, tuple[Node, ...]]]:
    """Per software item: the class its own hazards require (before the tree is applied, see
    `required_safety_class`) and those hazards (`hazards_reached`)."""
    ix = index or TraceIndex(graph)
    nodes = graph.nodes
    own = {}
    for item in ix.nodes(SOFTWARE_ITEM):
        reached = hazards_reached(graph, item, index=ix)
        own[item] = (
            software_safety_class(
                software_contribution(graph, h, index=ix)
                for h in reached
                if nodes[h].get("category") != "privacy"
            ),
            tuple(reached),
        )
    return own


def required_safety_class(
    graph: nx.DiGraph, *, index: TraceIndex | None = None, own: dict | None = None
) -> dict[Node, str]:
    """The software safety class each item should at least have (IEC 62304 4.3).

    The Amendment 1 decision (`hazards.risk.software_safety_class`) over every hazard the item
    contributes to, directly or through a security hazard that can lead to a safety hazard: a
    hazard whose risk is acceptable after risk controls *external* to the software system
    (`software_contribution`: no control of it is implemented in software) does not raise the
    class; any other hazard raises it by the severity of its possible harm. Privacy hazards
    rate impact on data subjects, not injury, and do not raise the class. Then the tree is
    applied: an item contains its children, so it is at least as high as any child; and a
    child without a documented segregation note inherits its parent's class (4.3 d/e).
    """
    ix = index or TraceIndex(graph)
    nodes = graph.nodes
    items = ix.nodes(SOFTWARE_ITEM)
    own = own if own is not None else own_safety_classes(graph, index=ix)
    required: dict[Node, str] = {item: own[item][0] for item in items}

    children: dict[Node, list[Node]] = defaultdict(list)
    for item in items:
        parent = nodes[item].get("parent")
        if parent in required and parent != item:
            children[parent].append(item)

    # Bottom-up: a parent is at least as high as its children (iterative post-order; a cycle in
    # a corrupt tree is cut where it closes).
    done: set[Node] = set()
    for start in items:
        stack = [(start, iter(children.get(start, ())))]
        on_path = {start}
        while stack:
            item, it = stack[-1]
            child = next(it, None)
            if child is None:
                stack.pop()
                on_path.discard(item)
                done.add(item)
                for c in children.get(item, ()):
                    if c in done:
                        required[item] = _max_class(required[item], required[c])
            elif child not in done and child not in on_path:
                on_path.add(child)
                stack.append((child, iter(children.get(child, ()))))

    # Top-down: unsegregated children inherit the parent's class.
    roots = [i for i in items if nodes[i].get("parent") not in required]
    seen: set[Node] = set()
    stack2 = list(roots)
    while stack2:
        item = stack2.pop()
        if item in seen:
            continue
        seen.add(item)
        for child in children.get(item, ()):
            if not nodes[child].get("has_segregation"):
                required[child] = _max_class(required[child], required[item])
            stack2.append(child)
    return required


@dataclass(frozen=True)
class ClassMismatch:
    node: Node
    code: str
    recorded: str
    required: str
    hazards: tuple[Node, ...]  # the hazards the item reaches (why), empty when inherited


def safety_class_mismatches(
    graph: nx.DiGraph,
    required: dict[Node, str] | None = None,
    *,
    index: TraceIndex | None = None,
    own: dict | None = None,
) -> list[ClassMismatch]:
    """Items whose recorded safety class is lower than `required_safety_class` says (`own`:
    `own_safety_classes`, when the caller has them)."""
    ix = index or TraceIndex(graph)
    required = required if required is not None else required_safety_class(graph, index=ix)
    result = []
    for item in ix.nodes(SOFTWARE_ITEM):
        recorded = graph.nodes[item].get("safety_class") or "A"
        if CLASS_ORDER.get(recorded, 0) < CLASS_ORDER[required[item]]:
            reached = own[item][1] if own is not None else hazards_reached(graph, item, index=ix)
            result.append(
                ClassMismatch(item, label(graph, item), recorded, required[item], tuple(reached))
            )
    return result


# ---------------------------------------------------------------------------------------------
# Gaps and coverage (DESIGN.md §3)
# ---------------------------------------------------------------------------------------------

GAP_KINDS: dict[str, str] = {
    "hazard_without_control": "Hazards without a risk control",
    "benefit_risk_missing": "Residual risk not acceptable without a benefit-risk justification",
    "control_without_requirement": "Risk controls without a requirement",
    "control_without_implementation_evidence": "Risk controls without verified implementation",
    "control_without_effectiveness_evidence": "Risk controls without verified effectiveness",
    "requirement_without_test": "Requirements without a test",
    "test_not_passing": "Tests whose latest run is not a pass",
    "software_item_without_requirements": "Class B/C software items without requirements",
    "soup_anomalies_not_reviewed": "SOUP without a review of known anomalies",
    "software_class_too_low": "Software items classified lower than their hazards require",
    "suspect_link": "Suspect links (an end changed since the last review)",
}
GAP_CLAUSES: dict[str, str] = {
    "hazard_without_control": "ISO 14971 7.1",
    "benefit_risk_missing": "ISO 14971 7.4",
    "control_without_requirement": "IEC 62304 7.2",
    "control_without_implementation_evidence": "ISO 14971 7.2",
    "control_without_effectiveness_evidence": "ISO 14971 7.2",
    "requirement_without_test": "IEC 62304 5.7, 7.3.1",
    "test_not_passing": "IEC 62304 5.7.5",
    "software_item_without_requirements": "IEC 62304 5.2, 5.3.3",
    "soup_anomalies_not_reviewed": "IEC 62304 7.1.3",
    "software_class_too_low": "IEC 62304 4.3",
    "suspect_link": "IEC 62304 7.4; ISO 14971 4.5",
}
# What each check is applied to, for the coverage report's "checked" column.
GAP_SCOPES: dict[str, str] = {
    "hazard_without_control": "hazards whose initial risk is not acceptable",
    "benefit_risk_missing": "hazards whose residual risk is not acceptable",
    "control_without_requirement": "risk controls",
    "control_without_implementation_evidence": "risk controls",
    "control_without_effectiveness_evidence": "risk controls",
    "requirement_without_test": "requirements",
    "test_not_passing": "test cases",
    "software_item_without_requirements": "class B and C software items",
    "soup_anomalies_not_reviewed": "SOUP items",
    "software_class_too_low": "software items",
    "suspect_link": "trace links",
}


@dataclass(frozen=True)
class Gap:
    """One finding: `node` is the item to fix (for a suspect link: the link's source end);
    `link` is (link kind, link id, target node) for suspect links, None otherwise."""

    kind: str
    node: tuple
    code: str
    message: str
    link: tuple | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return GAP_KINDS.get(self.kind, self.kind)

    @property
    def clause(self) -> str:
        return GAP_CLAUSES.get(self.kind, "")


@dataclass(frozen=True)
class CoverageRow:
    kind: str
    label: str
    checked: int  # how many items this check applies to
    gaps: int  # how many of them fail it
    clause: str = ""
    scope: str = ""

    @property
    def covered(self) -> int:
        return self.checked - self.gaps

    @property
    def percent(self) -> float:
        """Share of checked items without the gap; 100 when nothing needed checking."""
        if self.checked == 0:
            return 100.0
        return round(100.0 * self.covered / self.checked, 1)


@dataclass(frozen=True)
class Coverage:
    rows: tuple[CoverageRow, ...]

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, kind: str) -> CoverageRow:
        for row in self.rows:
            if row.kind == kind:
                return row
        raise KeyError(kind)

    @property
    def total_gaps(self) -> int:
        return sum(r.gaps for r in self.rows)

    @property
    def checked(self) -> int:
        return sum(r.checked for r in self.rows)

    @property
    def percent(self) -> float:
        """Overall share of passed checks (all kinds pooled)."""
        if self.checked == 0:
            return 100.0
        return round(100.0 * (self.checked - self.total_gaps) / self.checked, 1)


def needs_control(attrs: dict) -> bool:
    """A hazard needs a risk control unless its initial risk was estimated acceptable (7.1);
    an unestimated risk cannot be shown acceptable, so it needs one too."""
    return attrs.get("initial_acceptability") != Acceptability.ACCEPTABLE


def needs_benefit_risk(attrs: dict) -> bool:
    """ISO 14971 7.4 (same rule as `hazards.risk.requires_benefit_risk`)."""
    residual = attrs.get("residual_acceptability")
    return bool(residual) and residual != Acceptability.ACCEPTABLE


RESULT_LABELS = {PASS: "passed", FAIL: "failed", BLOCKED: "was blocked", NOT_RUN: "was not run"}
EVIDENCE_DETAIL = {
    NO_TEST: "no test verifies its {aspect}",
    FAILED: "a test of its {aspect} failed its latest run",
    PENDING: "a test of its {aspect} has no passing latest run yet",
}


def checks(graph, ix, cv, mismatches) -> Iterator[tuple[str, Node, Gap | None]]:
    """Every check the file must pass: (gap kind, the record checked, Gap or None when passed),
    in report order (a link's check belongs to its source). The record lets
    `traceability.incremental` replace one record's results after it changes.

    `find_gaps` keeps the Gaps and `coverage` counts both, so the two never disagree.
    """
    nodes = ix.attrs

    def code_of(node: Node) -> str:  # `label`, read from the index's attribute dicts
        return nodes[node].get("code") or f"{node[0]} {node[1]}"

    by_item = requirements_of_item(graph, index=ix)

    for hazard in ix.nodes(HAZARD):
        attrs = nodes[hazard]
        code = code_of(hazard)
        if needs_control(attrs):
            gap = None
            if not ix.succ(hazard, REDUCES):
                state = "not acceptable" if attrs.get("initial_acceptability") else "not estimated"
                gap = Gap(
                    "hazard_without_control",
                    hazard,
                    code,
                    f"{code}: its initial risk is {state} and no risk control reduces it.",
                )
            yield "hazard_without_control", hazard, gap
        if needs_benefit_risk(attrs):
            gap = None
            if not attrs.get("has_benefit_risk"):
                gap = Gap(
                    "benefit_risk_missing",
                    hazard,
                    code,
                    f"{code}: residual risk is {attrs.get('residual_acceptability')} and no "
                    "benefit-risk justification is recorded.",
                )
            yield "benefit_risk_missing", hazard, gap

    for control in ix.nodes(CONTROL):
        code = code_of(control)
        gap = None
        if not ix.succ(control, IMPLEMENTED_BY):
            gap = Gap(
                "control_without_requirement",
                control,
                code,
                f"{code}: no requirement implements this risk control.",
            )
        yield "control_without_requirement", control, gap
        for aspect in ("implementation", "effectiveness"):
            kind = f"control_without_{aspect}_evidence"
            status = cv[control][aspect]
            gap = None
            if status != VERIFIED:
                detail = EVIDENCE_DETAIL[status].format(aspect=aspect)
                gap = Gap(kind, control, code, f"{code}: {detail}.")
            yield kind, control, gap

    for req in ix.nodes(REQUIREMENT):
        code = code_of(req)
        gap = None
        if not ix.succ(req, VERIFIED_BY):
            gap = Gap(
                "requirement_without_test", req, code, f"{code}: no test verifies this requirement."
            )
        yield "requirement_without_test", req, gap

    for test in ix.nodes(TEST):
        code = code_of(test)
        result = nodes[test].get("latest_result")
        gap = None
        if result != PASS:
            if result is None:
                message = f"{code}: has never been run."
            else:
                message = f"{code}: latest run {RESULT_LABELS.get(result, result)}."
            gap = Gap("test_not_passing", test, code, message)
        yield "test_not_passing", test, gap

    mismatch_of = {m.node: m for m in mismatches}
    for item in ix.nodes(SOFTWARE_ITEM):
        attrs = nodes[item]
        code = code_of(item)
        if attrs.get("safety_class") in ("B", "C"):
            gap = None
            soup_spec = attrs.get("is_soup") and attrs.get("has_soup_requirements")
            if not by_item.get(item) and not soup_spec:
                extra = (
                    " and no SOUP functional/performance requirements"
                    if attrs.get("is_soup")
                    else ""
                )
                gap = Gap(
                    "software_item_without_requirements",
                    item,
                    code,
                    f"{code}: class {attrs.get('safety_class')} item with no requirement "
                    f"allocated to it{extra}.",
                )
            yield "software_item_without_requirements", item, gap
        if attrs.get("is_soup"):
            gap = None
            if not attrs.get("anomalies_reviewed"):
                gap = Gap(
                    "soup_anomalies_not_reviewed",
                    item,
                    code,
                    f"{code}: the SOUP's published known anomalies have not been evaluated.",
                )
            yield "soup_anomalies_not_reviewed", item, gap
        gap = None
        if item in mismatch_of:
            m = mismatch_of[item]
            why = ", ".join(code_of(h) for h in m.hazards) if m.hazards else ""
            why = f"its hazards ({why})" if why else "its parent item (no segregation note)"
            gap = Gap(
                "software_class_too_low",
                item,
                code,
                f"{code}: recorded class {m.recorded}, but {why} require class {m.required}.",
            )
        yield "software_class_too_low", item, gap

    for link in ix.suspect_links:
        src, tgt = code_of(link.source), code_of(link.target)
        phrase = LINK_KINDS.get(link.kind, ("", "", link.kind))[2]
        yield (
            "suspect_link",
            link.source,
            Gap(
                "suspect_link",
                link.source,
                src,
                f"{src} {phrase} {tgt}: one end changed since the link was last reviewed.",
                link=(link.kind, link.link_id, link.target),
            ),
        )
    # Links that are not suspect passed the check (counted under their source, never listed).
    for source, targets in graph.adjacency():
        for data in targets.values():
            for ref in _refs(data):
                if not ref.suspect:
                    yield "suspect_link", source, None


@dataclass(frozen=True)
class Analysis:
    """Every analysis of one graph, computed once (what the matrix, coverage and dossier pages
    need). Build with `analyse(graph)`."""

    graph: nx.DiGraph
    index: TraceIndex
    controls: dict  # control_verification
    hazards: dict  # hazard_verification
    required_classes: dict  # required_safety_class
    mismatches: list  # safety_class_mismatches
    gaps: list  # find_gaps
    coverage: Coverage
    # What `traceability.incremental` needs to redo only what a change touches: the checks
    # applied to each record (record → kinds, a link's under its source) and each software
    # item's own class and the hazards it reaches (`own_safety_classes`).
    checked: dict = field(default_factory=dict, repr=False)
    own_classes: dict = field(default_factory=dict, repr=False)


def _gaps_and_coverage(graph, ix, cv, mismatches) -> tuple[list[Gap], Coverage, dict]:
    checked: dict[str, int] = dict.fromkeys(GAP_KINDS, 0)
    failed: dict[str, int] = dict.fromkeys(GAP_KINDS, 0)
    by_kind: dict[str, list[Gap]] = {kind: [] for kind in GAP_KINDS}
    by_owner: dict[Node, list[str]] = defaultdict(list)
    for kind, owner, gap in checks(graph, ix, cv, mismatches):
        checked[kind] += 1
        by_owner[owner].append(kind)
        if gap is not None:
            failed[kind] += 1
            by_kind[kind].append(gap)
    # Within a kind, `checks` already yields in natural code order (links: source, target).
    gaps = [gap for kind in GAP_KINDS for gap in by_kind[kind]]
    return gaps, coverage_rows(checked, failed), by_owner


def coverage_rows(checked: dict[str, int], failed: dict[str, int]) -> Coverage:
    """One row per traceability check (`GAP_KINDS` order): records checked, gaps found."""
    return Coverage(
        tuple(
            CoverageRow(
                kind,
                text,
                checked.get(kind, 0),
                failed.get(kind, 0),
                GAP_CLAUSES[kind],
                GAP_SCOPES[kind],
            )
            for kind, text in GAP_KINDS.items()
        )
    )


def analyse(graph: nx.DiGraph) -> Analysis:
    """Run every analysis once over `graph` (what the pages, the dossier and riskcheck use)."""
    with gc_paused():
        ix = TraceIndex(graph)
        cv = control_verification(graph, index=ix)
        hv = hazard_verification(graph, cv, index=ix)
        own = own_safety_classes(graph, index=ix)
        required = required_safety_class(graph, index=ix, own=own)
        mismatches = safety_class_mismatches(graph, required, index=ix, own=own)
        gaps, cov, checked = _gaps_and_coverage(graph, ix, cv, mismatches)
    return Analysis(graph, ix, cv, hv, required, mismatches, gaps, cov, checked, own)


def find_gaps(graph: nx.DiGraph) -> list[Gap]:
    """Every gap of the file, in `GAP_KINDS` order, then by code (natural order)."""
    return analyse(graph).gaps


def coverage(graph: nx.DiGraph) -> Coverage:
    """Per gap kind: how many items were checked, how many fail, and the share that pass."""
    return analyse(graph).coverage


def gaps_by_node(gaps: Iterable[Gap]) -> dict[Node, list[Gap]]:
    """Gaps touching each node (a suspect link touches both its ends)."""
    result: dict[Node, list[Gap]] = defaultdict(list)
    for gap in gaps:
        result[gap.node].append(gap)
        if gap.link is not None:
            result[gap.link[2]].append(gap)
    return result


# ---------------------------------------------------------------------------------------------
# Impact analysis (ISO 14971 10.4, IEC 62304 7.4: analyse changes for their effect)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    node: Node
    upstream_hazards: list[Node]  # hazards at stake when this item changes
    downstream_tests: list[Node]  # tests to re-run
    affected: list[Node]  # every item connected upstream or downstream (not `node` itself)
    upstream: list[Node] = field(default_factory=list)
    downstream: list[Node] = field(default_factory=list)


def impact(graph: nx.DiGraph, node: Node) -> Impact:
    """What a change to `node` puts at stake: everything upstream (ancestors, e.g. the hazards a
    test ultimately verifies) and downstream (descendants, e.g. the tests to re-run).

    Hazards reached downstream count as "at stake" too (a software item contributes *to* its
    hazards; a control may introduce a new hazard), so `upstream_hazards` is every hazard
    connected to the node in either direction.
    """
    if node not in graph:
        raise KeyError(node)
    up = nx.ancestors(graph, node) - {node}
    down = nx.descendants(graph, node) - {node}
    affected = sort_nodes(graph, up | down)
    return Impact(
        node=node,
        upstream_hazards=[n for n in affected if n[0] == HAZARD],
        downstream_tests=sort_nodes(graph, (n for n in down if n[0] == TEST)),
        affected=affected,
        upstream=sort_nodes(graph, up),
        downstream=sort_nodes(graph, down),
    )


# ---------------------------------------------------------------------------------------------
# The traceability matrix (ISO 14971 4.5; IEC 62304 7.3.3)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceRow:
    """One chain hazard → control → requirement → test → latest result.

    Ends missing from the chain are None (a hazard with no control has one row with only the
    hazard). `gaps` holds the gap kinds visible on this row; `suspect` is True when a link of the
    chain is suspect.
    """

    hazard: Node
    hazard_code: str
    hazard_title: str
    category: str
    hazard_status: str
    initial_acceptability: str
    residual_acceptability: str
    hazard_verification: str
    control: Node | None = None
    control_code: str = ""
    control_title: str = ""
    control_implementation: str = ""  # evidence status of the control's implementation
    control_effectiveness: str = ""
    requirement: Node | None = None
    requirement_code: str = ""
    requirement_title: str = ""
    test: Node | None = None
    test_code: str = ""
    test_title: str = ""
    latest_result: str | None = None
    latest_run_at: object = None
    suspect: bool = False
    gaps: tuple[str, ...] = ()

    @property
    def has_gap(self) -> bool:
        return bool(self.gaps)


ROW_GAP_KINDS = {
    HAZARD: {"hazard_without_control", "benefit_risk_missing"},
    CONTROL: {
        "control_without_requirement",
        "control_without_implementation_evidence",
        "control_without_effectiveness_evidence",
    },
    REQUIREMENT: {"requirement_without_test"},
    TEST: {"test_not_passing"},
}


def trace_rows(
    graph: nx.DiGraph,
    hazards: Iterable[Node] | None = None,
    *,
    analysis: Analysis | None = None,
) -> list[TraceRow]:
    """Rows of the traceability matrix, hazard by hazard in code order.

    `hazards` limits the rows to some hazards (a filtered or paginated page) while every status
    stays that of the whole product. Pass `analysis` when the caller already has one.
    """
    with gc_paused():
        return _trace_rows(graph, hazards, analysis=analysis)


def _trace_rows(
    graph: nx.DiGraph,
    hazards: Iterable[Node] | None = None,
    *,
    analysis: Analysis | None = None,
) -> list[TraceRow]:
    an = analysis or analyse(graph)
    ix = an.index
    flagged: dict[Node, set[str]] = defaultdict(set)
    for gap in an.gaps:
        if gap.node[0] in ROW_GAP_KINDS and gap.kind in ROW_GAP_KINDS[gap.node[0]]:
            flagged[gap.node].add(gap.kind)
    cv, hv, nodes = an.controls, an.hazards, graph.nodes
    hazard_nodes = ix.nodes(HAZARD) if hazards is None else ix.sort(hazards)

    def suspect(u: Node, v: Node) -> bool:
        return bool(graph.edges[u, v].get("suspect"))

    rows: list[TraceRow] = []
    for hazard in hazard_nodes:
        h = nodes[hazard]
        base = {
            "hazard": hazard,
            "hazard_code": h.get("code", ""),
            "hazard_title": h.get("title", ""),
            "category": h.get("category", ""),
            "hazard_status": h.get("status", ""),
            "initial_acceptability": h.get("initial_acceptability", ""),
            "residual_acceptability": h.get("residual_acceptability", ""),
            "hazard_verification": hv.get(hazard, ""),
        }
        hazard_gaps = flagged[hazard]
        controls = ix.succ(hazard, REDUCES)
        if not controls:
            rows.append(TraceRow(**base, gaps=tuple(sorted(hazard_gaps))))
            continue
        for control in controls:
            c = nodes[control]
            part = {
                **base,
                "control": control,
                "control_code": c.get("code", ""),
                "control_title": c.get("title", ""),
                "control_implementation": cv[control]["implementation"],
                "control_effectiveness": cv[control]["effectiveness"],
            }
            control_gaps = hazard_gaps | flagged[control]
            c_suspect = suspect(hazard, control)
            requirements = ix.succ(control, IMPLEMENTED_BY)
            if not requirements:
                rows.append(TraceRow(**part, suspect=c_suspect, gaps=tuple(sorted(control_gaps))))
                continue
            for req in requirements:
                r = nodes[req]
                req_part = {
                    **part,
                    "requirement": req,
                    "requirement_code": r.get("code", ""),
                    "requirement_title": r.get("title", ""),
                }
                req_gaps = control_gaps | flagged[req]
                r_suspect = c_suspect or suspect(control, req)
                tests = ix.succ(req, VERIFIED_BY)
                if not tests:
                    rows.append(
                        TraceRow(**req_part, suspect=r_suspect, gaps=tuple(sorted(req_gaps)))
                    )
                    continue
                for test in tests:
                    t = nodes[test]
                    rows.append(
                        TraceRow(
                            **req_part,
                            test=test,
                            test_code=t.get("code", ""),
                            test_title=t.get("title", ""),
                            latest_result=t.get("latest_result"),
                            latest_run_at=t.get("latest_run_at"),
                            suspect=r_suspect or suspect(req, test),
                            gaps=tuple(sorted(req_gaps | flagged[test])),
                        )
                    )
    return rows


# ---------------------------------------------------------------------------------------------
# Neighbourhood (for the hazard's trace picture)
# ---------------------------------------------------------------------------------------------


def neighbourhood(graph: nx.DiGraph, hazard: Node) -> nx.DiGraph:
    """The sub-graph a hazard's trace picture shows: the items linked to the hazard itself
    (contributing software items, related hazards, introducing controls, its controls), the
    requirements and tests of its controls, and the tests of those requirements."""
    keep = {hazard}
    keep.update(graph.predecessors(hazard))
    keep.update(graph.successors(hazard))
    for control in controls_of(graph, hazard):
        for nxt in graph.successors(control):
            keep.add(nxt)
            if nxt[0] == REQUIREMENT:
                keep.update(graph.successors(nxt))
    return graph.subgraph(keep).copy()
