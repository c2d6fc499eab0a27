"""Tamper-evident audit chain over every history row, signature and baseline (21 CFR 11.10(e)).

django-simple-history already keeps a complete, never-overwritten history row for every create /
change / delete of a regulated record (who, when, why, every field). What it cannot show is that
nobody edited or removed such a row afterwards directly in the database. This module adds that:

* **One chain per product** (`product:<id>`): each new history row of a record that belongs to
  the product (hazard, control, link, software item, requirement, test, run, membership, the
  product itself, its risk policy), each signature and each baseline gets the next `seq` and a
  `row_hash` = SHA-256 over the previous entry's hash and the canonical content of the row. Rows
  that belong to no product — risk policy templates, and the policies products shared before
  each product owned its own — form the `global` chain, so no product's verification depends
  on another product's records.
* **Concurrency**: an append locks the chain's `AuditChainHead` row (`select_for_update`, a real
  row lock on PostgreSQL; SQLite serialises writers anyway, and the history row was inserted in
  the same transaction before the append) so two writers can never extend the same predecessor;
  the unique (chain, seq) constraint is the last line of defence.
* **Schema evolution**: the names of the hashed fields are stored once per model and schema
  (`AuditSchema`); adding a field to a model later leaves older rows verifiable.
* **Verification**: `verify_chains()` (used by `manage.py verify_audit`) recomputes every hash,
  checks the sequence, the links between entries, the chain heads, that every referenced row
  still exists, and that every history row, signature and baseline is in a chain. It names the
  first broken entry of each chain.

* **Users** are identified by id; each entry also records the user's name at the time
  (`user_name`, hashed), so a later rename re-attributes nothing.

The hash is keyless: someone with write access to the database who also recomputes every later
hash of the chain can rewrite history. Recording the chain heads outside the database closes
that gap: `riskbench.audit_anchor` (the audit head printed by `verify_audit`, stored with every
baseline and dossier export). The chains prove the history; `riskbench.audit_state` proves that
the current rows equal it.

Bulk writes (`bulk_create_with_history`) send no signal: call `chain_pending()` right after
them. `post_migrate` calls it too, for rows written by data migrations.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.models import Q
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.utils import timezone
from simple_history.signals import post_create_historical_record
from simple_history.utils import get_history_model_for_model

from riskbench.canonical import canonical_sha256, canonical_value, sha256_hex
from riskbench.models import (
    ACCESS_LOG_CHAIN,
    AuditChainEntry,
    AuditChainHead,
    AuditSchema,
    AuditSource,
)

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
GLOBAL_CHAIN = "global"
# Fields whose change alone is not worth listing in the trail's "changes" column (they change
# on every save); they are still part of the hashed content.
UNLISTED_CHANGES = {"version", "updated_at", "created_at"}
MAX_CHANGE_CHARS = 300


def chain_name(product_id: int | None) -> str:
    return f"product:{product_id}" if product_id else GLOBAL_CHAIN


# --- Which rows are chained -------------------------------------------------------------------


def history_models() -> list[tuple[type, type]]:
    """(regulated model, its history model) for every model that has simple-history."""
    pairs = []
    for model in apps.get_models():
        if "simple_history_manager_attribute" in vars(model._meta):
            pairs.append((model, get_history_model_for_model(model)))
    return sorted(pairs, key=lambda pair: pair[0]._meta.label_lower)


def tracked_model(model_label: str):
    return apps.get_model(model_label)


def source_table(source: str, model_label: str):
    """The model whose rows an entry of `source` references."""
    if source == AuditSource.HISTORY:
        return get_history_model_for_model(apps.get_model(model_label))
    return apps.get_model(model_label)


# Model metadata never changes while a process runs, so what is derived from it is computed
# once per model (`functools.cache` on the model class), not once per saved row.


@functools.cache
def _hashed_fields(row_model) -> tuple[str, ...]:
    return tuple(f.attname for f in row_model._meta.concrete_fields)


def hashed_field_names(row_model) -> list[str]:
    return list(_hashed_fields(row_model))


@functools.cache
def _schema_digest(model_label: str, names: tuple[str, ...]) -> str:
    return canonical_sha256({"model": model_label, "fields": list(names)})


def _product_model():
    return apps.get_model("hazards", "Product")


@functools.cache
def _product_field(model):
    product_model = _product_model()
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is product_model:
            return f
    return None


def _has_history(model) -> bool:
    return "simple_history_manager_attribute" in vars(model._meta)


def _products_of(model, pks: set, using: str) -> dict:
    """pk → product id of records of `model`; deleted ones are found in their history."""
    product_field = _product_field(model)
    found = {}
    for chunk in _chunks(sorted(pks)):
        found.update(
            model._base_manager.using(using)
            .filter(pk__in=chunk)
            .values_list("pk", product_field.attname)
        )
    missing = pks - found.keys()
    if missing and _has_history(model):
        history = get_history_model_for_model(model)
        pk_name = model._meta.pk.attname
        for chunk in _chunks(sorted(missing)):
            rows = (
                history._base_manager.using(using)
                .filter(**{f"{pk_name}__in": chunk})
                .order_by("history_id")
                .values_list(pk_name, product_field.attname)
            )
            found.update(dict(rows))  # the latest row of each record wins
    return found


@functools.cache
def _product_paths(model) -> tuple:
    """Foreign keys through which a record of `model` reaches its product, source end first."""
    source_field = getattr(model, "SOURCE_FIELD", None)
    fks = [
        f
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is not model and _product_field(f.related_model)
    ]
    fks.sort(key=lambda f: f.name != source_field)
    return tuple(fks)


def _cached_product_id(instance, f):
    """The product id of the record at the end of `f`, when `instance` already holds that
    record in memory (a link saved by its service holds both ends): no query."""
    if instance is None or not f.is_cached(instance):
        return None
    related = f.get_cached_value(instance)
    if related is None or related.pk != getattr(instance, f.attname):
        return None
    return getattr(related, _product_field(f.related_model).attname, None)


def resolve_product_ids(
    model, rows, using: str = DEFAULT_DB_ALIAS, instances=None
) -> list[int | None]:
    """Product whose chain each row of `model` (or history row) belongs to, in bulk.

    The product itself; else a direct product foreign key; else the product of the record at
    the end of a foreign key (a link's source end first, a test run's test case). None: the
    record belongs to no product (a risk policy template) and goes to the global chain. One
    query per related model at most, none when `instances` (the saved records, in the order of
    `rows`) already hold the related records.
    """
    product_model = _product_model()
    if model is product_model:
        return [getattr(row, model._meta.pk.attname) for row in rows]
    direct = _product_field(model)
    if direct is not None:
        return [getattr(row, direct.attname) for row in rows]
    result: list[int | None] = [None] * len(rows)
    for f in _product_paths(model):
        pending = []
        for i, row in enumerate(rows):
            if result[i] is None and getattr(row, f.attname):
                cached = _cached_product_id(instances[i], f) if instances else None
                if cached is None:
                    pending.append(i)
                else:
                    result[i] = cached
        if not pending:
            continue
        lookup = _products_of(
            f.related_model, {getattr(rows[i], f.attname) for i in pending}, using
        )
        for i in pending:
            result[i] = lookup.get(getattr(rows[i], f.attname))
    return result


def _code_maps(model, rows, using: str) -> dict[str, dict]:
    """For foreign keys to coded records (HAZ-…, RC-…, TC-…): field name → {pk: code}."""
    maps = {}
    for f in model._meta.concrete_fields:
        if f.is_relation and _has_code(f.related_model):
            pks = {getattr(row, f.attname) for row in rows} - {None}
            if pks:
                maps[f.name] = {}
                for chunk in _chunks(sorted(pks)):
                    maps[f.name].update(
                        f.related_model._base_manager.using(using)
                        .filter(pk__in=chunk)
                        .values_list("pk", "code")
                    )
    return maps


@functools.cache
def _has_code(model) -> bool:
    return any(f.name == "code" for f in model._meta.concrete_fields)


def _cheap_repr(model, row, code_maps) -> str | None:
    """A label for a history row without touching related rows (bulk paths)."""
    if _has_code(model):
        title = getattr(row, "title", None) or getattr(row, "name", None) or ""
        return f"{row.code} {title}".strip()
    source, target = getattr(model, "SOURCE_FIELD", None), getattr(model, "TARGET_FIELD", None)
    if source in code_maps and target in code_maps:
        src = code_maps[source].get(getattr(row, f"{source}_id"), "?")
        tgt = code_maps[target].get(getattr(row, f"{target}_id"), "?")
        return f"{model._meta.verbose_name}: {src} → {tgt}"
    for name, codes in code_maps.items():
        pk = getattr(row, f"{name}_id")
        if pk in codes:
            return f"{model._meta.verbose_name} of {codes[pk]}"
    return None


# --- Appending ----------------------------------------------------------------------------------


@dataclass
class _Item:
    """One row to chain, with the columns its entry will copy."""

    source: str
    model_label: str
    row: object
    product_id: int | None
    object_id: object
    object_repr: str
    action: str
    at: object
    user_id: int | None
    reason: str
    changes: list
    backfilled: bool
    content: dict | None = None  # canonical content of `row`, when already known
    user_name: str = ""  # the user's name now, kept with the entry (a rename changes nothing)


_PLAIN = frozenset({str, int, bool, type(None)})


def canonical_content(row, names) -> dict:
    """{name: canonical value} of the named fields of `row` — what its chain entry hashes.

    Same result as `canonical_value` on every value (which returns plain str / int / bool /
    None unchanged), without a call for those: most columns are plain, and bulk paths hash
    tens of thousands of rows."""
    content = {}
    for name in names:
        value = getattr(row, name)
        content[name] = value if type(value) in _PLAIN else canonical_value(value)
    return content


def entry_material(entry: AuditChainEntry, content: dict, schema_digest: str) -> dict:
    """Everything the row hash covers: the entry's own columns and the referenced row's
    canonical content (already canonical: `content` values come from `canonical_value`)."""
    own = {
        "chain": entry.chain,
        "seq": entry.seq,
        "prev": entry.prev_hash,
        "product": entry.product_id,
        "source": entry.source,
        "model": entry.model_label,
        "row": entry.row_id,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "action": entry.action,
        "at": entry.at,
        "user": entry.user_id,
        "reason": entry.reason,
        "changes": entry.changes,
        "chained_at": entry.chained_at,
        "backfilled": entry.backfilled,
        "schema": schema_digest,
    }
    # The name as recorded joins the hash when there is one (entries written before names
    # were recorded hash without it and still verify); the live username never does.
    if entry.user_name:
        own["user_name"] = entry.user_name
    # canonical_value of the dict, value by value (plain values are already canonical).
    for key, value in own.items():
        if type(value) not in _PLAIN:
            own[key] = canonical_value(value)
    own["content"] = content
    return own


def row_hash(entry: AuditChainEntry, content: dict, schema_digest: str) -> str:
    """SHA-256 of the canonical JSON of `entry_material` (content is not canonicalised twice)."""
    material = entry_material(entry, content, schema_digest)
    return sha256_hex(
        json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    )


# (database alias, model label, field names) → (AuditSchema id, digest). A schema row is
# append-only and, once committed, never goes away, so its id can be remembered for the life of
# the process. Only committed rows are remembered: a row this process inserted is remembered
# when its transaction commits (`on_commit`), and while that is pending a row found by
# `get_or_create` may be that same uncommitted insert, so it is not remembered either — a
# rolled-back insert must never leave a dangling id behind. `post_migrate` (migrate, flush)
# clears the cache and creates the rows of every chained model up front.
_SCHEMAS: dict[tuple, tuple[int, str]] = {}
_SCHEMAS_UNCOMMITTED: set[tuple] = set()


def _schema(model_label: str, names: tuple[str, ...], using: str) -> tuple[int, str]:
    key = (using, model_label, names)
    known = _SCHEMAS.get(key)
    if known is not None:
        return known
    digest = _schema_digest(model_label, names)
    schema, created = AuditSchema.objects.using(using).get_or_create(
        digest=digest, defaults={"model_label": model_label, "field_names": list(names)}
    )
    value = (schema.pk, digest)
    if created:
        _SCHEMAS_UNCOMMITTED.add(key)

        def remember():
            _SCHEMAS_UNCOMMITTED.discard(key)
            _SCHEMAS[key] = value

        transaction.on_commit(remember, using=using)
    elif key not in _SCHEMAS_UNCOMMITTED:
        _SCHEMAS[key] = value
    return value


def clear_schema_cache() -> None:
    _SCHEMAS.clear()
    _SCHEMAS_UNCOMMITTED.clear()


@dataclass(slots=True)
class _Entry:
    """The columns of one AuditChainEntry about to be inserted (same attribute names), without
    the cost of a model instance: bulk paths append tens of thousands at once."""

    chain: str
    seq: int
    product_id: int | None
    source: str
    model_label: str
    row_id: int
    object_id: str
    object_repr: str
    action: str
    at: object
    user_id: int | None
    user_name: str
    reason: str
    changes: list
    schema_id: int
    prev_hash: str
    chained_at: object
    backfilled: bool
    row_hash: str = ""


# Column types whose values (str, int, bool, None, as `_append` builds them) go to the database
# unchanged: only the others (datetimes, JSON) need `get_db_prep_save`.
_PASSTHROUGH = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveBigIntegerField,
    models.BooleanField,
    models.ForeignKey,
)


def _sqlite_datetime(value, connection):
    """What `DateTimeField.get_db_prep_save` gives an aware datetime on SQLite with USE_TZ —
    the naive text of the instant in the connection's time zone (`make_naive`, then `str`) —
    without the five calls and settings look-ups Django's path makes per value; None for any
    other case (the field's own path then runs)."""
    if (
        type(value) is dt.datetime
        and value.utcoffset() is not None
        and connection.vendor == "sqlite"
        and settings.USE_TZ
    ):
        return str(value.astimezone(connection.timezone).replace(tzinfo=None))
    return None


# Parameters of plain DateTimeField values by (database alias, type, value), shared by every
# such column: a bulk write's history dates are prepared for the history rows, then found here
# for their chain entries (`at`).
_DATETIME_PARAMS: dict = {}


def memo_prep(f, size: int = 4096):
    """`f.get_db_prep_save(value, connection)` for a date or datetime field, remembering its
    last results: a bulk write stores the same few datetimes (its `now`) in many rows, and
    adapting a datetime for the database costs more than the rest of the row. Parameters
    depend on the value and the database alias only: equal values (equal instants) give equal
    parameters, and a datetime never equals a date."""
    prep = f.get_db_prep_save
    shared = type(f) is models.DateTimeField
    fast = _sqlite_datetime if isinstance(f, models.DateTimeField) else None
    memo: dict = _DATETIME_PARAMS if shared else {}

    def prepare(value, connection):
        key = (connection.alias, type(value), value)
        try:
            return memo[key]
        except KeyError:
            result = fast(value, connection) if fast is not None else None
            if result is None:
                result = prep(value, connection)
            if len(memo) >= size:
                memo.clear()
            memo[key] = result
            return result

    return prepare


class _ChainSQL:
    """The three statements every append runs, prepared once per database connection.

    Appending happens on every save of every regulated record, and the ORM's per-call work
    (building and compiling a query, model save machinery) cost more than the statements
    themselves. Table and column names come from the models' metadata, values are adapted by
    the model fields (`get_db_prep_save`), so this stays portable between SQLite and
    PostgreSQL; what it skips is only the query compilation. `AuditChainEntry` rows are only
    ever inserted (the model and a database trigger refuse updates), and no signal listens to
    them.
    """

    def __init__(self, connection):
        qn = connection.ops.quote_name
        head = AuditChainHead._meta
        table = qn(head.db_table)
        pk, chain, seq, hash_ = (
            qn(head.get_field(n).column) for n in ("id", "chain", "seq", "row_hash")
        )
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        # Identifiers come from model metadata, quoted; every value is a query parameter.
        self.lock_head = f"SELECT {pk}, {seq}, {hash_} FROM {table} WHERE {chain} = %s{lock}"  # noqa: S608
        self.update_head = f"UPDATE {table} SET {seq} = %s, {hash_} = %s WHERE {pk} = %s"  # noqa: S608
        entry = AuditChainEntry._meta
        self.entry_fields = [f for f in entry.concrete_fields if not f.primary_key]
        self.entry_preps = [
            None
            if type(f) in _PASSTHROUGH
            else memo_prep(f)
            if isinstance(f, models.DateField)
            else f.get_db_prep_save
            for f in self.entry_fields
        ]
        self.entry_attnames = [f.attname for f in self.entry_fields]
        columns = ", ".join(qn(f.column) for f in self.entry_fields)
        values = ", ".join(["%s"] * len(self.entry_fields))
        self.insert_entry = f"INSERT INTO {qn(entry.db_table)} ({columns}) VALUES ({values})"  # noqa: S608


@functools.cache
def _chain_sql(using: str) -> _ChainSQL:
    return _ChainSQL(connections[using])


@dataclass
class _Head:
    pk: int
    chain: str
    seq: int
    row_hash: str


def _locked_head(chain: str, using: str) -> _Head:
    """The chain's head row, locked until the transaction ends (`SELECT … FOR UPDATE`: a row
    lock on PostgreSQL; SQLite holds the database write lock already, since the row being
    chained was inserted earlier in the same transaction). Created on a chain's first append."""
    with connections[using].cursor() as cursor:
        cursor.execute(_chain_sql(using).lock_head, [chain])
        found = cursor.fetchone()
    if found is None:
        head, _ = AuditChainHead.objects.using(using).select_for_update().get_or_create(chain=chain)
        found = (head.pk, head.seq, head.row_hash)
    pk, seq, hash_ = found
    return _Head(pk, chain, seq, hash_)


def _append(items: list[_Item], using: str) -> list[_Entry]:
    """Append `items`, in order, to their chains in one transaction.

    Each involved chain head is locked first (in name order, so two batches cannot deadlock),
    then entries are hashed one after the other and inserted together. Returns the values of
    the inserted entries.
    """
    if not items:
        return []
    now = timezone.now()
    entries = []
    connection = connections[using]
    sql = _chain_sql(using)
    # Inside the writer's transaction no savepoint is needed: a failure here must abort the
    # whole write anyway (a regulated change without its chain entry is not allowed).
    with transaction.atomic(using=using, savepoint=not connection.in_atomic_block):
        schemas: dict[tuple, tuple[int, str]] = {}
        heads = {}
        for chain in sorted({chain_name(item.product_id) for item in items}):
            heads[chain] = _locked_head(chain, using)
        for item in items:
            names = _hashed_fields(type(item.row))
            key = (item.model_label, names)
            if key not in schemas:
                schemas[key] = _schema(item.model_label, names, using)
            schema_id, digest = schemas[key]
            head = heads[chain_name(item.product_id)]
            entry = _Entry(
                chain=head.chain,
                seq=head.seq + 1,
                product_id=item.product_id,
                source=item.source,
                model_label=item.model_label,
                row_id=item.row.pk,
                object_id=str(item.object_id),
                object_repr=str(item.object_repr)[:255],
                action=item.action,
                at=item.at,
                user_id=item.user_id,
                user_name=(item.user_name or "")[:150],
                reason=(item.reason or "")[:255],
                changes=canonical_value(item.changes),
                schema_id=schema_id,
                prev_hash=head.row_hash or GENESIS_HASH,
                chained_at=now,
                backfilled=item.backfilled,
            )
            content = item.content or canonical_content(item.row, names)
            entry.row_hash = row_hash(entry, content, digest)
            head.seq, head.row_hash = entry.seq, entry.row_hash
            entries.append(entry)
        columns = list(zip(sql.entry_attnames, sql.entry_preps, strict=True))
        rows = [
            [
                getattr(entry, name) if prep is None else prep(getattr(entry, name), connection)
                for name, prep in columns
            ]
            for entry in entries
        ]
        with connection.cursor() as cursor:
            if len(rows) == 1:
                cursor.execute(sql.insert_entry, rows[0])
            else:
                cursor.executemany(sql.insert_entry, rows)
            for head in heads.values():
                cursor.execute(sql.update_head, [head.seq, head.row_hash, head.pk])
    return entries


def _display(row, name: str) -> str:
    value = getattr(row, name, None)
    if value is None or value == "" or value == []:
        return "—"
    try:
        f = type(row)._meta.get_field(name)
    except Exception:  # noqa: BLE001 - an attname such as owner_id: show the raw id
        f = None
    if f is not None and f.choices:
        value = dict(f.flatchoices).get(value, value)
    text = str(value)
    return text if len(text) <= MAX_CHANGE_CHARS else text[: MAX_CHANGE_CHARS - 1] + "…"


def _changes(model, previous, row) -> list[list[str]]:
    """[field label, before, after] for every listed field that differs."""
    if previous is None or row.history_type != "~":
        return []
    changes = []
    for f in model._meta.concrete_fields:
        if f.name in UNLISTED_CHANGES or f.primary_key:
            continue
        if getattr(previous, f.attname, None) != getattr(row, f.attname, None):
            label = str(f.verbose_name)
            changes.append([label, _display(previous, f.attname), _display(row, f.attname)])
    return changes


def _history_item(
    model, row, *, product_id, label, previous, backfilled, content=None, user_name=""
):
    pk_name = model._meta.pk.attname
    return _Item(
        source=AuditSource.HISTORY,
        model_label=model._meta.label_lower,
        row=row,
        product_id=product_id,
        object_id=getattr(row, pk_name),
        object_repr=label or f"{model._meta.verbose_name} {getattr(row, pk_name)}",
        action=row.history_type,
        at=row.history_date,
        user_id=row.history_user_id,
        user_name=user_name,
        reason=row.history_change_reason or "",
        changes=_changes(model, previous, row),
        backfilled=backfilled,
        content=content,
    )


def _previous_rows(rows, history, pk_name) -> dict:
    """history_id → the history row before it (same record), for the changed ("~") rows.

    Two light queries per 900 records: the ids of their earlier rows, then only the rows that
    directly precede a row being chained (not every earlier row of the records)."""
    changed = [row for row in rows if row.history_type == "~"]
    if not changed:
        return {}
    by_pk = {row.pk: row for row in rows}
    ids_of = defaultdict(list)
    object_ids = {getattr(row, pk_name) for row in changed}
    newest = max(row.pk for row in changed)
    for chunk in _chunks(sorted(object_ids)):
        ids = history.filter(**{f"{pk_name}__in": chunk}, history_id__lt=newest).values_list(
            pk_name, "history_id"
        )
        for object_id, history_id in ids:
            ids_of[object_id].append(history_id)
    wanted = {}
    for row in changed:
        before = [h for h in ids_of.get(getattr(row, pk_name), ()) if h < row.pk]
        wanted[row.pk] = max(before) if before else None
    missing = {h for h in wanted.values() if h is not None and h not in by_pk}
    for chunk in _chunks(sorted(missing)):
        by_pk.update(history.in_bulk(chunk))
    return {pk: by_pk[h] if h is not None else None for pk, h in wanted.items()}


IN_CHUNK = 900  # below SQLite's oldest limit on query parameters


def _chunks(values: list, size: int = IN_CHUNK):
    for i in range(0, len(values), size):
        yield values[i : i + size]


def chain_history_rows(
    model, rows, *, instances=None, backfilled=False, using=DEFAULT_DB_ALIAS, from_memory=False
):
    """Chain history rows of `model` (read back from the database, so the hash covers stored
    values), oldest first. A fixed number of queries per 900 rows.

    `from_memory`: the rows are the just-inserted history objects of a bulk write
    (`riskbench.bulk`); each is hashed from its attributes when every value reads back
    unchanged (`_memory_content`, as for a single save), else read back first."""
    if not rows:
        return []
    history = type(rows[0])._base_manager.using(using)
    contents = [None] * len(rows)
    if from_memory:
        rows = list(rows)
        contents = [_memory_content(row) for row in rows]
        unsure = [i for i, content in enumerate(contents) if content is None]
        stored = {}
        for chunk in _chunks([rows[i].pk for i in unsure]):
            stored.update(history.in_bulk(chunk))
        for i in unsure:
            rows[i] = stored[rows[i].pk]
    previous = _previous_rows(rows, history, model._meta.pk.attname)
    products = resolve_product_ids(model, rows, using, instances=instances)
    code_maps = _code_maps(model, rows, using) if instances is None else {}
    names = user_names({row.history_user_id for row in rows}, using)
    items = []
    for i, row in enumerate(rows):
        if instances is not None:
            label = str(instances[i])
        else:
            label = _cheap_repr(model, row, code_maps)
            if label is None:
                try:
                    label = str(row.instance)
                except Exception:  # noqa: BLE001 - __str__ of a half-deleted record
                    label = ""
        items.append(
            _history_item(
                model,
                row,
                product_id=products[i],
                label=label,
                previous=previous.get(row.pk),
                backfilled=backfilled,
                content=contents[i],
                user_name=names.get(row.history_user_id, ""),
            )
        )
    return _append(items, using)


def user_names(ids, using: str = DEFAULT_DB_ALIAS) -> dict:
    """user id → username now, for recording with new entries (one query per 900 users)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    found = {}
    for chunk in _chunks(sorted(set(ids) - {None})):
        found.update(
            User._base_manager.using(using)
            .filter(pk__in=chunk)
            .values_list("pk", User.USERNAME_FIELD)
        )
    return found


def append_record(
    row, *, product_id, object_repr: str, at, user_id, reason: str, user_name=None, using=None
):
    """Chain an append-only record that is not a history row (a signature, a baseline).
    `user_name`: the acting user's name now (looked up by `user_id` when not given)."""
    using = using or router.db_for_write(type(row))
    if user_name is None:
        user_name = user_names({user_id}, using).get(user_id, "")
    source = {
        "riskbench.signature": AuditSource.SIGNATURE,
        "baselines.baseline": AuditSource.BASELINE,
    }[row._meta.label_lower]
    content = _memory_content(row)
    item = _Item(
        source=source,
        model_label=row._meta.label_lower,
        row=row if content is not None else type(row)._base_manager.using(using).get(pk=row.pk),
        product_id=product_id,
        object_id=row.pk,
        object_repr=object_repr,
        action="+",
        at=at,
        user_id=user_id,
        user_name=user_name,
        reason=reason,
        changes=[],
        backfilled=False,
        content=content,
    )
    return _append([item], using)[0]


# Field types whose Python value, when of the type checked here, reads back from SQLite and
# PostgreSQL with the same canonical form. A history row holding only such values is hashed
# from memory; any other value (a float in a DecimalField, a bool in an IntegerField, a file…)
# makes the receiver read the stored row back, so the hash always covers what is stored.
def _is_int(value) -> bool:
    return type(value) is int


def _is_text(value) -> bool:
    return isinstance(value, str)


def _is_aware_datetime(value) -> bool:
    return isinstance(value, dt.datetime) and value.utcoffset() is not None


def _is_date(value) -> bool:
    return type(value) is dt.date


def _is_json(value) -> bool:
    if value is None or isinstance(value, str) or type(value) in (int, bool):
        return True
    if type(value) is list:
        return all(_is_json(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_json(v) for k, v in value.items())
    return False  # floats (PostgreSQL's jsonb may read 1e16 back as an int), tuples, …


def _decimal_check(f):
    def check(value) -> bool:
        if not isinstance(value, Decimal) or not value.is_finite():
            return False
        sign, digits, exponent = value.as_tuple()
        return -exponent <= f.decimal_places and len(digits) <= f.max_digits

    # SQLite keeps decimals as 15-digit floats: only narrower fields round-trip exactly.
    return check if f.max_digits is not None and f.max_digits <= 15 else None


_EXACT_TYPES = {
    models.AutoField: _is_int,
    models.BigAutoField: _is_int,
    models.SmallAutoField: _is_int,
    models.IntegerField: _is_int,
    models.BigIntegerField: _is_int,
    models.SmallIntegerField: _is_int,
    models.PositiveIntegerField: _is_int,
    models.PositiveBigIntegerField: _is_int,
    models.PositiveSmallIntegerField: _is_int,
    models.BooleanField: lambda v: type(v) is bool,
    models.CharField: _is_text,
    models.TextField: _is_text,
    models.SlugField: _is_text,
    models.EmailField: _is_text,
    models.URLField: _is_text,
    models.DateTimeField: _is_aware_datetime,
    models.DateField: _is_date,
    models.JSONField: _is_json,
}


def _exact_check(f):
    if f.is_relation:
        return _exact_check(f.target_field)
    if type(f) is models.DecimalField:
        return _decimal_check(f)
    return _EXACT_TYPES.get(type(f))


@functools.cache
def _memory_checks(row_model) -> tuple | None:
    """(attname, check, plain type) for every hashed field, or None when a field type is not
    listed. A value of the plain type passes its check without a call (bulk paths check tens
    of thousands of rows): str for text, int for integers and keys, bool for booleans."""
    checks = []
    for f in row_model._meta.concrete_fields:
        check = _exact_check(f)
        if check is None:
            return None
        plain = {_is_text: str, _is_int: int}.get(check)
        if plain is None and isinstance(f, models.BooleanField):
            plain = bool
        checks.append((f.attname, check, plain))
    return tuple(checks)


def _memory_content(row) -> dict | None:
    """Canonical content of a just-saved history row from its attributes, or None when a
    value might read back differently from the database."""
    checks = _memory_checks(type(row))
    if checks is None:
        return None
    content = {}
    for name, check, plain in checks:
        value = getattr(row, name)
        kind = type(value)
        if kind is plain or value is None:
            content[name] = value
        elif check(value):
            content[name] = value if kind in _PLAIN else canonical_value(value)
        else:
            return None
    return content


@functools.cache
def _row_and_previous_sql(history_model, model, using: str) -> str:
    """A history row and the one before it of the same record, newest first (by the index on
    the record id). Raw SQL because it runs on every change and compiling the ORM query for a
    table of ~40 columns cost three times the query itself."""
    qn = connections[using].ops.quote_name
    meta = history_model._meta
    columns = ", ".join(qn(f.column) for f in meta.concrete_fields)
    object_id = qn(meta.get_field(model._meta.pk.attname).column)
    history_id = qn(meta.pk.column)
    return (
        f"SELECT {columns} FROM {qn(meta.db_table)} "  # noqa: S608 - identifiers from metadata
        f"WHERE {object_id} = %s AND {history_id} <= %s ORDER BY {history_id} DESC LIMIT 2"
    )


def _saved_row(model, history_instance, using: str):
    """(stored row, the record's previous history row, content known from memory or None).

    A change needs the previous row for its "changes" column: one query reads it together with
    the stored row. A creation or deletion needs no query when every value is of a type that
    reads back unchanged (`_memory_content`), else one to read the stored row.
    """
    history_model = type(history_instance)
    history = history_model._base_manager.using(using)
    pk = history_instance.pk
    if history_instance.history_type == "~":
        object_id = getattr(history_instance, model._meta.pk.attname)
        sql = _row_and_previous_sql(history_model, model, using)
        rows = list(history.raw(sql, [object_id, pk]))
        if rows and rows[0].pk == pk:
            return rows[0], rows[1] if len(rows) > 1 else None, None
    else:
        content = _memory_content(history_instance)
        if content is not None:
            return history_instance, None, content
    return history.get(pk=pk), None, None


@receiver(post_create_historical_record, dispatch_uid="riskbench_audit_chain")
def _chain_history_row(sender, instance, history_instance, using=None, **kwargs):
    """Every history row joins its product's chain in the transaction that wrote it.

    This runs on every save of every regulated record, so it does the least it can: the
    stored row and its predecessor in one query (none for a creation), the product from the
    records the saved instance already holds, the schema id from a per-process cache; then
    the head lock, the entry insert and the head update.
    """
    using = using or router.db_for_write(sender)
    model = history_instance.instance_type
    row, previous, content = _saved_row(model, history_instance, using)
    try:
        label = str(instance)
    except Exception:  # noqa: BLE001 - __str__ of a record being deleted
        label = ""
    product_id = resolve_product_ids(model, [row], using, instances=[instance])[0]
    # The acting user as simple-history recorded it (already in memory: no query).
    user = getattr(history_instance, "history_user", None)
    item = _history_item(
        model,
        row,
        product_id=product_id,
        label=label,
        previous=previous,
        backfilled=False,
        content=content,
        user_name=user.get_username() if user is not None else "",
    )
    _append([item], using)


# --- Rows written without a signal ------------------------------------------------------------


def _chained_tables(models=None):
    """(source, model label, table) of every table whose rows must be chained."""
    wanted = {m._meta.label_lower for m in models} if models else None
    tables = [
        (AuditSource.HISTORY, model._meta.label_lower, history)
        for model, history in history_models()
        if wanted is None or model._meta.label_lower in wanted
    ]
    if models is None:
        tables.append(
            (AuditSource.SIGNATURE, "riskbench.signature", apps.get_model("riskbench", "Signature"))
        )
        if apps.is_installed("traceability.baselines"):
            tables.append(
                (
                    AuditSource.BASELINE,
                    "baselines.baseline",
                    apps.get_model("baselines", "Baseline"),
                )
            )
    return tables


def _unchained(table, source, label, using):
    chained = AuditChainEntry.objects.using(using).filter(source=source, model_label=label)
    return table._base_manager.using(using).exclude(pk__in=chained.values("row_id"))


def unchained_rows(using: str = DEFAULT_DB_ALIAS, models=None) -> list[tuple[str, str, int]]:
    """(source, model label, row id) of every row that should be chained but is not."""
    missing = []
    for source, label, table in _chained_tables(models):
        ids = _unchained(table, source, label, using).order_by("pk").values_list("pk", flat=True)
        missing += [(source, label, pk) for pk in ids]
    return missing


def chain_pending(using: str = DEFAULT_DB_ALIAS, models=None) -> int:
    """Chain history rows written without a signal, oldest first; returns how many.

    Call it right after a bulk path (`bulk_create_with_history`, `bulk_update_with_history`),
    inside the same transaction, naming the models written: `chain_pending(models=[Hazard,
    HazardControl])`. A fixed number of queries per model. `post_migrate` calls it for rows
    written by data migrations. The entries are marked `backfilled`.

    Signatures and baselines are never backfilled: they are chained when created, so a missing
    one means tampering and stays reported by `verify_audit`.
    """
    pairs = {model._meta.label_lower: model for model, _ in history_models()}
    batches = []
    for source, label, table in _chained_tables(models):
        if source != AuditSource.HISTORY:
            continue
        rows = list(_unchained(table, source, label, using).order_by("history_date", "history_id"))
        if rows:
            batches.append((pairs[label], rows))
    if not batches:
        return 0
    if len(batches) == 1:
        model, rows = batches[0]
        return len(chain_history_rows(model, rows, backfilled=True, using=using))
    # Several models: interleave by time so each chain stays chronological.
    ordered = sorted(
        (
            (row.history_date, model._meta.label_lower, row.history_id, model, row)
            for model, rows in batches
            for row in rows
        ),
        key=lambda t: t[:3],
    )
    count = 0
    run_model, run = None, []
    for _, _, _, model, row in ordered:
        if model is not run_model and run:
            count += len(chain_history_rows(run_model, run, backfilled=True, using=using))
            run = []
        run_model = model
        run.append(row)
    count += len(chain_history_rows(run_model, run, backfilled=True, using=using))
    return count


@receiver(post_migrate, dispatch_uid="riskbench_audit_chain_pending")
def _chain_after_migrate(sender, using=DEFAULT_DB_ALIAS, plan=None, **kwargs):
    """Chain rows written by data migrations (e.g. the seeded default policy), and create the
    schema rows of every chained model so that writers find them in the per-process cache.

    `post_migrate` also follows `flush`, which empties the schema table: the cache of schema
    ids is dropped each time.
    """
    if sender.label != "riskbench":
        return
    clear_schema_cache()
    if not plan:
        return
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[using])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return  # partially migrated: the models may not match the tables yet
    ensure_schemas(using)
    chain_pending(using)


def ensure_schemas(using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the AuditSchema row of every chained table for its current fields."""
    for _source, label, table in _chained_tables():
        _schema(label, _hashed_fields(table), using)


# --- Verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    chain: str
    seq: int | None
    entry_id: int | None
    model_label: str
    row_id: int | None
    object_repr: str
    message: str

    def __str__(self):
        where = f"chain {self.chain}" + (f" entry #{self.seq}" if self.seq else "")
        what = f"{self.model_label} row {self.row_id}" + (
            f" ({self.object_repr})" if self.object_repr else ""
        )
        return f"{where}: {what}: {self.message}"


@dataclass
class Verification:
    entries: int = 0
    chains: dict[str, tuple[int, str]] = field(default_factory=dict)  # chain → (seq, head hash)
    problems: list[Problem] = field(default_factory=list)  # first problem of each chain
    problem_count: int = 0
    unchained: list[tuple[str, str, int]] = field(default_factory=list)
    at_seq: dict[tuple[str, int], str] = field(default_factory=dict)  # (chain, seq) → hash

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unchained


def _check_entry(entry, row, schema) -> str | None:
    if row is None:
        return "the referenced row no longer exists (deleted behind the application's back)"
    attributes = getattr(row, "__dict__", None)
    if attributes is not None and attributes.keys() >= set(schema.field_names):
        missing = []  # a plain row (verification): one set comparison, not a hasattr per field
    else:
        missing = [n for n in schema.field_names if not hasattr(row, n)]
    if missing:
        return f"field(s) {', '.join(missing)} no longer exist: the row cannot be verified"
    content = canonical_content(row, schema.field_names)
    if row_hash(entry, content, schema.digest) != entry.row_hash:
        return "content hash mismatch: the row or its chain entry was altered"
    if entry.source == AuditSource.HISTORY:
        expected = (row.history_date, row.history_user_id, row.history_type)
        if (entry.at, entry.user_id, entry.action) != expected:
            return "the chain entry disagrees with the history row"
    return None


class _Plain:
    """A stored row as plain attributes (its fields' attnames, and `pk`): verification reads
    tens of thousands of rows, and building model instances cost more than hashing them."""

    __slots__ = ("__dict__",)


def _plain_rows(queryset, limit: int | None = None):
    """The rows of `queryset` (the first `limit`) as `_Plain` objects (values converted as
    for model instances)."""
    meta = queryset.model._meta
    names = [f.attname for f in meta.concrete_fields]
    pk_name = meta.pk.attname
    values_list = queryset.values_list(*names)
    for values in values_list[:limit] if limit else values_list:
        row = _Plain()
        row.__dict__.update(zip(names, values, strict=True))
        row.pk = row.__dict__[pk_name]
        yield row


def verify_chains(
    using: str = DEFAULT_DB_ALIAS, chunk_size: int = 2000, positions: set | None = None
) -> Verification:
    """Recompute every chain; report the first broken entry of each chain and unchained rows.

    Reads the entries in (chain, seq) order in chunks and fetches the referenced rows of a chunk
    with one query per table, so memory and query count stay bounded. `positions`: (chain, seq)
    pairs whose row hashes to return in `at_seq` (to check anchors against).
    """
    result = Verification()
    positions = positions or set()
    heads = {
        h.chain: h for h in AuditChainHead.objects.using(using).exclude(chain=ACCESS_LOG_CHAIN)
    }
    schemas = {s.pk: s for s in AuditSchema.objects.using(using)}
    state: dict[str, tuple[int, str]] = {}
    broken: set[str] = set()

    def report(entry, message, row_id=None):
        result.problem_count += 1
        if entry.chain in broken:
            return
        broken.add(entry.chain)
        result.problems.append(
            Problem(
                entry.chain,
                entry.seq,
                entry.pk,
                entry.model_label,
                row_id if row_id is not None else entry.row_id,
                entry.object_repr,
                message,
            )
        )

    base = AuditChainEntry._base_manager.using(using).order_by("chain", "seq")
    page = list(_plain_rows(base, chunk_size))
    while page:
        wanted = defaultdict(set)
        for entry in page:
            wanted[(entry.source, entry.model_label)].add(entry.row_id)
        rows = {}
        for (source, label), ids in wanted.items():
            try:
                table = source_table(source, label)
            except LookupError:
                continue
            pk_name = table._meta.pk.attname
            for chunk in _chunks(sorted(ids)):
                found = _plain_rows(table._base_manager.using(using).filter(pk__in=chunk))
                for row in found:
                    rows[(source, label, getattr(row, pk_name))] = row
        for entry in page:
            result.entries += 1
            seq, prev = state.get(entry.chain, (0, GENESIS_HASH))
            if entry.seq != seq + 1:
                report(entry, f"sequence gap: expected entry #{seq + 1}, found #{entry.seq}")
            elif entry.prev_hash != prev:
                report(entry, "previous-hash mismatch: an earlier entry was altered or removed")
            else:
                message = _check_entry(
                    entry,
                    rows.get((entry.source, entry.model_label, entry.row_id)),
                    schemas[entry.schema_id],
                )
                if message:
                    report(entry, message)
            state[entry.chain] = (entry.seq, entry.row_hash)
            if (entry.chain, entry.seq) in positions:
                result.at_seq[(entry.chain, entry.seq)] = entry.row_hash
        if len(page) < chunk_size:
            break
        last = page[-1]
        after = Q(chain=last.chain, seq__gt=last.seq) | Q(chain__gt=last.chain)
        page = list(_plain_rows(base.filter(after), chunk_size))

    for chain, head in heads.items():
        seq, row_hash = state.get(chain, (0, ""))
        if (head.seq, head.row_hash) != (seq, row_hash) and chain not in broken:
            broken.add(chain)
            result.problem_count += 1
            result.problems.append(
                Problem(
                    chain,
                    seq + 1,
                    None,
                    "",
                    None,
                    "",
                    f"chain head says #{head.seq} but the chain ends at #{seq}: entries were "
                    "removed from the end",
                )
            )
    result.chains = state
    result.unchained = unchained_rows(using)
    return result
