"""The write helpers' guard: a record stored at version n is written at n+1 only, so two
history rows can never carry one content version of a record (issue 9 §1), even when a caller
skips `lock_for_edit` or a bulk path works from a stale copy."""

from __future__ import annotations

import pytest

from hazards import services
from hazards.models import Hazard
from riskbench.services import VersionClashError, claim_next_versions, save_record
from tests.door.concurrency import duplicate_content_versions


def _hazard(product, editor):
    return services.hazard_create(
        product=product, by=editor, title="Over-delivery", category="safety", severity=4
    )


def test_save_record_refuses_a_copy_older_than_the_stored_row(product, editor):
    hazard = _hazard(product, editor)
    first, second = Hazard.objects.get(pk=hazard.pk), Hazard.objects.get(pk=hazard.pk)
    first.harm = "First writer"
    save_record(first, by=editor, reason="first")
    second.harm = "Second writer, from the same version"
    with pytest.raises(VersionClashError):
        save_record(second, by=editor, reason="second")
    stored = Hazard.objects.get(pk=hazard.pk)
    assert (stored.harm, stored.version) == ("First writer", 2)
    assert hazard.history.count() == 2
    assert duplicate_content_versions(Hazard, id=hazard.pk) == []


def test_a_bulk_write_from_a_stale_copy_is_refused(product, editor):
    hazard = _hazard(product, editor)
    stale = Hazard.objects.get(pk=hazard.pk)
    services.hazard_update(hazard=hazard, by=editor, reason="r", harm="x", expected_version=1)
    stale.version += 1  # what a bulk path does before writing
    with pytest.raises(VersionClashError):
        claim_next_versions(Hazard, [stale])


def test_a_status_change_keeps_the_version_and_is_not_a_duplicate(product, editor):
    hazard = _hazard(product, editor)
    services.record_set_status(record=hazard, status="in_review", by=editor, expected_version=1)
    assert list(hazard.history.values_list("version", flat=True)) == [1, 1]
    assert duplicate_content_versions(Hazard, id=hazard.pk) == []
