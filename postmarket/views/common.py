"""Shared steps of the post-market pages: say what a service call did, page a list, show a
record's history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render

from riskbench import signatures
from riskbench.filters import paginate
from riskbench.history import versions
from riskbench.services import StaleEditError

PAGE_SIZE = 100


def _errors(exc) -> str:
    return " ".join(getattr(exc, "messages", [str(exc)]))


def _act(request, action, success: str) -> None:
    """Run a service call from a POST; say what happened either way."""
    try:
        result = action()
    except (ValidationError, StaleEditError, signatures.SignatureRefused) as exc:
        messages.error(request, _errors(exc))
        return None
    messages.success(request, success)
    return result


def _page(request, queryset):
    page = paginate(request, queryset, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _history(request, product, record):
    return render(
        request,
        "hazards/history.html",
        {"product": product, "record": record, "versions": versions(record)},
    )
