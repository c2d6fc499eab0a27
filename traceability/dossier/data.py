"""The dossier's data: frozen, ORM-free dataclasses gathered by `selectors.gather`.

Everything the renderer prints is here and nothing else, so (a) the renderer never touches the
database, (b) the data hash on the cover is a hash of exactly what was printed, and (c) two
exports of the same data give the same bytes. Collections are tuples in a stable order (by
code, then primary key); datetimes are aware UTC; numbers that come from decimals are strings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    value: int
    name: str
    description: str = ""


@dataclass(frozen=True)
class Scale:
    """One axis of the risk management plan (ISO 14971 4.4 d)."""

    key: str
    title: str
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Matrix:
    """An acceptability matrix: rows severity 1..n (lowest first), columns likelihood 1..m."""

    category: str
    title: str
    severity_axis: str
    likelihood_axis: str
    severity_levels: tuple[Level, ...]
    likelihood_levels: tuple[Level, ...]
    cells: tuple[tuple[str, ...], ...]
    region_labels: tuple[tuple[str, str], ...]  # (region, label in this category)


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    version: int
    status: str
    description: str
    scales: tuple[Scale, ...]
    probability_mapping: tuple[tuple[int, ...], ...]  # P for (P1 row, P2 column)
    matrices: tuple[Matrix, ...]


@dataclass(frozen=True)
class ProductInfo:
    pk: int
    name: str
    slug: str
    model_number: str
    manufacturer: str
    document_number: str
    description: str
    intended_use: str
    reasonably_foreseeable_misuse: str
    intended_users: str
    use_environment: str
    connectivity: str
    safety_characteristics: str
    software_safety_class: str
    verification_plan: str
    overall_residual_risk_method: str
    post_production_plan: str
    review_conclusion: str
    version: int
    responsibilities_and_authorities: str = ""  # plan 4.4 b
    review_requirements: str = ""  # plan 4.4 c
    plan_approval: str = ""  # who approved the plan's current content with a signature


@dataclass(frozen=True)
class SoftwareCause:
    """IEC 62304 7.1.2: how a software item can contribute to a hazardous situation."""

    item_code: str
    item_name: str
    hazard_code: str
    cause_type: str
    cause: str


@dataclass(frozen=True)
class Hazard:
    pk: int
    code: str
    category: str
    title: str
    hazard_type: str
    hazard: str
    sequence_of_events: str
    hazardous_situation: str
    harm: str
    status: str
    revision: int
    owner: str
    severity: int | None
    p1: int | None
    p2: int | None
    probability: int | None
    initial_index: int | None
    initial_acceptability: str
    residual_severity: int | None
    residual_p1: int | None
    residual_p2: int | None
    residual_probability: int | None
    residual_index: int | None
    residual_acceptability: str
    benefit_risk_justification: str
    asset: str
    threat: str
    vulnerability: str
    cvss_vector: str
    cvss_base_score: str
    residual_cvss_vector: str
    data_elements: tuple[str, ...]
    linddun_category: str
    controls: tuple[str, ...]  # codes of the controls that reduce it (7.1)
    introduced_by: tuple[str, ...]  # controls that introduce it (7.5)
    leads_to: tuple[str, ...]  # security → safety hazards it can cause
    caused_by_security: tuple[str, ...]
    software_causes: tuple[SoftwareCause, ...]
    verification: str  # from the graph: verified / partially verified / not verified


@dataclass(frozen=True)
class TestRef:
    code: str
    title: str
    result: str  # label of the latest result, "No run" when never executed
    executed_at: dt.datetime | None


@dataclass(frozen=True)
class Run:
    """One execution of a test case as recorded (IEC 62304 5.7.5): what was tested, by whom,
    with what result, and where the evidence is."""

    executed_at: dt.datetime
    result: str  # label
    software_version: str  # the version tested
    tester: str
    external_reference: str  # CI job, JUnit case id, report number
    notes: str
    evidence_name: str
    evidence_sha256: str


@dataclass(frozen=True)
class TestCase:
    """A test case with its texts (procedure, acceptance criteria) and every run, newest
    first (IEC 62304 5.7.1, 5.7.5, 7.3.1)."""

    pk: int
    code: str
    title: str
    method: str
    level: str
    procedure: str
    acceptance_criteria: str
    verifies: tuple[str, ...]  # requirement codes
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Control:
    pk: int
    code: str
    title: str
    description: str
    option: str  # value of ControlOption
    option_label: str
    security_category: str
    implementation_status: str
    status: str
    reduces: tuple[str, ...]
    introduces: tuple[str, ...]
    requirements: tuple[str, ...]
    implementation_tests: tuple[TestRef, ...]
    effectiveness_tests: tuple[TestRef, ...]
    verification: str  # from the graph


@dataclass(frozen=True)
class Requirement:
    pk: int
    code: str
    level: str
    title: str
    text: str
    software_item: str
    status: str
    tests: tuple[str, ...]


@dataclass(frozen=True)
class SoftwareItem:
    pk: int
    code: str
    name: str
    parent: str
    safety_class: str
    safety_class_rationale: str
    segregation_note: str
    required_class: str  # what the graph says it should be; "" when it agrees or cannot tell
    is_soup: bool
    manufacturer: str
    soup_version: str
    purl: str
    licence: str
    soup_requirements: str
    soup_hardware_software: str
    anomalies_reviewed_at: dt.date | None
    anomalies_notes: str
    support_status: str
    end_of_support: dt.date | None


@dataclass(frozen=True)
class TraceRow:
    """One chain of the traceability matrix (ISO 14971 4.5; IEC 62304 7.3.3)."""

    hazard: str
    hazard_title: str
    control: str
    requirement: str
    test: str
    result: str


@dataclass(frozen=True)
class Gap:
    kind: str
    kind_label: str
    code: str
    message: str


@dataclass(frozen=True)
class CoverageLine:
    """One check of `traceability.graph.coverage`: how many items it applies to, how many fail."""

    label: str
    clause: str
    checked: int
    gaps: int

    @property
    def percent(self) -> float:
        return (
            100.0
            if self.checked == 0
            else round(100.0 * (self.checked - self.gaps) / self.checked, 1)
        )


@dataclass(frozen=True)
class Evidence:
    test_code: str
    executed_at: dt.datetime
    result: str
    software_version: str
    tester: str
    name: str
    sha256: str
    size: int | None
    external_reference: str


@dataclass(frozen=True)
class Signature:
    """21 CFR 11.50: the manifestation of an electronic signature as printed."""

    record: str
    printed_name: str
    username: str
    signed_at: dt.datetime
    meaning: str
    sha256: str
    current: bool  # the record's content still matches the signed hash (11.70)
    competence: str = ""  # the signer's role and qualification at signing (ISO 14971 4.3)


@dataclass(frozen=True)
class BaselineInfo:
    pk: int
    name: str
    created_at: dt.datetime
    created_by: str
    sha256: str
    signatures: tuple[Signature, ...]
    kind: str = "working"  # "working" | "release" (traceability.baselines.BaselineKind)


@dataclass(frozen=True)
class Change:
    """One line of the changes since the previous baseline (IEC 62304 7.4)."""

    action: str  # added / removed / changed
    record: str
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit-trail extract (21 CFR 11.10(e)): who, when, what, why."""

    when: dt.datetime
    who: str
    record: str
    action: str
    what: str
    why: str


