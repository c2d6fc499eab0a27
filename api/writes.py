"""How API writes reach the services: reason, optimistic locking, and errors.

Views never call `serializer.save()`: the serializer only validates the request's shape, then
the view calls the app's service (`hazards.services`, `traceability.services`) with the acting
user and a reason, so every change leaves a history row that says who and why
(21 CFR 11.10(e); ISO 14971 4.5). This module turns the services' exceptions into HTTP answers:

* `django.core.exceptions.ValidationError` → 400 with the same field names;
* `riskbench.services.StaleEditError` → 409 with what changed since the caller's version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from rest_framework import exceptions, serializers

from riskbench.services import StaleEditError

REASON_HEADER = "X-Change-Reason"
REASON_FIELD = "change_reason"
# The history keeps a change reason in 100 characters: refuse a longer one rather than cut it.
REASON_MAX_LENGTH = 100
VERSION_FIELD = "version"

_IF_MATCH_RE = re.compile(r'^\s*(?:W/)?"?(?P<version>\d{1,9})"?\s*$')


class StaleWrite(exceptions.APIException):
    """409 Conflict: the record moved on since the caller read it; nothing was saved."""

    status_code = 409
    default_code = "stale"
    default_detail = "The record was changed by someone else."

    def __init__(self, exc: StaleEditError):
        # Keep the body as plain JSON (numbers stay numbers), not DRF's ErrorDetail strings.
        self.detail = {
            "detail": str(exc),
            "current_version": exc.instance.version,
            "your_version": exc.expected_version,
            "changes": [
                {"field": field, "yours": before, "current": after}
                for field, before, after in exc.changes
            ],
        }


class StaleWriteSerializer(serializers.Serializer):
    """Body of a 409 answer (for the OpenAPI schema)."""

    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    your_version = serializers.IntegerField()
    changes = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


def field_errors(exc: DjangoValidationError) -> dict[str, list[str]] | list[str]:
    """A Django ValidationError as DRF's error body, keeping the service's field names."""
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if name == "__all__" else name): messages
            for name, messages in exc.message_dict.items()
        }
    return {"non_field_errors": exc.messages}


def call_service(service: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Run a service and answer its refusals as 400 / 409 instead of a server error.

    The savepoint keeps the request's transaction usable after a refused write (pytest and
    ATOMIC_REQUESTS deployments wrap requests in one).
    """
    try:
        with transaction.atomic():
            return service(**kwargs)
    except StaleEditError as exc:
        raise StaleWrite(exc) from exc
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(field_errors(exc)) from exc
    except ProtectedError as exc:
        blockers = sorted({str(obj) for obj in exc.protected_objects})[:5]
        raise exceptions.ValidationError(
            {"non_field_errors": [f"Still referenced by: {', '.join(blockers)}."]}
        ) from exc
    except IntegrityError as exc:
        # The database's constraints are the last line of defence (e.g. two concurrent
        # creations of the same link); the caller's request conflicts with existing data.
        raise exceptions.ValidationError(
            {"non_field_errors": ["This conflicts with an existing record."]}
        ) from exc


def change_reason(request, data: dict | None = None) -> str:
    """The reason for a change: the `change_reason` field, else the `X-Change-Reason` header.

    Services decide when a reason is required (e.g. editing an approved record, deleting).
    """
    reason = ""
    if data is not None:
        reason = data.pop(REASON_FIELD, "") or ""
    if not reason and hasattr(request.data, "get"):
        value = request.data.get(REASON_FIELD, "")
        reason = value if isinstance(value, str) else ""
    reason = (reason or request.headers.get(REASON_HEADER, "")).strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise exceptions.ValidationError(
            {REASON_FIELD: [f"Keep the reason to {REASON_MAX_LENGTH} characters (the history's)."]}
        )
    return reason


def expected_version(request, data: dict) -> int:
    """The version the caller loaded: the `version` field or an `If-Match` header (ETag).

    Optimistic locking (no lost update): an update without it is refused with 400, one with a
    stale version with 409 by the service.
    """
    body_version = data.pop(VERSION_FIELD, None)
    header = request.headers.get("If-Match")
    header_version = None
    if header:
        match = _IF_MATCH_RE.match(header)
        if not match:
            raise exceptions.ValidationError(
                {VERSION_FIELD: ['If-Match must carry the version number, e.g. If-Match: "3".']}
            )
        header_version = int(match["version"])
    if body_version is not None and header_version is not None and body_version != header_version:
        raise exceptions.ValidationError(
            {VERSION_FIELD: ["The version field and the If-Match header disagree."]}
        )
    version = body_version if body_version is not None else header_version
    if version is None:
        raise exceptions.ValidationError(
            {
                VERSION_FIELD: [
                    "Send the version you loaded (field `version` or header If-Match) so "
                    "that nobody's change is overwritten."
                ]
            }
        )
    return version


def delete_version(request) -> int:
    """The version a DELETE names: `?version=N`, `version` in the body, or If-Match (the same
    rules as `expected_version`; none is a 400)."""
    sent = request.query_params.get(VERSION_FIELD)
    if hasattr(request.data, "get") and request.data.get(VERSION_FIELD) is not None:
        sent = request.data.get(VERSION_FIELD)
    if isinstance(sent, str) and sent.strip().isdecimal():
        sent = int(sent)
    return expected_version(request, {} if sent is None else {VERSION_FIELD: sent})


def etag(instance) -> str:
    return f'"{instance.version}"'
