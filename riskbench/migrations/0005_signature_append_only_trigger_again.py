"""The append-only trigger of the signature table, again where a table rebuild dropped it.

On SQLite, adding a constraint to a table rebuilds it (riskbench 0003, one signature per signer,
meaning and content, did so for `riskbench_signature`), and the rebuild drops the table's
triggers: a raw SQL UPDATE of a signature would then pass (21 CFR 11.10(e), 11.70). Created here if missing; idempotent,
so a database whose trigger survived is left as it is. PostgreSQL keeps triggers across
ALTER TABLE: nothing to do there.
"""

from django.db import migrations

TABLE = "riskbench_signature"


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END"
        )


class Migration(migrations.Migration):
    dependencies = [("riskbench", "0004_merge_chain_signatures_profiles")]

    operations = [migrations.RunPython(create_trigger, migrations.RunPython.noop)]
