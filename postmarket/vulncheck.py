"""Match an offline vulnerability feed against a product's SOUP and record what matches
(FDA premarket cybersecurity guidance 2023: monitor, assess every known vulnerability;
IEC 81001-5-1 5.3, 7.4; IEC 62304 7.1.3: evaluate published SOUP anomaly lists).

Three steps, so that the database is touched only at the ends:

1. `index_soup` — the product's SOUP items by package key (one query);
2. `scan` — every advisory of the feed is read (`feeds`), its packages looked up in that index
   *before* the rest of it is parsed, and only the advisories naming a SOUP package are parsed
   and matched (`osv.evaluate`); a ZIP of 50,000 advisories costs one JSON parse each, and
   range parsing only for the few that matter;
3. `apply` — one transaction: a new match is recorded "under investigation"; a known one is
   refreshed only when the feed says something new (so a re-run on the same feed writes no
   history row); one whose SOUP has moved out of every affected range is marked fixed; one whose
   advisory was withdrawn is marked so.

`outstanding` then lists what keeps the release gate shut: vulnerabilities under
investigation, and affected ones linked to neither a security hazard nor a problem report —
CISA KEV-listed first, then by CVSS score.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import cvss
from django.db import transaction
from django.db.models import Q

from hazards.models import Product
from postmarket import feeds, osv, services
from postmarket.models import AnalysisState, Vulnerability
from traceability.graph import code_key
from traceability.models import SoftwareItem

RANK = {osv.Verdict.AFFECTED: 2, osv.Verdict.NOT_COMPARABLE: 1, osv.Verdict.NOT_AFFECTED: 0}


@dataclass(frozen=True)
class Soup:
    pk: int
    code: str
    name: str
    key: osv.PackageKey
    versions: tuple[str, ...]  # the SOUP version, then the version in its purl


def index_soup(product: Product) -> tuple[dict[osv.PackageKey, list[Soup]], list[str]]:
    """SOUP items by package key, and the codes of SOUP items that cannot be matched (no
    valid purl). One query."""
    index: dict[osv.PackageKey, list[Soup]] = {}
    unmatchable = []
    rows = (
        SoftwareItem.objects.filter(product=product, is_soup=True)
        .order_by("code")
        .values_list("pk", "code", "name", "purl", "soup_version")
    )
    for pk, code, name, purl, version in rows:
        key, purl_version = osv.purl_key(purl) if purl else (None, "")
        if key is None:
            unmatchable.append(code)
            continue
        versions = tuple(v for v in (version.strip(), purl_version) if v)
        index.setdefault(key, []).append(Soup(pk, code, name, key, versions))
    return index, unmatchable


@dataclass
class Finding:
    """One (advisory, SOUP item) pair the feed speaks about."""

    advisory: osv.Advisory
    soup: Soup
    match: osv.Match
    ranges: tuple[str, ...]
    fixed: tuple[str, ...]


@dataclass
class Scan:
    advisories: int = 0
    parsed: int = 0
    skipped: int = 0  # documents the pre-filter showed to name no SOUP package
    withdrawn: set[str] = field(default_factory=set)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    findings: dict[tuple[str, int], Finding] = field(default_factory=dict)


# The values an advisory names its packages by: package names, purls, GIT repositories.
_NAMES = re.compile(rb'"(?:name|purl|repo)"\s*:\s*"([^"\\]*)"')
_SEPARATORS = re.compile(r"[-_.]+")


def _token(value: str) -> str:
    """The last segment of a package name, purl or repository URL, lower-cased and with runs
    of - _ . folded (PEP 503 style), e.g. "org.x:Log4J-core" and "pkg:maven/org.x/log4j_core@2"
    both give "log4j-core"."""
    value = value.lower().split("@", 1)[0].split("?", 1)[0].removesuffix(".git").rstrip("/")
    for separator in ("/", ":"):
        value = value.rsplit(separator, 1)[-1]
    return _SEPARATORS.sub("-", value)


def may_concern(data: bytes, tokens: set[str]) -> bool:
    """Cheap pre-filter on the raw bytes: can this document name one of the SOUP packages?
    False only when none of its package names, purls or repositories ends in a SOUP package's
    name; anything written with JSON escapes is parsed to be sure. At C speed it spares the
    JSON parse of the ~90 % of a feed that is about other packages."""
    if b"\\u" in data:
        return True
    return any(_token(v.decode("utf-8", "replace")) in tokens for v in _NAMES.findall(data))


def scan(
    members: Iterable[feeds.Member],
    index: dict[osv.PackageKey, list[Soup]],
    *,
    progress: Callable[[int], None] | None = None,
) -> Scan:
    """Read the feed and match each relevant advisory (see the module docstring)."""
    result = Scan()
    wanted = index.keys()
    tokens = {_SEPARATORS.sub("-", key[2]) for key in wanted}
    for number, member in enumerate(members, 1):
        if progress is not None and number % 500 == 0:
            progress(number)
        if not may_concern(member.data, tokens):
            result.advisories += 1 if member.data.lstrip()[:1] == b"{" else 0
            result.skipped += 1
            continue
        try:
            documents = feeds.documents(member)
        except feeds.FeedError as exc:
            result.unreadable.append((member.name, str(exc)))
            continue
        for document in documents:
            result.advisories += 1
            if not isinstance(document, dict):
                result.unreadable.append((member.name, "an advisory is not a JSON object"))
                continue
            keys = osv.package_keys(document) & wanted
            if not keys:
                continue
            try:
                advisory = osv.parse_advisory(document)
            except osv.Malformed as exc:
                result.unreadable.append((member.name, f"{document.get('id', '?')}: {exc}"))
                continue
            result.parsed += 1
            if advisory.withdrawn:
                result.withdrawn.add(advisory.id)
                continue
            _match(advisory, index, result)
    return result


def _match(advisory: osv.Advisory, index, result: Scan) -> None:
    for affected in advisory.affected:
        for soup in index.get(affected.key, ()):
            match = osv.evaluate(affected, *soup.versions)
            pair = (advisory.id, soup.pk)
            known = result.findings.get(pair)
            if known is not None and known.advisory is not advisory:
                if known.advisory.modified > advisory.modified:
                    continue  # the same advisory twice in a feed: the newer one counts
                known = None
            if known is None:
                result.findings[pair] = Finding(advisory, soup, match, match.ranges, affected.fixed)
            else:
                if RANK[match.verdict] > RANK[known.match.verdict]:
                    known.match = match
                known.ranges = tuple(dict.fromkeys(known.ranges + match.ranges))
                known.fixed = tuple(dict.fromkeys(known.fixed + affected.fixed))


# --- Apply ----------------------------------------------------------------------------------


def cvss_score(vector: str) -> Decimal | None:
    """Base score of a CVSS v4, v3.x or v2 vector (the `cvss` library); None if it does not
    parse."""
    try:
        if vector.startswith("CVSS:4"):
            score = cvss.CVSS4(vector).base_score
        elif vector.startswith("CVSS:3"):
            score = cvss.CVSS3(vector).base_score
        elif vector:
            score = cvss.CVSS2(vector.removeprefix("CVSS:2.0/")).base_score
        else:
            return None
    except Exception:  # the library raises its own errors for every malformed part
        return None
    return Decimal(f"{float(score):.1f}")


def feed_fields(finding: Finding, kev: dict[str, str] | None) -> dict:
    """What the feed says about one match, in the record's fields."""
    a = finding.advisory
    vector = a.cvss_vector
    fields = {
        "aliases": sorted(set(a.aliases)),
        "summary": a.summary[:500],
        "details": a.details,
        "advisory_modified": a.modified,
        "published": a.published,
        "cvss_vector": vector[:200],
        "cvss_score": cvss_score(vector),
        "withdrawn": False,
        "matched_version": (finding.soup.versions[0] if finding.soup.versions else "")[:100],
        "match_basis": f"{finding.match.verdict}: {finding.match.basis}"[:300],
        "affected_ranges": "\n".join(finding.ranges),
        "fixed_versions": sorted(set(finding.fixed)),
        "references": list(a.references),
    }
    if kev is not None:  # without a KEV file the KEV flag is left as it was
        dates = [kev[c] for c in a.cves if c in kev]
        fields["in_kev"] = bool(dates)
        fields["kev_date_added"] = min(dates) if dates else ""
    return fields


