"""A user rename re-attributes nothing (issue 9 §2, admin; 21 CFR 11.10(e)): history rows and
the audit chain identify the user by id and keep the name recorded at the time of the change;
the trail shows that name, with the current one when it changed."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from hazards import services
from riskbench.history import versions
from riskbench.models import AuditChainEntry
from riskbench.signatures import signature_create

pytestmark = pytest.mark.django_db


def _rename(user, username):
    user.username = username
    user.save(update_fields=["username"])


def test_chain_entries_record_the_users_name_at_the_time(product, editor):
    hazard = services.hazard_create(product=product, by=editor, title="Bolus", category="safety")
    signature_create(record=hazard, by=editor, meaning="authored", reason="Author")
    entries = AuditChainEntry.objects.filter(user=editor)
    assert entries.count() == 2
    assert set(entries.values_list("user_name", flat=True)) == {"editor"}


def test_a_rename_changes_nothing_in_verify_audit_and_the_trail_keeps_the_old_name(
    product, editor, editor_client
):
    hazard = services.hazard_create(product=product, by=editor, title="Bolus", category="safety")
    services.hazard_update(
        hazard=hazard,
        by=editor,
        reason="Clarified",
        title="Bolus overdose",
        expected_version=hazard.version,
    )
    out = io.StringIO()
    call_command("verify_audit", "--format", "json", stdout=out)
    head = json.loads(out.getvalue())["head"]

    _rename(editor, "dana.renamed")

    out = io.StringIO()
    call_command("verify_audit", "--format", "json", "--expect", head, stdout=out)
    report = json.loads(out.getvalue())
    assert report["ok"] and report["head"] == head  # the rename touched no hashed value

    editor_client.force_login(editor)
    page = editor_client.get(reverse("core:audit_trail"), {"product": product.slug})
    users = {who for _e, _action, _type, who in page.context["entries"]}
    assert users - {""} == {"editor (now dana.renamed)"}  # "": the factory-made product
    assert "editor (now dana.renamed)" in page.content.decode()
    # The trail can still be filtered by the name recorded then, or by the current one.
    for name in ("editor", "dana.renamed"):
        found = editor_client.get(reverse("core:audit_trail"), {"user": name})
        assert found.context["page"].paginator.count == 2

    history = editor_client.get(reverse("hazards:hazard_history", args=[product.slug, "HAZ-001"]))
    assert "editor (now dana.renamed)" in history.content.decode()
    assert [v.user for v in versions(hazard)] == ["editor (now dana.renamed)"] * 2

    csv = b"".join(editor_client.get(reverse("core:audit_trail_csv")).streaming_content)
    assert "editor (now dana.renamed)" in csv.decode()


def test_unchanged_names_are_shown_once(product, editor):
    hazard = services.hazard_create(product=product, by=editor, title="Bolus", category="safety")
    assert [v.user for v in versions(hazard)] == ["editor"]
