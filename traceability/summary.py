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

from django.utils import timezone

from riskbench.cache import cached_analysis, chain_heads
from traceability import gate, incremental, verification
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
    # What `traceability.incremental` needs to bring the summary up to date after a change:
    # the state it describes (`current_head`), the checks applied to each record (pickled:
    # only an update reads them), each software item's own class and reached hazards, and the
    # items some requirement is allocated to.
    head: tuple
    packed_checked: bytes
    own_classes: dict
    items_with_requirements: frozenset

    def checked(self) -> dict:
        """record → the kinds of the checks applied to it (a fresh dict on every call: the
        caller may change it; unpickled once per summary)."""
        if "_checked" not in self.__dict__:
            self.__dict__["_checked"] = pickle.loads(self.packed_checked)  # noqa: S301 - ours
        return dict(self.__dict__["_checked"])

    def keep_unpacked(self, gaps_by_kind: dict, checked: dict) -> None:
        """Give this summary the unpacked forms of its packed fields (its maker has them): the
        next update in this process starts from them instead of unpickling."""
        self.__dict__["_unpacked"] = dict(gaps_by_kind)
        self.__dict__["_checked"] = checked

    def __getstate__(self) -> dict:
        """What the shared cache stores: the fields, not this process's unpacked copies."""
        return {name: value for name, value in self.__dict__.items() if name[0] != "_"}

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


def summarise(result: gate.GateResult, head: tuple = ()) -> Summary:
    """The summary of a gate run on the product's state at `head` (`current_head`)."""
    analysis = result.analysis
    with tg.gc_paused():
        return Summary(
            controls=analysis.controls,
            hazards=analysis.hazards,
            required_classes=analysis.required_classes,
            mismatches=analysis.mismatches,
            coverage=result.coverage,
            states=verification.states_from_analysis(analysis),
            head=head,
            own_classes=analysis.own_classes,
            items_with_requirements=frozenset(
                tg.requirements_of_item(analysis.graph, index=analysis.index)
            ),
            **pack(result.gaps, result.checked),
        )


def pack(gaps: list[tg.Gap], checked: dict, *, reuse: dict | None = None) -> dict:
    """The gaps pickled per kind (in the gate's order), their previews, and the checks applied
    to each record pickled. Pickling ~50,000 gaps allocates as many containers: the caller
    pauses the cyclic collector, whose passes were three quarters of the time otherwise.

    `reuse`: kind → packed gaps of the summary this one updates, for the kinds whose gaps did
    not change (they keep their bytes)."""
    by_kind: dict[str, list[tg.Gap]] = {}
    for gap in gaps:
        by_kind.setdefault(gap.kind, []).append(gap)
    if reuse is None:
        shared: dict[tuple, tuple] = {}  # records with the same checks share one tuple
        checked = {owner: _shared(shared, tuple(kinds)) for owner, kinds in checked.items()}
    reuse = reuse or {}
    packed = {
        kind: reuse.get(kind) or pickle.dumps(found, pickle.HIGHEST_PROTOCOL)
        for kind, found in by_kind.items()
    }
    return {
        "previews": {kind: found[:PREVIEW] for kind, found in by_kind.items()},
        "packed_gaps": packed,
        "packed_checked": pickle.dumps(checked, pickle.HIGHEST_PROTOCOL),
    }


def _shared(seen: dict, value: tuple) -> tuple:
    return seen.setdefault(value, value)


def current_head(product_id: int) -> tuple:
    """The state a summary describes: the product's and the global audit chain heads, and the
    day (checks such as SOUP end of support depend on it)."""
    product, shared = chain_heads(product_id)
    return (product, shared, timezone.localdate().isoformat())


def full_summary(product) -> Summary:
    head = current_head(product.pk)
    # The gate's result is ~1,000,000 small objects at 5,000 hazards, none in a reference
    # cycle: the cyclic collector stays paused until it is summarised and freed, so it never
    # walks them (re-enabled while they were alive, it did twice: ~0.4 s of each full run).
    with tg.gc_paused():
        return summarise(gate.product_gaps(product), head)


def updated_summary(previous: Summary, product) -> Summary | None:
    """`previous` brought up to date by redoing what changed since (None: recompute)."""
    head = current_head(product.pk)
    with tg.gc_paused():
        return incremental.update(previous, product, head)


def product_summary(product) -> Summary:
    """The product's analyses as of its last committed change: once per change across every
    app server — from the previous summary by redoing what the change touched
    (`traceability.incremental`) or, when that cannot say, by a full gate run (13 queries and
    the whole graph) — else one query (the change counter) and a cache read."""
    return cached_analysis(
        "gate",
        product.pk,
        lambda: full_summary(product),
        update=lambda previous: updated_summary(previous, product),
    )
