"""Hazard types per ISO 14971:2019 Annex C, and the data migration that maps the old ones."""

import importlib

import pytest
from django.apps import apps

from hazards.models import Hazard, HazardType
from tests import factories

migration = importlib.import_module("hazards.migrations.0007_hazard_types_annex_c")


def test_hazard_types_are_the_annex_c_categories_and_use_error_is_not_one():
    assert set(HazardType.values) == {"energy", "biological", "performance"}
    assert "Biological and chemical" in HazardType.BIOLOGICAL.label
    assert "Performance-related" in HazardType.PERFORMANCE.label


@pytest.mark.django_db
def test_the_migration_maps_old_types_and_keeps_a_use_error_as_a_cause():
    product = factories.ProductFactory()
    old = {
        "operational": "performance",
        "information": "performance",
        "data": "performance",
        "environmental": "energy",
        "use_error": "performance",
        "energy": "energy",
    }
    rows = {
        kind: factories.HazardFactory(
            product=product, hazard_type=kind, sequence_of_events="Nurse keys 100 mL/h."
        )
        for kind in old
    }
    migration.map_types(apps, None)  # with the current models (a migration has no signals)
    for kind, hazard in rows.items():
        current = Hazard.objects.get(pk=hazard.pk)
        assert current.hazard_type == old[kind], kind
        if kind == "energy":
            assert current.version == hazard.version  # unchanged rows are left alone
            continue
        assert current.version == hazard.version + 1
        reason = f"Hazard type mapped to ISO 14971:2019 Annex C (was {kind})"
        assert current.history.filter(history_change_reason=reason).exists()
    use_error = Hazard.objects.get(pk=rows["use_error"].pk)
    assert use_error.sequence_of_events == "Use error: Nurse keys 100 mL/h."
