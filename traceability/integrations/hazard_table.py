"""Hazard log ⇄ spreadsheet (CSV and XLSX): read, map columns, dry-run, import, export.

Quality teams arrive with hazard logs in Excel whose headers are their own ("Hazardous
Situation", "Sev", "P1", "Risk Control Measures", "ID"…). The import:

1. reads the table (`read_table`): type sniffed from content, UTF-8 checked, CSV delimiter
   sniffed, XLSX formula cells refused (never evaluated);
2. maps columns to fields (`suggest_mapping` from header names and synonyms; a saved
   ImportMapping can be reused);
3. plans every row in memory (`plan_import`): create, update, unchanged or reject — each
   rejection with row, column and reason — validating values against the product's risk policy
   (ISO 14971 4.4 d, 5.5) exactly as the hazard service does (`apply_estimates`);
4. writes the plan only when no row is rejected, in ONE transaction (all or nothing), upserting
   by code. Rows whose values do not change are not written, so re-importing the same file
   leaves no history row (idempotent).

The write is a clearly marked bulk path (`riskbench.bulk`: what simple-history's
`bulk_create_with_history` / `bulk_update_with_history` write, chained as it goes) so 10,000
rows import in seconds; it keeps what `save_record` does
for one row: a history row per created or changed record with the user and the reason, the
`version` incremented on every change, and an approved row returned to review with its
revision raised (21 CFR 11.10(e); ISO 14971 4.5). Links to controls and requirements named by
code in a cell are created (ISO 14971 7.1, IEC 62304 7.2); unknown codes are rejected, never
invented. Existing links are kept; removing a link is a deliberate act in the UI.

Export writes the same columns, so an exported file re-imports without loss. Cells that a
spreadsheet would run as a formula (= + - @, tab, CR) are prefixed with an apostrophe in CSV
(CSV injection, OWASP) and written as typed text in XLSX; the import strips that apostrophe.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from openpyxl.cell import WriteOnlyCell

from hazards import risk
from hazards.models import (
    Acceptability,
    Category,
    Hazard,
    HazardControl,
    HazardType,
    HipaaIdentifier,
    Linddun,
    Product,
    RiskControl,
    Stride,
)
from hazards.services import (
    HAZARD_PREFIX,
    PRIVACY_FIELDS,
    SAFETY_FIELDS,
    SECURITY_FIELDS,
    apply_estimates,
)
from riskbench import audit, bulk
from riskbench.codes import code_problem
from riskbench.models import Status
from riskbench.services import CODE_RE, claim_next_versions
from traceability.integrations.confirm import (  # noqa: F401 - ImportConflict re-exported
    ImportConflict,
    lock_rows,
    refuse_if_moved,
)
from traceability.integrations.uploads import (
    CSV,
    XLSX,
    UploadError,
    check_size,
    decode_utf8,
    parse_csv,
    sniff,
)
from traceability.integrations.xlsx import Formula, read_sheets
from traceability.models import ControlRequirement, Requirement

MAX_ROWS = 100_000

# --- Columns ------------------------------------------------------------------------------------

TEXT, INT_LEVEL, CHOICE, MULTI, CODES, REQS, USER, CODE = (
    "text",
    "level",
    "choice",
    "multi",
    "codes",
    "reqs",
    "user",
    "code",
)


@dataclass(frozen=True)
class Column:
    """One field of a hazard row as a spreadsheet column."""

    name: str  # field name on Hazard, or "controls" / "requirements"
    label: str  # header written on export
    kind: str
    synonyms: tuple[str, ...] = ()
    max_length: int | None = None
    choices: type | None = None
    scale: str = ""  # which policy scale a level uses: severity | likelihood | p1 | p2


COLUMNS: tuple[Column, ...] = (
    Column("code", "Code", CODE, ("id", "hazard id", "haz id", "ref", "reference", "no",
           "number", "hazard no", "hazard number", "item", "#", "risk id", "hazard ref"), 20),
    Column("category", "Category", CHOICE, ("risk category", "risk type", "domain",
           "analysis"), choices=Category),
    Column("title", "Title", TEXT, ("hazard title", "name", "summary", "short description",
           "risk", "risk title", "failure mode"), 200),
    Column("hazard_type", "Hazard type", CHOICE, ("type", "hazard category", "hazard class",
           "hazard family"), choices=HazardType),
    Column("hazard", "Hazard", TEXT, ("hazard description", "source of harm",
           "potential source of harm", "description")),
    Column("sequence_of_events", "Sequence of events", TEXT, ("sequence", "cause", "causes",
           "foreseeable sequence of events", "initiating cause", "cause of failure",
           "sequence of events causes")),
    Column("hazardous_situation", "Hazardous situation", TEXT, ("situation",
           "hazardous situations")),
    Column("harm", "Harm", TEXT, ("potential harm", "harms", "effect", "consequence",
           "effect of failure", "injury")),
    Column("severity", "Severity", INT_LEVEL, ("sev", "s", "severity of harm",
           "initial severity", "severity before", "impact", "pre s", "severity initial"),
           scale="severity"),
    Column("p1", "P1", INT_LEVEL, ("p 1", "probability of hazardous situation",
           "probability of occurrence of hazardous situation", "initial p1"), scale="p1"),
    Column("p2", "P2", INT_LEVEL, ("p 2", "probability of harm given situation",
           "probability of hazardous situation leading to harm", "initial p2"), scale="p2"),
    Column("probability", "Probability", INT_LEVEL, ("prob", "p", "probability of harm",
           "occurrence", "o", "likelihood", "exploitability", "initial probability",
           "probability before"), scale="likelihood"),
    Column("residual_severity", "Residual severity", INT_LEVEL, ("residual sev", "res sev",
           "rs", "severity after", "post control severity", "final severity",
           "severity residual"), scale="severity"),
    Column("residual_p1", "Residual P1", INT_LEVEL, ("res p1", "p1 after", "final p1"),
           scale="p1"),
    Column("residual_p2", "Residual P2", INT_LEVEL, ("res p2", "p2 after", "final p2"),
           scale="p2"),
    Column("residual_probability", "Residual probability", INT_LEVEL, ("res prob", "rp",
           "probability after", "post control probability", "final probability",
           "residual likelihood", "residual exploitability"), scale="likelihood"),
    Column("severity_reduction_rationale", "Severity reduction rationale", TEXT, (
           "severity reduction rationale", "why severity is reduced")),
    Column("benefit_risk_region", "Benefit-risk region", CHOICE, (
           "benefit risk region", "region accepted by benefit risk"), choices=Acceptability),
    Column("further_control_not_practicable", "Further risk control not practicable because",
           TEXT, ("further control not practicable", "further risk control not practicable")),
    Column("benefit_risk_benefits", "Benefits weighed", TEXT, ("benefits weighed",
           "medical benefits")),
    Column("benefit_risk_justification", "Benefit-risk justification", TEXT, (
           "benefit risk", "benefit risk analysis", "justification", "benefit risk rationale")),
    Column("asset", "Asset", TEXT, ("assets", "security asset"), 200),
    Column("threat", "Threat (STRIDE)", CHOICE, ("threat", "stride", "threat category",
           "stride category"), choices=Stride),
    Column("vulnerability", "Vulnerability", TEXT, ("vulnerabilities", "weakness", "cwe")),
    Column("cvss_vector", "CVSS v3.1 vector", TEXT, ("cvss", "cvss vector",
           "cvss 3 1 vector", "cvss v3 vector", "initial cvss"), 120),
    Column("residual_cvss_vector", "Residual CVSS v3.1 vector", TEXT, ("residual cvss",
           "residual cvss vector", "cvss after"), 120),
    Column("residual_cvss_rationale", "Residual CVSS rationale", TEXT, (
           "residual cvss rationale", "cvss rationale")),
    Column("data_elements", "Data elements", MULTI, ("data element", "hipaa identifiers",
           "personal data", "identifiers", "phi"), choices=HipaaIdentifier),
    Column("linddun_category", "LINDDUN threat", CHOICE, ("linddun", "privacy threat",
           "linddun category"), choices=Linddun),
    Column("owner", "Owner", USER, ("responsible", "assignee", "owner username")),
    Column("controls", "Risk control measures", CODES, ("risk control measures",
           "risk controls", "controls", "control measures", "risk control", "mitigation",
           "mitigations", "control", "rc", "risk control measure", "control ids",
           "risk control ids")),
    Column("requirements", "Requirements", REQS, ("requirement", "requirement ids", "srs",
           "implemented by", "software requirements", "requirement id", "req", "reqs")),
)  # fmt: skip
COLUMNS_BY_NAME = {c.name: c for c in COLUMNS}
FIELD_COLUMNS = tuple(c for c in COLUMNS if c.name not in {"controls", "requirements"})

# Exported for reading only: derived by the service or set by the approval workflow, so an
# import ignores them (a spreadsheet cannot approve a hazard: 21 CFR 11.50 / 11.70).
READ_ONLY_COLUMNS = (
    ("status", "Status"),
    ("revision", "Revision"),
    ("version", "Version"),
    ("initial_risk_index", "Initial risk index"),
    ("initial_acceptability", "Initial risk"),
    ("cvss_base_score", "CVSS base score"),
    ("residual_risk_index", "Residual risk index"),
    ("residual_acceptability", "Residual risk"),
)
IGNORE = ""  # mapping target meaning "do not import this column"

EXPORT_HEADERS = [c.label for c in COLUMNS] + [label for _, label in READ_ONLY_COLUMNS]
# Fields compared and written on update (the mapped ones are set; the derived ones follow).
DERIVED_FIELDS = (
    "probability",
    "initial_risk_index",
    "initial_acceptability",
    "residual_probability",
    "residual_risk_index",
    "residual_acceptability",
    "cvss_base_score",
    "cvss_vector",
    "asset",
    "threat",
    "vulnerability",
    "residual_cvss_vector",
    "data_elements",
    "linddun_category",
    "p1",
    "p2",
    "residual_p1",
    "residual_p2",
)


def normalise_header(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9#]+", " ", (text or "").lower()).split())


SYNONYMS: dict[str, str] = {}
for _column in COLUMNS:
    for _term in (_column.name.replace("_", " "), _column.label, *_column.synonyms):
        SYNONYMS.setdefault(normalise_header(_term), _column.name)
for _name, _label in READ_ONLY_COLUMNS:
    for _term in (_name.replace("_", " "), _label):
        SYNONYMS.setdefault(normalise_header(_term), IGNORE)


def suggest_mapping(headers: list[str]) -> dict[str, str]:
    """Field → header, guessed from header names and synonyms.

    A second column with the name of an already mapped risk field ("Severity" twice, under
    "Initial" and "Residual" super-headers) is taken as its residual counterpart.
    """
    mapping: dict[str, str] = {}
    for header in headers:
        target = SYNONYMS.get(normalise_header(header))
        if target is None:
            # "Severity (S)", "Sev." → try the header without a bracketed suffix.
            target = SYNONYMS.get(normalise_header(re.sub(r"\(.*?\)|\[.*?\]", " ", header)))
        if not target:
            continue
        if target in mapping and f"residual_{target}" in COLUMNS_BY_NAME:
            target = f"residual_{target}"
        if target not in mapping:
            mapping[target] = header
    return mapping


def check_mapping(mapping: dict[str, str], headers: list[str]) -> None:
    """A mapping must name known fields and columns of this file, each column once."""
    used: dict[str, str] = {}
    for field_name, header in mapping.items():
        if not header:
            continue
        if field_name not in COLUMNS_BY_NAME:
            raise UploadError(f"Unknown field {field_name!r} in the column mapping.")
        if header not in headers:
            raise UploadError(
                f"The mapping expects a column {header!r} for {COLUMNS_BY_NAME[field_name].label},"
                f" but the file has no such column.",
                field=header,
            )
        if header in used:
            raise UploadError(
                f"Column {header!r} is mapped to both {COLUMNS_BY_NAME[used[header]].label} and "
                f"{COLUMNS_BY_NAME[field_name].label}.",
                field=header,
            )
        used[header] = field_name
    if not any(mapping.values()):
        raise UploadError("No column is mapped to a hazard field.")


# --- Reading ------------------------------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the user sees it, cells)
    kind: str
    # Rows that cannot be read as the header says (row → (column, reason)): the plan rejects
    # them rather than guess what the missing or extra cells meant.
    row_errors: dict[int, tuple[str, str]] = field(default_factory=dict)


ESCAPED = re.compile(r"^'[=+\-@\t\r]")


def _unescape(value: str) -> str:
    return value[1:] if ESCAPED.match(value) else value


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _unique_headers(raw: list[str]) -> list[str]:
    headers, seen = [], defaultdict(int)
    for index, header in enumerate(raw):
        header = header.strip() or f"Column {index + 1}"
        seen[header] += 1
        headers.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
    return headers


def _read_xlsx(data: bytes) -> list[tuple[int, list]]:
    """The first sheet (the hazard log), read by the lean streaming reader (`xlsx.py`)."""
    sheets = read_sheets(data, MAX_ROWS)
    if not sheets:
        raise UploadError("The workbook has no worksheet.")
    return sheets[0][1]


def read_table(data: bytes) -> Table:
    """Header row and data rows of a CSV or XLSX file (blank rows skipped)."""
    check_size(len(data))
    kind = sniff(data)
    if kind == XLSX:
        raw_rows = _read_xlsx(data)
    elif kind == CSV:
        rows = parse_csv(decode_utf8(data))
        raw_rows = list(enumerate(rows, start=1))
    else:
        raise UploadError(
            f"This is a {kind.upper()} file; the hazard log import reads CSV or XLSX (.xlsx)."
        )
    return table_from_rows(raw_rows, kind)


def table_from_rows(raw_rows: list[tuple[int, list]], kind: str, *, allow_empty=False) -> Table:
    """Header and data rows from raw (number, cells) rows; blank rows skipped. `allow_empty`:
    a header row alone is an empty table (a workbook sheet with nothing to import yet)."""
    raw_rows = [(n, cells) for n, cells in raw_rows if any(str(c).strip() for c in cells)]
    if not raw_rows:
        raise UploadError("The file is empty.")
    header_number, header_cells = raw_rows[0]
    if any(isinstance(c, Formula) for c in header_cells):
        raise UploadError("The header row contains a formula.", row=header_number)
    while header_cells and not str(header_cells[-1]).strip():
        header_cells = header_cells[:-1]
    headers = _unique_headers([_unescape(str(c)) for c in header_cells])
    body = raw_rows[1:]
    if not body and not allow_empty:
        raise UploadError("The file has a header row but no data rows.", row=header_number)
    if len(body) > MAX_ROWS:
        raise UploadError(f"More than {MAX_ROWS} rows; split the file.")
    width = len(headers)
    rows = []
    row_errors = {}
    for number, cells in body:
        if kind == CSV:
            problem = _csv_width_problem(cells, headers, raw_width=len(raw_rows[0][1]))
            if problem:
                row_errors[number] = problem
        cells = list(cells[:width]) + [""] * (width - len(cells))
        rows.append((number, [c if isinstance(c, Formula) else _unescape(c) for c in cells]))
    return Table(headers=headers, rows=rows, kind=kind, row_errors=row_errors)


def _csv_width_problem(cells: list[str], headers: list[str], *, raw_width: int):
    """A CSV row with fewer cells than the header (a file cut mid-row, a lost delimiter) or
    with text beyond the last column (an unquoted delimiter inside a cell) would put values
    under the wrong columns, or read missing ones as empty: (column, reason), or None.

    Spreadsheets write every delimiter of a row, so a short row is never "just" empty cells.
    (XLSX rows may legitimately stop at their last filled cell; they are not checked.)
    """
    if len(cells) < len(headers):
        return (
            headers[len(cells)],
            f"The row has {len(cells)} cell(s) but the header has {len(headers)} columns: it "
            f"ends before column {headers[len(cells)]!r} (a file cut short, or a missing "
            f"delimiter). Nothing was imported.",
        )
    extra = [c for c in cells[raw_width:] if str(c).strip()]
    if extra:
        return (
            headers[-1],
            f"The row has {len(cells)} cells but the header has {raw_width} columns (a "
            f"delimiter inside an unquoted cell?): {str(extra[0])[:40]!r} has no column.",
        )
    return None


# --- Planning -----------------------------------------------------------------------------------

CREATE, UPDATE, UNCHANGED, REJECT = "create", "update", "unchanged", "reject"


@dataclass
class RowPlan:
    row: int
    action: str
    code: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, reason)
    changes: list[str] = field(default_factory=list)  # labels of changed fields, new links
    fields_changed: bool = False  # False when only links are added: the row is not rewritten
    changed_fields: tuple[str, ...] = ()  # names of the hazard fields an update changes
    new_controls: list[str] = field(default_factory=list)
    new_requirement_links: list[tuple[str, str]] = field(default_factory=list)
    hazard: Hazard | None = None
    # (column header, what was ignored and why): values the row gives that its category does
    # not use — reported, never dropped silently (issue 13 §2).
    warnings: list[tuple[str, str]] = field(default_factory=list)
    planned_version: int | None = None  # the stored row's version the plan was made from


@dataclass
class ImportPlan:
    rows: list[RowPlan]
    headers: list[str]
    mapping: dict[str, str]
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def created(self) -> int:
        return self.count(CREATE)

    @property
    def updated(self) -> int:
        return self.count(UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)

    @property
    def rejected(self) -> int:
        return self.count(REJECT)

    @property
    def rejections(self) -> list[tuple[int, str, str]]:
        """(row, column, reason) for every problem, in file order."""
        return [(r.row, col, reason) for r in self.rows for col, reason in r.errors]

    @property
    def ignored(self) -> list[tuple[int, str, str]]:
        """(row, column, what was ignored and why), in file order."""
        return [(r.row, col, why) for r in self.rows for col, why in r.warnings]

    @property
    def link_count(self) -> int:
        return sum(len(r.new_controls) + len(r.new_requirement_links) for r in self.rows)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def planned_versions(self) -> dict[str, int]:
        """Code → stored version of every existing record the file names, as planned. The
        preview hands this to the confirmation, which refuses the import if any moved."""
        return {r.code: r.planned_version for r in self.rows if r.planned_version is not None}

    def summary(self) -> str:
        return (
            f"{self.created} to create, {self.updated} to update, {self.unchanged} unchanged, "
            f"{self.rejected} rejected, {self.link_count} new link(s)"
        )


class ImportRefused(UploadError):
    """Rows were rejected: nothing was written. `plan` holds every rejection."""

    def __init__(self, plan: ImportPlan):
        first = plan.rejections[0]
        super().__init__(
            f"{plan.rejected} row(s) rejected, nothing was imported. First: row {first[0]}, "
            f"column {first[1]!r}: {first[2]}",
            row=first[0],
            field=first[1],
        )
        self.plan = plan


def _choice_lookup(choices) -> dict[str, str]:
    lookup = {}
    for value, label in choices.choices:
        lookup[normalise_header(value)] = value
        lookup[normalise_header(label)] = value
        lookup[normalise_header(label.split("(")[0])] = value
    return lookup


CHOICE_LOOKUPS = {c.name: _choice_lookup(c.choices) for c in COLUMNS if c.choices}
CODE_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*-\d+")
SPLIT = re.compile(r"[;,\n]+")


def _level_lookup(levels: list[dict]) -> dict[str, int]:
    lookup = {}
    for level in levels:
        lookup[str(level["value"])] = level["value"]
        lookup[normalise_header(level["name"])] = level["value"]
        lookup[normalise_header(f"{level['value']} {level['name']}")] = level["value"]
    return lookup


class _Levels:
    """Policy scales per category, so "Sev = Critical" or "P1 = 3" read the same."""

    def __init__(self, policy: risk.PolicyData):
        self.policy = policy
        self.cache: dict[tuple[str, str], tuple[dict[str, int], list[int]]] = {}
        self.parsed: dict[tuple[str, str, str], int] = {}  # (scale, category, cell) → level

    def scale(self, scale: str, category: str) -> tuple[dict[str, int], list[int]]:
        key = (scale, category)
        if key not in self.cache:
            levels = {
                "severity": lambda: self.policy.severity_scale(category),
                "likelihood": lambda: self.policy.likelihood_scale(category),
                "p1": lambda: self.policy.p1_levels,
                "p2": lambda: self.policy.p2_levels,
            }[scale]()
            self.cache[key] = (_level_lookup(levels), [lvl["value"] for lvl in levels])
        return self.cache[key]


@dataclass
class _Context:
    product: Product
    policy: risk.PolicyData
    levels: _Levels
    existing: dict[str, Hazard]
    controls: dict[str, RiskControl]
    requirements: dict[str, Requirement]
    hazard_controls: set[tuple[int, int]]  # (hazard_id, control_id)
    control_codes_by_hazard: dict[int, list[str]]
    control_requirements: set[tuple[int, int]]  # (control_id, requirement_id)
    members: dict[str, object]
    policy_name: str = ""


def _load_context(product: Product) -> _Context:
    """Everything a plan needs, in a fixed number of queries whatever the file size."""
    policy = product.risk_policy.evaluation_data
    existing = {h.code: h for h in Hazard.objects.filter(product=product)}
    controls = {c.code: c for c in RiskControl.objects.filter(product=product)}
    requirements = {r.code: r for r in Requirement.objects.filter(product=product)}
    control_by_id = {c.pk: c for c in controls.values()}
    hazard_controls = set()
    codes_by_hazard: dict[int, list[str]] = defaultdict(list)
    for hazard_id, control_id in HazardControl.objects.filter(hazard__product=product).values_list(
        "hazard_id", "control_id"
    ):
        hazard_controls.add((hazard_id, control_id))
        codes_by_hazard[hazard_id].append(control_by_id[control_id].code)
    control_requirements = set(
        ControlRequirement.objects.filter(control__product=product).values_list(
            "control_id", "requirement_id"
        )
    )
    user_model = get_user_model()
    members = {
        u.get_username(): u
        for u in user_model.objects.filter(memberships__product=product).distinct()
    }
    return _Context(
        product=product,
        policy=policy,
        levels=_Levels(policy),
        existing=existing,
        controls=controls,
        requirements=requirements,
        hazard_controls=hazard_controls,
        control_codes_by_hazard=codes_by_hazard,
        control_requirements=control_requirements,
        members=members,
        policy_name=product.risk_policy.name,
    )


def _parse_level(column: Column, raw: str, category: str, ctx: _Context):
    """The policy level a cell names; a cell text seen before on the same scale is looked up
    (a 10,000-row sheet repeats a handful of values), errors are raised every time."""
    if raw == "":
        return None
    key = (column.scale, category, raw)
    parsed = ctx.levels.parsed.get(key)
    if parsed is None:
        parsed = ctx.levels.parsed[key] = _parse_level_text(column, raw, category, ctx)
    return parsed


def _parse_level_text(column: Column, raw: str, category: str, ctx: _Context) -> int:
    lookup, values = ctx.levels.scale(column.scale, category)
    text = normalise_header(raw)
    if re.fullmatch(r"\d+(\.0+)?", raw.strip()):
        number = int(float(raw))
        if number not in values:
            raise ValueError(
                f"{number} is outside the policy's {column.label.lower()} scale for "
                f"{category} ({min(values)}–{max(values)}) — risk policy “{ctx.policy_name}”. "
                f"Nothing was changed: map the value onto that scale (--mapping value map), "
                f"or add the level to the product's risk policy (Risk policy → Edit; it must be "
                f"approved again) and import again."
            )
        return number
    if text in lookup:
        return lookup[text]
    names = ", ".join(k for k in lookup if not k[0].isdigit())
    raise ValueError(f"{raw!r} is not a level of the policy's scale ({names}).")


def _parse_choice(column: Column, raw: str) -> str:
    if raw == "":
        return ""
    value = CHOICE_LOOKUPS[column.name].get(normalise_header(raw))
    if value is None:
        allowed = ", ".join(v for v, _ in column.choices.choices)
        raise ValueError(f"Unknown {column.label.lower()} {raw!r}; use one of: {allowed}.")
    return value


def _parse_codes(raw: str, known: dict, what: str) -> list[str]:
    codes = []
    for token in SPLIT.split(raw):
        token = token.strip()
        if not token:
            continue
        if token in known:  # a code is kept exactly as the source wrote it (`GIP 1.1`)
            code = token
        else:  # "rc-001 Occlusion alarm": the code, then its title
            match = CODE_TOKEN.fullmatch(token.split()[0]) if token.split() else None
            if not match:
                raise ValueError(f"{token!r} is not a {what} code (such as RC-001).")
            code = match.group(0).upper()
        if code not in known:
            raise ValueError(
                f"Unknown {what} {code}: it is not in this product (references are linked, "
                f"never invented)."
            )
        if code not in codes:
            codes.append(code)
    return codes


def _parse_requirement_links(
    raw: str, row_controls: list[str], ctx: _Context
) -> list[tuple[str, str]]:
    """'SRS-001; SRS-002' (row with one control) or 'RC-001:SRS-001; RC-002:SRS-003'."""
    pairs = []
    for token in SPLIT.split(raw):
        token = token.strip()
        if not token:
            continue
        if ":" in token:
            control_part, req_part = (p.strip() for p in token.split(":", 1))
            if control_part not in ctx.controls:
                control_part = control_part.upper()
            if control_part not in ctx.controls:
                raise ValueError(f"Unknown control {control_part} in {token!r}.")
        else:
            req_part = token
            if len(row_controls) != 1:
                raise ValueError(
                    f"{token!r} does not say which control it implements: the row has "
                    f"{len(row_controls)} controls; write it as RC-001:{token}."
                )
            control_part = row_controls[0]
        if req_part not in ctx.requirements and req_part.upper() in ctx.requirements:
            req_part = req_part.upper()
        if req_part not in ctx.requirements and code_problem(req_part):
            raise ValueError(f"{req_part!r} is not a requirement code (such as SRS-001).")
        if req_part not in ctx.requirements:
            raise ValueError(
                f"Unknown requirement {req_part}: it is not in this product (never invented)."
            )
        if (control_part, req_part) not in pairs:
            pairs.append((control_part, req_part))
    return pairs


def _header_for(field_name: str, mapping: dict[str, str]) -> str:
    """Where to point a rejection: the mapped column, else the field's label."""
    if field_name in mapping:
        return mapping[field_name]
    column = COLUMNS_BY_NAME.get(field_name)
    return column.label if column else field_name.replace("_", " ").capitalize()