@dataclass
class Applied:
    created: list[Vulnerability] = field(default_factory=list)
    updated: list[Vulnerability] = field(default_factory=list)
    fixed: list[Vulnerability] = field(default_factory=list)
    withdrawn: list[Vulnerability] = field(default_factory=list)
    unchanged: int = 0
    not_affected: int = 0  # package matched, version outside every range: nothing recorded


def _differs(record: Vulnerability, fields: dict) -> list[str]:
    return [name for name, value in fields.items() if getattr(record, name) != value]


@transaction.atomic
def apply(
    product: Product, result: Scan, *, by, kev: dict[str, str] | None, source: str
) -> Applied:
    """Record the scan (see the module docstring); all or nothing."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    items = {i.pk: i for i in SoftwareItem.objects.filter(product=product, is_soup=True)}
    existing = {
        (v.advisory_id, v.software_item_id): v
        for v in Vulnerability.objects.filter(product=product).select_related("software_item")
    }
    applied = Applied()
    numbers = _numbering(product)
    for pair in sorted(result.findings, key=lambda p: (p[0], items[p[1]].code)):
        finding = result.findings[pair]
        record = existing.get(pair)
        verdict = finding.match.verdict
        if verdict == osv.Verdict.NOT_AFFECTED:
            if record is not None and record.analysis_state != AnalysisState.FIXED:
                record = services.vulnerability_refresh(
                    vulnerability=record,
                    by=by,
                    reason=f"{source}: SOUP now outside the affected ranges"[:100],
                    fixed_by_update=True,
                    **feed_fields(finding, kev),
                )
                applied.fixed.append(record)
            else:
                applied.not_affected += 1
            continue
        fields = feed_fields(finding, kev)
        if record is None:
            record = services.vulnerability_record(
                product=product,
                item=items[pair[1]],
                advisory_id=finding.advisory.id,
                code=next(numbers),
                by=by,
                reason=f"{source}: {finding.advisory.id} matches {items[pair[1]].code}"[:100],
                **fields,
            )
            applied.created.append(record)
            continue
        changed = _differs(record, fields)
        if not changed:
            applied.unchanged += 1
            continue
        what = (
            "listed in CISA KEV"
            if "in_kev" in changed and fields.get("in_kev")
            else (
                f"advisory modified {finding.advisory.modified}"
                if "advisory_modified" in changed
                else ", ".join(changed)
            )
        )
        applied.updated.append(
            services.vulnerability_refresh(
                vulnerability=record, by=by, reason=f"{source}: {what}"[:100], **fields
            )
        )
    for (advisory_id, _), record in sorted(existing.items(), key=lambda kv: kv[1].code):
        if advisory_id in result.withdrawn and not record.withdrawn:
            applied.withdrawn.append(
                services.vulnerability_refresh(
                    vulnerability=record,
                    by=by,
                    reason=f"{source}: advisory withdrawn"[:100],
                    withdrawn=True,
                )
            )
    return applied


UNRESOLVED = Q(analysis_state=AnalysisState.UNDER_INVESTIGATION) | Q(
    analysis_state=AnalysisState.AFFECTED, hazard__isnull=True, problem_report__isnull=True
)


def _numbering(product: Product):
    """VUL codes for the records this batch creates, after the highest ever used (history
    included), read once: `apply` holds the product's lock for the whole batch."""
    first = services.next_code(
        Vulnerability.objects.filter(product=product),
        services.VULNERABILITY_PREFIX,
        history=Vulnerability.history.filter(product_id=product.pk),
    )
    number = int(first.rsplit("-", 1)[1])
    while True:
        yield f"{services.VULNERABILITY_PREFIX}-{number:03d}"
        number += 1


def outstanding(product: Product) -> list[Vulnerability]:
    """Vulnerabilities that keep the gate shut: under investigation, or affected with neither a
    security hazard nor a problem report. KEV-listed first, then highest CVSS, then code."""
    rows = (
        Vulnerability.objects.filter(product=product, withdrawn=False)
        .filter(UNRESOLVED)
        .select_related("software_item")
    )
    return sort_for_report(rows)


def sort_for_report(rows) -> list[Vulnerability]:
    return sorted(
        rows,
        key=lambda v: (not v.in_kev, -(v.cvss_score or Decimal(-1)), code_key(v.code)),
    )
