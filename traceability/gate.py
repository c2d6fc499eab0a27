"""Release-gate registry: checks that apps above `traceability` add to `riskcheck`.

Minimal version (the full gate — one list of checks shared by riskcheck, the coverage page, the
dashboard and the dossier — is being built separately; this keeps its interface): an app calls
`register(check, kinds={kind: (label, clause, scope)})` from its `AppConfig.ready()`, where
`check(product) -> list[traceability.graph.Gap]`; `registered_gaps(product)` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from traceability.graph import Gap

Check = Callable[[object], list[Gap]]
_CHECKS: list[Check] = []
KINDS: dict[str, tuple[str, str, str]] = {}  # kind → (label, clause, scope) of registered gaps


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


def label(kind: str) -> str:
    return KINDS.get(kind, (kind, "", ""))[0]


def clause(kind: str) -> str:
    return KINDS.get(kind, ("", "", ""))[1]
