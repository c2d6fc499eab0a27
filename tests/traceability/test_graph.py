"""The graph analyses on hand-built graphs — no database.

`complete_graph()` is a small risk file with no gap at all; each gap test breaks it in one way,
checks the gap is found (and only that gap), then repairs it and checks the gap is gone.
"""

import networkx as nx
import pytest

from traceability import graph as tg

H1, H2, HSEC = ("hazard", 1), ("hazard", 2), ("hazard", 3)
C1, C2 = ("control", 1), ("control", 2)
R1, R2 = ("requirement", 1), ("requirement", 2)
T1, T2, T3 = ("test", 1), ("test", 2), ("test", 3)
SW_ROOT, SW1, SOUP = ("software_item", 1), ("software_item", 2), ("software_item", 3)


def complete_graph() -> nx.DiGraph:
    """Two hazards (one reached through a security hazard), two controls, both verified."""
    g = nx.DiGraph(product_id=1, product_slug="pump")
    hazard = {
        "category": "safety",
        "severity": 4,
        "residual_severity": 4,
        "initial_acceptability": "unacceptable",
        "residual_acceptability": "acceptable",
        "has_benefit_risk": False,
        "status": "draft",
        "version": 1,
    }
    g.add_node(H1, code="HAZ-001", title="Over-delivery", **hazard)
    g.add_node(H2, code="HAZ-002", title="Under-delivery", **{**hazard, "severity": 2})
    g.add_node(HSEC, code="HAZ-003", title="Spoofed bolus", **{**hazard, "category": "security"})
    for node, code in ((C1, "RC-001"), (C2, "RC-002")):
        g.add_node(
            node, code=code, title=code, option="protective_measure", status="draft", version=1
        )
    for node, code in ((R1, "SRS-001"), (R2, "SRS-002")):
        g.add_node(
            node, code=code, title=code, level="software", status="draft", software_item=SW1,
            version=1,
        )  # fmt: skip
    for node, code in ((T1, "TC-001"), (T2, "TC-002"), (T3, "TC-003")):
        g.add_node(node, code=code, title=code, latest_result="pass", latest_run_at=None, version=1)
    item = {
        "is_soup": False,
        "anomalies_reviewed": False,
        "has_soup_requirements": False,
        "has_segregation": False,
        "version": 1,
    }
    g.add_node(SW_ROOT, code="SW-001", title="Firmware", safety_class="C", parent=None, **item)
    g.add_node(SW1, code="SW-002", title="Dose ctl", safety_class="C", parent=SW_ROOT, **item)
    g.add_node(
        SOUP,
        code="SW-003",
        title="RTOS",
        safety_class="C",
        parent=SW_ROOT,
        **{**item, "is_soup": True, "anomalies_reviewed": True, "has_soup_requirements": True},
    )
    link = iter(range(1, 100))
    for kind, u, v in [
        ("reduces", H1, C1),
        ("reduces", H2, C2),
        ("reduces", HSEC, C1),
        ("can_lead_to", HSEC, H1),
        ("implemented_by", C1, R1),
        ("implemented_by", C2, R2),
        ("verified_by", R1, T1),
        ("verified_by", R2, T2),
        ("implementation_verified_by", C1, T1),
        ("effectiveness_verified_by", C1, T3),
        ("implementation_verified_by", C2, T2),
        ("effectiveness_verified_by", C2, T3),
        ("contributes_to", SW1, H1),
        ("contributes_to", SOUP, H2),
    ]:
        tg.add_link(g, kind, u, v, next(link))
    # The root item holds no requirement itself: a class A container, but its children are C.
    g.nodes[SW_ROOT]["safety_class"] = "C"
    g.add_node(("requirement", 9), code="SRS-009", title="Boot", level="software",
               status="draft", software_item=SW_ROOT, version=1)  # fmt: skip
    tg.add_link(g, "verified_by", ("requirement", 9), T1, 99)
    return g


def kinds(g) -> list[str]:
    return [gap.kind for gap in tg.find_gaps(g)]


