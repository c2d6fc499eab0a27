"""Helpers of the concurrency tests: run writers in real threads (each with its own database
connection) and check the history afterwards."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks (select_for_update) and truly concurrent writers need PostgreSQL; "
    "SQLite serialises every writer",
)


def run_in_threads(*targets, timeout: float = 120.0) -> list:
    """Start every target at the same moment (a barrier) and return what each returned or
    raised, in order. Each thread closes its own connection when done."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def runner(i, target):
        try:
            barrier.wait()
            results[i] = target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test as a value
            results[i] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=runner, args=(i, t), daemon=True) for i, t in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a writer is still waiting: deadlock?"
    return results


def duplicate_content_versions(model, **filters) -> list[tuple[int, int]]:
    """(record id, version) carried by more than one content-changing history row.

    A workflow-only change (status) keeps the version by design (`save_record`'s
    `content_changed=False`), so rows whose content hash equals their predecessor's are not
    content versions; every other pair of rows must differ in version."""
    rows = (
        model.history.filter(**filters)
        .exclude(history_type="-")
        .order_by("id", "history_date", "history_id")
        .values_list("id", "version", "status")
    )
    seen: Counter = Counter()
    previous = {}
    for record_id, version, status in rows:
        before = previous.get(record_id)
        previous[record_id] = (version, status)
        if before is not None and before[0] == version and before[1] != status:
            continue  # a status change: same content version
        seen[(record_id, version)] += 1
    return sorted(key for key, n in seen.items() if n > 1)
