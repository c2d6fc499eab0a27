"""The product-wide analyses without the graph: what the dashboard, the coverage report and the
list pages' verification column need, cached once per change of the product (riskbench.cache).

`analyse(build_graph(product))` holds a networkx graph of every record (≈50,000 nodes at 5,000
hazards): shipping that through a shared cache costs as much as rebuilding it. The results the
pages read are small (gaps, coverage rows, verification per hazard and control, class
mismatches), so this module keeps only those: one build per change for the whole cluster, a
cache read (or the process's copy) for every other view.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

from riskbench.cache import cached_analysis
from traceability import gate, verification
from traceability import graph as tg

# Gaps of each kind on the coverage overview; `?kind=` pages through all of them.
PREVIEW = 20


@dataclass(frozen=True)
class Summary:
    """`tg.Analysis` minus the graph and its index, plus the list pages' verification words;
    its gaps and coverage are the whole release gate's (`traceability.gate.product_gaps`): the
    traceability analyses, the record-state checks and the registered checks.

    The gaps (≈50,000 at 5,000 hazards, ~5 MB pickled) are kept pickled per kind and read only
    when a page asks for them: the dashboard needs the coverage counts, the coverage overview
    the first `PREVIEW` gaps of each kind, `?kind=` pages and the suspect-link list one kind.
    Every app server that loads the summary after a change so pays for what it shows."""

    controls: dict  # control node → control_verification entry
    hazards: dict  # hazard node → hazard verification (tg.HAZARD_STATES)
    required_classes: dict
    mismatches: list
    coverage: tg.Coverage
    states: verification.VerificationStates  # pk → "verified" | "partly" | "failed" | "none"
    previews: dict  # kind → its first PREVIEW gaps
    packed_gaps: dict  # kind → pickled list of its gaps, kinds in the gate's order

    def gaps_of(self, kind: str) -> list[tg.Gap]:
        """Every gap of one kind, in the gate's order (unpickled once per summary)."""
        unpacked = self.__dict__.setdefault("_unpacked", {})
        if kind not in unpacked:
            packed = self.packed_gaps.get(kind)
            unpacked[kind] = pickle.loads(packed) if packed else []  # noqa: S301 - our own
        return unpacked[kind]

    @property
    def gaps(self) -> list[tg.Gap]:
        """Every gap, in the gate's order (`gate.product_gaps(...).gaps`)."""
        return [gap for kind in self.packed_gaps for gap in self.gaps_of(kind)]

    @property
    def gap_count(self) -> int:
        return self.coverage.total_gaps

    def gaps_at(self, node: tg.Node) -> list[tg.Gap]:
        """The gaps touching one record (a suspect link touches both its ends). The index is
        built once per summary, not on every page that shows one record's gaps."""
        index = self.__dict__.get("_by_node")
        if index is None:
            index = self.__dict__["_by_node"] = tg.gaps_by_node(self.gaps)
        return index.get(node, [])


def summarise(result: gate.GateResult) -> Summary:
    # Pickling ~50,000 gaps allocates as many containers: with the cyclic collector running,
    # its passes took three quarters of the time (0.72 s -> 0.15 s at 5,000 hazards).
    with tg.gc_paused():
        return _summarise(result)


def _summarise(result: gate.GateResult) -> Summary:
    analysis = result.analysis
    by_kind: dict[str, list[tg.Gap]] = {}
    for gap in result.gaps:
        by_kind.setdefault(gap.kind, []).append(gap)
    return Summary(
        controls=analysis.controls,
        hazards=analysis.hazards,
        required_classes=analysis.required_classes,
        mismatches=analysis.mismatches,
        coverage=result.coverage,
        states=verification.states_from_analysis(analysis),
        previews={kind: gaps[:PREVIEW] for kind, gaps in by_kind.items()},
        packed_gaps={
            kind: pickle.dumps(gaps, pickle.HIGHEST_PROTOCOL) for kind, gaps in by_kind.items()
        },
    )


def product_summary(product) -> Summary:
    """The product's analyses as of its last committed change: built (13 queries and the whole
    graph) once per change across every app server, else one query (the change counter) and a
    cache read."""
    return cached_analysis("gate", product.pk, lambda: summarise(gate.product_gaps(product)))
