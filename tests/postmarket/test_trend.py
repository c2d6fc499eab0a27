"""The probability check of field information against an estimate (pure: no database)."""

import datetime as dt

import pytest

from hazards.risk import DEFAULT_PROBABILITY_LEVELS
from postmarket import trend


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("P < 10⁻⁶", (0.0, 1e-6)),
        ("10⁻⁶ ≤ P < 10⁻⁵", (1e-6, 1e-5)),
        ("P ≥ 10⁻³", (1e-3, 1.0)),
        ("between 1e-5 and 1e-4 per use", (1e-5, 1e-4)),
        ("10^-4 <= P < 10^-3", (1e-4, 1e-3)),
        ("It seems possible for it to occur.", None),
    ],
)
def test_level_bounds_are_read_from_the_description(text, bounds):
    assert trend.level_bounds(text) == bounds


def check(events, uses, level):
    return trend.probability_check(
        events=events, uses=uses, level=level, levels=DEFAULT_PROBABILITY_LEVELS
    )


def test_events_per_use_within_the_level_hold():
    result = check(3, 4_200_000, 2)  # 7e-7 per use < 1e-5 (Remote)
    assert result.verdict == trend.Verdict.HOLDS and result.observed == pytest.approx(7.14e-7, 0.01)


def test_events_per_use_at_or_above_the_upper_bound_exceed_the_estimate():
    assert check(5, 100_000, 2).verdict == trend.Verdict.EXCEEDED  # 5e-5 ≥ 1e-5
    assert check(1, 100_000, 2).verdict == trend.Verdict.EXCEEDED  # exactly the bound


def test_the_top_level_cannot_be_exceeded():
    assert check(1000, 1000, 5).verdict == trend.Verdict.HOLDS


def test_without_exposure_or_estimate_or_numeric_levels_it_says_so():
    assert check(3, None, 2).verdict == trend.Verdict.NO_EXPOSURE
    assert check(3, 1000, None).verdict == trend.Verdict.NO_ESTIMATE
    levels = [{"value": 1, "name": "Rare", "description": "Hardly ever"}]
    result = trend.probability_check(events=1, uses=10, level=1, levels=levels)
    assert result.verdict == trend.Verdict.NO_RANGE


def test_quarterly_trend_fills_empty_quarters_and_flags_a_rise():
    events = [(dt.date(2026, 1, 5), 1), (dt.date(2026, 8, 1), 2), (dt.date(2026, 8, 20), 2)]
    result = trend.quarterly_trend(events)
    assert result.quarters == (("2026-Q1", 1), ("2026-Q2", 0), ("2026-Q3", 4))
    assert result.rising
    assert not trend.quarterly_trend([(dt.date(2026, 1, 5), 1)]).rising
    assert trend.quarterly_trend([]).quarters == ()