STATE_FIELDS = tuple(dict.fromkeys([c.name for c in FIELD_COLUMNS] + list(DERIVED_FIELDS)))


def _attribute(name: str) -> str:
    """The attribute holding a field's value without a query (the owner's id, not the user)."""
    return "owner_id" if name == "owner" else name


def _editable_state(hazard: Hazard) -> tuple:
    return tuple(getattr(hazard, _attribute(n)) for n in STATE_FIELDS)


# A cell holding exactly this (any case) clears the stored value on update. An empty cell never
# does: a file cut short, or a column left empty in a partial export, must not blank a record.
BLANK = "<blank>"


def is_blank_marker(raw: str) -> bool:
    return raw.strip().lower() == BLANK


def _is_empty(value) -> bool:
    return value is None or value == "" or value == []


def _change_label(name: str, *, cleared: bool) -> str:
    label = COLUMNS_BY_NAME[name].label if name in COLUMNS_BY_NAME else name.replace("_", " ")
    return f"{label} → {BLANK}" if cleared else label


# What a row's category does not use (hazards.services.apply_estimates clears these), and why.
IGNORED_BY_CATEGORY = {
    Category.SECURITY: (
        SAFETY_FIELDS + PRIVACY_FIELDS,
        "security risk is estimated from exploitability (CVSS or a level), not P1 × P2 "
        "(AAMI TIR57)",
    ),
    Category.PRIVACY: (
        SAFETY_FIELDS + SECURITY_FIELDS,
        "privacy risk is estimated as likelihood × impact, not P1 × P2",
    ),
    Category.SAFETY: (
        SECURITY_FIELDS + PRIVACY_FIELDS,
        "a safety row has no security or privacy fields",
    ),
}