def test_complete_graph_has_no_gap():
    g = complete_graph()
    assert tg.find_gaps(g) == []
    assert tg.coverage(g).total_gaps == 0
    assert tg.coverage(g).percent == 100.0


# --- one test per gap kind: found, then gone when fixed -----------------------------------------


def test_hazard_without_control_is_found_and_fixed():
    g = complete_graph()
    g.remove_edge(H2, C2)
    assert "hazard_without_control" in kinds(g)
    gap = next(x for x in tg.find_gaps(g) if x.kind == "hazard_without_control")
    assert gap.node == H2 and gap.code == "HAZ-002"
    tg.add_link(g, "reduces", H2, C2, 500)
    assert "hazard_without_control" not in kinds(g)


def test_hazard_with_acceptable_initial_risk_needs_no_control():
    g = complete_graph()
    g.remove_edge(H2, C2)
    g.nodes[H2]["initial_acceptability"] = "acceptable"
    assert "hazard_without_control" not in kinds(g)


def test_unestimated_hazard_without_control_is_a_gap():
    g = complete_graph()
    g.remove_edge(H2, C2)
    g.nodes[H2]["initial_acceptability"] = ""
    gap = next(x for x in tg.find_gaps(g) if x.kind == "hazard_without_control")
    assert "not estimated" in gap.message


def test_missing_benefit_risk_is_found_and_fixed():
    g = complete_graph()
    g.nodes[H1]["residual_acceptability"] = "investigate"
    assert kinds(g) == ["benefit_risk_missing"]
    g.nodes[H1]["has_benefit_risk"] = True
    assert kinds(g) == []


def test_control_without_requirement_is_found_and_fixed():
    g = complete_graph()
    g.remove_edge(C2, R2)
    assert kinds(g) == ["control_without_requirement"]
    tg.add_link(g, "implemented_by", C2, R2, 501)
    assert kinds(g) == []


def test_control_without_implementation_evidence_is_found_and_fixed():
    g = complete_graph()
    g.remove_edge(C2, T2)
    assert kinds(g) == ["control_without_implementation_evidence"]
    assert "no test verifies its implementation" in tg.find_gaps(g)[0].message
    tg.add_link(g, "implementation_verified_by", C2, T2, 502)
    assert kinds(g) == []


def test_control_without_effectiveness_evidence_is_found_and_fixed():
    g = complete_graph()
    g.remove_edge(C1, T3)
    assert kinds(g) == ["control_without_effectiveness_evidence"]
    tg.add_link(g, "effectiveness_verified_by", C1, T3, 503)
    assert kinds(g) == []


def test_requirement_without_test_is_found_and_fixed():
    g = complete_graph()
    g.remove_edge(R2, T2)
    assert kinds(g) == ["requirement_without_test"]
    tg.add_link(g, "verified_by", R2, T2, 504)
    assert kinds(g) == []


@pytest.mark.parametrize("result", ["fail", "blocked", "not_run", None])
def test_test_not_passing_is_found_and_fixed(result):
    g = complete_graph()
    g.nodes[T2]["latest_result"] = result
    found = kinds(g)
    assert "test_not_passing" in found
    # T2 also verifies C2's implementation, which is then not verified either.
    assert "control_without_implementation_evidence" in found
    g.nodes[T2]["latest_result"] = "pass"
    assert kinds(g) == []


def test_class_c_item_without_requirements_is_found_and_fixed():
    g = complete_graph()
    g.nodes[R1]["software_item"] = None
    g.nodes[R2]["software_item"] = None
    assert kinds(g) == ["software_item_without_requirements"]
    g.nodes[R1]["software_item"] = SW1
    assert kinds(g) == []


def test_class_a_item_needs_no_requirements():
    g = complete_graph()
    g.add_node(("software_item", 7), code="SW-007", title="Logo", safety_class="A",
               parent=None, is_soup=False, has_segregation=True, version=1)  # fmt: skip
    assert kinds(g) == []


