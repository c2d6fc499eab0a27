"""The dossier's view of electronic signatures and baselines (21 CFR 11.50; ISO 14971 4.5).

INTEGRATION POINT — these read the models of `riskbench` (Signature) and
`traceability.baselines` (Baseline, snapshot, diff). Until those exist, they report "none", and
the dossier prints empty approval lines and "No previous baseline". Each function runs a fixed
number of queries.
"""

from __future__ import annotations

from traceability.dossier import data as d


def record_signatures(product, codes: dict) -> tuple[d.Signature, ...]:
    """Signatures on the product's records (hazards, controls, requirements, policy)."""
    return ()


def baselines(product) -> list[d.BaselineInfo]:
    """The product's baselines, oldest first (the document's revision history)."""
    return []


def changes_since(product, baseline: d.BaselineInfo) -> tuple[d.Change, ...]:
    """What changed between `baseline` and the current data (IEC 62304 7.4)."""
    return ()


def revision(product, baselines: list[d.BaselineInfo]) -> str:
    """Revision of the document: the number of baselines, plus one for unreleased changes."""
    return f"{len(baselines) + 1} (draft)"
