"""SQLite rebuilds a table to add a constraint or column (0003: the unique signature
constraint; 0003/0004: access-log fields), and the rebuild drops its triggers: put the
append-only triggers of 0002 back. PostgreSQL alters tables in place and keeps them."""

import importlib

from django.db import migrations

TABLES = importlib.import_module("riskbench.migrations.0002_append_only_triggers").TABLES


def restore_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


class Migration(migrations.Migration):
    dependencies = [("riskbench", "0005_import_provenance")]

    operations = [migrations.RunPython(restore_triggers, migrations.RunPython.noop)]
