"""Import vs. concurrent edit (issue 9 §1, first case), on PostgreSQL with real threads.

A hazard CSV updates 10 existing hazards and creates 300 more; while it is confirmed, three of
those hazards are PATCHed through the API. Whatever the interleaving, either the PATCH waits and
then gets 409, or the import is refused naming the records it found changed — never a lost
update, never two history rows with one version of a record, and each current row equals its
newest history row."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from hazards import services
from hazards.models import Hazard
from tests.door.concurrency import duplicate_content_versions, needs_postgresql, run_in_threads
from traceability.integrations import hazard_table

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgresql]

UPDATED, CREATED, PATCHED = 10, 300, 3
COMPARED = ("title", "harm", "severity", "version", "status")


def _csv(codes: list[str]) -> bytes:
    lines = ["ID,Title,Harm,Sev"]
    lines += [f"{code},Over-delivery {code},Harm from the import,4" for code in codes]
    lines += [f",Created by the import {i},Burn,3" for i in range(CREATED)]
    return ("\n".join(lines) + "\n").encode()


def _stage(product, editor):
    hazards = [
        services.hazard_create(
            product=product, by=editor, title=f"Hazard {i}", category="safety", severity=2
        )
        for i in range(UPDATED)
    ]
    table = hazard_table.read_table(_csv([h.code for h in hazards]))
    mapping = hazard_table.suggest_mapping(table.headers)
    preview = hazard_table.import_hazards(
        product=product, table=table, mapping=mapping, by=editor, reason="preview", dry_run=True
    )
    assert preview.updated == UPDATED and preview.created == CREATED
    return hazards, table, mapping, preview.planned_versions()


def _patch(editor, product, hazard):
    client = Client()
    client.force_login(editor)
    return client.patch(
        f"/api/products/{product.slug}/hazards/{hazard.code}/",
        {"harm": f"Harm set by the API on {hazard.code}", "version": hazard.version,
         "reason": "Concurrent edit"},
        content_type="application/json",
    )  # fmt: skip


def _check_history(product, patched, responses):
    """No lost update, no duplicate version, current row == newest history row."""
    assert duplicate_content_versions(Hazard, product_id=product.pk) == []
    for hazard in Hazard.objects.filter(product=product):
        newest = hazard.history.order_by("-history_date", "-history_id").first()
        assert {f: getattr(hazard, f) for f in COMPARED} == {
            f: getattr(newest, f) for f in COMPARED
        }, hazard.code
    for hazard, response in zip(patched, responses, strict=True):
        assert response.status_code in (200, 409), response.content
        if response.status_code != 200:
            continue
        acknowledged = response.json()["version"]
        row = hazard.history.filter(version=acknowledged, harm__startswith="Harm set by the API")
        assert row.exists(), f"{hazard.code}: the acknowledged edit is not in the history"
        current = Hazard.objects.get(pk=hazard.pk)
        # Either still current, or superseded by a later recorded version.
        assert current.harm.startswith("Harm set by the API") or current.version > acknowledged


@pytest.mark.parametrize("confirm_after", [0.0, 0.3], ids=["together", "patches_first"])
def test_a_confirm_and_concurrent_patches_never_lose_an_update(product, editor, confirm_after):
    """Started together the confirm usually locks first (the PATCHes wait, then get 409);
    started a little later the PATCHes usually commit first (the confirm is refused). The
    assertions hold for every interleaving."""
    hazards, table, mapping, planned = _stage(product, editor)
    patched = hazards[2:5]

    def confirm():
        time.sleep(confirm_after)
        return hazard_table.import_hazards(
            product=product, table=table, mapping=mapping, by=editor,
            reason="Imported from log.csv", expected_versions=planned,
        )  # fmt: skip

    targets = [confirm] + [lambda h=h: _patch(editor, product, h) for h in patched]
    outcome, *responses = run_in_threads(*targets)

    accepted = [h.code for h, r in zip(patched, responses, strict=True) if r.status_code == 200]
    if isinstance(outcome, hazard_table.ImportConflict):
        # Refused as a whole, naming exactly the records edited meanwhile; nothing written.
        assert sorted(code for code, _, _ in outcome.changed) == sorted(accepted)
        for code, planned_version, now in outcome.changed:
            assert planned_version == planned[code] and now == planned[code] + 1
        assert code_count(product) == UPDATED
    else:
        assert not isinstance(outcome, BaseException), repr(outcome)
        assert outcome.written and accepted == []  # every PATCH waited, then was stale
        assert code_count(product) == UPDATED + CREATED
    _check_history(product, patched, responses)


def test_an_edit_made_after_the_preview_refuses_the_confirm_naming_it(product, editor):
    hazards, table, mapping, planned = _stage(product, editor)
    response = _patch(editor, product, hazards[0])
    assert response.status_code == 200
    with pytest.raises(hazard_table.ImportConflict) as refused:
        hazard_table.import_hazards(
            product=product, table=table, mapping=mapping, by=editor, reason="r",
            expected_versions=planned,
        )  # fmt: skip
    assert refused.value.changed == [(hazards[0].code, 1, 2)]
    assert f"{hazards[0].code} (v1 planned, v2 now)" in str(refused.value)
    assert code_count(product) == UPDATED
    assert Hazard.objects.get(pk=hazards[0].pk).harm.startswith("Harm set by the API")


def test_without_a_preview_the_import_runs_after_the_edit_and_both_are_recorded(product, editor):
    """The command line has no preview: its plan is made under the locks, so a PATCH either
    committed before (the import then writes the next version over it, recorded) or waits and
    is refused as stale."""
    hazards, table, mapping, _ = _stage(product, editor)
    patched = hazards[:PATCHED]

    def confirm():
        return hazard_table.import_hazards(
            product=product, table=table, mapping=mapping, by=editor, reason="r"
        )

    outcome, *responses = run_in_threads(
        confirm, *[lambda h=h: _patch(editor, product, h) for h in patched]
    )
    assert not isinstance(outcome, BaseException), repr(outcome)
    _check_history(product, patched, responses)


def code_count(product) -> int:
    return Hazard.objects.filter(product=product).count()