def _ignored_by_category(category: str, values: dict, mapping: dict[str, str]):
    fields, why = IGNORED_BY_CATEGORY.get(category, ((), ""))
    return [
        (mapping[name], f"{COLUMNS_BY_NAME[name].label} {_shown(values[name])} ignored: {why}.")
        for name in fields
        if name in values and not _is_empty(values[name])
    ]


def _shown(value) -> str:
    return repr("; ".join(value)) if isinstance(value, list) else repr(str(value))


def plan_import(product: Product, table: Table, mapping: dict[str, str]) -> ImportPlan:
    """Decide, row by row and without writing, what an import would do.

    On an update, an empty cell keeps the stored value; a cell holding `<blank>` clears it,
    and the plan shows that change as "Harm → <blank>" (issue 9 §4: never a silent blank).
    A row the table could not read as its header says (`Table.row_errors`) is rejected.
    """
    check_mapping(mapping, table.headers)
    mapping = {f: h for f, h in mapping.items() if h}
    ctx = _load_context(product)
    index = {h: i for i, h in enumerate(table.headers)}
    columns = [(COLUMNS_BY_NAME[f], index[h]) for f, h in mapping.items()]
    column_of = {c.name: i for c, i in columns}
    plans: list[RowPlan] = []
    seen_codes: dict[str, int] = {}

    for row_number, cells in table.rows:
        plan = RowPlan(row=row_number, action=REJECT)
        plans.append(plan)
        errors = plan.errors

        if row_number in table.row_errors:
            errors.append(table.row_errors[row_number])
            continue
        formulas = [table.headers[i] for i, c in enumerate(cells) if isinstance(c, Formula)]
        for header in formulas:
            errors.append((header, "Formula cells are not evaluated; paste the value instead."))
        if formulas:
            continue

        def cell(name: str, _cells=cells) -> str | None:
            i = column_of.get(name)
            return None if i is None else _cells[i].strip()

        code = cell("code") or ""
        if is_blank_marker(code):
            errors.append((mapping["code"], f"A code cannot be {BLANK}; leave it empty instead."))
            continue
        if code:
            if code_problem(code):  # the one code rule of every route (riskbench.codes)
                errors.append((mapping["code"], code_problem(code)))
                continue
            if code in seen_codes:
                errors.append(
                    (mapping["code"], f"Duplicate code {code} (also on row {seen_codes[code]}).")
                )
                continue
            seen_codes[code] = row_number
        plan.code = code
        existing = ctx.existing.get(code) if code else None

        # Category first: the scales of the other columns depend on it.
        category = existing.category if existing else Category.SAFETY
        if cell("category") is not None:
            try:
                category = _parse_choice(COLUMNS_BY_NAME["category"], cell("category"))
            except ValueError as exc:
                errors.append((mapping["category"], str(exc)))
                continue
            if not category:
                if existing:
                    category = existing.category
                else:
                    errors.append((mapping["category"], "A category is required."))
                    continue

        hazard = copy.copy(existing) if existing else Hazard(product=product, code=code)
        if existing:
            hazard._state = copy.copy(existing._state)
        hazard.category = category
        values = {}
        for column, i in columns:
            if column.name in {"code", "category", "controls", "requirements"}:
                continue
            raw = cells[i].strip()
            if existing and raw == "":
                continue  # an empty cell keeps the stored value: only <blank> clears it
            if is_blank_marker(raw):
                raw = ""
            try:
                if column.kind == TEXT:
                    if column.max_length and len(raw) > column.max_length:
                        raise ValueError(f"At most {column.max_length} characters ({len(raw)}).")
                    value = raw
                elif column.kind == INT_LEVEL:
                    value = _parse_level(column, raw, category, ctx)
                elif column.kind == CHOICE:
                    value = _parse_choice(column, raw)
                elif column.kind == MULTI:
                    value = []
                    for token in SPLIT.split(raw):
                        if token.strip():
                            item = _parse_choice(column, token.strip())
                            if item not in value:
                                value.append(item)
                elif column.kind == USER:
                    if raw and raw not in ctx.members:
                        raise ValueError(f"{raw!r} is not a member of this product.")
                    value = ctx.members.get(raw) if raw else None
                else:  # pragma: no cover
                    raise AssertionError(column.kind)
            except ValueError as exc:
                errors.append((mapping[column.name], str(exc)))
                continue
            values[column.name] = value
        if "title" in mapping and not values.get("title", "x"):
            errors.append((mapping["title"], "A title is required."))
        elif not existing and not values.get("title"):
            errors.append((mapping.get("title", "Title"), "A title is required for a new hazard."))
        if errors:
            continue
        for name, value in values.items():
            setattr(hazard, name, value)
        plan.warnings = _ignored_by_category(category, values, mapping)
        try:
            apply_estimates(hazard, ctx.policy)
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                errors.extend((_header_for(field_name, mapping), m) for m in messages)
            continue
        if hazard.cvss_base_score is not None:
            # The database holds a Decimal: compare like with like, or 9.8 != Decimal("9.8").
            hazard.cvss_base_score = Decimal(str(hazard.cvss_base_score))

        # Links named by code.
        row_controls: list[str] = []
        try:
            if cell("controls") is not None:
                row_controls = _parse_codes(cell("controls"), ctx.controls, "control")
        except ValueError as exc:
            errors.append((mapping["controls"], str(exc)))
            continue
        linked_codes = ctx.control_codes_by_hazard.get(existing.pk, []) if existing else []
        all_controls = list(dict.fromkeys(row_controls + linked_codes))
        requirement_pairs: list[tuple[str, str]] = []
        if cell("requirements"):
            try:
                requirement_pairs = _parse_requirement_links(
                    cell("requirements"), row_controls or all_controls, ctx
                )
            except ValueError as exc:
                errors.append((mapping["requirements"], str(exc)))
                continue
        for control_code, _ in requirement_pairs:
            if control_code not in all_controls:
                errors.append(
                    (
                        mapping["requirements"],
                        f"{control_code} is not a control of this row; list it under "
                        f"{mapping.get('controls', 'Risk control measures')}.",
                    )
                )
        if errors:
            continue
        plan.new_controls = [
            c
            for c in row_controls
            if not existing or (existing.pk, ctx.controls[c].pk) not in ctx.hazard_controls
        ]
        plan.new_requirement_links = [
            (c, r)
            for c, r in requirement_pairs
            if (ctx.controls[c].pk, ctx.requirements[r].pk) not in ctx.control_requirements
        ]
        plan.hazard = hazard
        if existing:
            plan.planned_version = existing.version
            before, after = _editable_state(existing), _editable_state(hazard)
            plan.changed_fields = tuple(
                n for n, b, a in zip(STATE_FIELDS, before, after, strict=True) if b != a
            )
            plan.changes = [
                _change_label(n, cleared=_is_empty(getattr(hazard, _attribute(n))))
                for n in plan.changed_fields
            ]
            plan.fields_changed = bool(plan.changes)
            plan.changes += [f"+ {c}" for c in plan.new_controls]
            plan.changes += [f"+ {c} → {r}" for c, r in plan.new_requirement_links]
            plan.action = UPDATE if plan.changes else UNCHANGED
        else:
            plan.action = CREATE
    return ImportPlan(rows=plans, headers=table.headers, mapping=mapping)


