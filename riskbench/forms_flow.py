"""The POST step that every create / edit page of a regulated record shares.

The page builds its form (a `hazards.forms.VersionedForm`: the record's fields plus the
`version` it was loaded at and a `change_reason`) and hands it here with `save`, the service
call. What comes back says what to show: the record once saved, or what another user changed
meanwhile. Both apps' pages so refuse a stale edit the same way — nothing is overwritten and
the user sees who changed what (no lost update; 21 CFR 11.10(e)) — and put a service's
ValidationError back on the field it names.

Kept free of the apps: it takes the form and a callable, never imports their views or models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError

from riskbench.history import labelled_changes
from riskbench.services import StaleEditError

STALE_MESSAGE = "Not saved: the record changed while you were editing it."


@dataclass
class Submission:
    """What a POST of a versioned form came to.

    `saved`: the service saved `record`; the page redirects. Otherwise the page renders the
    form again: with `stale_changes` (field, value when loaded, value now) when the edit was
    refused as stale, or with the errors now on the form.
    """

    saved: bool = False
    record: Any = None
    stale_changes: list[tuple[str, str, str]] | None = None


def submit_versioned_form(
    request,
    form: forms.Form,
    save: Callable[[dict, str, int | None], Any],
    *,
    success: str | Callable[[Any], str],
) -> Submission:
    """On a valid POST, call `save(fields, reason, expected_version)` and report the outcome.

    `fields` are `form.service_fields()` (the record's fields without `version` and
    `change_reason`); `reason` and `expected_version` come from the form. A create ignores
    the version. `success` is the message after a save, or makes it from the saved record.
    """
    if request.method != "POST" or not form.is_valid():
        return Submission()
    try:
        record = save(
            form.service_fields(),
            form.cleaned_data.get("change_reason", ""),
            form.cleaned_data.get("version"),
        )
    except StaleEditError as exc:
        form.add_error(None, str(exc))  # says who changed it and which version is current
        messages.error(request, STALE_MESSAGE)
        return Submission(stale_changes=_readable_changes(exc))
    except ValidationError as exc:
        add_service_errors(form, exc)
        return Submission()
    messages.success(request, success(record) if callable(success) else success)
    return Submission(saved=True, record=record)


def _readable_changes(exc: StaleEditError) -> list[tuple[str, str, str]]:
    """What the other user changed, with labels and local times (not stored values)."""
    history = getattr(exc.instance, "history", None)
    loaded = history.filter(version=exc.expected_version).first() if history else None
    if loaded is None:
        return exc.changes
    return labelled_changes(loaded, exc.instance)


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError back on the fields it names (or on the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                message = " ".join(error.messages)
                if target is None and field not in ("__all__", None):
                    message = f"{field.replace('_', ' ').capitalize()}: {message}"
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
