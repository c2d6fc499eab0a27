"""The release gate's fast paths (issue 13) give what the plain ones gave.

`build_graph` fills the DiGraph's adjacency at once, `TraceIndex` builds its adjacency as
lists, `riskcheck` writes its report in one write: each is compared here with the code it
replaced (kept below as the reference, written with networkx's public API) on a generated
product with every kind of link, suspect links and an edge standing for two links.
"""

import gc
import io
from collections import defaultdict

import networkx as nx
import pytest
from django.core.management.base import OutputWrapper

from tests import factories as f
from tests.cli import run_command
from traceability import gate
from traceability import graph as tg
from traceability.models import CauseType, SoftwareItemHazard


def reference_graph(product, only=None) -> nx.DiGraph:
    """`build_graph` as it was: one `add_node` per row, one `add_edges_from` for the links."""
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
        TestCase,
        TestRun,
    )

    graph = nx.DiGraph(product_id=product.pk, product_slug=product.slug)
    add = graph.add_node

    def rows(model, *fields, qs=None, kind=None):
        qs = qs if qs is not None else model.objects.filter(product=product)
        if only is not None:
            if not only.get(kind):
                return []
            qs = qs.filter(pk__in=only[kind])
        return qs.order_by().values_list("pk", "code", "version", *fields, named=True)

    hazard_fields = ("title", "category", "severity", "residual_severity")
    hazard_fields += ("initial_acceptability", "residual_acceptability")
    for r in rows(Hazard, *hazard_fields, "benefit_risk_justification", "status", kind="hazard"):
        add(
            ("hazard", r.pk),
            code=r.code,
            title=r.title,
            version=r.version,
            category=r.category,
            severity=r.severity,
            residual_severity=r.residual_severity,
            initial_acceptability=r.initial_acceptability or "",
            residual_acceptability=r.residual_acceptability or "",
            has_benefit_risk=bool((r.benefit_risk_justification or "").strip()),
            status=r.status,
        )
    for r in rows(Control, "title", "option", "status", "implementation_status", kind="control"):
        add(
            ("control", r.pk),
            code=r.code,
            title=r.title,
            version=r.version,
            option=r.option,
            status=r.status,
            implementation_status=r.implementation_status,
        )
    item_fields = ("name", "safety_class", "is_soup", "anomalies_reviewed_at")
    item_fields += ("soup_requirements", "segregation_note", "parent_id", "status")
    for r in rows(SoftwareItem, *item_fields, kind="software_item"):
        add(
            ("software_item", r.pk),
            code=r.code,
            title=r.name,
            version=r.version,
            safety_class=r.safety_class,
            is_soup=r.is_soup,
            anomalies_reviewed=r.anomalies_reviewed_at is not None,
            has_soup_requirements=bool((r.soup_requirements or "").strip()),
            has_segregation=bool((r.segregation_note or "").strip()),
            parent=("software_item", r.parent_id) if r.parent_id else None,
            status=r.status,
        )
    for r in rows(Requirement, "title", "level", "status", "software_item_id", kind="requirement"):
        add(
            ("requirement", r.pk),
            code=r.code,
            title=r.title,
            version=r.version,
            level=r.level,
            status=r.status,
            software_item=("software_item", r.software_item_id) if r.software_item_id else None,
        )
    latest = TestRun.objects.filter(test_case=OuterRef("pk")).order_by("-executed_at", "-id")
    tests = TestCase.objects.filter(product=product).annotate(
        latest_result=Subquery(latest.values("result")[:1]),
        latest_run_at=Subquery(latest.values("executed_at")[:1]),
    )
    test_fields = ("title", "method", "level", "status", "latest_result", "latest_run_at")
    for r in rows(TestCase, *test_fields, qs=tests, kind="test"):
        add(
            ("test", r.pk),
            code=r.code,
            title=r.title,
            version=r.version,
            method=r.method,
            level=r.level,
            status=r.status,
            latest_result=r.latest_result,
            latest_run_at=r.latest_run_at,
        )
    link_tables = (
        (HazardControl, "hazard", "control", "hazard", "control", "hazard__product"),
        (ControlIntroducedHazard, "control", "hazard", "control", "hazard", "hazard__product"),
        (
            HazardTransfer,
            "security_hazard",
            "safety_hazard",
            "hazard",
            "hazard",
            "security_hazard__product",
        ),
        (
            ControlRequirement,
            "control",
            "requirement",
            "control",
            "requirement",
            "control__product",
        ),
        (
            RequirementTest,
            "requirement",
            "test_case",
            "requirement",
            "test",
            "requirement__product",
        ),
        (ControlImplementationTest, "control", "test_case", "control", "test", "control__product"),
        (ControlEffectivenessTest, "control", "test_case", "control", "test", "control__product"),
        (
            SoftwareItemHazard,
            "software_item",
            "hazard",
            "software_item",
            "hazard",
            "software_item__product",
        ),
    )
    nodes = graph.nodes
    edges: dict = {}
    for model, src_field, tgt_field, src_kind, tgt_kind, product_path in link_tables:
        columns = ["pk", f"{src_field}_id", f"{tgt_field}_id", "source_version", "target_version"]
        has_cause = model is SoftwareItemHazard
        if has_cause:
            columns.append("cause_type")
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
            if source not in nodes or target not in nodes:
                continue
            suspect = is_suspect(
                src_version, nodes[source]["version"], tgt_version, nodes[target]["version"]
            )
            ref = tg.LinkRef(model.KIND, link_id, suspect, row[5] if has_cause else "")
            edges.setdefault((source, target), []).append(ref)
    graph.add_edges_from(
        (
            source,
            target,
            {
                "kind": refs[0].kind,
                "link_id": refs[0].link_id,
                "suspect": any(ref.suspect for ref in refs),
                "links": tuple(refs),
            },
        )
        for (source, target), refs in edges.items()
    )
    return graph


