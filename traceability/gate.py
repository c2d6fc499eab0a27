"""The release gate: one list of checks that `riskcheck`, the coverage page, the dashboard and
the dossier's open-gaps section share (DESIGN.md §8), so what one shows the others show too.

Three sources, in this order:

1. the traceability analyses of `traceability.graph` (controls, requirements, tests, software
   classes, suspect links…);
2. the record-state checks of `traceability.record_checks` (records not approved, risks not
   estimated, residual risks outside what the plan lets benefit-risk accept, unjustified
   severity or CVSS changes, SOUP past its end of support or with an outdated anomaly
   review…);
3. checks registered by apps above `traceability` (post-market, the risk management report):
   an app calls `register(check, kinds={kind: (label, clause, scope)})` from its
   `AppConfig.ready()`, where `check(product) -> list[traceability.graph.Gap]`.

`product_gaps(product)` runs them all and returns a `GateResult`: the gaps (each naming its
record and its clause), and one coverage row per check. A product passes the gate when there
is no gap at all; only then may a release baseline be taken (`traceability.baselines`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from traceability import graph as tg
from traceability import record_checks
from traceability.graph import Gap

Check = Callable[[object], list[Gap]]
_CHECKS: list[Check] = []
KINDS: dict[str, tuple[str, str, str]] = {}  # kind → (label, clause, scope) of registered gaps
# Built-in record-state checks (postmarket leaves end of support to the gate when listed here).
RECORD_KINDS: dict[str, tuple[str, str, str]] = record_checks.KINDS


def register(check: Check, *, kinds: Mapping[str, tuple[str, str, str]] | None = None) -> Check:
    """Add a check (registering the same function twice has no effect)."""
    KINDS.update(kinds or {})
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


def unregister(check: Check) -> None:
    if check in _CHECKS:
        _CHECKS.remove(check)


def registered_checks() -> tuple[Check, ...]:
    return tuple(_CHECKS)


def registered_gaps(product) -> list[Gap]:
    """The gaps every registered check finds in `product`, in registration order."""
    return [gap for check in _CHECKS for gap in check(product)]


def _info(kind: str) -> tuple[str, str, str]:
    if kind in tg.GAP_KINDS:
        return tg.GAP_KINDS[kind], tg.GAP_CLAUSES[kind], tg.GAP_SCOPES[kind]
    return RECORD_KINDS.get(kind) or KINDS.get(kind) or (kind, "", "")


def label(kind: str) -> str:
    return _info(kind)[0]


def clause(kind: str) -> str:
    return _info(kind)[1]


def scope(kind: str) -> str:
    return _info(kind)[2]


@dataclass(frozen=True)
class GateResult:
    """Every gap of a product's risk file and the coverage of every check (see module doc)."""

    analysis: tg.Analysis
    gaps: list[Gap]
    coverage: tg.Coverage
    # record → the kinds of the traceability and record-state checks applied to it (a link's
    # under its source; the plan's and policy's under the product): `traceability.incremental`.
    checked: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.gaps

    @property
    def gap_count(self) -> int:
        return len(self.gaps)

    def gaps_of(self, kind: str) -> list[Gap]:
        return [gap for gap in self.gaps if gap.kind == kind]

    def as_json(self) -> list[dict]:
        """The gaps as plain data: kind, label, clause, the record (node and code), message."""
        return [gap_json(gap) for gap in self.gaps]


def gap_json(gap: Gap) -> dict:
    return {
        "kind": gap.kind,
        "label": label(gap.kind),
        "clause": clause(gap.kind),
        "node": {"kind": gap.node[0], "id": gap.node[1]},
        "code": gap.code,
        "message": gap.message,
    }


def product_gaps(product, *, analysis: tg.Analysis | None = None) -> GateResult:
    """Run every check of the gate on `product` (a fixed number of queries whatever its size:
    the graph's, the record checks' and each registered check's own).

    Pass `analysis` when the caller already has the product's graph analysed.
    """
    with tg.gc_paused():  # tens of thousands of Gaps, none in a reference cycle
        return _product_gaps(product, analysis)


def _product_gaps(product, analysis: tg.Analysis | None) -> GateResult:
    an = analysis if analysis is not None else tg.analyse(tg.build_graph(product))
    owners = {owner: list(kinds) for owner, kinds in an.checked.items()}
    checked: dict[str, int] = dict.fromkeys(RECORD_KINDS, 0)
    found: dict[str, list[Gap]] = {kind: [] for kind in RECORD_KINDS}
    for kind, owner, gap in record_checks.run(product, an):
        checked[kind] += 1
        owners.setdefault(owner, []).append(kind)
        if gap is not None:
            found[kind].append(gap)
    gaps, coverage = assemble(an.coverage, an.gaps, checked, found, registered_gaps(product))
    return GateResult(an, gaps, coverage, owners)


def assemble(
    graph_rows: tg.Coverage,
    graph_gaps: list[Gap],
    record_checked: dict[str, int],
    record_gaps: dict[str, list[Gap]],
    registered: list[Gap],
) -> tuple[list[Gap], tg.Coverage]:
    """The gate's gaps and coverage rows, in its order: the traceability analyses', then the
    record-state checks' (`record_checked`: kind → records checked; `record_gaps`: kind → its
    gaps in order), then the registered checks'."""
    rows = list(graph_rows)
    gaps = list(graph_gaps)
    for kind, (text, where, what) in RECORD_KINDS.items():
        mine = record_gaps.get(kind, [])
        rows.append(tg.CoverageRow(kind, text, record_checked.get(kind, 0), len(mine), where, what))
        gaps.extend(mine)

    extra: dict[str, list[Gap]] = {}
    for gap in registered:
        extra.setdefault(gap.kind, []).append(gap)
    kinds = [k for k in KINDS if k not in RECORD_KINDS] + [k for k in extra if k not in KINDS]
    for kind in kinds:
        mine = extra.get(kind, [])
        # A registered check reports its gaps, not what it looked at: the row counts those.
        rows.append(
            tg.CoverageRow(kind, label(kind), len(mine), len(mine), clause(kind), scope(kind))
        )
        gaps.extend(mine)
    return gaps, tg.Coverage(tuple(rows))
