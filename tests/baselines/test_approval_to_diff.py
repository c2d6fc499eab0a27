"""The demo story end to end, on factory data: a hazard is approved with an electronic signature,
a baseline is taken, the hazard is edited (back to review, with a reason), and the baseline diff
shows that edit — while the audit chain stays intact (21 CFR 11; ISO 14971 4.5, 9)."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from hazards import services
from riskbench.models import Status
from tests.riskbench.test_signatures import PASSWORD, approvable_hazard
from traceability.baselines.models import Baseline

pytestmark = pytest.mark.django_db


def test_approve_with_signature_edit_back_to_review_and_see_it_in_the_baseline_diff(
    editor_client, editor, product
):
    hazard = approvable_hazard(product, editor)  # estimated, controlled, in review

    # 1. Approve with an electronic signature (user ID + password again).
    response = editor_client.post(
        reverse("core:sign", args=["hazard", hazard.pk]),
        {
            "meaning": "approved",
            "username": "editor",
            "password": PASSWORD,
            "reason": "Residual risk acceptable per plan",
            "expected_version": hazard.version,
        },
    )
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.status == Status.APPROVED

    # The hazard page shows the signature and that it matches the current content.
    detail = editor_client.get(reverse("hazards:hazard_detail", args=[product.slug, hazard.code]))
    html = detail.content.decode()
    assert "Electronic signatures" in html and "Valid" in html

    # 2. Freeze the approved state in a signed baseline.
    editor_client.post(
        reverse("baselines:list", args=[product.slug]),
        {
            "name": "Release 2.1 submission",
            "meaning": "approved",
            "username": "editor",
            "password": PASSWORD,
        },
    )
    baseline = Baseline.objects.get()
    assert '"status":"approved"' in baseline.snapshot_json

    # 3. Edit the approved hazard: a reason is required; it goes back to review, new revision.
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="Field complaint FC-118",
        harm="Severe hypoglycaemia, coma",
        expected_version=hazard.version,
    )
    hazard.refresh_from_db()
    assert (hazard.status, hazard.revision) == (Status.IN_REVIEW, 2)
    detail = editor_client.get(reverse("hazards:hazard_detail", args=[product.slug, hazard.code]))
    assert "Superseded" in detail.content.decode()

    # 4. The diff against the baseline shows exactly that edit.
    diff = editor_client.get(
        reverse("baselines:diff", args=[product.slug]), {"a": baseline.pk, "b": "now"}
    )
    assert diff.context["counts"] == {"added": 0, "removed": 0, "changed": 1}
    ((label, items),) = diff.context["sections"]
    assert label == "Hazards" and items[0].key == hazard.code
    changed = {f.label: (f.before, f.after) for f in items[0].fields}
    assert changed == {
        "harm": ("—", "Severe hypoglycaemia, coma"),
        "revision": ("1", "2"),
        "status": ("Approved", "In review"),  # labels, not stored values
    }

    # 5. The whole story is in the tamper-evident audit trail.
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit trail intact" in out.getvalue()
    trail = editor_client.get(reverse("core:audit_trail"), {"q": "FC-118"})
    assert trail.context["page"].paginator.count == 1