def reference_index(graph) -> dict:
    """`TraceIndex`'s adjacency as it was built: sets, then sorted lists."""
    ix = tg.TraceIndex(graph)  # only for its keys (the same code as before)
    key = ix.key.__getitem__
    out, inn = defaultdict(set), defaultdict(set)
    suspect, count = [], 0
    for source, targets in graph.adjacency():
        for target, data in targets.items():
            for ref in tg.edge_links(data):
                out[(source, ref.kind)].add(target)
                inn[(target, ref.kind)].add(source)
                count += 1
                if ref.suspect:
                    suspect.append(
                        tg.Link(ref.kind, source, target, ref.link_id, True, ref.cause_type)
                    )
    by_kind = defaultdict(list)
    for node in graph.nodes:
        by_kind[node[0]].append(node)
    return {
        "out": {k: sorted(v, key=key) for k, v in out.items()},
        "in": {k: sorted(v, key=key) for k, v in inn.items()},
        "kind": {k: sorted(v, key=key) for k, v in by_kind.items()},
        "count": count,
        "suspect": ix._sorted_links(suspect),
    }


def structure(graph) -> dict:
    """Everything a DiGraph holds, in its iteration orders (attribute dicts item by item)."""
    return {
        "graph": dict(graph.graph),
        "nodes": [(n, list(d.items())) for n, d in graph.nodes(data=True)],
        "succ": [
            (u, [(v, list(d.items())) for v, d in nb.items()]) for u, nb in graph.succ.items()
        ],
        "pred": [
            (v, [(u, list(d.items())) for u, d in nb.items()]) for v, nb in graph.pred.items()
        ],
    }


@pytest.fixture
def generated(db):
    from bench.synthetic import generate_product

    product = generate_product(40, seed=3, slug="fast-paths")
    # An edge standing for two links, the first suspect, the second not; a suspect link.
    item = f.SoftwareItemFactory(product=product, code="SI-FAST")
    hazard = f.HazardFactory(product=product, code="HAZ-FAST")
    for cause, source_version in zip(
        CauseType.values[:2], (item.version - 1, item.version), strict=True
    ):
        SoftwareItemHazard.objects.create(
            software_item=item,
            hazard=hazard,
            cause_type=cause,
            source_version=source_version,
            target_version=hazard.version,
        )
    control = f.RiskControlFactory(product=product, code="RC-FAST")
    f.HazardControlFactory(hazard=hazard, control=control, target_version=0)
    return product


def test_build_graph_is_the_public_api_build(generated):
    graph, reference = tg.build_graph(generated), reference_graph(generated)
    assert structure(graph) == structure(reference)
    for u, v, data in graph.edges(data=True):  # one data dict per edge, as networkx shares it
        assert graph.pred[v][u] is data
    two = next(d for _, _, d in graph.edges(data=True) if len(d["links"]) == 2)
    assert two["suspect"] is True and [ref.suspect for ref in two["links"]] == [True, False]
    # networkx reads and changes it as its own.
    hazard = next(n for n in graph if n[0] == "hazard")
    assert nx.descendants(graph, hazard) == nx.descendants(reference, hazard)
    some = list(graph)[:50]
    assert nx.utils.graphs_equal(graph.subgraph(some).copy(), reference.subgraph(some).copy())
    graph.add_edge(("x", 1), hazard)
    graph.remove_node(hazard)
    reference.add_edge(("x", 1), hazard)
    reference.remove_node(hazard)
    assert structure(graph) == structure(reference)


def test_neighbourhood_build_is_the_public_api_build(generated):
    graph = tg.build_graph(generated)
    hazard = next(n for n in graph if n[0] == "hazard")
    only: dict = defaultdict(set)
    for node in tg.neighbourhood(graph, hazard):
        only[node[0]].add(node[1])
    only.pop("software_item", None)  # a kind with nothing to load: its links are skipped
    assert structure(tg.build_graph(generated, only=only)) == structure(
        reference_graph(generated, only=only)
    )


