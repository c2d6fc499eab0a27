"""Typed query parameters: one layer for every list page and for the API's filtersets.

A query parameter is untrusted text. Each list page declares its filters as a `FilterForm`
(a choice, a whole number, a flag, some text); a value that does not fit its field
(`?severity=abc`, `?p1=1.5`, a status that does not exist, `?page=x`) is *ignored with a
message* naming the parameter — the list shows as if it had not been given — instead of
reaching the database as something it cannot compare (a server error on PostgreSQL, a silently
empty list elsewhere). The API stands on the same fields: `StrictFilterBackend` builds the
django-filter filtersets of the view sets from them and answers 400 naming the parameter, and
`whole_number` checks `limit` / `offset` as it checks `page` here.

Control characters never get this far: `riskbench.middleware.ControlCharacterMiddleware`
answers 400 first.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as RestFilterSet

# The largest number a filter may carry: PostgreSQL's `integer` (a bigger one is an error
# inside the query there, not an empty result).
MAX_FILTER_INT = 2**31 - 1
SHOWN_VALUE_LENGTH = 40

WHOLE_NUMBER = re.compile(r"-?[0-9]{1,1000}")

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


class FlagField(forms.Field):
    """A yes/no filter: 1/true/yes/on or 0/false/no/off (any case); empty means "not given".
    Anything else is an error, never quietly read as "no"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise forms.ValidationError("Use true or false (1 or 0).", code="invalid")


class FilterForm(forms.Form):
    """Base of a list page's filters. Bind it to `request.GET`; read `values()` for the
    filters that fit and `ignored()` for a message about each one that does not."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data if data is not None else {}, **kwargs)

    def fitting(self) -> dict:
        """The cleaned value of every filter that fits its field (typed: a date, a number);
        the ones that do not are left out."""
        self.is_valid()
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.fields and name not in self.errors
        }

    def values(self) -> dict[str, str]:
        """Every filter as text (what the page shows and the selectors take): the cleaned value
        when it fits its field, "" when it was not given or is ignored."""
        fitting = self.fitting()
        result = {}
        for name in self.fields:
            value = fitting.get(name)
            if value is None or value is False:
                result[name] = ""
            elif value is True:
                result[name] = "1"
            else:
                result[name] = str(value).strip()
        return result

    def ignored(self) -> list[str]:
        """One message per parameter that was given but does not fit its field."""
        self.is_valid()
        found = []
        for name, errors in self.errors.items():
            if name not in self.fields:
                continue
            raw = self.data.get(name, "")
            shown = raw if len(raw) <= SHOWN_VALUE_LENGTH else raw[:SHOWN_VALUE_LENGTH] + "…"
            found.append(f"Ignored the filter {name}={shown!r}: {' '.join(errors)}")
        return found


def read_filters(request, form_class: type[FilterForm], **kwargs) -> dict[str, str]:
    """The filters of `request.GET` that fit `form_class`; each one that does not becomes a
    warning message on the page."""
    form = form_class(request.GET, **kwargs)
    for message in form.ignored():
        messages.warning(request, message)
    return form.values()


def whole_number(value, *, minimum: int = 0, maximum: int | None = MAX_FILTER_INT) -> int:
    """`value` as a whole number within [minimum, maximum] (no maximum when None); ValueError
    with a message otherwise (`1.5`, `abc`, `-1`, `10**20` are refused, never rounded, clipped
    or read as a default)."""
    text = str(value).strip()
    if not WHOLE_NUMBER.fullmatch(text):
        raise ValueError(f"{text[:SHOWN_VALUE_LENGTH]!r} is not a whole number.")
    number = int(text)
    if number < minimum:
        raise ValueError(f"{number} is less than {minimum}.")
    if maximum is not None and number > maximum:
        raise ValueError(f"{text[:SHOWN_VALUE_LENGTH]} is more than {maximum}.")
    return number


def paginate(request, items, per_page: int, *, param: str = "page"):
    """`Paginator.get_page` for `request.GET[param]`, which must be a whole number ≥ 1 when it
    is given: anything else shows the first page with a message saying so. A number past the
    end shows the last page (as the pagination links do)."""
    raw = request.GET.get(param, "")
    number = 1
    if raw != "":
        try:
            number = whole_number(raw, minimum=1)
        except ValueError as exc:
            messages.warning(request, f"Ignored {param}: {exc} Showing the first page.")
    return Paginator(items, per_page).get_page(number)


# --- API (django-filter) -------------------------------------------------------------------------


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = FlagField


class WholeNumberFilter(django_filters.NumberFilter):
    """An integer column compared with a whole number: `1.5` is refused, not rounded to 1."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -MAX_FILTER_INT)
        kwargs.setdefault("max_value", MAX_FILTER_INT)
        super().__init__(*args, **kwargs)


_INTEGER_FIELDS = (
    models.IntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.BigIntegerField,
    models.PositiveBigIntegerField,
)


class StrictFilterSet(RestFilterSet):
    """django-filter's DRF filterset with the fields above: a boolean that is neither true nor
    false, or a fraction for an integer, is a 400 naming the parameter (django-filter would
    drop the first silently and round the second)."""

    FILTER_DEFAULTS = {
        **RestFilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
        **{field: {"filter_class": WholeNumberFilter} for field in _INTEGER_FIELDS},
    }


class StrictFilterBackend(DjangoFilterBackend):
    """The filter backend of every API list: `filterset_fields` become a `StrictFilterSet`."""

    filterset_base = StrictFilterSet
