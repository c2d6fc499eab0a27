"""JUnit XML from a CI job → TestRuns: verification evidence (IEC 62304 5.7.5, 7.3.1;
ISO 14971 7.2).

Each JUnit test case is matched to a RiskBench TestCase by a code found in its name, its class
name, or a `<property name="test_case" value="TC-012"/>`. All JUnit cases that match one
TestCase make one TestRun (fail if any failed or errored, not run if all were skipped, else
pass). The XML file itself is kept as the evidence attachment of every run it produced, with its
SHA-256 (21 CFR 11.10(b) – accurate and complete copies of records). The same file is never
imported twice, and a bad file writes nothing.

`import_junit` is a public contract: the REST API's CI endpoint calls it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import get_valid_filename
from junitparser import Error, Failure, JUnitXml, JUnitXmlError, Skipped
from junitparser import TestCase as JUnitCase

from hazards.models import Product
from riskbench import audit, bulk
from traceability.integrations.uploads import (
    XML,
    UploadError,
    check_size,
    local_name,
    parse_xml,
    sniff,
)
from traceability.models import TestCase, TestResult, TestRun

# Property names on a <testcase> (or its suite) that name the RiskBench test case.
CODE_PROPERTIES = {"test_case", "testcase", "test_case_code", "riskbench", "riskbench.test_case"}
VERSION_PROPERTIES = {"software_version", "version", "build", "riskbench.software_version"}
CODE_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,10})[-_](\d{1,6})(?![0-9])")
MAX_CASES = 50_000


@dataclass
class JunitImportResult:
    created_runs: list[TestRun] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    evidence_sha256: str = ""
    cases_total: int = 0


@dataclass
class _Case:
    ident: str
    result: str
    codes: set[str]
    time: float | None
    executed_at: dt.datetime | None = None  # its own timestamp, else its suite's


def _case_result(case) -> str:
    results = case.result
    if any(isinstance(r, Failure | Error) for r in results):
        return TestResult.FAIL
    if any(isinstance(r, Skipped) for r in results):
        return TestResult.NOT_RUN
    return TestResult.PASS


def _properties(elem) -> dict[str, str]:
    props = {}
    for child in elem:
        if local_name(child.tag) == "properties":
            for prop in child:
                if local_name(prop.tag) == "property":
                    name = (prop.get("name") or "").strip().lower()
                    props[name] = (prop.get("value") or prop.text or "").strip()
    return props


def _codes_in(text: str, known: dict[str, str]) -> set[str]:
    """Codes of the product's test cases that occur in `text` (TC-012, tc_012, TC-12 → TC-012
    when that is a known code)."""
    found = set()
    for prefix, number in CODE_IN_TEXT.findall(text or ""):
        key = f"{prefix.upper()}-{int(number)}"
        if key in known:
            found.add(known[key])
    return found


def _normal(code: str) -> str:
    match = re.match(r"^([A-Za-z]+)-(\d+)$", code)
    return f"{match[1].upper()}-{int(match[2])}" if match else code.upper()


def _walk_suites(root):
    """Every <testsuite>, nested or not, with the properties inherited from its ancestors."""
    stack = [(root, {})]
    while stack:
        elem, inherited = stack.pop()
        props = {**inherited, **_properties(elem)}
        if local_name(elem.tag) == "testsuite":
            yield elem, props
        stack.extend(
            (child, props) for child in reversed(elem) if local_name(child.tag) == "testsuite"
        )


def _suite_time(suite_elem, what: str = "Suite") -> dt.datetime | None:
    """The element's `timestamp` (a suite's, or a test case's when the tool writes one)."""
    raw = (suite_elem.get("timestamp") or "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise UploadError(f"{what} timestamp {raw!r} is not an ISO 8601 date and time.")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    if value > timezone.now() + dt.timedelta(minutes=5):
        raise UploadError(f"{what} timestamp {raw} is in the future; check the CI clock.")
    return value


def parse_junit(data: bytes, known_codes: dict[str, str]):
    """Parse and match, without touching the database. Returns (cases, executed_at, version)."""
    check_size(len(data))
    if sniff(data) != XML:
        raise UploadError("This is not a JUnit XML file (expected XML starting with '<').")
    root = parse_xml(data, what="JUnit XML")
    if local_name(root.tag) not in {"testsuites", "testsuite"}:
        raise UploadError(
            f"The root element is <{local_name(root.tag)}>; JUnit XML has <testsuites> or "
            f"<testsuite>."
        )
    try:
        JUnitXml.fromroot(root)  # the format check junitparser itself applies
    except JUnitXmlError as exc:
        raise UploadError(f"Not a JUnit XML file: {exc}.") from exc
    cases: list[_Case] = []
    executed_at = None
    software_version = ""
    for suite_elem, props in _walk_suites(root):
        suite_time = _suite_time(suite_elem)
        executed_at = executed_at or suite_time
        for key in VERSION_PROPERTIES:
            if props.get(key) and not software_version:
                software_version = props[key][:100]
        for case_elem in suite_elem:
            if local_name(case_elem.tag) != "testcase":
                continue
            case = JUnitCase.fromelem(case_elem)
            name = case.name or ""
            classname = case.classname or ""
            case_props = _properties(case_elem)
            codes = _codes_in(f"{classname} {name}", known_codes)
            for key, value in case_props.items():
                if key in CODE_PROPERTIES:
                    for token in re.split(r"[\s,;]+", value):
                        if _normal(token) in known_codes:
                            codes.add(known_codes[_normal(token)])
                        elif token:
                            codes.add(f"?{token}")
            ident = f"{classname}.{name}" if classname else name
            try:
                elapsed = case.time
            except ValueError:
                elapsed = None
            # Each case keeps its own time: its timestamp, else its own suite's (issue 13 §2:
            # a report of 729 dates must not become one date).
            when = _suite_time(case_elem, f"Test case {ident!r}") or suite_time
            cases.append(_Case(ident or "(unnamed)", _case_result(case), codes, elapsed, when))
            if len(cases) > MAX_CASES:
                raise UploadError(f"More than {MAX_CASES} test cases in one file; split it.")
    if not cases:
        raise UploadError("The JUnit file contains no <testcase>.")
    return cases, executed_at, software_version


def _aggregate(results: list[str]) -> str:
    if TestResult.FAIL in results:
        return TestResult.FAIL
    if all(r == TestResult.NOT_RUN for r in results):
        return TestResult.NOT_RUN
    return TestResult.PASS


def import_junit(*, product: Product, data: bytes, filename: str, by) -> JunitImportResult:
    """Record the outcome of a CI run as TestRuns of the matched test cases.

    JUnit cases without a known code (in their name or a `test_case` property) are returned in
    `unmatched`, never invented as new test cases. Raises UploadError (nothing written) when the
    file is not acceptable JUnit XML or was imported before (same SHA-256).
    """
    sha256 = hashlib.sha256(data).hexdigest()
    test_cases = {tc.code: tc for tc in TestCase.objects.filter(product=product)}
    known = {_normal(code): code for code in test_cases}
    cases, executed_at, software_version = parse_junit(data, known)

    if TestRun.objects.filter(test_case__product=product, evidence_sha256=sha256).exists():
        raise UploadError(
            f"This JUnit file (SHA-256 {sha256[:12]}…) was imported before; its evidence is "
            f"already recorded. Nothing was imported."
        )

    by_code: dict[tuple[str, dt.datetime | None], list[_Case]] = {}
    unmatched = []
    for case in cases:
        unknown = sorted(c[1:] for c in case.codes if c.startswith("?"))
        codes = [c for c in case.codes if not c.startswith("?")]
        if not codes:
            note = f" (test_case {', '.join(unknown)} not in this product)" if unknown else ""
            unmatched.append(case.ident + note)
        for code in codes:
            by_code.setdefault((code, case.executed_at), []).append(case)
    result = JunitImportResult(unmatched=unmatched, evidence_sha256=sha256, cases_total=len(cases))
    if not by_code:
        return result

    safe_name = get_valid_filename(filename.rsplit("/", 1)[-1] or "junit.xml")[:120] or "junit.xml"
    default_time = executed_at or timezone.now()
    reason = f"Imported from JUnit {safe_name} ({sha256[:12]})"[:100]
    stored_name = None
    try:
        with transaction.atomic():
            stored_name = default_storage.save(
                f"evidence/{product.slug}/junit/{sha256[:16]}-{safe_name}", ContentFile(data)
            )
            # One run per test case and time: the cases of one test case that ran at the same
            # time make one run (fail if any failed), each other time its own run.
            runs = []
            for code, when in sorted(by_code, key=lambda k: (k[0], k[1] or default_time)):
                matched = by_code[(code, when)]
                idents = ", ".join(c.ident for c in matched)
                run = TestRun(
                    test_case=test_cases[code],
                    result=_aggregate([c.result for c in matched]),
                    executed_at=when or default_time,
                    executed_by=by,
                    software_version=software_version,
                    notes=f"JUnit: {len(matched)} case(s): {idents}"[:5000],
                    evidence_name=safe_name[:255],
                    evidence_sha256=sha256,
                    evidence_size=len(data),
                    external_reference=f"junit:{safe_name}#{matched[0].ident}"[:300],
                )
                run.evidence.name = stored_name
                runs.append(run)
            # BULK PATH: one history row per run with the importer and the reason, as
            # save_record would write; the values are built above from checked input.
            bulk.create_with_history(runs, TestRun, by=by, reason=reason)
            audit.chain_pending(models=[TestRun])
            result.created_runs.extend(runs)
    except BaseException:
        if stored_name:
            default_storage.delete(stored_name)
        raise
    return result