@dataclass(frozen=True)
class ExtraSection:
    """A section registered by an app above traceability (`extensions`): plain strings only."""

    title: str
    clause: str
    note: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = "Nothing recorded."
    weights: tuple[float, ...] = ()
    # (label, text) pairs printed as a key-value table before the rows: a section that is
    # mostly statements (e.g. the risk management report) rather than a list.
    fields: tuple[tuple[str, str], ...] = ()
    # Where it is printed: "extensions" (a sub-section of the post-release records) or
    # "report" (the risk management report, a section of its own after the residual risk).
    section: str = "extensions"


@dataclass(frozen=True)
class DossierData:
    """Everything printed in one dossier. `as_of` is the latest change in the data and serves as
    the document date, so the same data always yields the same document."""

    product: ProductInfo
    policy: PolicyInfo
    as_of: dt.datetime
    revision: str
    hazards: tuple[Hazard, ...]
    controls: tuple[Control, ...]
    requirements: tuple[Requirement, ...]
    tests: tuple[TestRef, ...]
    test_cases: tuple[TestCase, ...]
    software_items: tuple[SoftwareItem, ...]
    trace_rows: tuple[TraceRow, ...]
    gaps: tuple[Gap, ...]
    coverage: tuple[CoverageLine, ...]
    evidence: tuple[Evidence, ...]
    record_signatures: tuple[Signature, ...]
    baselines: tuple[BaselineInfo, ...]  # oldest first: the document's revision history
    released: bool  # the data is exactly the latest baseline (its signatures approve it)
    previous_baseline: BaselineInfo | None  # what the changes are counted from
    changes: tuple[Change, ...] | None  # None: there is no previous baseline
    audit_since: dt.datetime | None
    audit: tuple[AuditEntry, ...]
    extensions: tuple[ExtraSection, ...] = ()  # registered by apps above (`extensions`)

    @property
    def release_baseline(self) -> BaselineInfo | None:
        """The release baseline this dossier reproduces: only then is it a released file; any
        other dossier is a DRAFT (the data changed since, or the baseline is a working one)."""
        if self.released and self.baselines and self.baselines[-1].kind == "release":
            return self.baselines[-1]
        return None

    def hazards_in(self, category: str) -> tuple[Hazard, ...]:
        return tuple(h for h in self.hazards if h.category == category)

    @property
    def soup(self) -> tuple[SoftwareItem, ...]:
        return tuple(i for i in self.software_items if i.is_soup)

    def canonical_json(self) -> bytes:
        """Key-sorted, whitespace-free JSON of every field: the input of `data_hash`."""
        return json.dumps(
            _plain(self),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=_json_default,
        ).encode("utf-8")

    def canonical_chunks(self):
        """`canonical_json` in pieces, one record at a time (joined, the same bytes): the hash
        of a large file never needs the whole document, nor a copy of the data as dicts."""
        encode = json.JSONEncoder(
            sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
        ).encode
        names = sorted(f.name for f in dataclasses.fields(self) if f.name != "pk")
        yield "{"
        for index, name in enumerate(names):
            yield ("," if index else "") + encode(name) + ":"
            value = getattr(self, name)
            if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
                # A few hundred records at a time: "[a,b]" less its brackets is "a,b".
                yield "["
                for n in range(0, len(value), HASH_BATCH):
                    batch = [_plain(item) for item in value[n : n + HASH_BATCH]]
                    yield ("," if n else "") + encode(batch)[1:-1]
                yield "]"
            else:
                yield encode(_plain(value))
        yield "}"

    @functools.cached_property
    def data_hash(self) -> str:
        """SHA-256 of the gathered data, printed on the cover: a reader can check that two
        dossiers were made from the same risk file without comparing them page by page.
        (Computed once: the renderer and the export record both use it.)"""
        digest = hashlib.sha256()
        for chunk in self.canonical_chunks():
            digest.update(chunk.encode("utf-8"))
        return digest.hexdigest()


HASH_BATCH = 256  # records encoded at once by `canonical_chunks`
# Types `_plain` returns as they are (JSON values, or dates that `_json_default` writes).
_AS_IS = frozenset({str, int, float, bool, type(None), dt.datetime, dt.date})


def _plain(value):
    """`dataclasses.asdict` without its deep copies (the data is frozen already); values of
    the types in `_AS_IS` are taken as they are without a call each."""
    names = _field_names(type(value))
    if names is not None:
        plain = {}
        for name in names:
            v = getattr(value, name)
            plain[name] = v if type(v) in _AS_IS else _plain(v)
        return plain
    if isinstance(value, tuple | list):
        return [v if type(v) in _AS_IS else _plain(v) for v in value]
    return value


@functools.cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """The fields `_plain` keeps of a dataclass, None for other types (looked up once per
    class: the hash reads every field of hundreds of thousands of records). Database ids
    are not printed and differ between databases: not part of the hash."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls) if f.name != "pk")


def _json_default(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"Cannot serialise {type(value).__name__}")