def test_soup_with_only_soup_requirements_text_is_covered():
    g = complete_graph()
    g.nodes[SOUP]["has_soup_requirements"] = False
    assert kinds(g) == ["software_item_without_requirements"]
    g.nodes[SOUP]["has_soup_requirements"] = True
    assert kinds(g) == []


def test_soup_without_anomaly_review_is_found_and_fixed():
    g = complete_graph()
    g.nodes[SOUP]["anomalies_reviewed"] = False
    assert kinds(g) == ["soup_anomalies_not_reviewed"]
    g.nodes[SOUP]["anomalies_reviewed"] = True
    assert kinds(g) == []


def test_software_class_too_low_is_found_and_fixed():
    g = complete_graph()
    g.nodes[SW1]["safety_class"] = "B"
    g.nodes[SW1]["has_segregation"] = True
    gaps = tg.find_gaps(g)
    assert [x.kind for x in gaps] == ["software_class_too_low"]
    assert "HAZ-001" in gaps[0].message and "class C" in gaps[0].message
    g.nodes[SW1]["safety_class"] = "C"
    assert kinds(g) == []


def test_suspect_link_is_found_and_fixed():
    g = complete_graph()
    g.edges[C1, R1]["links"] = (tg.LinkRef("implemented_by", 5, True),)
    g.edges[C1, R1]["suspect"] = True
    gaps = tg.find_gaps(g)
    assert [x.kind for x in gaps] == ["suspect_link"]
    assert gaps[0].node == C1 and gaps[0].link == ("implemented_by", 5, R1)
    assert "RC-001 is implemented by SRS-001" in gaps[0].message
    g.edges[C1, R1]["links"] = (tg.LinkRef("implemented_by", 5, False),)
    assert kinds(g) == []


def test_every_gap_kind_has_a_test_above():
    tested = {
        "hazard_without_control",
        "benefit_risk_missing",
        "control_without_requirement",
        "control_without_implementation_evidence",
        "control_without_effectiveness_evidence",
        "requirement_without_test",
        "test_not_passing",
        "software_item_without_requirements",
        "soup_anomalies_not_reviewed",
        "software_class_too_low",
        "suspect_link",
    }
    assert set(tg.GAP_KINDS) == tested
    assert set(tg.GAP_CLAUSES) == tested


# --- ordering and coverage ----------------------------------------------------------------------


def test_gaps_are_ordered_by_kind_then_natural_code():
    g = complete_graph()
    for pk in (10, 1000, 100, 8):
        g.add_node(("requirement", 100 + pk), code=f"SRS-{pk:03d}", title="x", level="software",
                   software_item=SW1, version=1)  # fmt: skip
    g.nodes[T2]["latest_result"] = "fail"
    gaps = tg.find_gaps(g)
    order = list(tg.GAP_KINDS)
    assert [order.index(x.kind) for x in gaps] == sorted(order.index(x.kind) for x in gaps)
    req_codes = [x.code for x in gaps if x.kind == "requirement_without_test"]
    assert req_codes == ["SRS-008", "SRS-010", "SRS-100", "SRS-1000"]
    assert tg.find_gaps(g) == gaps  # stable


def test_coverage_counts_checked_and_gaps_per_kind():
    g = complete_graph()
    g.remove_edge(R2, T2)
    cov = tg.coverage(g)
    assert [row.kind for row in cov] == list(tg.GAP_KINDS)
    row = cov["requirement_without_test"]
    assert (row.checked, row.gaps, row.percent) == (3, 1, 66.7)
    assert cov["hazard_without_control"].checked == 3
    assert cov["benefit_risk_missing"].checked == 0
    assert cov["benefit_risk_missing"].percent == 100.0
    assert cov["suspect_link"].checked == 14  # 15 links, one removed
    assert cov.total_gaps == 1


# --- verification status -------------------------------------------------------------------------