def hand_built() -> nx.DiGraph:
    graph = nx.DiGraph()
    codes = {("hazard", 1): "HAZ-10", ("hazard", 2): "HAZ-9", ("control", 3): "RC-1"}
    codes.update({("test", 4): "TC-2", ("test", 5): "TC-10"})
    for node, code in codes.items():
        graph.add_node(node, code=code)
    tg.add_link(graph, "reduces", ("hazard", 1), ("control", 3), 1)
    tg.add_link(graph, "reduces", ("hazard", 2), ("control", 3), 2, suspect=True)
    tg.add_link(graph, "implementation_verified_by", ("control", 3), ("test", 5), 3)
    tg.add_link(graph, "effectiveness_verified_by", ("control", 3), ("test", 5), 4, suspect=True)
    tg.add_link(graph, "effectiveness_verified_by", ("control", 3), ("test", 4), 5)
    tg.add_link(graph, "can_lead_to", ("hazard", 2), ("hazard", 1), 6, cause_type="a")
    tg.add_link(graph, "can_lead_to", ("hazard", 2), ("hazard", 1), 7, cause_type="b")
    graph.add_edge(("hazard", 1), ("test", 4), kind="reduces", link_id=8)  # no `links`
    graph.add_edge(("hazard", 1), ("test", 5), links=())  # stands for no link
    return graph


@pytest.mark.django_db  # ordered with the database tests (the generated product needs the
# seeded policy template, which a transactional test run before it would have flushed)
@pytest.mark.parametrize("source", ["generated", "hand_built"])
def test_trace_index_is_the_sets_build(source, request):
    if source == "generated":
        graph = tg.build_graph(request.getfixturevalue("generated"))
    else:
        graph = hand_built()
    ix, reference = tg.TraceIndex(graph), reference_index(graph)
    assert ix._out == reference["out"] and ix._in == reference["in"]
    assert ix._kind == reference["kind"]
    assert ix.link_count == reference["count"] and ix.suspect_links == reference["suspect"]
    assert ix.attrs == dict(graph.nodes(data=True))
    assert all(ix.attrs[n] is graph.nodes[n] for n in graph)


def test_gate_on_the_fast_build_is_the_gate_on_the_public_api_build(generated):
    fast = gate.product_gaps(generated)
    plain = gate.product_gaps(generated, analysis=tg.analyse(reference_graph(generated)))
    assert fast.as_json() == plain.as_json() and fast.gap_count > 0
    assert fast.coverage == plain.coverage
    assert fast.analysis.controls == plain.analysis.controls
    assert fast.analysis.hazards == plain.analysis.hazards
    assert fast.analysis.mismatches == plain.analysis.mismatches


def written_line_by_line(product, result) -> str:
    """The text report as `riskcheck` wrote it before: one `write` per line."""
    out = OutputWrapper(io.StringIO())
    out.write(f"Risk check of {product} ({product.slug})")
    by_kind: dict = {}
    for gap in result.gaps:
        by_kind.setdefault(gap.kind, []).append(gap)
    for row in result.coverage:
        status = "ok" if not row.gaps else f"{row.gaps} gap{'s' if row.gaps != 1 else ''}"
        out.write(
            f"\n{row.label} ({row.clause}): {status}, "
            f"{row.checked} {row.scope} checked, {row.percent:g}% covered"
        )
        for gap in by_kind.get(row.kind, ()):
            out.write(f"  - {gap.message}")
    out.write("")
    out.write(f"FAIL: {result.gap_count} gap(s) in the risk file.")
    return out._out.getvalue()


def test_riskcheck_report_is_the_line_by_line_report(generated, monkeypatch):
    def odd_messages(product):  # a message that ends its own line, one that is empty
        return [
            tg.Gap("odd", ("product", product.pk), "x", "ends its line\n"),
            tg.Gap("odd", ("product", product.pk), "y", ""),
        ]

    monkeypatch.setattr(gate, "_CHECKS", [*gate._CHECKS, odd_messages])
    monkeypatch.setitem(gate.KINDS, "odd", ("Odd", "none", "nothing"))
    result = run_command("riskcheck", generated.slug)
    assert result.code == 1
    count = gate.product_gaps(generated).gap_count
    assert result.err == f"FAIL: {count} gap(s) in the risk file of fast-paths."
    assert result.out == written_line_by_line(generated, gate.product_gaps(generated))
    assert "  - ends its line\n\n" not in result.out and "  - \n" in result.out


def test_riskcheck_from_the_shell_leaves_its_objects_to_the_exit(product, monkeypatch, capsys):
    """Run from the shell, the process ends with the command: `gc.freeze` at exit spares the
    interpreter's last collections (registered, not called: a test process goes on)."""
    from django.core.management import load_command_class

    from traceability.management.commands import riskcheck

    registered = []
    monkeypatch.setattr(riskcheck.atexit, "register", registered.append)
    command = load_command_class("traceability", "riskcheck")
    with pytest.raises(SystemExit) as exit_:
        command.run_from_argv(["manage.py", "riskcheck", product.slug])
    assert exit_.value.code == 1 and registered == [gc.freeze]
    assert "FAIL:" in capsys.readouterr().out
