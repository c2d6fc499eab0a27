"""Verification state of every hazard and risk control of a product, for the list pages.

The states come from `traceability.graph.control_verification` (ISO 14971 7.2: verification of
implementation and of effectiveness, two separate pieces of evidence), folded into the four
words a list column can show:

* "verified" — every piece of evidence exists and the latest run of each test passed;
* "failed" — the latest run of some verifying test failed;
* "partly" — some evidence is verified, some is missing or pending;
* "none" — no verified evidence (or, for a hazard, no risk control at all).

One graph per request (a fixed number of queries), never a query per row. The hazards app
finds this through `riskbench.navigation.VERIFICATION_STATES` (it must not import us).
"""

from __future__ import annotations

from dataclasses import dataclass

from traceability import graph as tg

VERIFIED = "verified"
FAILED = "failed"
PARTLY = "partly"
NONE = "none"
STATES = (VERIFIED, PARTLY, FAILED, NONE)
LABELS = {
    VERIFIED: "Verified",
    PARTLY: "Partly verified",
    FAILED: "Failed",
    NONE: "Not verified",
}


def control_state(cv: dict) -> str:
    """One control's state from its implementation and effectiveness evidence."""
    evidence = (cv["implementation"], cv["effectiveness"])
    if tg.FAILED in evidence:
        return FAILED
    if all(e == tg.VERIFIED for e in evidence):
        return VERIFIED
    if tg.VERIFIED in evidence:
        return PARTLY
    return NONE


def hazard_state(control_states: list[str]) -> str:
    """A hazard's state from the states of the controls that reduce it."""
    if not control_states:
        return NONE
    if FAILED in control_states:
        return FAILED
    if all(s == VERIFIED for s in control_states):
        return VERIFIED
    if any(s in (VERIFIED, PARTLY) for s in control_states):
        return PARTLY
    return NONE


@dataclass(frozen=True)
class VerificationStates:
    """pk → state for the hazards and the controls of one product."""

    hazards: dict[int, str]
    controls: dict[int, str]


def states_from_graph(graph) -> VerificationStates:
    ix = tg.TraceIndex(graph)
    return _states(ix, tg.control_verification(graph, index=ix))


def states_from_analysis(analysis: tg.Analysis) -> VerificationStates:
    """The same states from an analysis already run (its index and control verification)."""
    return _states(analysis.index, analysis.controls)


def _states(ix: tg.TraceIndex, cv: dict) -> VerificationStates:
    controls = {node: control_state(state) for node, state in cv.items()}
    hazards = {
        node[1]: hazard_state([controls[c] for c in ix.succ(node, tg.REDUCES)])
        for node in ix.nodes(tg.HAZARD)
    }
    return VerificationStates(hazards, {node[1]: s for node, s in controls.items()})


def product_states(product) -> VerificationStates:
    """The states of `product`'s hazards and controls, computed once per change of the product
    with its other analyses (traceability.summary): the list pages need these few thousand
    words, not the whole graph."""
    from traceability.summary import product_summary

    return product_summary(product).states


def states_for(product, *, hazards=(), controls=()) -> VerificationStates:
    """The states of some hazards and controls (one page of a list) from their neighbourhood:
    the controls that reduce the hazards and the tests that verify those controls, a bounded
    number of queries whatever the product's size. Same answer as `product_states` for them."""
    from traceability import neighbourhood as nb

    hazard_nodes = {(tg.HAZARD, pk) for pk in hazards}
    control_nodes = {(tg.CONTROL, pk) for pk in controls}
    control_nodes |= nb.linked(hazard_nodes, incoming=False, tables=nb.tables("HazardControl"))
    tests = nb.linked(
        control_nodes,
        incoming=False,
        tables=nb.tables("ControlImplementationTest", "ControlEffectivenessTest"),
    )
    states = states_from_graph(nb.load(product, hazard_nodes | control_nodes | tests))
    wanted_hazards, wanted_controls = set(hazards), set(controls)
    return VerificationStates(
        {pk: state for pk, state in states.hazards.items() if pk in wanted_hazards},
        {pk: state for pk, state in states.controls.items() if pk in wanted_controls},
    )