def test_evidence_status():
    assert tg.evidence_status([]) == "no test"
    assert tg.evidence_status(["pass", "pass"]) == "verified"
    assert tg.evidence_status(["pass", "fail"]) == "failed"
    assert tg.evidence_status(["pass", None]) == "pending"
    assert tg.evidence_status(["blocked"]) == "pending"


def test_control_verification_reads_implementation_and_effectiveness_separately():
    g = complete_graph()
    g.nodes[T3]["latest_result"] = "fail"
    cv = tg.control_verification(g)
    assert cv[C1]["implementation"] == "verified"
    assert cv[C1]["effectiveness"] == "failed"
    assert cv[C1]["verified"] is False
    assert cv[C1]["implementation_tests"] == [(T1, "pass")]
    assert cv[C1]["effectiveness_tests"] == [(T3, "fail")]


def test_same_test_can_verify_implementation_and_effectiveness():
    g = complete_graph()
    g.remove_edge(C2, T3)
    tg.add_link(g, "effectiveness_verified_by", C2, T2, 600)  # T2 already verifies implementation
    assert g.edges[C2, T2]["kind"] == "implementation_verified_by"
    assert len(g.edges[C2, T2]["links"]) == 2
    assert tg.has_link(g, C2, T2, "effectiveness_verified_by")
    assert tg.control_verification(g)[C2]["verified"] is True
    assert kinds(g) == []


def test_hazard_verification_states():
    g = complete_graph()
    assert tg.hazard_verification(g) == {H1: "verified", H2: "verified", HSEC: "verified"}
    g.nodes[T3]["latest_result"] = "fail"  # effectiveness of both controls fails
    assert tg.hazard_verification(g)[H1] == "partially verified"
    g.nodes[T1]["latest_result"] = None
    g.nodes[T2]["latest_result"] = None
    assert tg.hazard_verification(g)[H1] == "not verified"
    g.remove_edge(H2, C2)
    assert tg.hazard_verification(g)[H2] == "no controls"


def test_hazard_is_verified_only_when_every_control_is():
    g = complete_graph()
    tg.add_link(g, "reduces", H1, C2, 700)
    g.remove_edge(C2, T3)
    assert tg.hazard_verification(g)[H1] == "partially verified"


# --- impact -------------------------------------------------------------------------------------


def test_impact_of_a_test_reaches_up_to_its_hazards():
    g = complete_graph()
    result = tg.impact(g, T1)
    assert result.upstream_hazards == [H1, HSEC]
    assert result.downstream_tests == []
    assert C1 in result.affected and R1 in result.affected and SW1 in result.affected


def test_impact_of_a_hazard_lists_tests_to_rerun():
    g = complete_graph()
    result = tg.impact(g, H1)
    assert result.downstream_tests == [T1, T3]
    assert HSEC in result.upstream_hazards  # the security hazard that can lead to it
    assert H1 not in result.affected


def test_impact_of_a_software_item_reaches_its_hazards_and_their_tests():
    g = complete_graph()
    result = tg.impact(g, SOUP)
    assert result.upstream_hazards == [H2]
    assert result.downstream_tests == [T2, T3]


def test_impact_of_unknown_node_raises():
    with pytest.raises(KeyError):
        tg.impact(complete_graph(), ("test", 999))


# --- software safety class ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "expected"), [(1, "A"), (2, "B"), (3, "C"), (5, "C"), (None, "C")]
)
def test_class_for_severity(severity, expected):
    assert tg.class_for_severity(severity) == expected


def test_required_class_follows_worst_contributed_hazard_and_tree():
    g = complete_graph()
    for node in (SW_ROOT, SW1, SOUP):
        g.nodes[node]["has_segregation"] = True
    required = tg.required_safety_class(g)
    assert required[SW1] == "C"  # HAZ-001 severity 4
    assert required[SOUP] == "B"  # HAZ-002 severity 2
    assert required[SW_ROOT] == "C"  # contains SW-002


