"""A whole product's risk management file as one JSON document, and back.

Export: every model of the product (hazards, controls, software items and SOUP, requirements,
test cases, test runs with their evidence files, every kind of trace link, members and the risk
policy), with the fields that history and suspicion depend on (`version`, `status`, `revision`,
the versions each link recorded, who created and reviewed it). Records refer to each other by
code and to users by user name, never by database id, so the file moves between databases.
Fields are read from the models' metadata, so a field added later is exported too.

Import: administrators only (it creates a product), into a new product (the slug must be free),
in one transaction, as a clearly marked bulk restore path. The product gets its own risk policy:
a NEW draft policy with the file's criteria, or a copy of a template the administrator chose —
never a link to an existing policy — so risks are evaluated only once the product's team
approves it with a signature. Memberships are never taken from the file (granting access is an
administrator's act, not a file's claim): the file's member names come back as a warning.
Every record gets one history row "Imported from product export <sha>" with the importing user
(21 CFR 11.10(e)); versions and link versions are restored as they were, so suspect links stay
suspect. Exporting the imported product gives the same records (apart from a changed slug or
name, the members and the policy's approval). Timestamps of creation and last change are not
carried: the new database's history starts with the import. Evidence files are embedded
(base64) once each, keyed by their SHA-256 in `evidence` (a JUnit file shared by 4,000 runs is
stored once, not 4,000 times: issue 13 §2), runs name theirs by `evidence_sha256`, and the
SHA-256 is checked on import (21 CFR 11.10(b)). Version 1 files, with the evidence inside
each run, are still read.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import get_valid_filename
from simple_history.utils import bulk_create_with_history

from hazards import risk
from hazards.models import (
    ControlIntroducedHazard,
    Hazard,
    HazardControl,
    HazardTransfer,
    Product,
    RiskControl,
    RiskPolicy,
)
from hazards.services import apply_estimates, policy_for_new_product
from riskbench import audit, roles
from traceability.integrations.uploads import JSON, UploadError, check_size, parse_json, sniff
from traceability.models import (
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementTest,
    SoftwareItem,
    SoftwareItemHazard,
    TestCase,
    TestRun,
)

FORMAT = "riskbench.product"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: evidence embedded in each run
SKIP = {"id", "product", "created_at", "updated_at"}

# Coded records, in the order they are created (later ones refer to earlier ones).
RECORDS = (
    ("controls", RiskControl),
    ("software_items", SoftwareItem),
    ("requirements", Requirement),
    ("test_cases", TestCase),
    ("hazards", Hazard),
)
LINKS = (
    ("hazard_control", HazardControl),
    ("control_introduces_hazard", ControlIntroducedHazard),
    ("hazard_transfer", HazardTransfer),
    ("control_requirement", ControlRequirement),
    ("requirement_test", RequirementTest),
    ("control_implementation_test", ControlImplementationTest),
    ("control_effectiveness_test", ControlEffectivenessTest),
    ("software_item_hazard", SoftwareItemHazard),
)
PRODUCT_FIELDS_SKIP = SKIP | {"slug", "risk_policy", "members"}


def _fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.name not in SKIP]


def _plain(f: models.Field, value):
    """One field value as JSON: relations by natural key, dates as ISO 8601."""
    if value is None:
        return None
    if f.is_relation:
        if f.related_model is get_user_model():
            return value.get_username()
        return value.code
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(f, models.FileField):
        return None  # evidence is embedded separately
    return value


def _code_key(code: str) -> tuple:
    import re

    match = re.match(r"^(.*?)(\d+)$", code or "")
    return (match[1], int(match[2]), code) if match else (code or "", -1, code or "")


def export_product(product: Product) -> dict:
    """The product as plain data. Query plan: one query per model (with its relations joined)."""
    doc: dict = {"format": FORMAT, "format_version": FORMAT_VERSION}
    doc["product"] = {
        f.name: _plain(f, getattr(product, f.name))
        for f in Product._meta.concrete_fields
        if f.name not in PRODUCT_FIELDS_SKIP
    }
    doc["product"]["slug"] = product.slug
    policy = RiskPolicy.objects.select_related("template").get(product=product)
    doc["risk_policy"] = {
        f.name: _plain(f, getattr(policy, f.name)) for f in _fields(RiskPolicy) if not f.is_relation
    }
    doc["risk_policy"]["template"] = policy.template.name if policy.template_id else None
    doc["members"] = sorted(
        m.user.get_username() for m in product.memberships.select_related("user")
    )
    for key, model in RECORDS:
        related = [f.name for f in _fields(model) if f.is_relation]
        rows = model.objects.filter(product=product).select_related(*related)
        doc[key] = sorted(
            ({f.name: _plain(f, getattr(r, f.name)) for f in _fields(model)} for r in rows),
            key=lambda row: _code_key(row["code"]),
        )
    runs = []
    evidence: dict[str, str] = {}  # SHA-256 → base64: each file once, however many runs
    read_files: dict[str, str] = {}  # stored file name → its SHA-256 (each file read once)
    run_fields = [f for f in _fields(TestRun) if not isinstance(f, models.FileField)]
    for run in TestRun.objects.filter(test_case__product=product).select_related(
        "test_case", "executed_by"
    ):
        row = {f.name: _plain(f, getattr(run, f.name)) for f in run_fields}
        if run.evidence:
            sha = read_files.get(run.evidence.name) or run.evidence_sha256
            if sha not in evidence:
                with run.evidence.open("rb") as handle:
                    blob = handle.read()
                sha = hashlib.sha256(blob).hexdigest()
                evidence[sha] = base64.b64encode(blob).decode("ascii")
            read_files[run.evidence.name] = sha
            row["evidence_sha256"] = sha
        runs.append(row)
    doc["evidence"] = evidence
    doc["test_runs"] = sorted(
        runs, key=lambda r: (_code_key(r["test_case"]), r["executed_at"], r["evidence_sha256"])
    )
    doc["links"] = {}
    for key, model in LINKS:
        source = model._meta.get_field(model.SOURCE_FIELD)
        product_filter = {f"{model.SOURCE_FIELD}__product": product}
        related = [f.name for f in _fields(model) if f.is_relation]
        rows = [
            {f.name: _plain(f, getattr(link, f.name)) for f in _fields(model)}
            for link in model.objects.filter(**product_filter).select_related(*related)
        ]
        doc["links"][key] = sorted(
            rows,
            key=lambda r, s=source.name, t=model.TARGET_FIELD: (
                _code_key(r[s]),
                _code_key(r[t]),
                r.get("cause_type", ""),
            ),
        )
    return doc


def dumps(doc: dict) -> bytes:
    """Canonical text: same data, same bytes."""
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def export_product_json(product: Product) -> bytes:
    return dumps(export_product(product))


# --- Import -------------------------------------------------------------------------------------


@dataclass
class ProductImportResult:
    product: Product
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _value(f: models.Field, raw, where: str):
    if raw is None:
        return None
    if isinstance(f, models.DateTimeField):
        value = parse_datetime(raw) if isinstance(raw, str) else None
        if value is None:
            raise UploadError(f"{where}: {f.name} {raw!r} is not a date and time.", field=f.name)
        return value
    if isinstance(f, models.DateField):
        value = parse_date(raw) if isinstance(raw, str) else None
        if value is None:
            raise UploadError(f"{where}: {f.name} {raw!r} is not a date.", field=f.name)
        return value
    if isinstance(f, models.DecimalField):
        try:
            return decimal.Decimal(str(raw))
        except decimal.InvalidOperation as exc:
            raise UploadError(f"{where}: {f.name} {raw!r} is not a number.") from exc
    return raw


class _Loader:
    def __init__(self, doc: dict, by, reason: str):
        self.doc = doc
        self.by = by
        self.reason = reason
        self.users = {u.get_username(): u for u in get_user_model().objects.all()}
        self.written: list = []  # historied models written through the bulk path, in order
        self.warnings: list[str] = []
        self.codes: dict[type, dict[str, models.Model]] = {}

    def user(self, name, where: str):
        if name is None:
            return None
        user = self.users.get(name)
        if user is None:
            self.warnings.append(f"{where}: user {name!r} does not exist here; left empty.")
        return user

    def build(self, model, raw: dict, where: str, **extra) -> models.Model:
        if not isinstance(raw, dict):
            raise UploadError(f"{where}: expected an object.")
        values = dict(extra)
        for f in _fields(model):
            if f.name in values or isinstance(f, models.FileField):
                continue
            if f.name not in raw:
                if f.has_default() or f.null or f.blank:
                    continue
                raise UploadError(f"{where}: missing field {f.name!r}.", field=f.name)
            item = raw[f.name]
            if f.is_relation:
                if f.related_model is get_user_model():
                    values[f.name] = self.user(item, where)
                elif item is None:
                    values[f.name] = None
                else:
                    target = self.codes.get(f.related_model, {}).get(item)
                    if target is None:
                        raise UploadError(
                            f"{where}: {f.name} refers to {item!r}, which is not in the file.",
                            field=f.name,
                        )
                    values[f.name] = target
            else:
                values[f.name] = _value(f, item, where)
        record = model(**values)
        exclude = [f.name for f in _fields(model) if f.is_relation] + ["product"]
        try:
            record.clean_fields(exclude=exclude)
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise UploadError(f"{where}: {problems}") from exc
        return record

    def create(self, model, records: list) -> list:
        if model not in self.written:
            self.written.append(model)
        return bulk_create_with_history(
            records, model, batch_size=500, default_user=self.by, default_change_reason=self.reason
        )


def _depth_order(rows: list[dict]) -> list[list[dict]]:
    """Rows grouped by depth in their parent tree, so parents are created first."""
    by_code = {r.get("code"): r for r in rows}
    depth: dict[str, int] = {}

    def depth_of(code, trail=()):
        if code in depth:
            return depth[code]
        parent = by_code[code].get("parent")
        if parent is None or parent not in by_code:
            depth[code] = 0
        elif parent in trail:
            raise UploadError(f"{code}: its parents form a cycle.")
        else:
            depth[code] = depth_of(parent, (*trail, code)) + 1
        return depth[code]

    levels: dict[int, list[dict]] = {}
    for row in rows:
        levels.setdefault(depth_of(row.get("code")), []).append(row)
    return [levels[d] for d in sorted(levels)]


def _policy_criteria(doc: dict) -> dict:
    """The file's acceptability criteria, checked before anything is written."""
    raw = doc.get("risk_policy")
    if not isinstance(raw, dict) or "name" not in raw:
        raise UploadError("The file has no risk_policy.")
    missing = [name for name in risk.PolicyData.POLICY_FIELDS if name not in raw]
    if missing:
        raise UploadError(f"risk_policy: missing {', '.join(missing)}.", field=missing[0])
    wanted = {name: raw[name] for name in risk.PolicyData.POLICY_FIELDS}
    try:
        errors = risk.validate_policy(risk.PolicyData(**wanted))
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise UploadError(f"risk_policy: malformed criteria ({exc}).") from exc
    if errors:
        raise UploadError(f"risk_policy: {errors[0][0]}: {errors[0][1]}")
    return {
        "name": str(raw.get("name") or "Imported risk policy")[:200],
        "description": str(raw.get("description") or ""),
        **wanted,
    }


