"""A whole risk file as one workbook: map, plan and import (issue 13). Reading is in
`workbook_read.py`, the export in `workbook_export.py`, the pages in `workbook_views.py`.

Quality teams keep a risk file in Excel, one sheet per record type, link columns holding the
codes of the linked records. RiskBench reads and writes that shape:

* an .xlsx with sheets Hazards, Controls, Requirements, Tests (Runs optional), or a folder or
  .zip of hazards.csv, controls.csv, requirements.csv, tests.csv (runs.csv optional);
* plain English headers without a mapping (`id, title, hazard_ids…`); a mapping file renames
  columns and maps source values (`--mapping`, see `mappings.py`);
* codes kept exactly as the source wrote them (`1.10.3`, `GIP 1.1`, `REQ-000123`) under the one
  code rule of `riskbench.codes`; link cells hold codes separated by `;`.

The import plans every sheet in memory first — create, update, unchanged or reject, each
rejection with sheet, row, column and reason; every dangling reference named by its code — and
writes only when nothing is rejected, in one transaction (all or nothing). The Hazards sheet is
planned and written by the hazard-log import itself (`hazard_table.plan_import` /
`write_plan`), so both routes apply the same policy checks (ISO 14971 4.4 d, 5.5). The other
records are written in bulk with simple-history's helpers: one history row per created or
changed record with the importer and the reason (21 CFR 11.10(e)); a record whose values do not
change is not written, so importing the same file twice changes nothing. Imported records are
drafts authored by the importer; an approved record an import changes goes back to review.
Existing links are kept: removing one is a deliberate act in the UI.

Performance (issue 13 §3, profiled with cProfile on 1,000 hazards ≈ 27,000 records): records,
history rows and chain entries are written by `riskbench.bulk` (prepared INSERTs, history rows
hashed from memory; simple-history's helpers and `chain_pending` took ≈80 % of the time);
planning is a fixed number of queries per sheet. Links are built from ids, updates are grouped
by the fields they change.

`export_workbook` writes the same shape, so export → import into a new product → export gives
the same workbook, cell by cell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from hazards.models import (
    ControlIntroducedHazard,
    ControlOption,
    Hazard,
    HazardControl,
    ImplementationStatus,
    Product,
    RiskControl,
    SecurityControlCategory,
)
from riskbench import audit, bulk
from riskbench.codes import code_problem, split_codes, title_problem
from riskbench.models import Status
from riskbench.services import claim_next_versions
from traceability.integrations import hazard_table
from traceability.integrations.confirm import lock_rows
from traceability.integrations.hazard_table import (
    CREATE,
    REJECT,
    UNCHANGED,
    UPDATE,
    Formula,
    Table,
    _choice_lookup,
    is_blank_marker,
    normalise_header,
)
from traceability.integrations.uploads import UploadError
from traceability.integrations.workbook_read import (  # noqa: F401 - re-exported: the one entry point
    CONTROLS,
    HAZARDS,
    REQUIREMENTS,
    RUNS,
    SHEETS,
    TESTS,
    Source,
    read_bytes,
    read_folder,
    read_source,
    read_xlsx,
    read_zip,
)
from traceability.models import (
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementLevel,
    RequirementTest,
    SoftwareItem,
    TestCase,
    TestLevel,
    TestMethod,
    TestResult,
    TestRun,
)

# --- Columns of the sheets other than Hazards ------------------------------------------------

TEXT, CHOICE, CODE, CODES, PARENT, WHEN, ITEM = (
    "text",
    "choice",
    "code",
    "codes",
    "parent",
    "when",
    "item",
)


@dataclass(frozen=True)
class Col:
    """One column of a sheet: `name` is the header the export writes and the import reads."""

    name: str
    kind: str
    attr: str = ""  # model field (TEXT, CHOICE) or link target sheet (CODES, PARENT)
    synonyms: tuple[str, ...] = ()
    choices: type | None = None
    max_length: int | None = None


ID = Col("id", CODE, "code", ("code", "ref", "reference", "identifier", "key", "no", "number"))
TITLE = Col("title", TEXT, "title", ("name", "summary", "short description"), max_length=200)

COLUMNS: dict[str, tuple[Col, ...]] = {
    CONTROLS: (
        ID,
        TITLE,
        Col("type", CHOICE, "option", ("option", "control type", "control option",
            "risk control option"), ControlOption),
        Col("description", TEXT, "description", ("text", "details", "measure")),
        Col("security_category", CHOICE, "security_category", ("security control category",
            "control category"), SecurityControlCategory),
        Col("implementation_status", CHOICE, "implementation_status", ("status",
            "implementation"), ImplementationStatus),
        Col("hazard_ids", CODES, HAZARDS, ("hazards", "hazard id", "hazard", "reduces",
            "hazard codes")),
        Col("introduces_hazard_ids", CODES, HAZARDS, ("introduces", "introduced hazards",
            "new hazards")),
        Col("implementation_test_ids", CODES, TESTS, ("implementation tests",
            "implementation verification")),
        Col("effectiveness_test_ids", CODES, TESTS, ("effectiveness tests",
            "effectiveness verification")),
    ),
    REQUIREMENTS: (
        ID,
        TITLE,
        Col("text", TEXT, "text", ("requirement", "requirement text", "description",
            "statement", "shall")),
        Col("level", CHOICE, "level", ("requirement level", "type"), RequirementLevel),
        Col("rationale", TEXT, "rationale", ("reason", "justification")),
        Col("parent_id", PARENT, REQUIREMENTS, ("parent", "parent requirement", "derived from")),
        Col("control_ids", CODES, CONTROLS, ("controls", "control id", "risk controls",
            "risk control ids", "implements")),
        Col("software_item_id", ITEM, "software_item_id", ("software item",
            "software item id", "implemented in", "component")),
    ),
    TESTS: (
        ID,
        TITLE,
        Col("method", CHOICE, "method", ("test method", "verification method"), TestMethod),
        Col("level", CHOICE, "level", ("test level",), TestLevel),
        Col("procedure", TEXT, "procedure", ("steps", "description", "test procedure")),
        Col("requirement_ids", CODES, REQUIREMENTS, ("requirements", "requirement id",
            "requirement", "verifies", "requirement codes")),
        Col("result", CHOICE, "result", ("outcome", "verdict", "status"), TestResult),
        Col("date", WHEN, "executed_at", ("executed at", "executed", "run date", "date run")),
    ),
    RUNS: (
        Col("test_id", CODE, "test", ("test", "test case", "test code", "test case id")),
        Col("result", CHOICE, "result", ("outcome", "verdict", "status"), TestResult),
        Col("date", WHEN, "executed_at", ("executed at", "executed", "run date", "timestamp")),
        Col("software_version", TEXT, "software_version", ("version", "build",
            "software version tested"), max_length=100),
        Col("notes", TEXT, "notes", ("comment", "comments")),
        Col("external_reference", TEXT, "external_reference", ("reference", "ci job", "url",
            "report"), max_length=300),
    ),
}  # fmt: skip
MODELS = {CONTROLS: RiskControl, REQUIREMENTS: Requirement, TESTS: TestCase}
# Link columns → (link model, field of this sheet's record, field of the linked record).
LINKS = {
    (CONTROLS, "hazard_ids"): (HazardControl, "control", "hazard"),
    (CONTROLS, "introduces_hazard_ids"): (ControlIntroducedHazard, "control", "hazard"),
    (CONTROLS, "implementation_test_ids"): (ControlImplementationTest, "control", "test_case"),
    (CONTROLS, "effectiveness_test_ids"): (ControlEffectivenessTest, "control", "test_case"),
    (REQUIREMENTS, "control_ids"): (ControlRequirement, "requirement", "control"),
    (TESTS, "requirement_ids"): (RequirementTest, "test_case", "requirement"),
}
SHEET_OF_END = {
    "hazard": HAZARDS,
    "control": CONTROLS,
    "requirement": REQUIREMENTS,
    "test_case": TESTS,
}
# Hazards sheet: the hazard-log columns under their plain names ("id" for the code). Owner is
# left out: who owns a record is asserted in RiskBench by a person, not by a file.
HAZARD_FIELDS = [
    c.name
    for c in hazard_table.FIELD_COLUMNS
    if c.name not in {"owner"}  # attribution is never taken from a file
]
HAZARD_HEADERS = ["id" if n == "code" else n for n in HAZARD_FIELDS]
HAZARD_REQUIREMENTS = "requirement_ids"  # hazards linked straight to requirements
CHOICE_LOOKUPS = {
    (sheet, c.name): _choice_lookup(c.choices)
    for sheet, cols in COLUMNS.items()
    for c in cols
    if c.choices
}
# Said once per import, not once per row: what a missing optional value is read as.
DEFAULTS = {
    (CONTROLS, "implementation_status"): ImplementationStatus.PLANNED,
    (REQUIREMENTS, "level"): RequirementLevel.SOFTWARE,
    (TESTS, "method"): TestMethod.TEST,
    (TESTS, "level"): TestLevel.SYSTEM,
}
REQUIRED_ON_CREATE = {
    CONTROLS: ("title", "type"),
    REQUIREMENTS: ("title", "text"),
    TESTS: ("title",),
}


def _synonyms(sheet: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for col in COLUMNS[sheet]:
        for term in (col.name, col.name.replace("_", " "), *col.synonyms):
            lookup.setdefault(normalise_header(term), col.name)
    return lookup


SYNONYMS = {sheet: _synonyms(sheet) for sheet in COLUMNS}


def suggest_mapping(sheet: str, headers: list[str]) -> dict[str, str]:
    """Column name → header of the file, from plain English header names."""
    if sheet == HAZARDS:
        mapping = hazard_table.suggest_mapping(headers)
        for name in ("controls", "requirements", "owner"):
            mapping.pop(name, None)
        for header in headers:
            if normalise_header(header) in {"requirement ids", "requirements", "requirement id"}:
                mapping[HAZARD_REQUIREMENTS] = header
        return mapping
    mapping: dict[str, str] = {}
    for header in headers:
        name = SYNONYMS[sheet].get(normalise_header(header))
        if name and name not in mapping:
            mapping[name] = header
    return mapping


# --- Mapping: columns and value maps ------------------------------------------------------------


def apply_mapping(source: Source, mapping: dict | None) -> tuple[dict[str, dict], list[str]]:
    """Column map per sheet (name → header), after applying the mapping's value maps to the
    tables. A source value that a value map does not list rejects its row (never guessed).

    Mapping document (JSON): {"sheets": {"Hazards": {"columns": {"category": "Type"},
    "values": {"Type": {"Electrical": {"category": "safety", "hazard_type": "energy"}}}}}}.
    A value map entry is either a value for the column's own field or an object giving values
    for several fields: one source column can fill category and hazard type.
    """
    sheets_doc = (mapping or {}).get("sheets", {})
    unknown = [s for s in sheets_doc if s not in SHEETS]
    if unknown:
        raise UploadError(f"The mapping names unknown sheet(s) {unknown}; use {list(SHEETS)}.")
    maps, notes = {}, []
    for sheet, table in source.tables.items():
        doc = sheets_doc.get(sheet, {})
        given = doc.get("columns", {})
        # The file's own choices win: a header it maps is not also guessed for another field.
        suggested = {
            name: header
            for name, header in suggest_mapping(sheet, table.headers).items()
            if header not in given.values()
        }
        columns = {**suggested, **given}
        columns = {k: v for k, v in columns.items() if v}
        for name, header in columns.items():
            if header not in table.headers:
                raise UploadError(
                    f"Sheet {sheet}: the mapping expects a column {header!r} for {name}, but the "
                    f"sheet has no such column.",
                    field=header,
                )
        for header, value_map in doc.get("values", {}).items():
            _apply_value_map(sheet, table, header, value_map, columns)
        used = set(columns.values()) | set(doc.get("values", {}))
        notes.extend(
            f"Sheet {sheet}: column {h!r} is not imported (no field of that name; map it in "
            f"--mapping to import it)."
            for h in table.headers
            if h not in used
        )
        maps[sheet] = columns
    return maps, notes


def _apply_value_map(sheet, table: Table, header: str, value_map: dict, columns: dict) -> None:
    if header not in table.headers:
        raise UploadError(f"Sheet {sheet}: the mapping has values for a column {header!r} that "
                          f"the sheet does not have.", field=header)  # fmt: skip
    own = next((name for name, h in columns.items() if h == header), None)
    targets: list[str] = []
    for target in value_map.values():
        for name in target if isinstance(target, dict) else [own]:
            if name is None:
                raise UploadError(
                    f"Sheet {sheet}: the value map of {header!r} gives a bare value but the "
                    f"column is not mapped to a field; give {{field: value}} objects."
                )
            if name not in targets:
                targets.append(name)
    lookup = {normalise_header(str(k)): v for k, v in value_map.items()}
    index = table.headers.index(header)
    new_headers = {name: f"{header} → {name}" for name in targets if name != own}
    for name, new_header in new_headers.items():
        table.headers.append(new_header)
        columns[name] = new_header
    for number, cells in table.rows:
        raw = cells[index]
        target = lookup.get(normalise_header(str(raw))) if str(raw).strip() else None
        if str(raw).strip() and target is None:
            table.row_errors.setdefault(
                number,
                (header, f"{raw!r} is not in the mapping's value map for {header!r} "
                         f"({', '.join(map(repr, value_map))}); nothing is guessed."),
            )  # fmt: skip
        values = target if isinstance(target, dict) else {own: target} if target else {}
        if own is not None:
            cells[index] = str(values.get(own, "")) if target is not None else cells[index]
        cells.extend(str(values.get(name, "") or "") for name in new_headers)


# --- Planning ---------------------------------------------------------------------------------


@dataclass
class RecordRow:
    """What the import does with one row of a Controls, Requirements, Tests or Runs sheet."""

    sheet: str
    row: int
    code: str = ""
    action: str = REJECT
    errors: list[tuple[str, str]] = field(default_factory=list)
    values: dict = field(default_factory=dict)  # field → value to set
    changed: tuple[str, ...] = ()
    links: dict[str, list[str]] = field(default_factory=dict)  # link column → codes
    parent: str | None = None  # requirement parent code ("" clears it)
    record: object = None
    run: dict | None = None  # a run recorded by this row (Tests: result + date; Runs)
    defaulted: list[str] = field(default_factory=list)  # columns read as their default


@dataclass
class WorkbookPlan:
    source: str
    hazards: hazard_table.ImportPlan | None
    rows: dict[str, list[RecordRow]]
    notes: list[str] = field(default_factory=list)
    implied_controls: list[tuple[str, list[str]]] = field(default_factory=list)
    dangling: list[tuple[str, int, str, str]] = field(default_factory=list)  # sheet,row,col,code
    new_links: dict[type, list[tuple[str, str]]] = field(default_factory=dict)
    new_runs: list[RecordRow] = field(default_factory=list)
    implied_control_type: str = ControlOption.PROTECTIVE_MEASURE
    implied_hazard_links: list[tuple[str, str]] = field(default_factory=list)  # control, hazard
    implied_requirement_links: list[tuple[str, str]] = field(default_factory=list)
    written: bool = False

    def rejections(self) -> list[tuple[str, int, str, str]]:
        """(sheet, row, column, reason) for every problem, sheet by sheet in file order."""
        out = []
        if self.hazards:
            out += [(HAZARDS, r, c, why) for r, c, why in self.hazards.rejections]
        for sheet, rows in self.rows.items():
            out += [(sheet, r.row, c, why) for r in rows for c, why in r.errors]
        return out

    def ignored(self) -> list[tuple[str, int, str, str]]:
        return [(HAZARDS, r, c, why) for r, c, why in self.hazards.ignored] if self.hazards else []

    @property
    def ok(self) -> bool:
        return not self.rejections()

    def counts(self) -> dict[str, dict[str, int]]:
        counts = {}
        if self.hazards:
            counts[HAZARDS] = {
                CREATE: self.hazards.created,
                UPDATE: self.hazards.updated,
                UNCHANGED: self.hazards.unchanged,
                REJECT: self.hazards.rejected,
            }
        for sheet, rows in self.rows.items():
            counts[sheet] = {a: sum(1 for r in rows if r.action == a) for a in
                             (CREATE, UPDATE, UNCHANGED, REJECT)}  # fmt: skip
        return counts

    @property
    def created(self) -> int:
        return sum(c[CREATE] for c in self.counts().values()) + len(self.implied_controls)

    @property
    def updated(self) -> int:
        return sum(c[UPDATE] for c in self.counts().values())

    @property
    def link_count(self) -> int:
        return sum(len(v) for v in self.new_links.values())

    def summary(self) -> str:
        parts = []
        create, update = ("created", "updated") if self.written else ("to create", "to update")
        for sheet, c in self.counts().items():
            parts.append(
                f"{sheet}: {c[CREATE]} {create}, {c[UPDATE]} {update}, {c[UNCHANGED]} "
                f"unchanged, {c[REJECT]} rejected"
            )
        if self.implied_controls:
            parts.append(f"{len(self.implied_controls)} implied risk control(s) {create}")
        parts.append(f"{self.link_count} new link(s), {len(self.new_runs)} new run(s)")
        return "; ".join(parts)

    def fingerprint(self) -> str:
        """Digest of what the plan would do and of the versions it saw: a confirmation is
        refused when it differs from the previewed one (something moved since)."""
        digest = hashlib.sha256()
        for sheet, rows in sorted(self.rows.items()):
            for r in rows:
                version = getattr(r.record, "version", 0) if r.action != CREATE else 0
                digest.update(f"{sheet}|{r.code}|{r.action}|{version}|{r.changed}\n".encode())
        if self.hazards:
            for r in self.hazards.rows:
                version = r.hazard.version if r.hazard is not None else 0
                digest.update(f"H|{r.code}|{r.action}|{version}|{r.changes}\n".encode())
        digest.update(self.summary().encode())
        return digest.hexdigest()[:32]


class WorkbookRefused(UploadError):
    """Rows were rejected: nothing was written. `plan` lists every rejection."""

    def __init__(self, plan: WorkbookPlan):
        rejections = plan.rejections()
        sheet, row, column, reason = rejections[0]
        super().__init__(
            f"{len(rejections)} problem(s), nothing was imported. First: sheet {sheet}, row "
            f"{row}, column {column!r}: {reason}"
        )
        self.plan = plan


def _parse_when(raw: str) -> dt.datetime:
    """ISO 8601 date or date and time; a time without zone is read as UTC, a date alone as
    midnight UTC (the workbook export writes UTC with its offset)."""
    value = parse_datetime(raw.replace(" ", "T", 1)) if "T" in raw or ":" in raw else None
    if value is None:
        day = parse_date(raw[:10]) if len(raw) >= 10 else None
        if day is None or raw[10:].strip(" T0:"):
            raise ValueError(f"{raw!r} is not an ISO 8601 date (2026-03-01 or 2026-03-01T10:00Z).")
        value = dt.datetime.combine(day, dt.time())
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    if value > timezone.now() + dt.timedelta(days=1):
        raise ValueError(f"{raw} is in the future.")
    return value.astimezone(dt.UTC)


def _parse_row(
    sheet: str, cols, cells, index: dict[str, int], existing, items: dict, dangling: list
) -> RecordRow:
    """Values of one row by column; errors recorded on the row, never raised."""
    row = RecordRow(sheet=sheet, row=0)
    for col in cols:
        i = index.get(col.name)
        if i is None:
            continue
        raw = cells[i]
        if isinstance(raw, Formula):
            row.errors.append((col.name, "Formula cells are not evaluated; paste the value."))
            continue
        raw = raw.strip()
        if col.kind == CODE:
            row.code = raw
            continue
        if col.kind in (CODES, PARENT):
            if is_blank_marker(raw) and col.kind == PARENT:
                row.parent = ""
            elif col.kind == PARENT:
                row.parent = raw or None
            else:
                row.links[col.name] = split_codes(raw)
            continue
        if raw == "" and existing is not None:
            continue  # an empty cell keeps the stored value: only <blank> clears it
        if is_blank_marker(raw):
            raw = ""
        try:
            if col.kind == TEXT:
                if col is TITLE and title_problem(raw, code=row.code):
                    raise ValueError(title_problem(raw, code=row.code))
                if col.max_length and len(raw) > col.max_length:
                    raise ValueError(f"At most {col.max_length} characters ({len(raw)}).")
                value = raw
            elif col.kind == CHOICE:
                value = CHOICE_LOOKUPS[(sheet, col.name)].get(normalise_header(raw)) if raw else ""
                if value is None:
                    allowed = ", ".join(v for v, _ in col.choices.choices)
                    raise ValueError(f"Unknown {col.name} {raw!r}; use one of: {allowed}.")
            elif col.kind == WHEN:
                value = _parse_when(raw) if raw else None
            elif col.kind == ITEM:  # IEC 62304 5.3: the software item that implements it
                value = items.get(raw) if raw else None
                if raw and value is None:
                    dangling.append((col.name, raw))
                    raise ValueError(
                        f"Dangling reference {raw}: no software item with this code in the "
                        f"product (software items are not created by an import)."
                    )
            else:  # pragma: no cover
                raise AssertionError(col.kind)
        except ValueError as exc:
            row.errors.append((col.name, str(exc)))
            continue
        row.values[col.attr] = value
    return row


def _known(existing: dict, planned: list[RecordRow]) -> set[str]:
    return set(existing) | {r.code for r in planned if r.code and r.action != REJECT}


def plan_workbook(
    product: Product,
    source: Source,
    mapping: dict | None = None,
    *,
    implied_controls: bool = False,
    implied_control_type: str = ControlOption.PROTECTIVE_MEASURE,
) -> WorkbookPlan:
    """Decide, without writing, what importing `source` into `product` would do."""
    maps, notes = apply_mapping(source, mapping)
    notes = source.ignored + notes
    plan = WorkbookPlan(
        source=source.name,
        hazards=None,
        rows={},
        notes=notes,
        implied_control_type=implied_control_type,
    )

    existing = {
        HAZARDS: {h.code: h for h in Hazard.objects.filter(product=product)},
        CONTROLS: {c.code: c for c in RiskControl.objects.filter(product=product)},
        REQUIREMENTS: {r.code: r for r in Requirement.objects.filter(product=product)},
        TESTS: {t.code: t for t in TestCase.objects.filter(product=product)},
        "items": dict(SoftwareItem.objects.filter(product=product).values_list("code", "pk")),
    }
    hazard_links_to_requirements: dict[str, list[str]] = {}
    if HAZARDS in source.tables:
        table = source.tables[HAZARDS]
        columns = dict(maps[HAZARDS])
        requirement_header = columns.pop(HAZARD_REQUIREMENTS, None)
        columns["code"] = columns.pop("id", columns.get("code", ""))
        if not columns["code"]:
            raise UploadError("Sheet Hazards has no id column; the other sheets link by it.")
        plan.hazards = hazard_table.plan_import(product, table, columns)
        if requirement_header:
            req_index = table.headers.index(requirement_header)
            for (_, cells), row_plan in zip(table.rows, plan.hazards.rows, strict=True):
                codes = split_codes(str(cells[req_index]))
                if codes and row_plan.code:
                    hazard_links_to_requirements[row_plan.code] = codes
        for row_plan in plan.hazards.rows:
            if row_plan.action != REJECT and not row_plan.code:
                row_plan.errors.append((columns["code"], "An id is required: sheets link by it."))
                row_plan.action = REJECT

    for sheet in (CONTROLS, REQUIREMENTS, TESTS, RUNS):
        if sheet in source.tables:
            plan.rows[sheet] = _plan_sheet(
                sheet, source.tables[sheet], maps[sheet], existing, plan.dangling
            )

    # Which codes exist once the import is done: the product's and the file's.
    hazard_codes = set(existing[HAZARDS]) | (
        {r.code for r in plan.hazards.rows if r.code} if plan.hazards else set()
    )
    known = {
        HAZARDS: hazard_codes,
        CONTROLS: _known(existing[CONTROLS], plan.rows.get(CONTROLS, [])),
        REQUIREMENTS: _known(existing[REQUIREMENTS], plan.rows.get(REQUIREMENTS, [])),
        TESTS: _known(existing[TESTS], plan.rows.get(TESTS, [])),
    }
    if hazard_links_to_requirements:
        if not implied_controls:
            first = next(iter(hazard_links_to_requirements))
            plan.hazards.rows[0].errors.append((
                "requirement_ids",
                f"Hazards link straight to requirements ({first} → "
                f"{'; '.join(hazard_links_to_requirements[first])}) but ISO 14971 7.1 links a "
                f"hazard to a risk control that a requirement implements. Import with "
                f"--implied-controls to create one implied risk control per hazard, labelled "
                f"as such, or add a Controls sheet.",
            ))  # fmt: skip
            plan.hazards.rows[0].action = REJECT
        else:
            _plan_implied_controls(plan, hazard_links_to_requirements, known, existing)
    _check_references(plan, known)
    _plan_links(product, plan, existing)
    _plan_runs(plan, existing)
    for (sheet, name), default in DEFAULTS.items():
        missing = [r.code for r in plan.rows.get(sheet, []) if r.action == CREATE
                   and name in r.defaulted]  # fmt: skip
        if missing:
            plan.notes.append(
                f"Sheet {sheet}: {len(missing)} new record(s) without {name} are read as "
                f"{default.label!r} ({', '.join(missing[:5])}{'…' if len(missing) > 5 else ''})."
            )
    return plan


def _attr(sheet: str, name: str) -> str:
    return next(c.attr for c in COLUMNS[sheet] if c.name == name)


def _plan_sheet(
    sheet: str, table: Table, columns: dict[str, str], existing, plan_dangling: list
) -> list[RecordRow]:
    cols = COLUMNS[sheet]
    index = {name: table.headers.index(header) for name, header in columns.items()}
    id_col = cols[0].name
    if id_col not in index:
        raise UploadError(f"Sheet {sheet} has no {id_col} column; rows are matched by it.")
    records = existing.get(sheet, {})
    parent_code = {r.pk: r.code for r in records.values()} if sheet == REQUIREMENTS else {}
    seen: dict[str, int] = {}
    rows = []
    for number, cells in table.rows:
        code = str(cells[index[id_col]]).strip()
        record = records.get(code) if sheet != RUNS else None
        dangling: list[tuple[str, str]] = []
        row = _parse_row(sheet, cols, cells, index, record, existing["items"], dangling)
        row.row, row.record = number, record
        plan_dangling.extend((sheet, number, column, code) for column, code in dangling)
        rows.append(row)
        if number in table.row_errors:
            row.errors.insert(0, table.row_errors[number])
        problem = code_problem(row.code)
        if problem:
            row.errors.insert(0, (id_col, problem))
        elif sheet != RUNS:
            if row.code in seen:
                row.errors.insert(0, (id_col, f"Duplicate id {row.code} (also row {seen[code]})."))
            seen.setdefault(row.code, number)
        if row.errors:
            continue
        if sheet == RUNS:
            row.action = UNCHANGED  # decided by _plan_runs
            continue
        run = {k: row.values.pop(k, None) for k in ("result", "executed_at")}
        if any(run.values()):
            if not (run.get("result") and run.get("executed_at")):
                row.errors.append(("result", "A run needs both a result and a date."))
                continue
            row.run = run
        if record is None:
            missing = [n for n in REQUIRED_ON_CREATE[sheet] if not row.values.get(_attr(sheet, n))]
            if missing:
                row.errors.append((missing[0], f"{missing[0]} is required for a new record."))
                continue
            for (s, name), default in DEFAULTS.items():
                if s == sheet and not row.values.get(_attr(sheet, name)):
                    row.values[_attr(sheet, name)] = default
                    row.defaulted.append(name)
            row.action = CREATE
        else:
            row.changed = tuple(n for n, v in row.values.items() if getattr(record, n) != v)
            # A new parent is a change like any other: planned, counted, written.
            new_parent = row.parent is not None and (row.parent or None) != parent_code.get(
                record.parent_id
            )
            if sheet == REQUIREMENTS and new_parent:
                row.changed += ("parent",)
            row.action = UPDATE if row.changed else UNCHANGED
    return rows


def _plan_implied_controls(plan, links: dict[str, list[str]], known, existing) -> None:
    """One implied risk control per hazard linked straight to requirements: code RC-<hazard
    code>, title and description saying it was implied by the import (ISO 14971 7.1 needs the
    control; the source did not name one). Existing ones are reused, never duplicated."""
    requirement_rows = {r.code: r for r in plan.rows.setdefault(REQUIREMENTS, [])}
    for hazard_code, requirement_codes in links.items():
        control_code = f"RC-{hazard_code}"
        problem = code_problem(control_code)
        hazard_row = next(r for r in plan.hazards.rows if r.code == hazard_code)
        if problem:
            hazard_row.errors.append(("requirement_ids", f"Implied control: {problem}"))
            hazard_row.action = REJECT
            continue
        for code in requirement_codes:
            if code not in known[REQUIREMENTS]:
                plan.dangling.append((HAZARDS, hazard_row.row, "requirement_ids", code))
                hazard_row.errors.append(("requirement_ids", _dangling(code, REQUIREMENTS)))
                hazard_row.action = REJECT
        if hazard_row.action == REJECT:
            continue
        if control_code not in existing[CONTROLS]:
            plan.implied_controls.append((control_code, hazard_code))
            known[CONTROLS].add(control_code)
        plan.implied_hazard_links.append((control_code, hazard_code))
        for code in requirement_codes:
            row = requirement_rows.get(code)
            if row is not None and row.action != REJECT:
                row.links.setdefault("control_ids", [])
                if control_code not in row.links["control_ids"]:
                    row.links["control_ids"].append(control_code)
            else:
                plan.implied_requirement_links.append((control_code, code))


def _dangling(code: str, sheet: str) -> str:
    what = sheet.lower().rstrip("s")
    return (
        f"Dangling reference {code}: no {what} with this code in the file or the product "
        f"(references are linked, never invented)."
    )


def _check_references(plan: WorkbookPlan, known) -> None:
    """Every code a link cell names must exist in the file or the product: each dangling one
    is reported with its sheet, row, column and code — all of them, not the first."""
    for sheet, rows in plan.rows.items():
        for row in rows:
            if row.action == REJECT:
                continue
            checks = [(name, LINKS[(sheet, name)], codes) for name, codes in row.links.items()]
            for name, (_, _, target_field), codes in checks:
                target_sheet = SHEET_OF_END[target_field]
                for code in codes:
                    if code not in known[target_sheet]:
                        plan.dangling.append((sheet, row.row, name, code))
                        row.errors.append((name, _dangling(code, target_sheet)))
            if row.parent:
                if row.parent == row.code:
                    row.errors.append(("parent_id", f"{row.code} cannot be its own parent."))
                elif row.parent not in known[REQUIREMENTS]:
                    plan.dangling.append((sheet, row.row, "parent_id", row.parent))
                    row.errors.append(("parent_id", _dangling(row.parent, REQUIREMENTS)))
            if sheet == RUNS and row.code not in known[TESTS]:
                plan.dangling.append((sheet, row.row, "test_id", row.code))
                row.errors.append(("test_id", _dangling(row.code, TESTS)))
            if row.errors:
                row.action = REJECT
    _check_parent_cycles(plan, known)


def _check_parent_cycles(plan: WorkbookPlan, known) -> None:
    """A parent chain must end: the file may not make a requirement its own ancestor."""
    rows = [r for r in plan.rows.get(REQUIREMENTS, []) if r.action != REJECT]
    parent_of: dict[str, str | None] = {}
    for row in rows:
        if row.parent is not None:
            parent_of[row.code] = row.parent or None
        elif row.record is not None and row.record.parent_id:
            parent_of[row.code] = "#"  # kept: an existing parent, checked by the database tree
    for row in rows:
        node, seen = row.code, set()
        while node in parent_of and parent_of[node] not in (None, "#"):
            if node in seen:
                row.errors.append(("parent_id", f"{row.code} is in a parent cycle."))
                row.action = REJECT
                break
            seen.add(node)
            node = parent_of[node]


def _plan_links(product: Product, plan: WorkbookPlan, existing) -> None:
    """New links only: a link the product already has is left as it is."""
    have: dict[type, set[tuple[str, str]]] = {}
    for model, this, other in LINKS.values():
        if model in have:
            continue
        pairs = model.objects.filter(**{f"{this}__product": product}).values_list(
            f"{this}__code", f"{other}__code"
        )
        have[model] = set(pairs)
    new: dict[type, list[tuple[str, str]]] = defaultdict(list)
    for sheet, rows in plan.rows.items():
        for row in rows:
            if row.action == REJECT:
                continue
            for name, codes in row.links.items():
                model = LINKS[(sheet, name)][0]
                for code in codes:
                    pair = (row.code, code)
                    if pair not in have[model]:
                        have[model].add(pair)
                        new[model].append(pair)
    for control_code, hazard_code in plan.implied_hazard_links:
        if (control_code, hazard_code) not in have[HazardControl]:
            have[HazardControl].add((control_code, hazard_code))
            new[HazardControl].append((control_code, hazard_code))
    for control_code, requirement_code in plan.implied_requirement_links:
        pair = (requirement_code, control_code)
        if pair not in have[ControlRequirement]:
            have[ControlRequirement].add(pair)
            new[ControlRequirement].append(pair)
    plan.new_links = dict(new)


def _plan_runs(plan: WorkbookPlan, existing) -> None:
    """A run is new unless the test already has one with the same date and result."""
    tests = existing[TESTS]
    have = set(
        TestRun.objects.filter(test_case__in=list(tests.values())).values_list(
            "test_case__code", "executed_at", "result"
        )
    )
    for sheet in (TESTS, RUNS):
        for row in plan.rows.get(sheet, []):
            if row.action == REJECT:
                continue
            run = row.run if sheet == TESTS else row.values
            if not run:
                continue
            if sheet == RUNS and not (run.get("result") and run.get("executed_at")):
                row.errors.append(("result", "A run needs both a result and a date."))
                row.action = REJECT
                continue
            key = (row.code, run["executed_at"], run["result"])
            if key in have:
                continue
            have.add(key)
            plan.new_runs.append(row)
            if sheet == RUNS:
                row.action = CREATE


# --- Writing ----------------------------------------------------------------------------------


@transaction.atomic
def import_workbook(
    *,
    product: Product,
    source: Source,
    by,
    mapping: dict | None = None,
    reason: str = "",
    dry_run: bool = False,
    implied_controls: bool = False,
    implied_control_type: str = ControlOption.PROTECTIVE_MEASURE,
    expected_fingerprint: str | None = None,
) -> WorkbookPlan:
    """Plan the import under a lock on the product and, unless it is a dry run, write it: all
    sheets or nothing (raises WorkbookRefused with every rejection). With
    `expected_fingerprint` (the previewed plan's), a plan that differs is refused: something
    changed between the preview and the confirmation."""
    product = (
        Product.objects.select_related("risk_policy")
        .select_for_update(of=("self",))
        .get(pk=product.pk)
    )
    if not dry_run:
        # What the plan reads is what gets written: the records an import may change are
        # locked before the plan reads them (confirm.py), so an edit waits, then finds its
        # version stale, and no edit made meanwhile is overwritten (DESIGN §7).
        for model in (Hazard, RiskControl, Requirement, TestCase):
            lock_rows(model.objects.filter(product=product))
    plan = plan_workbook(
        product,
        source,
        mapping,
        implied_controls=implied_controls,
        implied_control_type=implied_control_type,
    )
    if dry_run:
        return plan
    if not plan.ok:
        raise WorkbookRefused(plan)
    if expected_fingerprint is not None and plan.fingerprint() != expected_fingerprint:
        raise UploadError(
            "The product changed since the preview (records or links were edited or imported "
            "meanwhile); nothing was imported. Preview again and confirm."
        )
    reason = (reason or f"Imported from {source.name.rsplit('/', 1)[-1]}")[:100]
    now = timezone.now()
    records: dict[str, dict[str, object]] = {
        HAZARDS: {h.code: h for h in Hazard.objects.filter(product=product)},
    }
    if plan.hazards:
        records[HAZARDS].update(
            hazard_table.write_plan(product, plan.hazards, by=by, reason=reason)
        )
    for sheet in (CONTROLS, TESTS, REQUIREMENTS):
        records[sheet] = _write_sheet(product, plan, sheet, by=by, reason=reason, now=now)
    _write_links(plan, records, by=by, reason=reason, now=now)
    _write_runs(plan, records, by=by, reason=reason)
    audit.chain_pending(
        models=[RiskControl, Requirement, TestCase, TestRun, *{m for m, _, _ in LINKS.values()}]
    )
    plan.written = True
    return plan


def _write_sheet(product, plan: WorkbookPlan, sheet: str, *, by, reason, now) -> dict:
    """Create and update one record type in bulk; returns every record of the product by code.

    BULK PATH: `riskbench.bulk` writes one history row per record with the importer and the
    reason, as `save_record` would, and chains it; versions and review
    status follow `save_record`'s rules (a changed approved record returns to review)."""
    model = MODELS[sheet]
    records = {r.code: r for r in model.objects.filter(product=product)}
    rows = [r for r in plan.rows.get(sheet, []) if r.action in (CREATE, UPDATE)]
    creates = [
        model(product=product, code=r.code, version=1, created_at=now, updated_at=now, **r.values)
        for r in rows
        if r.action == CREATE
    ]
    if sheet == CONTROLS:
        creates += [
            RiskControl(
                product=product,
                code=control_code,
                title=f"Implied risk control of {hazard_code} (import)",
                description=(
                    f"Implied by the import of {plan.source}: the source linked {hazard_code} "
                    f"straight to requirements without naming a risk control (ISO 14971 7.1). "
                    f"Review its option and description."
                ),
                option=plan.implied_control_type,
                version=1,
                created_at=now,
                updated_at=now,
            )
            for control_code, hazard_code in plan.implied_controls
        ]
    for record in creates:
        if hasattr(record, "status"):
            record.status = Status.DRAFT
    if sheet == REQUIREMENTS:
        # Parents before children: each level is inserted once its parents have their ids.
        parent_code = {r.code: r.parent for r in rows}
        depth_cache: dict[str, int] = {}

        def depth(code: str, trail=()) -> int:
            if code not in depth_cache:
                parent = parent_code.get(code)
                new_parent = parent and parent in parent_code and parent not in trail
                depth_cache[code] = depth(parent, (*trail, code)) + 1 if new_parent else 0
            return depth_cache[code]

        for level in sorted({depth(r.code) for r in creates}):
            batch = [r for r in creates if depth(r.code) == level]
            for record in batch:
                parent = parent_code.get(record.code)
                record.parent = records.get(parent) if parent else None
            _create(model, batch, by=by, reason=reason)
            records.update({r.code: r for r in batch})
    else:
        _create(model, creates, by=by, reason=reason)
        records.update({r.code: r for r in creates})

    groups: dict[tuple[str, ...], list] = defaultdict(list)
    for row in rows:
        if row.action != UPDATE:
            continue
        record = records[row.code]
        fields = list(row.changed)
        for name in fields:
            if name == "parent":  # planned by code; the parent may be new in this import
                record.parent = records.get(row.parent) if row.parent else None
            else:
                setattr(record, name, row.values[name])
        record.version += 1
        if getattr(record, "status", None) == Status.APPROVED:
            record.status = Status.IN_REVIEW  # its signatures stay on the earlier version
        record.updated_at = now
        groups[tuple(fields)].append(record)
    for fields, records_to_update in groups.items():
        claim_next_versions(model, records_to_update)  # each at version n+1 was stored at n
        extra = ["version", "updated_at"] + (["status"] if hasattr(model, "status") else [])
        bulk.update_with_history(records_to_update, model, [*fields, *extra], by=by, reason=reason)
    return records


def _create(model, objs, *, by, reason) -> None:
    bulk.create_with_history(objs, model, by=by, reason=reason)


def _write_links(plan: WorkbookPlan, records, *, by, reason, now) -> None:
    sheet_of = SHEET_OF_END
    ends = {model: (this, other) for model, this, other in LINKS.values()}
    link_reason = f"Linked by import: {reason}"[:100]
    for model, pairs in plan.new_links.items():
        this, other = ends[model]
        links = []
        source_is_this = this == model.SOURCE_FIELD
        for this_code, other_code in pairs:
            mine = records[sheet_of[this]][this_code]
            theirs = records[sheet_of[other]][other_code]
            source, target = (mine, theirs) if source_is_this else (theirs, mine)
            # Ids, not instances: no related-object descriptors per link (profiled).
            links.append(
                model(
                    **{f"{this}_id": mine.pk, f"{other}_id": theirs.pk},
                    created_by_id=by.pk,
                    created_at=now,
                    source_version=source.version,
                    target_version=target.version,
                )
            )
        _create(model, links, by=by, reason=link_reason)


def _write_runs(plan: WorkbookPlan, records, *, by, reason) -> None:
    """Runs from the file: evidence recorded by the import, never attributed to a person the
    file names (executed by is left empty; the notes say where the run came from)."""
    runs = []
    for row in plan.new_runs:
        run = row.run if row.sheet == TESTS else row.values
        notes = run.get("notes", "")
        provenance = f"Recorded by import of {plan.source.rsplit('/', 1)[-1]}."
        runs.append(
            TestRun(
                test_case=records[TESTS][row.code],
                result=run["result"],
                executed_at=run["executed_at"],
                software_version=run.get("software_version", ""),
                notes=f"{notes}\n{provenance}".strip() if notes else provenance,
                external_reference=run.get("external_reference", ""),
                version=1,
            )
        )
    _create(TestRun, runs, by=by, reason=reason)
