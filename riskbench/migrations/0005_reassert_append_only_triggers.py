"""Create the append-only triggers of migration 0002 again, on every append-only table.

On SQLite, Django applies some schema changes (a new NOT NULL column, a unique constraint) by
rebuilding the table, which silently drops its triggers: 0003 (one signature per signer,
meaning and content) did so for `riskbench_signature`. 0004 now reinstalls them, but databases
that applied 0004 while it was still an empty merge did not; dropping and creating every trigger
here (idempotent) fixes those too. A later migration that rebuilds one of these tables must do
the same (tests/riskbench/test_append_only_triggers.py checks it).
"""

from django.db import migrations

TABLES = (
    "riskbench_signature",
    "riskbench_auditchainentry",
    "riskbench_auditschema",
    "riskbench_accesslogentry",
)


def reassert_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}")
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION riskbench_refuse_update()"
            )
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


class Migration(migrations.Migration):
    dependencies = [("riskbench", "0004_merge_chain_signatures_profiles")]

    operations = [migrations.RunPython(reassert_triggers, migrations.RunPython.noop)]
