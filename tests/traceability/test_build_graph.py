"""`build_graph` reads the database in a fixed number of queries and maps every field."""

import pytest

from tests import factories as f
from traceability import graph as tg


def make_chains(product, n):
    for _ in range(n):
        hazard = f.HazardFactory(product=product)
        control = f.HazardControlFactory(hazard=hazard).control
        requirement = f.ControlRequirementFactory(control=control).requirement
        test_case = f.RequirementTestFactory(requirement=requirement).test_case
        f.TestRunFactory(test_case=test_case)
        item = f.SoftwareItemFactory(product=product)
        f.SoftwareItemHazardFactory(software_item=item, hazard=hazard)


@pytest.mark.parametrize("n", [1, 8])
def test_build_graph_uses_a_fixed_number_of_queries(product, count_queries, n):
    make_chains(product, n)
    with count_queries() as q:
        graph = tg.build_graph(product)
    # 5 node tables (hazards, controls, software items, requirements, tests with their latest
    # run as sub-queries) + 8 link tables.
    assert q.count == 13, q.dump()
    assert graph.number_of_nodes() == 5 * n


def test_other_products_are_not_in_the_graph(product, other_product):
    make_chains(product, 1)
    make_chains(other_product, 2)
    graph = tg.build_graph(product)
    assert graph.number_of_nodes() == 5
    assert graph.graph["product_slug"] == product.slug


def test_node_and_edge_attributes(product):
    hazard = f.HazardFactory(
        product=product,
        residual_acceptability="investigate",
        benefit_risk_justification="  ",
        status="approved",
    )
    control = f.HazardControlFactory(hazard=hazard).control
    parent = f.SoftwareItemFactory(product=product)
    soup = f.SoftwareItemFactory(
        product=product, is_soup=True, parent=parent, safety_class="B",
        soup_requirements="Must encrypt", segregation_note="MPU",
    )  # fmt: skip
    requirement = f.RequirementFactory(product=product, software_item=soup)
    f.ControlRequirementFactory(control=control, requirement=requirement)
    test_case = f.TestCaseFactory(product=product)
    graph = tg.build_graph(product)
    h = graph.nodes[("hazard", hazard.pk)]
    assert h["code"] == hazard.code and h["category"] == "safety"
    assert h["has_benefit_risk"] is False and h["status"] == "approved"
    assert h["residual_acceptability"] == "investigate" and h["severity"] == 4
    s = graph.nodes[("software_item", soup.pk)]
    assert s["is_soup"] and not s["anomalies_reviewed"] and s["has_soup_requirements"]
    assert s["parent"] == ("software_item", parent.pk) and s["has_segregation"]
    r = graph.nodes[("requirement", requirement.pk)]
    assert r["software_item"] == ("software_item", soup.pk) and r["level"] == "software"
    assert graph.nodes[("test", test_case.pk)]["latest_result"] is None
    edge = graph.edges[("hazard", hazard.pk), ("control", control.pk)]
    assert edge["kind"] == "reduces" and edge["suspect"] is False and edge["link_id"]


def test_suspect_is_derived_from_versions(product):
    link = f.ControlRequirementFactory(control=f.RiskControlFactory(product=product))
    requirement = link.requirement
    requirement.version = 3  # changed after the link was recorded at version 1
    requirement.save()
    graph = tg.build_graph(product)
    edge = graph.edges[("control", link.control_id), ("requirement", requirement.pk)]
    assert edge["suspect"] is True
