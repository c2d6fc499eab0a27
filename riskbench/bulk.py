"""Bulk writes with history and audit chain, for the imports (issue 13 §3).

`create_with_history` / `update_with_history` write what simple-history's
`bulk_create_with_history` / `bulk_update_with_history` write — the records, one history row per
record with the acting user, the reason, the history type and every tracked field — and chain
those history rows into their products' audit chains (`riskbench.audit`) in the same
transaction, as `audit.chain_pending` would: same entries, same hashes, `backfilled` as well.

Why not the simple-history helpers: profiled on the import of 1,000 hazards (≈27,000 records
and as many history rows), half of the command's time went to building a history model
instance per row and to Django compiling the INSERT statements, and a third to
`chain_pending` finding the new rows again and reading them back as model instances. Here the
INSERT of a model is prepared once (columns from its metadata, values adapted by its fields'
`get_db_prep_save`, like the ORM does), history rows are plain model objects filled from the
records' attributes without `Model.__init__`, and the chain hashes them from memory when every
value is of a type that reads back unchanged (`audit.memory_content`); any other row is read
back first, so a hash always covers what is stored.

A model this module cannot write exactly like the ORM (inheritance, a non-integer key, a
history model with extra columns, a backend without INSERT … RETURNING) goes through the
simple-history helpers and `chain_pending` instead: same result, slower.

These are bulk paths (DESIGN §7): the caller holds the transaction, the locks and the checks.
"""

from __future__ import annotations

import functools

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.base import ModelState
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from simple_history.utils import (
    bulk_create_with_history,
    bulk_update_with_history,
    get_history_model_for_model,
)

from riskbench import audit

BATCH = 500

# Field types whose values of the matching plain type go to the database as they are (what
# `get_db_prep_save` would return for them); any other value is adapted by the field.
_TEXT = (models.CharField, models.TextField)
_INT = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)


def _plain_type(f):
    """The Python type whose values `f` stores unchanged, or None."""
    if f.is_relation:
        return _plain_type(f.target_field)
    if type(f) in _TEXT:
        return str
    if type(f) in _INT:
        return int
    if type(f) is models.BooleanField:
        return bool
    return None


def _preparer(f):
    """(value, connection) → query parameter, as the ORM's INSERT compiler does
    (`get_db_prep_save`); plain values of plain columns as they are."""
    prep = f.get_db_prep_save
    plain = _plain_type(f)
    if plain is not None:
        return lambda value, connection: (
            value if value is None or type(value) is plain else prep(value, connection)
        )
    if isinstance(f, models.DateField):
        return audit.memo_prep(f)
    return prep


class _Insert:
    """`INSERT INTO table (columns) VALUES (…), (…) RETURNING pk` for one model, prepared once
    per connection: the columns from the model's metadata, a value preparer per column."""

    def __init__(self, model, connection):
        meta = model._meta
        qn = connection.ops.quote_name
        self.fields = [f for f in meta.concrete_fields if not f.primary_key]
        self.attnames = [f.attname for f in self.fields]
        self.preps = [_preparer(f) for f in self.fields]
        self.pk = meta.pk
        # Fields whose `pre_save` does more than read the attribute (auto_now, file commits).
        self.pre_save = [f for f in self.fields if type(f).pre_save is not models.Field.pre_save]
        self.head = (
            f"INSERT INTO {qn(meta.db_table)} "  # noqa: S608 - identifiers from metadata
            f"({', '.join(qn(f.column) for f in self.fields)}) VALUES "
        )
        self.row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        self.tail = f" RETURNING {qn(self.pk.column)}"
        per_query = connection.ops.bulk_batch_size(self.fields, [None] * BATCH)
        self.batch = max(1, min(BATCH, per_query))

    def execute(self, connection, param_rows) -> list:
        """Insert the rows (lists of parameters, in `fields` order); their new keys, in order."""
        keys = []
        with connection.cursor() as cursor:
            for i in range(0, len(param_rows), self.batch):
                chunk = param_rows[i : i + self.batch]
                sql = self.head + ", ".join([self.row] * len(chunk)) + self.tail
                cursor.execute(sql, [value for row in chunk for value in row])
                keys += [row[0] for row in cursor.fetchall()]
        if len(keys) != len(param_rows):
            raise RuntimeError(f"{len(param_rows)} rows inserted, {len(keys)} keys returned")
        return keys


@functools.cache
def _insert(model, using: str) -> _Insert:
    return _Insert(model, connections[using])


@functools.cache
def _fast_model(model) -> bool:
    """Whether `model` and its history model can be written here exactly as the ORM would."""
    meta = model._meta
    if meta.parents or meta.proxy or not isinstance(meta.pk, models.AutoField):
        return False
    if any(f.has_db_default() or f.generated for f in meta.concrete_fields):
        return False  # the ORM would write DEFAULT or nothing for these columns
    history = get_history_model_for_model(model)
    tracked = {f.attname for f in history.tracked_fields}
    own = {"history_id", "history_date", "history_change_reason", "history_type"}
    columns = {f.attname for f in history._meta.concrete_fields}
    return columns == tracked | own | {"history_user_id"} and history._meta.pk.attname == (
        "history_id"
    )


