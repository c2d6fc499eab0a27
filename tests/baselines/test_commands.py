"""`manage.py baseline` and `manage.py baseline_diff`."""

import io

import pytest
from django.core.management import CommandError, call_command

from hazards import services as hazard_services
from riskbench.models import Signature
from tests import factories
from tests.riskbench.test_signatures import PASSWORD
from traceability.baselines.models import Baseline

pytestmark = pytest.mark.django_db


def run(*args, stdin=None, monkeypatch=None):
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


@pytest.fixture(autouse=True)
def acting_user(editor, monkeypatch):
    monkeypatch.setenv("RISKBENCH_USER", "editor")


def test_baseline_prints_its_sha256_on_the_last_line(product, editor):
    factories.HazardFactory(product=product, code="HAZ-001")
    lines = run("baseline", product.slug, "--name", "Release 2.1 submission")
    baseline = Baseline.objects.get()
    assert lines[-1] == baseline.content_sha256
    assert "UNSIGNED" in lines[0] and "1 hazards" in lines[0] and "taken by editor" in lines[0]
    assert baseline.created_by == editor
    assert not Signature.objects.exists()


def test_baseline_signs_as_the_user_with_the_password_on_stdin(product, editor, monkeypatch):
    lines = run(
        "baseline", str(product.pk), "--name", "R1", "--user", "editor", "--sign",
        "--password-stdin", stdin=PASSWORD + "\n", monkeypatch=monkeypatch,
    )  # fmt: skip
    assert "signed by editor" in lines[0]
    assert Signature.objects.get().signer == editor


def test_baseline_refuses_a_wrong_password_and_unknown_products(product, editor, monkeypatch):
    with pytest.raises(CommandError, match="Wrong user ID or password") as exc:
        run(
            "baseline", product.slug, "--name", "R1", "--sign", "--password-stdin",
            stdin="wrong\n", monkeypatch=monkeypatch,
        )  # fmt: skip
    assert exc.value.returncode == 2
    with pytest.raises(CommandError, match="No product with id or slug 'nope'"):
        run("baseline", "nope", "--name", "R1")
    assert not Baseline.objects.exists()


def test_baseline_diff_prints_each_change(product, editor):
    hazard = hazard_services.hazard_create(
        product=product, by=editor, title="Over-delivery", category="safety", severity=3
    )
    run("baseline", product.slug, "--name", "R1")
    hazard_services.hazard_update(
        hazard=hazard, by=editor, reason="", title="Bolus overdose", expected_version=hazard.version
    )
    factories.RiskControlFactory(product=product, code="RC-001")
    run("baseline", product.slug, "--name", "R2")
    first, second = Baseline.objects.order_by("created_at")
    lines = run("baseline_diff", str(first.pk), str(second.pk))
    assert lines[0].startswith("--- R1") and lines[1].startswith("+++ R2")
    assert 'changed  hazards HAZ-001 title: "Over-delivery" → "Bolus overdose"' in lines
    assert "added    controls RC-001" in lines
    assert lines[-1] == "2 difference(s): 1 added, 0 removed, 1 changed record(s)."
    by_name = run("baseline_diff", f"{product.slug}:R2", f"{product.slug}:now")
    assert by_name[-1].startswith("0 difference(s)")


def test_baseline_diff_refuses_unknown_references(product):
    for ref in ("999", "nope:now", f"{product.slug}:missing", "garbage"):
        with pytest.raises(CommandError):
            run("baseline_diff", ref, f"{product.slug}:now")
