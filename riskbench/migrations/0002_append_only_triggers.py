"""Database triggers that abort any UPDATE of an append-only table (21 CFR 11.10(e), 11.70).

The application already refuses to change these rows (`AppendOnlyModel`); the trigger makes a
raw SQL UPDATE fail too. DELETE is not blocked by a trigger (test databases and `flush` empty
tables with DELETE on SQLite); a removed signature or chain entry is instead detected by
`manage.py verify_audit` because both are hash-chained.
"""

from django.db import migrations

TABLES = (
    "riskbench_signature",
    "riskbench_auditchainentry",
    "riskbench_auditschema",
    "riskbench_accesslogentry",
)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION riskbench_refuse_update() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only'; END; "
            "$$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION riskbench_refuse_update()"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in {"postgresql", "sqlite"}:
        return
    for table in TABLES:
        suffix = f" ON {table}" if vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update{suffix}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS riskbench_refuse_update()")


class Migration(migrations.Migration):
    dependencies = [("riskbench", "0001_signatures_audit_chain_access_log")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