def _usable(model, using: str) -> bool:
    return connections[using].features.can_return_rows_from_bulk_insert and _fast_model(model)


def create_with_history(objs, model, *, by, reason: str, using: str = DEFAULT_DB_ALIAS) -> list:
    """Insert `objs` (new, unsaved records of `model`), their "+" history rows, and chain those
    rows; returns `objs`, now with their keys. BULK PATH: in the caller's transaction."""
    objs = list(objs)
    if not objs:
        return objs
    if not _usable(model, using):
        created = bulk_create_with_history(
            objs, model, batch_size=BATCH, default_user=by, default_change_reason=reason
        )
        audit.chain_pending(using, models=[model])
        return created
    connection = connections[using]
    insert = _insert(model, using)
    with transaction.atomic(using=using, savepoint=False):
        rows = []
        for obj in objs:
            if obj.pk is not None:
                raise ValueError(f"{model.__name__} {obj.pk} is not new: nothing was written.")
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
            for f in insert.pre_save:
                f.pre_save(obj, add=True)  # sets the attribute (auto_now, a committed file)
            rows.append(
                [
                    prep(getattr(obj, name), connection)
                    for name, prep in zip(insert.attnames, insert.preps, strict=True)
                ]
            )
        for obj, key in zip(objs, insert.execute(connection, rows), strict=True):
            setattr(obj, insert.pk.attname, key)
            obj._state.adding = False
            obj._state.db = using
        _write_history(model, objs, "+", by=by, reason=reason, using=using, record_params=rows)
    return objs


def update_with_history(objs, model, fields, *, by, reason: str, using=DEFAULT_DB_ALIAS) -> None:
    """Save `fields` of the stored records `objs`, write their "~" history rows, and chain those
    rows. BULK PATH: the caller has checked the versions (`claim_next_versions`)."""
    objs = list(objs)
    if not objs:
        return
    if not _usable(model, using):
        bulk_update_with_history(
            objs, model, fields, batch_size=BATCH, default_user=by, default_change_reason=reason
        )
        audit.chain_pending(using, models=[model])
        return
    with transaction.atomic(using=using, savepoint=False):
        # The history rows are written right below (simple-history's helper does the same).
        model._default_manager.using(using).bulk_update(objs, fields, batch_size=BATCH)
        _write_history(model, objs, "~", by=by, reason=reason, using=using)


@functools.cache
def _reused(model, using: str) -> tuple:
    """For each column of the history INSERT, the position of the same parameter in the
    record's INSERT (the same column type, so the same parameter), or None: prepared anew."""
    record = _insert(model, using)
    history = _insert(get_history_model_for_model(model), using)
    position = {f.attname: (i, type(f)) for i, f in enumerate(record.fields)}
    reused = []
    for f in history.fields:
        i, kind = position.get(f.attname, (None, None))
        reused.append(i if kind is type(f) else None)
    return tuple(reused)


def _write_history(
    model, objs, history_type: str, *, by, reason: str, using: str, record_params=None
) -> None:
    """One history row per record, with the values simple-history's `bulk_history_create`
    gives it, inserted in bulk, then chained. `record_params`: the parameters the records were
    just inserted with (their columns' parameters are the history row's too)."""
    history = get_history_model_for_model(model)
    connection = connections[using]
    insert = _insert(history, using)
    tracked = [f.attname for f in history.tracked_fields]
    columns = list(zip(insert.attnames, insert.preps, _reused(model, using), strict=True))
    record_params = record_params or [None] * len(objs)
    rows, params = [], []
    for obj, record in zip(objs, record_params, strict=True):
        user = getattr(obj, "_history_user", by or history.get_default_history_user(obj))
        values = {name: getattr(obj, name) for name in tracked}
        for name, value in values.items():
            if isinstance(value, FieldFile):
                values[name] = str(value)  # the history keeps the file's name (a text column)
        values["history_date"] = getattr(obj, "_history_date", None) or timezone.now()
        values["history_user_id"] = user.pk if user is not None else None
        values["history_change_reason"] = getattr(obj, "_change_reason", None) or reason
        values["history_type"] = history_type
        row = history.__new__(history)  # a plain history object: no Model.__init__ per row
        row.__dict__.update(values)
        row._state = ModelState()
        rows.append(row)
        params.append(
            [
                prep(values[name], connection) if record is None or i is None else record[i]
                for name, prep, i in columns
            ]
        )
    for row, key in zip(rows, insert.execute(connection, params), strict=True):
        row.history_id = key
        row._state.adding = False
        row._state.db = using
    audit.chain_history_rows(model, rows, backfilled=True, using=using, from_memory=True)