def test_security_hazard_leading_to_safety_hazard_raises_the_class():
    g = complete_graph()
    g.nodes[HSEC]["severity"] = 1
    g.remove_edge(SW1, H1)
    tg.add_link(g, "contributes_to", SW1, HSEC, 800)
    g.nodes[SW1]["has_segregation"] = True
    g.nodes[SW_ROOT]["safety_class"] = "A"
    assert tg.required_safety_class(g)[SW1] == "C"  # via HAZ-003 → HAZ-001 (severity 4)


def test_privacy_hazards_do_not_raise_the_class():
    g = complete_graph()
    g.nodes[H2]["category"] = "privacy"
    g.nodes[SOUP]["has_segregation"] = True
    assert tg.required_safety_class(g)[SOUP] == "A"


def test_unsegregated_child_inherits_parent_class():
    g = complete_graph()
    g.nodes[SOUP]["safety_class"] = "B"
    mismatches = tg.safety_class_mismatches(g)
    assert [m.node for m in mismatches] == [SOUP]
    assert mismatches[0].required == "C"
    g.nodes[SOUP]["has_segregation"] = True
    assert tg.safety_class_mismatches(g) == []


def test_parent_cycle_does_not_hang():
    g = complete_graph()
    g.nodes[SW_ROOT]["parent"] = SW1
    assert tg.required_safety_class(g)[SW_ROOT] == "C"


# --- matrix rows --------------------------------------------------------------------------------


def test_trace_rows_one_per_chain():
    g = complete_graph()
    rows = tg.trace_rows(g)
    chains = [(r.hazard_code, r.control_code, r.requirement_code, r.test_code) for r in rows]
    assert chains == [
        ("HAZ-001", "RC-001", "SRS-001", "TC-001"),
        ("HAZ-002", "RC-002", "SRS-002", "TC-002"),
        ("HAZ-003", "RC-001", "SRS-001", "TC-001"),
    ]
    assert all(r.latest_result == "pass" and not r.gaps and not r.suspect for r in rows)
    assert rows[0].hazard_verification == "verified"
    assert rows[0].control_implementation == "verified"


def test_trace_rows_flag_gaps_and_keep_incomplete_chains():
    g = complete_graph()
    g.remove_edge(H2, C2)
    g.nodes[T1]["latest_result"] = "fail"
    g.edges[R1, T1]["suspect"] = True
    rows = {r.hazard_code: r for r in tg.trace_rows(g)}
    assert rows["HAZ-002"].control is None
    assert rows["HAZ-002"].gaps == ("hazard_without_control",)
    assert "test_not_passing" in rows["HAZ-001"].gaps
    assert "control_without_implementation_evidence" in rows["HAZ-001"].gaps
    assert rows["HAZ-001"].suspect is True


def test_trace_rows_can_be_limited_to_some_hazards():
    g = complete_graph()
    rows = tg.trace_rows(g, [HSEC, H1])
    assert [r.hazard_code for r in rows] == ["HAZ-001", "HAZ-003"]


def test_row_for_control_without_requirement():
    g = complete_graph()
    g.remove_edge(C2, R2)
    row = next(r for r in tg.trace_rows(g) if r.hazard == H2)
    assert row.control == C2 and row.requirement is None
    assert "control_without_requirement" in row.gaps


# --- helpers ------------------------------------------------------------------------------------


def test_code_key_is_natural():
    codes = ["HAZ-100", "HAZ-1000", "HAZ-009", "HAZ-99"]
    assert sorted(codes, key=tg.code_key) == ["HAZ-009", "HAZ-99", "HAZ-100", "HAZ-1000"]


def test_edges_added_by_hand_with_only_a_kind_are_understood():
    g = complete_graph()
    g.remove_edge(C2, R2)
    g.add_edge(C2, R2, kind="implemented_by", link_id=9, suspect=False)
    assert kinds(g) == []


def test_neighbourhood_of_a_hazard():
    sub = tg.neighbourhood(complete_graph(), H1)
    assert set(sub.nodes) == {H1, HSEC, C1, R1, T1, T3, SW1}
