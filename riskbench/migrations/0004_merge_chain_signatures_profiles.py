"""Merge of three 0003 migrations, and the append-only triggers installed again.

On SQLite, adding the signature's unique constraint (0003_one_signature_…) rebuilds the table,
which drops its trigger; whichever order the three branches ran in, the triggers of 0002 must
exist afterwards (21 CFR 11.10(e): a raw UPDATE of a signature or chain entry is refused).
"""

import importlib

from django.db import migrations

triggers = importlib.import_module("riskbench.migrations.0002_append_only_triggers")


def reinstall_triggers(apps, schema_editor):
    triggers.drop_triggers(apps, schema_editor)
    triggers.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("riskbench", "0003_access_log_chain_recorded_user_names"),
        ("riskbench", "0003_one_signature_per_signer_meaning_content"),
        ("riskbench", "0003_user_profile_competence"),
    ]

    operations = [migrations.RunPython(reinstall_triggers, migrations.RunPython.noop)]
