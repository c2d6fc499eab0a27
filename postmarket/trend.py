"""Does a hazard's estimated probability still hold against what the field reports?
(ISO 14971 10.4 b: "the previously estimated risks are no longer acceptable"; ISO/TR 24971
Annex on post-production.) Pure and ORM-free.

**Unit and denominator.** The observed probability is *events per use*: the number of events
linked to the hazard (complaints, adverse-event reports and service reports, each counting its
`event_count`; literature and similar devices inform the review but are not this device's
occurrences) divided by the number of uses of the device in the field over the same period
(`FieldExposure.uses`, e.g. units in use × days × uses per day). The default risk policy states
its probability levels per use (P1 "per use"), so the two compare. Each linked event is counted
as an occurrence of the hazard's harm — the cautious reading when a report does not say whether
harm followed.

The estimate compared is the residual probability (what the released device should show), or
the initial one when no residual estimate exists. A level's numeric range is read from its
description ("10⁻⁵ ≤ P < 10⁻⁴", "P ≥ 10⁻³", "1e-5", "10^-5"); a policy whose levels have no
numeric ranges cannot be judged, and the verdict says so rather than guess.

The trend is the event count per calendar quarter, oldest first, and whether the latest
quarter is above the mean of the earlier ones.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from enum import StrEnum

_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_POWER = re.compile(r"10\s*(?:\^|\*\*)?\s*\(?\s*(-?\d+)\s*\)?|(\d+(?:\.\d+)?)\s*[eE]\s*(-?\d+)")


def _numbers(text: str) -> list[float]:
    text = text.translate(_SUPERSCRIPT)
    values = []
    for match in _POWER.finditer(text):
        if match.group(1) is not None:
            values.append(10.0 ** int(match.group(1)))
        else:
            values.append(float(match.group(2)) * 10.0 ** int(match.group(3)))
    return values


def level_bounds(description: str) -> tuple[float, float] | None:
    """(lower, upper) probability of a level from its description; None when it has none.

    "P < 10⁻⁶" → (0, 1e-6); "10⁻⁶ ≤ P < 10⁻⁵" → (1e-6, 1e-5); "P ≥ 10⁻³" → (1e-3, 1)."""
    values = _numbers(description or "")
    text = (description or "").translate(_SUPERSCRIPT)
    if len(values) >= 2:
        low, high = sorted(values[:2])
        return (low, high)
    if len(values) == 1:
        at_least = "≥" in text or ">" in text
        return (values[0], 1.0) if at_least else (0.0, values[0])
    return None


class Verdict(StrEnum):
    HOLDS = "holds"
    EXCEEDED = "exceeded"
    NO_EXPOSURE = "no exposure recorded"
    NO_ESTIMATE = "not estimated"
    NO_RANGE = "levels without numeric range"


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    events: int
    uses: int | None
    observed: float | None  # events per use
    level: int | None
    level_name: str
    bounds: tuple[float, float] | None
    message: str


def probability_check(
    *, events: int, uses: int | None, level: int | None, levels: list[dict]
) -> Check:
    """Compare the observed events per use with the estimated probability level."""
    by_value = {lvl["value"]: lvl for lvl in levels}
    name = by_value.get(level, {}).get("name", "") if level is not None else ""
    if level is None:
        return Check(
            Verdict.NO_ESTIMATE,
            events,
            uses,
            None,
            None,
            "",
            None,
            "The hazard has no probability estimate to check.",
        )
    bounds = level_bounds(by_value.get(level, {}).get("description", ""))
    if not uses:
        return Check(
            Verdict.NO_EXPOSURE,
            events,
            uses,
            None,
            level,
            name,
            bounds,
            "Record the uses in the field to compare events with the estimate.",
        )
    observed = events / uses
    if bounds is None:
        return Check(
            Verdict.NO_RANGE,
            events,
            uses,
            observed,
            level,
            name,
            None,
            f"{events} events in {uses:,} uses; the policy's level “{name}” has no "
            "numeric range to compare with.",
        )
    low, high = bounds
    if observed >= high and high < 1.0:
        return Check(
            Verdict.EXCEEDED,
            events,
            uses,
            observed,
            level,
            name,
            bounds,
            f"{events} events in {uses:,} uses = {observed:.1e} per use, at or above "
            f"the upper bound {high:.0e} of “{name}”: re-estimate (ISO 14971 10.4).",
        )
    return Check(
        Verdict.HOLDS,
        events,
        uses,
        observed,
        level,
        name,
        bounds,
        f"{events} events in {uses:,} uses = {observed:.1e} per use, within "
        f"“{name}” (< {high:.0e}).",
    )


def quarter(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Trend:
    quarters: tuple[tuple[str, int], ...]  # (quarter, events), oldest first, gaps filled
    rising: bool


def quarterly_trend(events: list[tuple[dt.date, int]]) -> Trend:
    """Events per calendar quarter; rising when the latest quarter is above the mean of the
    earlier ones (and above zero)."""
    if not events:
        return Trend((), False)
    counts: dict[str, int] = {}
    for day, n in events:
        counts[quarter(day)] = counts.get(quarter(day), 0) + n
    first, last = min(d for d, _ in events), max(d for d, _ in events)
    quarters = []
    year, q = first.year, (first.month - 1) // 3
    while (year, q) <= (last.year, (last.month - 1) // 3):
        key = f"{year}-Q{q + 1}"
        quarters.append((key, counts.get(key, 0)))
        q += 1
        if q == 4:
            year, q = year + 1, 0
    earlier = [n for _, n in quarters[:-1]]
    latest = quarters[-1][1]
    rising = bool(earlier) and latest > 0 and latest > math.fsum(earlier) / len(earlier)
    return Trend(tuple(quarters), rising)
