"""IEC 62304 4.3 (Amendment 1): the required software safety class, with risk controls external
to the software system considered — the pure decision and its use over the trace graph."""

import pytest

from hazards.models import SoftwareSafetyClass
from hazards.risk import SoftwareContribution as C
from hazards.risk import software_safety_class
from tests.traceability.test_graph import C2, H2, R2, SOUP, SW1, SW_ROOT, complete_graph
from traceability import graph as tg


@pytest.mark.parametrize(
    ("contributions", "expected"),
    [
        ([], "A"),  # cannot contribute to a hazardous situation
        ([C(True, 5)], "A"),  # acceptable after external controls, even if catastrophic
        ([C(None, 1)], "A"),  # unacceptable but no injury possible
        ([C(False, 2)], "B"),  # non-serious injury
        ([C(None, 3)], "C"),  # serious injury (needs medical intervention)
        ([C(False, 5)], "C"),  # death
        ([C(None, None)], "C"),  # severity not estimated: cannot rule out serious injury
        ([C(True, 5), C(False, 2)], "B"),  # only the contributions that stay unacceptable count
        ([C(False, 2), C(None, 4)], "C"),
    ],
)
def test_software_safety_class_decision(contributions, expected):
    assert software_safety_class(contributions) == expected


def test_class_labels_use_the_amendment_1_definitions():
    assert "external to the software system" in SoftwareSafetyClass.A.label
    assert "non-serious injury" in SoftwareSafetyClass.B.label
    assert "death or serious injury" in SoftwareSafetyClass.C.label


def segregated(g):
    for node in (SW_ROOT, SW1, SOUP):
        g.nodes[node]["has_segregation"] = True
    return g


def test_a_hazard_controlled_outside_the_software_does_not_force_its_class():
    """HAZ-002 (severity 2) reached by the SOUP: its control RC-002 is a hardware requirement
    (no software item, not a software requirement) and its residual risk is acceptable, so
    the risk after external controls is acceptable: class A, not B."""
    g = segregated(complete_graph())
    assert tg.required_safety_class(g)[SOUP] == "B"  # RC-002 implemented in software
    g.nodes[R2]["level"] = "system"
    g.nodes[R2]["software_item"] = None
    assert not tg.control_in_software(g, C2)
    assert tg.required_safety_class(g)[SOUP] == "A"
    g.nodes[H2]["residual_acceptability"] = "investigate"  # still not acceptable: B again
    assert tg.required_safety_class(g)[SOUP] == "B"


def test_an_initially_acceptable_hazard_does_not_raise_the_class():
    g = segregated(complete_graph())
    g.nodes[H2]["initial_acceptability"] = "acceptable"
    assert tg.required_safety_class(g)[SOUP] == "A"
