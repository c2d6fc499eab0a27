"""Hazard types per ISO 14971:2019 Annex C (data).

The old families become the three hazard categories of Table C.1: operational, information and
data hazards are performance-related; environmental interference is an energy hazard
(electromagnetic fields). "Use error" is not a hazard type but a cause in the sequence of events
(IEC 62366-1): such rows become performance-related hazards and their sequence of events starts
with "Use error:" unless it already names one. Each changed row gets a history row that says why
(21 CFR 11.10(e)); `post_migrate` adds them to the audit chain.
"""

from django.db import migrations
from django.utils import timezone

MAPPING = {
    "operational": "performance",
    "information": "performance",
    "data": "performance",
    "use_error": "performance",
    "environmental": "energy",
}
REASON = "Hazard type mapped to ISO 14971:2019 Annex C"


def map_types(apps, schema_editor):
    Hazard = apps.get_model("hazards", "Hazard")
    HistoricalHazard = apps.get_model("hazards", "HistoricalHazard")
    now = timezone.now()
    for hazard in Hazard.objects.filter(hazard_type__in=MAPPING).order_by("pk"):
        old = hazard.hazard_type
        hazard.hazard_type = MAPPING[old]
        if old == "use_error" and "use error" not in hazard.sequence_of_events.lower():
            hazard.sequence_of_events = f"Use error: {hazard.sequence_of_events}".strip()
        hazard.version += 1
        hazard.save()
        HistoricalHazard.objects.create(
            **{f.attname: getattr(hazard, f.attname) for f in Hazard._meta.concrete_fields},
            history_date=now,
            history_type="~",
            history_change_reason=f"{REASON} (was {old})"[:100],
        )


class Migration(migrations.Migration):
    dependencies = [("hazards", "0006_gate_benefit_risk_fields")]

    operations = [migrations.RunPython(map_types, migrations.RunPython.noop)]