# --- Writing ------------------------------------------------------------------------------------


def _lock_named_hazards(product: Product, table: Table, mapping: dict[str, str]) -> None:
    """Lock (in id order, as every bulk path does) the stored hazards whose codes the file
    names, before the plan reads them: what the plan sees is what gets written."""
    header = mapping.get("code")
    if not header or header not in table.headers:
        return
    i = table.headers.index(header)
    codes = {str(cells[i]).strip() for _, cells in table.rows if i < len(cells)} - {""}
    if codes:
        lock_rows(Hazard.objects.filter(product=product, code__in=codes))


def table_codes(plan: ImportPlan) -> list[str]:
    return [r.code for r in plan.rows if r.code]


def _allocate_codes(plan: ImportPlan, used_codes) -> None:
    """Next free HAZ codes, in file order, for rows created without a code."""
    highest = 0
    for code in used_codes:
        match = CODE_RE.match(code)
        if match and match["prefix"] == HAZARD_PREFIX:
            highest = max(highest, int(match["number"]))
    for row in plan.rows:
        if row.action == CREATE and not row.code:
            highest += 1
            row.code = f"{HAZARD_PREFIX}-{highest:03d}"
            row.hazard.code = row.code


@transaction.atomic
def import_hazards(
    *,
    product: Product,
    table: Table,
    mapping: dict[str, str],
    by,
    reason: str,
    dry_run: bool = False,
    expected_versions: dict[str, int] | None = None,
) -> ImportPlan:
    """Plan the import and, unless it is a dry run, write it — all rows or none.

    Raises ImportRefused (nothing written) when any row is rejected. The product row is locked
    first so codes cannot be drawn twice by concurrent imports (PostgreSQL; SQLite serialises
    writers anyway); then every stored hazard the file names, so that no edit can slip in
    between this plan and its writes (an edit waits, then finds its version stale: 409).

    `expected_versions` is what the user confirmed (`ImportPlan.planned_versions()` of the
    preview): if any record the file touches moved since, ImportConflict names them and nothing
    is written (DESIGN.md §7: bulk paths lock, re-check and refuse the whole batch).
    """
    product = (
        Product.objects.select_related("risk_policy")
        .select_for_update(of=("self",))
        .get(pk=product.pk)
    )
    if not dry_run:
        _lock_named_hazards(product, table, mapping)
    plan = plan_import(product, table, mapping)
    if dry_run:
        return plan
    if not plan.ok:
        raise ImportRefused(plan)
    refuse_if_moved(plan.planned_versions(), expected_versions)
    write_plan(product, plan, by=by, reason=reason)
    return plan


