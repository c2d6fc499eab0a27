"""Adding or removing a level of a risk-policy scale, with every grid that depends on it
following (ISO 14971 4.4 d: the acceptability criteria are one consistent set).

Pure functions over the policy's plain values (the `risk.PolicyData` fields as lists): the
editor page calls them when the user asks for one more (or one fewer) level, before anything is
saved, so the grids shown next are already the right size.
"""

from __future__ import annotations

import copy

# Which grid axes each scale sizes: (grid field, "rows" | "cols").
DEPENDENT_GRIDS = {
    "severity_levels": [("safety_matrix", "rows"), ("security_matrix", "rows")],
    "probability_levels": [("safety_matrix", "cols")],
    "p1_levels": [("probability_mapping", "rows")],
    "p2_levels": [("probability_mapping", "cols")],
    "exploitability_levels": [("security_matrix", "cols")],
    "privacy_impact_levels": [("privacy_matrix", "rows")],
    "privacy_likelihood_levels": [("privacy_matrix", "cols")],
}
SCALES = tuple(DEPENDENT_GRIDS)
MAX_LEVELS = 10
MAX_ESC = 3.9  # the highest CVSS v3.1 exploitability sub-score


def _new_level(levels: list[dict], scale: str) -> dict:
    number = len(levels) + 1
    level = {"value": number, "name": f"Level {number}", "description": ""}
    if scale == "exploitability_levels":
        previous = [lvl.get("min_esc") for lvl in levels if isinstance(lvl, dict)]
        last = previous[-1] if previous and isinstance(previous[-1], int | float) else 0.0
        level["min_esc"] = round(min(MAX_ESC, last + 0.5), 1)
    return level


def _resize(grid, axis: str, size: int) -> list[list]:
    """`grid` with `axis` grown (copying its last row / column: the neighbouring region) or
    shrunk to `size`."""
    rows = [
        list(r) if isinstance(r, list) else [] for r in (grid if isinstance(grid, list) else [])
    ]
    if axis == "rows":
        width = max((len(r) for r in rows), default=0)
        while len(rows) < size:
            rows.append(list(rows[-1]) if rows else [""] * width)
        return rows[:size]
    resized = []
    for row in rows:
        row = list(row)
        while len(row) < size:
            row.append(row[-1] if row else "")
        resized.append(row[:size])
    return resized


def _clamp_mapping(mapping, top: int) -> list[list]:
    """P levels in the P1 × P2 mapping must stay inside the (resized) probability scale."""
    return [
        [min(c, top) if isinstance(c, int) and not isinstance(c, bool) else c for c in row]
        for row in (mapping if isinstance(mapping, list) else [])
        if isinstance(row, list)
    ]


def change_levels(values: dict, scale: str, delta: int) -> dict:
    """A copy of the policy `values` with one level added to (`delta` 1) or removed from the
    end of (`delta` -1) the scale `scale`, each dependent grid resized to match."""
    if scale not in DEPENDENT_GRIDS or delta not in (1, -1):
        raise ValueError(f"Cannot change {scale!r} by {delta}.")
    result = copy.deepcopy(values)
    levels = [lvl for lvl in result.get(scale) or [] if isinstance(lvl, dict)]
    if delta == 1 and len(levels) < MAX_LEVELS:
        levels.append(_new_level(levels, scale))
    elif delta == -1 and len(levels) > 1:
        levels.pop()
    for number, level in enumerate(levels, start=1):
        level["value"] = number
    result[scale] = levels
    for grid, axis in DEPENDENT_GRIDS[scale]:
        result[grid] = _resize(result.get(grid), axis, len(levels))
    if scale == "probability_levels":
        result["probability_mapping"] = _clamp_mapping(
            result.get("probability_mapping"), len(levels)
        )
    return result


def parse_action(action: str) -> tuple[str, int] | None:
    """ "add:severity_levels" → ("severity_levels", 1); anything else → None."""
    verb, _, scale = (action or "").partition(":")
    if scale not in DEPENDENT_GRIDS or verb not in ("add", "remove"):
        return None
    return scale, 1 if verb == "add" else -1
