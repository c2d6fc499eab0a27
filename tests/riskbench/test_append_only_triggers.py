"""The append-only tables refuse a raw UPDATE at the database (migration 0002, re-asserted by
0005 after later migrations rebuilt tables on SQLite)."""

import pytest
from django.db import DatabaseError, connection, transaction

from hazards import services
from riskbench.accesslog import record_access
from riskbench.models import AccessAction
from riskbench.signatures import signature_create

pytestmark = pytest.mark.django_db

TABLES = (
    "riskbench_signature",
    "riskbench_auditchainentry",
    "riskbench_auditschema",
    "riskbench_accesslogentry",
)


@pytest.mark.parametrize("table", TABLES)
def test_a_raw_update_of_an_append_only_table_is_refused(table, product, editor):
    hazard = services.hazard_create(product=product, by=editor, title="Bolus", category="safety")
    signature_create(record=hazard, by=editor, meaning="authored")
    record_access(None, AccessAction.LOGIN_FAILED, "x", username="x")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET id = id")  # noqa: S608 - fixed table names
