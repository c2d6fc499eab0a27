"""Canonical serialisation: equal content → equal bytes → equal SHA-256, on any database."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from riskbench.canonical import CanonicalError, canonical_json, canonical_sha256, canonical_value


def test_decimals_with_different_scales_are_equal():
    assert canonical_value(Decimal("7.50")) == canonical_value(Decimal("7.5")) == "7.5"
    assert canonical_value(Decimal("10")) == "10"
    assert canonical_value(Decimal("1E+1")) == "10"
    assert canonical_value(Decimal("-0.0")) == "0"


def test_datetimes_are_utc_iso_with_microseconds():
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    local = dt.datetime(2025, 1, 31, 10, 15, tzinfo=paris)
    utc = dt.datetime(2025, 1, 31, 9, 15, tzinfo=dt.UTC)
    assert canonical_value(local) == canonical_value(utc) == "2025-01-31T09:15:00.000000Z"


def test_naive_datetimes_and_non_finite_numbers_are_refused():
    with pytest.raises(CanonicalError):
        canonical_value(dt.datetime(2025, 1, 31))  # noqa: DTZ001
    with pytest.raises(CanonicalError):
        canonical_value(float("nan"))
    with pytest.raises(CanonicalError):
        canonical_value(Decimal("Infinity"))


def test_key_order_and_whitespace_do_not_matter():
    a = {"b": [1, 2.5, None], "a": {"y": True, "x": "é"}}
    b = {"a": {"x": "é", "y": True}, "b": [1, 2.5, None]}
    assert canonical_json(a) == canonical_json(b) == '{"a":{"x":"é","y":true},"b":[1,2.5,null]}'
    assert canonical_sha256(a) == canonical_sha256(b)


def test_model_instances_are_refused(product):
    with pytest.raises(CanonicalError):
        canonical_value(product)


def test_dates_sets_and_bytes():
    assert canonical_value(dt.date(2025, 2, 1)) == "2025-02-01"
    assert canonical_value({3, 1, 2}) == [1, 2, 3]
    assert canonical_value(b"\x00\xff") == "00ff"
