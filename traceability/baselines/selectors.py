"""A product's whole risk management file as one canonical JSON document, and the difference
between two such documents (ISO 14971 4.5; IEC 62304 8.1 configuration identification).

`snapshot(product) -> dict` reads the product, its risk policy, hazards, risk controls, software
items, requirements, test cases, test runs and every trace link in a fixed number of queries
(16, whatever the size of the file) and returns plain JSON data:

    {"format": 1,
     "product": {...}, "policy": {...},
     "hazards": {"HAZ-001": {...}, ...}, "controls": {"RC-001": {...}},
     "software_items": {"SW-001": {...}}, "requirements": {"SRS-001": {...}},
     "test_cases": {"TC-001": {...}}, "test_runs": {"TC-001 2025-01-31T09:15:00.000000Z": {...}},
     "links": {"reduces HAZ-001 → RC-001": {"kind": ..., "source": ..., "target": ..., ...}}}

Rules that make the document — and so its SHA-256 — depend on the content only:
* records are keyed by their natural key (their code; a test run by test case and execution
  time; a link by kind and the codes of its ends), never by database ids, which differ between
  databases and between a load on SQLite and one on PostgreSQL;
* references are natural keys too: users by user name, the policy by name, items by code;
* bookkeeping is left out: ids, `version`, `created_at` / `updated_at`, who created or last
  reviewed a link and the versions it recorded, the storage path of evidence files (the file
  is identified by its SHA-256, which is kept);
* values are canonical (`riskbench.canonical`): UTC ISO datetimes, plain decimals, sorted keys.
So two snapshots of unchanged data are equal, byte for byte, on either database.

`diff(a, b) -> list[Change]` compares two snapshots section by section and key by key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth import get_user_model

from hazards.models import (
    ControlIntroducedHazard,
    Hazard,
    HazardControl,
    HazardTransfer,
    Product,
    RiskControl,
)
from riskbench.canonical import canonical_json, canonical_value, sha256_hex
from traceability.models import LINK_MODELS, Requirement, SoftwareItem, TestCase, TestRun

FORMAT = 1
BOOKKEEPING = {"id", "version", "created_at", "updated_at"}
LINK_BOOKKEEPING = BOOKKEEPING | {
    "source_version",
    "target_version",
    "created_by",
    "reviewed_by",
    "reviewed_at",
    "review_reason",
}
EXCLUDED = {
    "product": BOOKKEEPING,
    "policy": BOOKKEEPING | {"approved_version", "template_version"},
    "hazards": BOOKKEEPING | {"product"},
    "controls": BOOKKEEPING | {"product"},
    "software_items": BOOKKEEPING | {"product"},
    "requirements": BOOKKEEPING | {"product"},
    "test_cases": BOOKKEEPING | {"product"},
    "test_runs": BOOKKEEPING | {"evidence"},
}
# (section, label, model) in the order the sections are shown and diffed.
SECTIONS = [
    ("product", "Product", Product),
    ("policy", "Risk policy", None),
    ("hazards", "Hazards", Hazard),
    ("controls", "Risk controls", RiskControl),
    ("software_items", "Software items", SoftwareItem),
    ("requirements", "Requirements", Requirement),
    ("test_cases", "Test cases", TestCase),
    ("test_runs", "Test runs", TestRun),
    ("links", "Trace links", None),
]
SINGLE_RECORD_SECTIONS = {"product", "policy"}
HAZARD_LINK_MODELS = (HazardControl, ControlIntroducedHazard, HazardTransfer)


def _record(obj, exclude: set[str], refs: dict) -> dict[str, Any]:
    """Concrete fields of `obj` as canonical values; foreign keys as natural keys."""
    data = {}
    for f in obj._meta.concrete_fields:
        if f.name in exclude:
            continue
        value = getattr(obj, f.attname)
        if f.is_relation:
            data[f.name] = None if value is None else refs[f.related_model].get(value, value)
        else:
            data[f.name] = canonical_value(value)
    return data


def _policy_names(policy) -> dict:
    """Natural keys of the policies a snapshot refers to: the product's own and its template."""
    names = {policy.pk: policy.name}
    if policy.template_id:
        names[policy.template_id] = f"template {policy.template.name}"
    return names


def _unique_key(section: dict, key: str) -> str:
    if key not in section:
        return key
    n = 2
    while f"{key} #{n}" in section:
        n += 1
    return f"{key} #{n}"


