"""Reads of the audit trail and the access log (21 CFR 11.10(e), 11.10(b) copies for inspection).

Every history row of every regulated model, every signature and every baseline has one entry in
`AuditChainEntry` (see `riskbench.audit`), which carries the columns a reviewer filters on. So
the audit trail page is one indexed table, not a union of a dozen history tables: a page costs
the same few queries whatever the amount of data, and the CSV export streams it in chunks.

Who sees what: members see the entries of their products and the `global` chain (risk
policies, readable by everyone signed in); superusers see everything. Access-log entries about
a product are seen by its members; entries about no product (logins, logouts) by the user
concerned, auditors and superusers.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from django.apps import apps
from django.db.models import Q, QuerySet

from riskbench import audit, roles
from riskbench.canonical import canonical_value
from riskbench.history import user_label
from riskbench.models import AccessLogEntry, AuditChainEntry, AuditSource

ACTION_LABELS = {"+": "Created", "~": "Changed", "-": "Deleted"}
CSV_CHUNK = 2000


def visible_products(user) -> list:
    Product = apps.get_model("hazards", "Product")
    qs = Product.objects.all() if user.is_superuser else Product.objects.filter(members=user)
    return list(qs.order_by("name").only("pk", "name", "slug"))


def record_types() -> list[tuple[str, str]]:
    """(model label, name) of every record type the trail can show."""
    types = [
        (model._meta.label_lower, str(model._meta.verbose_name).capitalize())
        for model, _ in audit.history_models()
    ]
    types.append(("riskbench.signature", "Electronic signature"))
    if apps.is_installed("traceability.baselines"):
        types.append(("baselines.baseline", "Baseline"))
    return sorted(types, key=lambda t: t[1])


def _day_range(qs: QuerySet, field: str, start, end) -> QuerySet:
    if start:
        qs = qs.filter(**{f"{field}__gte": dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)})
    if end:
        stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        qs = qs.filter(**{f"{field}__lt": stop})
    return qs


def _product_scope(user, products, slug: str | None):
    """Product ids to show; None = everything (superuser without a product filter)."""
    if slug:
        chosen = [p for p in products if p.slug == slug]
        return [chosen[0].pk] if chosen else []
    if user.is_superuser:
        return None
    return [p.pk for p in products]


def trail_entries(user, filters: dict, products: list) -> QuerySet:
    """The entries `user` may see, filtered; newest first, with user and product joined."""
    qs = AuditChainEntry.objects.select_related("user", "product").order_by("-at", "-id")
    scope = _product_scope(user, products, filters.get("product"))
    if filters.get("product"):
        qs = qs.filter(product_id__in=scope)
    elif scope is not None:
        qs = qs.filter(Q(product_id__in=scope) | Q(product_id__isnull=True))
    if filters.get("model"):
        qs = qs.filter(model_label=filters["model"])
    if filters.get("object"):
        qs = qs.filter(object_id=filters["object"])
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("user"):
        name = filters["user"].strip()
        qs = qs.filter(Q(user__username__iexact=name) | Q(user_name__iexact=name))
    qs = _day_range(qs, "at", filters.get("date_from"), filters.get("date_to"))
    text = (filters.get("q") or "").strip()
    if text:
        qs = qs.filter(Q(object_repr__icontains=text) | Q(reason__icontains=text))
    return qs


def access_entries(user, filters: dict, products: list) -> QuerySet:
    qs = AccessLogEntry.objects.select_related("product").order_by("-at", "-id")
    scope = _product_scope(user, products, filters.get("product"))
    if filters.get("product"):
        qs = qs.filter(product_id__in=scope)
    elif scope is not None:
        own = Q(product_id__isnull=True, user_id=user.pk)
        if roles.AUDITOR in roles._group_names(user):
            own = Q(product_id__isnull=True)
        qs = qs.filter(Q(product_id__in=scope) | own)
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("user"):
        qs = qs.filter(username__iexact=filters["user"].strip())
    return _day_range(qs, "at", filters.get("date_from"), filters.get("date_to"))


def entry_user(entry: AuditChainEntry) -> str:
    """Who, as recorded when the entry was written (and their current name if it changed)."""
    if entry.user is None and not entry.user_name:
        return ""
    return user_label(entry.user_name, entry.user)


def action_label(entry: AuditChainEntry) -> str:
    if entry.source == AuditSource.SIGNATURE:
        return "Signed"
    return ACTION_LABELS.get(entry.action, entry.action)


# --- CSV -----------------------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """Neutralise spreadsheet formulas (CSV injection, OWASP)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _utc(value) -> str:
    return canonical_value(value) if value else ""


def trail_csv_rows(qs: QuerySet) -> Iterator[str]:
    """CSV lines of the trail, streamed in chunks (constant memory)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(
        [
            "when_utc", "product", "record_type", "record", "record_id", "action", "user",
            "reason", "changes", "chain", "seq", "row_sha256", "previous_sha256",
        ]
    )  # fmt: skip
    for e in qs.iterator(chunk_size=CSV_CHUNK):
        changes = "; ".join(f"{c[0]}: {c[1]} → {c[2]}" for c in e.changes or [])
        yield writer.writerow(
            [
                _utc(e.at), e.product.slug if e.product else "", e.model_label,
                _cell(e.object_repr), e.object_id, action_label(e),
                _cell(entry_user(e)), _cell(e.reason), _cell(changes),
                e.chain, e.seq, e.row_hash, e.prev_hash,
            ]
        )  # fmt: skip


def access_csv_rows(qs: QuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(
        ["when_utc", "user", "action", "detail", "product", "ip_address", "user_agent"]
    )
    for e in qs.iterator(chunk_size=CSV_CHUNK):
        yield writer.writerow(
            [
                _utc(e.at), _cell(e.username), e.get_action_display(), _cell(e.detail),
                e.product.slug if e.product else "", e.ip_address or "", _cell(e.user_agent),
            ]
        )  # fmt: skip
