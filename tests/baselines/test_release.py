"""Release baselines: taken only when the release gate passes (no gap, every record approved);
the refusal lists what blocks it — in the service, on the page and in `manage.py baseline`
(exit 1 with the list)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests import factories
from tests.riskbench.test_signatures import PASSWORD
from traceability.baselines import services
from traceability.baselines.models import Baseline, BaselineKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def releasable(product):
    hazard = factories.complete_chain(product)
    factories.release_ready(product)
    return hazard


@pytest.fixture
def blocked(product):
    """A hazard in review: the record is not approved, the release gate fails."""
    hazard = factories.complete_chain(product)
    factories.release_ready(product)
    hazard.status = "in_review"
    hazard.save()
    return hazard


def test_a_working_baseline_can_be_taken_any_time(blocked, product, editor):
    baseline = services.baseline_create(product=product, name="WIP", by=editor, sign=False)
    assert baseline.kind == BaselineKind.WORKING and not baseline.is_release


def test_a_release_baseline_is_refused_with_what_blocks_it(blocked, product, editor):
    with pytest.raises(services.ReleaseRefused) as exc:
        services.baseline_create(
            product=product, name="Release 1", by=editor, kind="release", sign=False
        )
    assert [(g.kind, g.code) for g in exc.value.gaps] == [("record_not_approved", blocked.code)]
    assert "cannot be released: 1 open gap(s)" in exc.value.message_dict["kind"][0]
    assert not Baseline.objects.exists()


def test_a_release_baseline_when_the_gate_passes(releasable, product, editor):
    baseline = services.baseline_create(
        product=product, name="Release 1", by=editor, kind="release", sign=False
    )
    assert baseline.is_release


def test_the_command_exits_1_listing_the_blockers(blocked, product, editor, monkeypatch):
    monkeypatch.setenv("RISKBENCH_USER", "editor")
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("baseline", product.slug, "--name", "Release 1", "--release", stdout=out)
    assert exc.value.returncode == 1
    text = out.getvalue()
    assert "No release baseline of" in text and "1 gap(s) block it" in text
    assert f"{blocked.code}: hazard is in review, not approved. (ISO 14971 4.5" in text
    assert not Baseline.objects.exists()


def test_the_command_takes_a_release_baseline_when_releasable(
    releasable, product, editor, monkeypatch
):
    monkeypatch.setenv("RISKBENCH_USER", "editor")
    out = io.StringIO()
    call_command("baseline", product.slug, "--name", "Release 1", "--release", stdout=out)
    assert out.getvalue().startswith("Release baseline “Release 1”")
    assert Baseline.objects.get().kind == BaselineKind.RELEASE


def test_the_page_lists_the_blockers(blocked, product, editor_client):
    response = editor_client.post(
        reverse("baselines:list", args=[product.slug]),
        {
            "name": "Release 1",
            "kind": "release",
            "note": "",
            "meaning": "approved",
            "username": "editor",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "No release baseline: 1 gap blocks it." in page
    assert f"{blocked.code}: hazard is in review, not approved." in page
    assert not Baseline.objects.exists()