def write_plan(product: Product, plan: ImportPlan, *, by, reason: str) -> dict[str, Hazard]:
    """Write an accepted plan (the caller holds the transaction, the product lock and the locks
    of the stored hazards it names): the hazards created or changed, and the links the rows
    name. Returns every planned hazard by code. The workbook import (`workbook.py`) writes its
    Hazards sheet through here too."""
    reason = (reason or "Imported from spreadsheet")[:100]
    now = timezone.now()
    # Codes of deleted hazards stay bound to them in the audit trail: never hand one out again.
    used_codes = Hazard.history.filter(product_id=product.pk).values_list("code", flat=True)
    _allocate_codes(
        plan,
        set(used_codes.order_by().distinct())
        | set(Hazard.objects.filter(product=product).values_list("code", flat=True))
        | set(table_codes(plan)),
    )

    # BULK PATH: `riskbench.bulk` writes one history row per record, with the user and the
    # reason, exactly as save_record would, and chains it.
    creates = [r.hazard for r in plan.rows if r.action == CREATE]
    for hazard in creates:
        hazard.version = 1
        hazard.status = Status.DRAFT
        hazard.created_at = hazard.updated_at = now
    created = bulk.create_with_history(creates, Hazard, by=by, reason=reason)
    by_code = {h.code: h for h in created}

    # Rows are updated in groups that change the same fields, each group writing only those
    # columns (plus the bookkeeping ones): an UPDATE of every column of every row costs ~30
    # times more (Django's bulk_update builds a CASE per column). The history rows still hold
    # every field of the record, as save_record's would.
    groups: dict[tuple[str, ...], list[Hazard]] = defaultdict(list)
    for row in plan.rows:
        if row.action == UPDATE and row.fields_changed:
            groups[row.changed_fields].append(row.hazard)
    for changed_fields, updates in groups.items():
        for hazard in updates:
            hazard.version += 1
            if hazard.status == Status.APPROVED:
                hazard.status = Status.IN_REVIEW  # its signatures stay on the earlier version
                hazard.revision += 1
            hazard.updated_at = now
            by_code[hazard.code] = hazard
        claim_next_versions(Hazard, updates)
        bulk.update_with_history(
            updates,
            Hazard,
            [*changed_fields, "version", "status", "revision", "updated_at"],
            by=by,
            reason=reason,
        )
    for row in plan.rows:
        by_code.setdefault(row.code, row.hazard)

    controls = {c.code: c for c in RiskControl.objects.filter(product=product)}
    requirements = {r.code: r for r in Requirement.objects.filter(product=product)}
    hazard_links = []
    requirement_links: dict[tuple[str, str], ControlRequirement] = {}
    for row in plan.rows:
        hazard = by_code.get(row.code)
        for control_code in row.new_controls:
            control = controls[control_code]
            hazard_links.append(
                HazardControl(
                    hazard=hazard,
                    control=control,
                    source_version=hazard.version,
                    target_version=control.version,
                    created_by=by,
                    created_at=now,
                )
            )
        for control_code, requirement_code in row.new_requirement_links:
            control, requirement = controls[control_code], requirements[requirement_code]
            requirement_links.setdefault(
                (control_code, requirement_code),
                ControlRequirement(
                    control=control,
                    requirement=requirement,
                    source_version=control.version,
                    target_version=requirement.version,
                    created_by=by,
                    created_at=now,
                ),
            )
    link_reason = f"Linked by import: {reason}"[:100]
    bulk.create_with_history(hazard_links, HazardControl, by=by, reason=link_reason)
    bulk.create_with_history(
        list(requirement_links.values()), ControlRequirement, by=by, reason=link_reason
    )
    # The bulk helpers send no signal: chain their history rows now, in this transaction, so
    # the audit trail has no unchained row even for a moment (21 CFR 11.10(e)).
    audit.chain_pending(models=[Hazard, HazardControl, ControlRequirement])
    plan.written = True
    return by_code


