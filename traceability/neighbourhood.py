"""One item's neighbourhood of the trace graph, loaded without loading the product.

The hazard page's trace picture, an item's impact analysis and a page of the traceability
matrix show a handful of items; building the product's whole graph for them (≈50,000 nodes at
5,000 hazards) made each of those pages cost what the product costs. Here the item's links are
followed table by table from the item outwards (ids only, one query per link table and step),
then `graph.build_graph(product, only=…)` loads just the items found and the links between
them. The number of queries depends on how far the walk goes (bounded by the shape of the
neighbourhood), their size on the neighbourhood, and neither on the product.

Every function returns a graph on which the pure analyses of `traceability.graph` give the
same answer for the item as on the product's whole graph (tests compare both).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
from django.db.models import Q, Value

from traceability import graph as tg

Nodes = dict[str, set[int]]


def link_tables():
    """(model, source field, target field, source kind, target kind) of every link table."""
    from hazards.models import ControlIntroducedHazard, HazardControl, HazardTransfer
    from traceability.models import (
        ControlEffectivenessTest,
        ControlImplementationTest,
        ControlRequirement,
        RequirementTest,
        SoftwareItemHazard,
    )

    return (
        (HazardControl, "hazard", "control", tg.HAZARD, tg.CONTROL),
        (ControlIntroducedHazard, "control", "hazard", tg.CONTROL, tg.HAZARD),
        (HazardTransfer, "security_hazard", "safety_hazard", tg.HAZARD, tg.HAZARD),
        (ControlRequirement, "control", "requirement", tg.CONTROL, tg.REQUIREMENT),
        (RequirementTest, "requirement", "test_case", tg.REQUIREMENT, tg.TEST),
        (ControlImplementationTest, "control", "test_case", tg.CONTROL, tg.TEST),
        (ControlEffectivenessTest, "control", "test_case", tg.CONTROL, tg.TEST),
        (SoftwareItemHazard, "software_item", "hazard", tg.SOFTWARE_ITEM, tg.HAZARD),
    )


def _as_nodes(nodes: Iterable[tg.Node]) -> Nodes:
    found: Nodes = {}
    for kind, pk in nodes:
        found.setdefault(kind, set()).add(pk)
    return found


def linked(
    frontier: Iterable[tg.Node],
    *,
    outgoing: bool = True,
    incoming: bool = True,
    tables: Iterable[type] | None = None,
) -> set[tg.Node]:
    """The items one link away from `frontier` (following links out of it, into it, or both),
    optionally through some link tables only. One query (a UNION ALL of the link tables that
    can touch the frontier): each step of a walk costs one round trip, not eight."""
    frontier = set(frontier)
    by_kind = _as_nodes(frontier)
    found: set[tg.Node] = set()
    wanted = set(tables) if tables is not None else None
    tables_used = []
    parts = []
    for model, src, tgt, src_kind, tgt_kind in link_tables():
        if wanted is not None and model not in wanted:
            continue
        condition = Q()
        if outgoing and by_kind.get(src_kind):
            condition |= Q(**{f"{src}_id__in": by_kind[src_kind]})
        if incoming and by_kind.get(tgt_kind):
            condition |= Q(**{f"{tgt}_id__in": by_kind[tgt_kind]})
        if not condition:
            continue
        parts.append(
            model.objects.filter(condition)
            .order_by()
            .annotate(link_table=Value(len(tables_used)))
            .values_list("link_table", f"{src}_id", f"{tgt}_id")
        )
        tables_used.append((src_kind, tgt_kind))
    if not parts:
        return found
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    for table, source, target in rows:
        src_kind, tgt_kind = tables_used[table]
        s, t = (src_kind, source), (tgt_kind, target)
        if outgoing and s in frontier:
            found.add(t)
        if incoming and t in frontier:
            found.add(s)
    return found


class _NodeModels(dict):
    """Node kind → model, resolved on first use (the apps are loaded by then)."""

    def __missing__(self, kind):
        from hazards.models import Hazard, RiskControl
        from traceability.models import Requirement, SoftwareItem, TestCase

        self.update(
            {
                tg.HAZARD: Hazard,
                tg.CONTROL: RiskControl,
                tg.REQUIREMENT: Requirement,
                tg.TEST: TestCase,
                tg.SOFTWARE_ITEM: SoftwareItem,
            }
        )
        if kind not in self:
            raise KeyError(kind)
        return dict.__getitem__(self, kind)


NODE_MODELS = _NodeModels()


def node_for_code(product, kind: str, code: str) -> tg.Node | None:
    """The node of the product's item `code` of `kind` (one query), None when there is none."""
    pk = NODE_MODELS[kind].objects.filter(product=product, code=code).values_list("pk", flat=True)
    pk = pk.first()
    return None if pk is None else (kind, pk)


def load(product, nodes: Iterable[tg.Node]) -> nx.DiGraph:
    """The items `nodes` with their attributes and every link between them."""
    return tg.build_graph(product, only=_as_nodes(nodes))


def hazard_picture(product, hazard: tg.Node) -> tuple[nx.DiGraph, dict]:
    """What `tg.neighbourhood(graph, hazard)` keeps, plus everything the verification of the
    controls next to the hazard reads: (sub-graph, control verification of those controls)."""
    around = linked([hazard]) | {hazard}
    controls = {n for n in around if n[0] == tg.CONTROL}
    after_controls = linked(controls, incoming=False)
    requirements = {n for n in after_controls if n[0] == tg.REQUIREMENT}
    after_requirements = linked(requirements, incoming=False)
    graph = load(product, around | after_controls | after_requirements)
    return tg.neighbourhood(graph, hazard), tg.control_verification(graph)


def reach(
    start: Iterable[tg.Node], *, outgoing: bool, limit: int | None = None
) -> set[tg.Node] | None:
    """`start` and every item reached from it following links one way, link by link until
    nothing new is found (one query per step); None once more than `limit` are found."""
    seen, frontier = set(start), set(start)
    while frontier:
        step = linked(frontier, outgoing=outgoing, incoming=not outgoing) - seen
        seen |= step
        frontier = step
        if limit is not None and len(seen) > limit:
            return None
    return seen


def closure(product, node: tg.Node) -> nx.DiGraph:
    """`node` with everything upstream and downstream of it (what `tg.impact` reads)."""
    return load(product, reach([node], outgoing=True) | reach([node], outgoing=False))


def matrix_rows(product, hazards: list[tg.Node]) -> tuple[nx.DiGraph, tg.Analysis]:
    """The chains of `hazards` (one page of the matrix): their controls, what implements and
    verifies those controls, and the tests of those requirements, analysed on their own. Each
    row-level check reads only links going out of the row's items, all loaded here."""
    controls = linked(hazards, incoming=False, tables=tables("HazardControl"))
    after_controls = linked(controls, incoming=False)
    requirements = {n for n in after_controls if n[0] == tg.REQUIREMENT}
    tests = linked(requirements, incoming=False)
    graph = load(product, set(hazards) | controls | after_controls | tests)
    return graph, tg.analyse(graph)


def tables(*names: str) -> list[type]:
    """The link models named (for `linked(..., tables=…)`)."""
    return [t[0] for t in link_tables() if t[0].__name__ in names]
