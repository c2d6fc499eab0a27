"""Pieces every list page draws the same way: sortable column headers with their direction,
export links for the filtered view, and values shown as a person reads them."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from riskbench.lists import sort_state

register = template.Library()

ARROWS = {"ascending": "▲", "descending": "▼", "none": "↕"}


def _query(context, **changes) -> str:
    request = context.get("request")
    query = request.GET.copy() if request is not None else None
    if query is None:
        return ""
    for name in ("page", "export", *changes):
        query.pop(name, None)
    for name, value in changes.items():
        if value:
            query[name] = value
    return query.urlencode()


@register.simple_tag(takes_context=True)
def sort_th(context, label, key, css="", first_descending=False, title=""):
    """A column header that sorts the list by `key`; a second click reverses it. The header
    says its direction to the eye (arrow) and to assistive technology (aria-sort)."""
    request = context.get("request")
    current = request.GET.get("sort", "") if request is not None else ""
    if not current:
        current = context.get("default_sort", "")
    aria, param = sort_state(current, key, bool(first_descending))
    direction = {"ascending": "ascending", "descending": "descending"}.get(aria, "")
    hint = f"Sorted {direction}; click to reverse" if direction else "Click to sort"
    return format_html(
        '<th class="{}" aria-sort="{}" scope="col"{}><a class="sort" href="?{}" title="{}">{}'
        ' <span class="sort-arrow" aria-hidden="true">{}</span></a></th>',
        f"sortable {css}".strip(),
        aria,
        format_html(' data-title="{}"', title) if title else "",
        _query(context, sort=param),
        hint,
        label,
        ARROWS[aria],
    )


@register.simple_tag(takes_context=True)
def export_links(context):
    """CSV and XLSX downloads of exactly the rows the filters select (all pages)."""
    return format_html(
        '<span class="export-links">Export <a class="btn small secondary" href="?{}" '
        'download>CSV</a> <a class="btn small secondary" href="?{}" download>XLSX</a></span>',
        _query(context, export="csv"),
        _query(context, export="xlsx"),
    )


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (page and export dropped)."""
    return _query(context, **{k: str(v) for k, v in changes.items()})


@register.filter
def when(value):
    """A date-time in the server's time zone as "YYYY-MM-DD HH:MM TZ" (the same everywhere);
    an ISO 8601 string (as stored in a diff) is read first. Anything else is returned as is."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) < 16 or text[4:5] != "-" or text[10:11] not in ("T", " "):
            return value
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        local = timezone.localtime(value)
        return f"{date_format(local, 'Y-m-d H:i')} {local.tzname()}"
    return value


STATE_CHIPS = {
    "verified": ("chip-pass", "Verified"),
    "partly": ("chip-investigate", "Partly verified"),
    "failed": ("chip-fail", "Failed"),
    "none": ("chip-none", "Not verified"),
}


@register.simple_tag
def state_chip(state):
    """Verification state of a hazard or control (verified / partly / failed / none): colour
    and words, never colour alone."""
    css, label = STATE_CHIPS.get(state or "none", STATE_CHIPS["none"])
    return format_html('<span class="chip {}">{}</span>', css, label)


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
