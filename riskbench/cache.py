"""Product-wide analyses computed once per change and shared by every app server.

Coverage, gaps, verification states and class mismatches read every record of a product: at
5,000 hazards that is seconds of work, too slow to redo on every page view. They are cached in
Django's cache (Redis when `CACHE_URL`/`REDIS_URL` is set, a database table otherwise; see
settings) under a key made of the product and its **change counter**.

The change counter is the head of the product's audit chain (`riskbench.audit`): every
committed change to a record of the product — a service save or delete, a link, a link review,
a status change, a signature, a baseline, and every bulk import (`chain_pending`) — appends to
that chain and updates its head row *in the same transaction* (`verify_audit` proves no history
row is missing from the chain). So the counter moves exactly when the product's regulated data
does, without a second counter that every write would have to remember to bump (and lock). The
`global` chain (policy templates shared by products before each product owned its policy) is
part of the counter too, and so is today's date (checks such as "SOUP past end of support"
depend on it).

The key holds the head's hash, not only its sequence number: a transaction that computed an
analysis of its own uncommitted writes and then rolled back leaves a value under a hash that no
later chain can reach, so it is never served.

Why a stale analysis is never shown: a request reads the counter (one query on committed data)
before it reads the records, so a value cached under that counter was computed from records at
least as new as the counter says. After a commit every reader sees the new counter, hence a new
key, hence a fresh analysis.

Each process also keeps the last value per (analysis, product) in memory, used only when the
key (read from the database on every request) is the same — a faster copy of the shared value,
never a different answer.
"""

from __future__ import annotations

import pickle
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.utils import timezone

from riskbench.audit import GLOBAL_CHAIN, chain_name
from riskbench.models import AuditChainHead

# Part of every key: raise it whenever a cached value's shape changes (a server running the new
# code must never unpickle a value an older one stored). 2: gaps kept pickled per kind; 3: the
# summary keeps what `traceability.incremental` needs.
KEY_VERSION = 3
# A waiting reader gives up on the process computing a value after this long and computes it
# itself (the computing process may have died).
COMPUTE_WAIT_SECONDS = 20
POLL_SECONDS = 0.05

_local: dict[tuple[str, int], tuple[str, Any]] = {}
_local_lock = threading.Lock()


def chain_heads(product_id: int) -> tuple[tuple[int, str], tuple[int, str]]:
    """(seq, hash) of the product's audit chain head and of the global chain's (one query)."""
    chains = {chain_name(product_id): (0, ""), GLOBAL_CHAIN: (0, "")}
    for chain, seq, row_hash in AuditChainHead.objects.filter(chain__in=chains).values_list(
        "chain", "seq", "row_hash"
    ):
        chains[chain] = (seq, row_hash)
    product, shared = chains.values()
    return product, shared


def change_counter(product_id: int) -> str:
    """The product's change counter: `<seq>-<hash>` of its audit chain head and of the global
    chain's (one query). Moves with every committed write to the product's records."""
    return ".".join(f"{seq}-{row_hash[:16]}" for seq, row_hash in chain_heads(product_id))


def analysis_key(name: str, product_id: int) -> str:
    today = timezone.localdate().isoformat()
    return f"analysis:v{KEY_VERSION}:{name}:{product_id}:{change_counter(product_id)}:{today}"


def cached_analysis(
    name: str,
    product_id: int,
    compute: Callable[[], Any],
    *,
    update: Callable[[Any], Any] | None = None,
) -> Any:
    """`compute()`'s value for the product's current state: from this process, from the shared
    cache, or computed now (once across app servers: others wait for it rather than repeat it).

    `update(previous)`, when given, may bring the value of an earlier state up to date faster
    than `compute()` (returning None when it cannot): it gets the last value this process or
    the shared cache holds for the product, whatever its state.
    """
    key = analysis_key(name, product_id)
    slot = (name, product_id)
    local = _local.get(slot)
    if local is not None and local[0] == key:
        return local[1]
    value = _read(key)
    if value is None:
        if update is not None:
            value = _compute_once(key, lambda: _updated(name, product_id, update) or compute())
        else:
            value = _compute_once(key, compute)
        _forget_previous(name, product_id, key)
    with _local_lock:
        _local[slot] = (key, value)
    return value


def _read(key: str) -> Any:
    packed = cache.get(key)
    return None if packed is None else pickle.loads(zlib.decompress(packed))  # noqa: S301 - our own cache


def _compute_once(key: str, compute: Callable[[], Any]) -> Any:
    lock = f"{key}:computing"
    if not cache.add(lock, 1, timeout=COMPUTE_WAIT_SECONDS):
        deadline = time.monotonic() + COMPUTE_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            value = _read(key)
            if value is not None:
                return value
            if cache.get(lock) is None:
                break  # the other computation failed or finished without storing
    try:
        value = compute()
        # Compressed: a 5,000-hazard summary is 1.2 MB pickled, 0.16 MB compressed.
        cache.set(key, zlib.compress(pickle.dumps(value, pickle.HIGHEST_PROTOCOL), 1))
    finally:
        cache.delete(lock)
    return value


def _updated(name: str, product_id: int, update: Callable[[Any], Any]) -> Any:
    """`update(previous)` with this process's last value, else the shared cache's latest."""
    local = _local.get((name, product_id))
    if local is not None:
        previous = local[1]
    else:
        pointer = cache.get(_pointer(name, product_id))
        previous = _read(pointer) if pointer else None
    return None if previous is None else update(previous)


def _pointer(name: str, product_id: int) -> str:
    return f"analysis:v{KEY_VERSION}:latest:{name}:{product_id}"


def _forget_previous(name: str, product_id: int, key: str) -> None:
    """Delete the value this one replaces: under an editor saving every few seconds the cache
    would otherwise fill with analyses nobody can ask for again (their counter is gone)."""
    pointer = _pointer(name, product_id)
    previous = cache.get(pointer)
    cache.set(pointer, key)
    # Always one delete (of nothing on a product's first analysis): the same queries whatever
    # the cache held before, as the query-count tests of the pages expect.
    cache.delete(previous if previous and previous != key else f"{pointer}:none")


def forget_local() -> None:
    """Drop this process's copies (tests that simulate a second app server)."""
    with _local_lock:
        _local.clear()


@receiver(post_migrate, dispatch_uid="riskbench_cache_table")
def _create_cache_table(sender, using="default", **kwargs):
    """`migrate` creates the database cache table when the database cache is configured, so a
    fresh clone (`make run`, `make test`) needs no extra step."""
    if sender.label != "riskbench":
        return
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
