"""Stored values as a person reads them, the same on every page that shows a difference
(record history, stale-edit message, baseline diff): choice labels instead of stored codes,
date-times in the server's time zone with its name instead of ISO strings, Yes/No, "—"."""

from __future__ import annotations

import datetime as dt
import json

from django.db import models
from django.utils import timezone

EMPTY = "—"
MAX_CHARS = 300


def local_datetime(value: dt.datetime) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _parse_datetime(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def _names(value: list) -> str | None:
    """A scale (list of levels) by its names: "1 Negligible, 2 Minor, …"."""
    if value and all(isinstance(v, dict) and "name" in v for v in value):
        return ", ".join(f"{v.get('value', i + 1)} {v['name']}" for i, v in enumerate(value))
    return None


def _short(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def show_value(field: models.Field | None, value) -> str:
    """`value` of `field` (None when unknown) for a diff or a history row."""
    if value is None or value == "" or value == []:
        return EMPTY
    if field is not None and field.choices:
        choices = dict(field.flatchoices)
        if isinstance(value, list):
            return ", ".join(str(choices.get(v, v)) for v in value)
        return str(choices.get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return local_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and isinstance(field, models.DateTimeField):
        parsed = _parse_datetime(value)
        return local_datetime(parsed) if parsed else value
    if isinstance(value, list | dict):
        names = _names(value) if isinstance(value, list) else None
        return _short(names or json.dumps(value, ensure_ascii=False))
    return _short(str(value))
