"""`manage.py riskcheck`: exit codes (1 with gaps, 0 without, 2 on usage error) and JSON shape."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests import factories as f
from tests.cli import run_command


def run(*args) -> tuple[int, str]:
    result = run_command("riskcheck", *args)
    return result.code, result.out


@pytest.fixture
def complete(product):
    """One hazard whose chain is complete and verified, every record approved, the plan
    and the risk management report signed: no gap."""
    hazard = f.complete_chain(product)
    f.release_ready(product)
    return hazard


def test_complete_product_exits_0(complete, product):
    code, out = run(product.slug)
    assert code == 0
    assert "OK: no gaps" in out


def test_product_with_gaps_exits_1_and_lists_them(complete, product):
    f.HazardFactory(product=product, code="HAZ-777", status="approved")  # no control
    code, out = run(product.slug)
    assert code == 1
    assert "HAZ-777: its initial risk is not acceptable and no risk control reduces it." in out
    assert "FAIL: 1 gap(s)" in out


def test_product_by_id(complete, product):
    assert run(str(product.pk))[0] == 0


def test_unknown_product_is_a_usage_error(db):
    with pytest.raises(CommandError) as exc:
        call_command("riskcheck", "no-such-product")
    assert exc.value.returncode == 2


def test_json_shape(complete, product):
    f.HazardFactory(product=product, code="HAZ-777", status="approved")
    code, out = run(product.slug, "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"product", "ok", "gap_count", "coverage", "gaps"}
    assert data["product"] == {"id": product.pk, "slug": product.slug, "name": str(product)}
    assert data["ok"] is False and data["gap_count"] == 1
    assert [row["kind"] for row in data["coverage"]][0] == "hazard_without_control"
    assert set(data["coverage"][0]) == {"kind", "label", "clause", "checked", "gaps", "percent"}
    (gap,) = data["gaps"]
    assert gap["kind"] == "hazard_without_control" and gap["code"] == "HAZ-777"
    assert gap["node"]["kind"] == "hazard"
    assert set(gap) == {"kind", "label", "clause", "node", "code", "message"}


def test_json_of_complete_product(complete, product):
    code, out = run(product.slug, "--format=json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["gaps"] == [] and data["gap_count"] == 0