# --- Export -------------------------------------------------------------------------------------


def _code_key(code: str) -> tuple:
    match = re.match(r"^(.*?)(\d+)$", code or "")
    return (match[1], int(match[2]), code) if match else (code or "", -1, code or "")


def export_rows(product: Product) -> tuple[list[str], list[list[str]]]:
    """The hazard log as header + rows of text, in natural code order.

    Query plan: hazards with owner (1) + hazard→control codes (1) + control→requirement
    codes (1): three queries whatever the number of hazards.
    """
    hazards = sorted(
        Hazard.objects.filter(product=product).select_related("owner"),
        key=lambda h: _code_key(h.code),
    )
    controls_of: dict[int, list[str]] = defaultdict(list)
    for hazard_id, code in HazardControl.objects.filter(hazard__product=product).values_list(
        "hazard_id", "control__code"
    ):
        controls_of[hazard_id].append(code)
    requirements_of: dict[str, list[str]] = defaultdict(list)
    for control_code, requirement_code in ControlRequirement.objects.filter(
        control__product=product
    ).values_list("control__code", "requirement__code"):
        requirements_of[control_code].append(requirement_code)

    rows = []
    for hazard in hazards:
        controls = sorted(controls_of.get(hazard.pk, []), key=_code_key)
        pairs = [
            (c, r) for c in controls for r in sorted(requirements_of.get(c, []), key=_code_key)
        ]
        if len(controls) == 1:
            requirements = "; ".join(r for _, r in pairs)
        else:
            requirements = "; ".join(f"{c}:{r}" for c, r in pairs)
        row = []
        for column in COLUMNS:
            if column.name == "controls":
                row.append("; ".join(controls))
            elif column.name == "requirements":
                row.append(requirements)
            elif column.name == "owner":
                row.append(hazard.owner.get_username() if hazard.owner else "")
            elif column.kind == MULTI:
                row.append("; ".join(hazard.data_elements or []))
            else:
                value = getattr(hazard, column.name)
                row.append("" if value is None else str(value))
        for name, _ in READ_ONLY_COLUMNS:
            value = getattr(hazard, name)
            row.append("" if value is None else str(value))
        rows.append(row)
    return EXPORT_HEADERS, rows


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """Neutralise CSV injection: a spreadsheet must never run a cell as a formula."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def write_csv(headers: list[str], rows: list[list[str]]) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads the accents), every cell escaped."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([escape_cell(h) for h in headers])
    writer.writerows([escape_cell(c) for c in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(headers: list[str], rows: list[list[str]], title: str = "Hazard log") -> bytes:
    """Every cell written as typed text, so Excel never evaluates one as a formula."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell

    sheet.append([text_cell(h) for h in headers])
    for row in rows:
        sheet.append([text_cell(v) if v else None for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_hazards(product: Product, fmt: str) -> bytes:
    headers, rows = export_rows(product)
    if fmt == XLSX:
        return write_xlsx(headers, rows)
    if fmt == CSV:
        return write_csv(headers, rows)
    raise ValueError(f"Unknown export format {fmt!r}.")


MATRIX_HEADERS = [
    "Hazard",
    "Hazard title",
    "Category",
    "Initial risk",
    "Residual risk",
    "Hazard verification",
    "Control",
    "Control title",
    "Implementation evidence",
    "Effectiveness evidence",
    "Requirement",
    "Requirement title",
    "Test",
    "Test title",
    "Latest result",
    "Suspect link",
    "Gaps",
]


def matrix_rows(product: Product) -> tuple[list[str], list[list[str]]]:
    """The traceability matrix (hazard → control → requirement → test → latest result), from
    the product's trace graph (ISO 14971 4.5 traceability; IEC 62304 7.3.3)."""
    from traceability import graph as trace_graph

    rows = []
    for r in trace_graph.trace_rows(trace_graph.build_graph(product)):
        rows.append(
            [
                r.hazard_code,
                r.hazard_title,
                r.category,
                r.initial_acceptability,
                r.residual_acceptability,
                r.hazard_verification,
                r.control_code,
                r.control_title,
                r.control_implementation,
                r.control_effectiveness,
                r.requirement_code,
                r.requirement_title,
                r.test_code,
                r.test_title,
                r.latest_result or "",
                "yes" if r.suspect else "",
                ", ".join(r.gaps),
            ]
        )
    return MATRIX_HEADERS, rows


def export_matrix(product: Product, fmt: str) -> bytes:
    headers, rows = matrix_rows(product)
    if fmt == XLSX:
        return write_xlsx(headers, rows, title="Traceability matrix")
    if fmt == CSV:
        return write_csv(headers, rows)
    raise ValueError(f"Unknown export format {fmt!r}.")
