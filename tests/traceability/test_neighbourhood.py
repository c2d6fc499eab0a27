"""One item's neighbourhood gives the same answers as the product's whole graph, in a number
of queries that depends on the neighbourhood, not on the product."""

import importlib.util
from pathlib import Path

import pytest
from django.urls import reverse

from tests import factories as f
from traceability import graph as tg
from traceability import neighbourhood

pytestmark = pytest.mark.django_db


def _synthetic():
    path = Path(__file__).resolve().parents[2] / "bench" / "synthetic.py"
    spec = importlib.util.spec_from_file_location("bench_synthetic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sized(editor):
    """Synthetic products of 10 and 60 hazards, each with the same hand-made chain HAZ-900 →
    RC-900 → SRS-900 → TC-900 (plus an implementation test), the editor a member of both."""
    generate = _synthetic().generate_product
    products = {}
    for n in (10, 60):
        product = generate(n, slug=f"syn-{n}")
        f.MembershipFactory(product=product, user=editor)
        hazard = f.HazardFactory(product=product, code="HAZ-900")
        control = f.RiskControlFactory(product=product, code="RC-900")
        f.HazardControlFactory(hazard=hazard, control=control)
        requirement = f.RequirementFactory(product=product, code="SRS-900")
        test = f.TestCaseFactory(product=product, code="TC-900")
        f.TestRunFactory(test_case=test)
        f.ControlRequirementFactory(control=control, requirement=requirement)
        f.RequirementTestFactory(requirement=requirement, test_case=test)
        f.ControlImplementationTestFactory(control=control, test_case=test)
        products[n] = product
    return products


def _same_graph(a, b):
    assert set(a.nodes) == set(b.nodes)
    assert {n: dict(a.nodes[n]) for n in a.nodes} == {n: dict(b.nodes[n]) for n in b.nodes}
    assert {(u, v): dict(d) for u, v, d in a.edges(data=True)} == {
        (u, v): dict(d) for u, v, d in b.edges(data=True)
    }


def test_hazard_picture_equals_the_whole_graphs_neighbourhood(sized):
    product = sized[60]
    full = tg.build_graph(product)
    verification = tg.control_verification(full)
    for hazard in tg.nodes_of(full, tg.HAZARD):
        sub, controls = neighbourhood.hazard_picture(product, hazard)
        _same_graph(sub, tg.neighbourhood(full, hazard))
        for control in tg.nodes_of(sub, tg.CONTROL):
            assert controls[control] == verification[control]


def test_closure_gives_the_same_impact_as_the_whole_graph(sized):
    product = sized[60]
    full = tg.build_graph(product)
    for kind in tg.NODE_KINDS:
        for node in tg.nodes_of(full, kind)[:8]:
            assert tg.impact(neighbourhood.closure(product, node), node) == tg.impact(full, node)


def test_matrix_rows_of_a_page_equal_the_whole_graphs_rows(sized):
    product = sized[60]
    full = tg.build_graph(product)
    analysis = tg.analyse(full)
    hazards = tg.nodes_of(full, tg.HAZARD)
    for page in (hazards[:25], hazards[25:50], hazards[50:]):
        graph, local = neighbourhood.matrix_rows(product, page)
        assert tg.trace_rows(graph, page, analysis=local) == tg.trace_rows(
            full, page, analysis=analysis
        )


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("hazards:hazard_detail", ["HAZ-900"]),
        ("traceability:hazard_trace_svg", ["HAZ-900"]),
        ("traceability:impact", ["hazard", "HAZ-900"]),
        ("traceability:impact", ["test", "TC-900"]),
    ],
)
def test_item_pages_cost_the_same_in_a_small_and_a_larger_product(
    editor_client, sized, count_queries, name, args
):
    counts = {}
    for n, product in sized.items():
        url = reverse(name, args=[product.slug, *args])
        editor_client.get(url)  # warm the session and the cached summary
        with count_queries() as q:
            response = editor_client.get(url)
        assert response.status_code == 200
        counts[n] = (q.count, q)
    # Same neighbourhood, six times the product: the same queries (the impact page also reads
    # the change counter and the cached summary for the hazards' verification state).
    assert counts[10][0] == counts[60][0], counts[60][1].dump()
    assert counts[60][0] <= 40, counts[60][1].dump()


def test_page_verification_states_equal_the_products(sized):
    from traceability.verification import product_states, states_for

    product = sized[60]
    whole = product_states(product)
    hazards, controls = list(whole.hazards)[:30], list(whole.controls)[:30]
    page = states_for(product, hazards=hazards, controls=controls)
    assert page.hazards == {pk: whole.hazards[pk] for pk in hazards}
    assert page.controls == {pk: whole.controls[pk] for pk in controls}


@pytest.mark.parametrize("name", ["hazards:hazard_list", "hazards:control_list"])
def test_list_pages_cost_the_same_in_a_small_and_a_larger_product(
    editor_client, sized, count_queries, name
):
    counts = {}
    for n, product in sized.items():
        url = reverse(name, args=[product.slug]) + "?q=900"
        editor_client.get(url)
        with count_queries() as q:
            response = editor_client.get(url)
        assert response.status_code == 200
        assert "900" in response.content.decode()
        counts[n] = (q.count, q)
    # One row (code 900) in both products: the page's rows, their verification state from
    # their neighbourhood (walk + load, skipping empty tables), the shared middleware.
    assert counts[10][0] == counts[60][0], counts[60][1].dump()
