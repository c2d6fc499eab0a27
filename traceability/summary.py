"""The product-wide analyses without the graph: what the dashboard, the coverage report and the
list pages' verification column need, cached once per change of the product (riskbench.cache).

`analyse(build_graph(product))` holds a networkx graph of every record (≈50,000 nodes at 5,000
hazards): shipping that through a shared cache costs as much as rebuilding it. The results the
pages read are small (gaps, coverage rows, verification per hazard and control, class
mismatches), so this module keeps only those: one build per change for the whole cluster, a
cache read (or the process's copy) for every other view.
"""

from __future__ import annotations

from dataclasses import dataclass

from riskbench.cache import cached_analysis
from traceability import gate, verification
from traceability import graph as tg


@dataclass(frozen=True)
class Summary:
    """`tg.Analysis` minus the graph and its index, plus the list pages' verification words;
    its gaps and coverage are the whole release gate's (`traceability.gate.product_gaps`): the
    traceability analyses, the record-state checks and the registered checks."""

    controls: dict  # control node → control_verification entry
    hazards: dict  # hazard node → hazard verification (tg.HAZARD_STATES)
    required_classes: dict
    mismatches: list
    gaps: list
    coverage: tg.Coverage
    states: verification.VerificationStates  # pk → "verified" | "partly" | "failed" | "none"

    def gaps_of(self, kind: str) -> list[tg.Gap]:
        return [gap for gap in self.gaps if gap.kind == kind]

    @property
    def gap_count(self) -> int:
        return len(self.gaps)


def summarise(result: gate.GateResult) -> Summary:
    analysis = result.analysis
    return Summary(
        controls=analysis.controls,
        hazards=analysis.hazards,
        required_classes=analysis.required_classes,
        mismatches=analysis.mismatches,
        gaps=result.gaps,
        coverage=result.coverage,
        states=verification.states_from_analysis(analysis),
    )


def product_summary(product) -> Summary:
    """The product's analyses as of its last committed change: built (13 queries and the whole
    graph) once per change across every app server, else one query (the change counter) and a
    cache read."""
    return cached_analysis("gate", product.pk, lambda: summarise(gate.product_gaps(product)))