def snapshot(product: Product) -> dict:
    """The product's whole risk file as canonical JSON data (see the module docstring)."""
    product = Product.objects.select_related("risk_policy__template").get(pk=product.pk)
    hazards = list(Hazard.objects.filter(product=product).order_by("code"))
    controls = list(RiskControl.objects.filter(product=product).order_by("code"))
    items = list(SoftwareItem.objects.filter(product=product).order_by("code"))
    requirements = list(Requirement.objects.filter(product=product).order_by("code"))
    cases = list(TestCase.objects.filter(product=product).order_by("code"))
    runs = list(
        TestRun.objects.filter(test_case__product=product).order_by(
            "test_case_id", "executed_at", "id"
        )
    )
    links = []
    for model in (*HAZARD_LINK_MODELS, *LINK_MODELS):
        links += list(
            model.objects.filter(**{f"{model.SOURCE_FIELD}__product": product}).order_by("pk")
        )

    User = get_user_model()
    user_ids = {h.owner_id for h in hazards} | {r.executed_by_id for r in runs}
    user_ids.discard(None)
    usernames = dict(User.objects.filter(pk__in=user_ids).values_list("pk", User.USERNAME_FIELD))
    codes = {
        Hazard: {h.pk: h.code for h in hazards},
        RiskControl: {c.pk: c.code for c in controls},
        SoftwareItem: {i.pk: i.code for i in items},
        Requirement: {r.pk: r.code for r in requirements},
        TestCase: {c.pk: c.code for c in cases},
    }
    refs = {
        **codes,
        User: usernames,
        Product: {product.pk: product.slug},
        type(product.risk_policy): _policy_names(product.risk_policy),
    }

    data: dict[str, Any] = {
        "format": FORMAT,
        "product": _record(product, EXCLUDED["product"], refs),
        "policy": _record(product.risk_policy, EXCLUDED["policy"], refs),
    }
    for section, rows in (
        ("hazards", hazards),
        ("controls", controls),
        ("software_items", items),
        ("requirements", requirements),
        ("test_cases", cases),
    ):
        data[section] = {row.code: _record(row, EXCLUDED[section], refs) for row in rows}

    data["test_runs"] = {}
    for run in runs:
        record = _record(run, EXCLUDED["test_runs"], refs)
        key = _unique_key(data["test_runs"], f"{record['test_case']} {record['executed_at']}")
        data["test_runs"][key] = record

    data["links"] = {}
    for link in links:
        exclude = LINK_BOOKKEEPING | {link.SOURCE_FIELD, link.TARGET_FIELD}
        source = refs[link._meta.get_field(link.SOURCE_FIELD).related_model][
            getattr(link, f"{link.SOURCE_FIELD}_id")
        ]
        target = refs[link._meta.get_field(link.TARGET_FIELD).related_model][
            getattr(link, f"{link.TARGET_FIELD}_id")
        ]
        record = {"kind": link.KIND, "source": source, "target": target}
        record.update(_record(link, exclude, refs))
        key = f"{link.KIND} {source} → {target}"
        if "cause_type" in record:
            key += f" ({record['cause_type']})"
        data["links"][_unique_key(data["links"], key)] = record
    return data


def snapshot_json(data: dict) -> str:
    """The canonical JSON text of a snapshot: what a baseline stores and hashes."""
    return canonical_json(data)


def snapshot_sha256(data: dict) -> str:
    return sha256_hex(snapshot_json(data))


# --- Diff ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two snapshots.

    section: "product", "policy", "hazards", "controls", "software_items", "requirements",
             "test_cases", "test_runs" or "links";
    key:     the record's natural key ("HAZ-001", "reduces HAZ-001 → RC-001"); for the
             single-record sections, the section name;
    kind:    "added" (only in b), "removed" (only in a) or "changed" (in both, one field differs);
    field:   the changed field's name; None for added / removed records;
    before / after: the canonical values (a whole record for removed / added, else the field's
             values); None where there is nothing.
    """

    section: str
    key: str
    kind: Literal["added", "removed", "changed"]
    field: str | None = None
    before: Any = None
    after: Any = None


def _natural(key: str) -> tuple:
    """Sort HAZ-2 before HAZ-10."""
    parts = []
    for chunk in key.replace("-", " - ").split():
        parts.append((0, int(chunk), "") if chunk.isdecimal() else (1, 0, chunk))
    return tuple(parts)


def _record_changes(section: str, key: str, before: dict, after: dict) -> list[Change]:
    return [
        Change(section, key, "changed", name, before.get(name), after.get(name))
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]


def diff(a: dict, b: dict) -> list[Change]:
    """What changed from snapshot `a` to snapshot `b`, section by section, key by key, field
    by field (fields in name order). Equal snapshots give an empty list."""
    changes: list[Change] = []
    known = [s for s, _, _ in SECTIONS]
    extra = sorted((a.keys() | b.keys()) - set(known) - {"format"})
    for section in known + extra:
        left, right = a.get(section) or {}, b.get(section) or {}
        if section in SINGLE_RECORD_SECTIONS:
            changes += _record_changes(section, section, left, right)
            continue
        for key in sorted(left.keys() | right.keys(), key=_natural):
            if key not in right:
                changes.append(Change(section, key, "removed", None, left[key], None))
            elif key not in left:
                changes.append(Change(section, key, "added", None, None, right[key]))
            else:
                changes += _record_changes(section, key, left[key], right[key])
    return changes


def section_label(section: str) -> str:
    return next((label for s, label, _ in SECTIONS if s == section), section)


def field_label(section: str, name: str) -> str:
    """The field's verbose name where the section maps to one model."""
    model = next((m for s, _, m in SECTIONS if s == section), None)
    if section == "policy":
        model = Product._meta.get_field("risk_policy").related_model  # the reverse one-to-one
    if model is None:
        return name.replace("_", " ")
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a field since removed: its raw name
        return name.replace("_", " ")


def summary(data: dict) -> list[tuple[str, int]]:
    """(section label, number of records) for the multi-record sections."""
    return [
        (label, len(data.get(section) or {}))
        for section, label, _ in SECTIONS
        if section not in SINGLE_RECORD_SECTIONS
    ]


# --- Stored baselines ---------------------------------------------------------------------


def load(baseline) -> dict:
    """A baseline's frozen snapshot."""
    return json.loads(baseline.snapshot_json)


def is_intact(baseline) -> bool:
    """The stored snapshot still hashes to the stored SHA-256."""
    return sha256_hex(baseline.snapshot_json) == baseline.content_sha256


def anchor_holds(baseline) -> bool:
    """The audit-chain entry recorded as head when the baseline was taken still has that hash."""
    from riskbench.audit import chain_name
    from riskbench.models import AuditChainEntry

    if not baseline.audit_chain_seq:
        return True
    return AuditChainEntry.objects.filter(
        chain=chain_name(baseline.product_id),
        seq=baseline.audit_chain_seq,
        row_hash=baseline.audit_chain_hash,
    ).exists()