def parse_document(data: bytes) -> dict:
    check_size(len(data))
    if sniff(data) != JSON:
        raise UploadError("A product export is a JSON file.")
    doc = parse_json(data, what="product export")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UploadError(f'This JSON is not a RiskBench product export ("format": "{FORMAT}").')
    if doc.get("format_version") not in READABLE_VERSIONS:
        raise UploadError(
            f"Unsupported product export version {doc.get('format_version')!r} "
            f"(this RiskBench reads version {FORMAT_VERSION})."
        )
    return doc


@transaction.atomic
def import_product(
    *,
    data: bytes,
    by,
    slug: str | None = None,
    name: str | None = None,
    template: RiskPolicy | None = None,
) -> ProductImportResult:
    """Create a new product from an export. All or nothing; administrators only.

    Its risk policy is a new draft with the file's criteria, or a copy of `template`."""
    roles.require_administrator(by)
    doc = parse_document(data)
    sha = hashlib.sha256(data).hexdigest()
    loader = _Loader(doc, by, f"Imported from product export {sha[:12]}")
    raw_product = doc.get("product")
    if not isinstance(raw_product, dict):
        raise UploadError("The file has no product.")
    slug = slug or raw_product.get("slug") or ""
    if not slug:
        raise UploadError("The product has no slug; give one.")
    if Product.objects.filter(slug=slug).exists():
        raise UploadError(
            f"A product with the slug {slug!r} exists already; import under another slug."
        )
    criteria = None if template is not None else _policy_criteria(doc)
    product = loader.build(
        Product,
        {**raw_product, **({"name": name} if name else {})},
        "product",
        slug=slug,
    )
    product.full_clean()
    product = loader.create(Product, [product])[0]
    counts = {"products": 1}
    try:
        policy = policy_for_new_product(product, by=by, template=template, criteria=criteria)
    except ValidationError as exc:
        raise UploadError(f"risk_policy: {'; '.join(exc.messages)}") from exc

    listed = doc.get("members") or []
    if listed:
        names = ", ".join(str(n) for n in listed) if isinstance(listed, list) else str(listed)
        loader.warnings.append(
            f"members: not imported ({names}); an administrator gives people access to the "
            "new product."
        )
    counts["members"] = 0

    policy_data = policy.evaluation_data
    for key, model in RECORDS:
        rows = doc.get(key) or []
        if not isinstance(rows, list):
            raise UploadError(f"{key} must be a list.")
        codes = loader.codes.setdefault(model, {})
        seen = set()
        for row in rows:
            code = row.get("code") if isinstance(row, dict) else None
            if not code or code in seen:
                raise UploadError(f"{key}: missing or duplicate code {code!r}.")
            seen.add(code)
        levels = _depth_order(rows) if "parent" in {f.name for f in _fields(model)} else [rows]
        for level in levels:
            records = []
            for row in level:
                where = f"{key} {row['code']}"
                record = loader.build(model, row, where, product=product)
                if model is Hazard:
                    try:
                        apply_estimates(record, policy_data)
                    except ValidationError as exc:
                        raise UploadError(f"{where}: {'; '.join(exc.messages)}") from exc
                    if record.cvss_base_score is not None:
                        record.cvss_base_score = decimal.Decimal(str(record.cvss_base_score))
                records.append(record)
            for record in loader.create(model, records):
                codes[record.code] = record
        counts[key] = len(rows)

    runs = []
    stored = []
    files = doc.get("evidence") or {}
    if not isinstance(files, dict):
        raise UploadError("evidence: expected an object of SHA-256 → base64 file.")
    saved: dict[str, str] = {}  # SHA-256 → stored name: each file stored once
    try:
        for index, row in enumerate(doc.get("test_runs") or [], start=1):
            where = f"test run {index}"
            run = loader.build(TestRun, row, where)
            content = row.get("evidence")  # version 1: inside the run
            if content is None and run.evidence_sha256 and doc.get("format_version") != 1:
                if run.evidence_sha256 in saved:
                    run.evidence.name = saved[run.evidence_sha256]
                    runs.append(run)
                    continue
                content = files.get(run.evidence_sha256)
                if content is None and row.get("evidence_name"):
                    raise UploadError(
                        f"{where}: evidence {run.evidence_sha256} is not in the file's evidence."
                    )
            if content:
                try:
                    blob = base64.b64decode(content, validate=True)
                except ValueError as exc:
                    raise UploadError(f"{where}: the evidence is not valid base64.") from exc
                if hashlib.sha256(blob).hexdigest() != run.evidence_sha256:
                    raise UploadError(
                        f"{where}: the evidence does not match its SHA-256; the file was altered."
                    )
                filename = get_valid_filename(run.evidence_name or "evidence")[:120]
                name = default_storage.save(
                    f"evidence/{product.slug}/{run.test_case.code}/{filename}", ContentFile(blob)
                )
                stored.append(name)
                saved[run.evidence_sha256] = name
                run.evidence.name = name
            runs.append(run)
        loader.create(TestRun, runs)
        counts["test_runs"] = len(runs)

        links = doc.get("links") or {}
        for key, model in LINKS:
            records = [loader.build(model, row, f"{key} link") for row in links.get(key) or []]
            loader.create(model, records)
            counts[key] = len(records)
        # The bulk helpers send no signal: chain every history row written above, in this
        # transaction, so the audit trail never has an unchained row (21 CFR 11.10(e)).
        audit.chain_pending(models=loader.written)
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return ProductImportResult(product=product, counts=counts, warnings=loader.warnings)
