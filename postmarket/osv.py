"""OSV advisories against SOUP: which package an advisory names, and whether a version is in
its affected `versions` or `ranges` (ECOSYSTEM, SEMVER; GIT only where comparable).

Pure and ORM-free. Version order comes from `univers` (the version-range library of
aboutcode.org), never from hand-written comparisons: each ECOSYSTEM range is compared with the
version class of its package type (PEP 440 for PyPI, node-semver for npm, Maven, Debian…), each
SEMVER range with SemVer 2.0. OSV range events are turned into univers `VersionConstraint`s once
per advisory and range (`Range.constraints`, cached), and containment is univers's.

Packages are identified as in a package URL: (type, namespace, name), lower-cased, PyPI names
normalised (PEP 503). An advisory's `package.purl` wins; otherwise the ecosystem and name are
mapped (Maven `group:artifact`, npm `@scope/name`, Go module paths…); a package with no purl
type (OSS-Fuzz, Linux, GIT) is keyed by the GitHub/GitLab repository of its GIT range.

A GIT range is a list of commits: without the repository its order is unknown, so it decides
only when the SOUP version *is* one of its commits; otherwise the advisory's enumerated
`versions` (which OSV derives from the repository's tags) decide, and without them the match is
reported as *not comparable* for a person to assess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

from packageurl import PackageURL
from univers.version_constraint import VersionConstraint, contains_version
from univers.version_range import RANGE_CLASS_BY_SCHEMES
from univers.versions import SemverVersion

PackageKey = tuple[str, str, str]  # (type, namespace, name)

# OSV ecosystem (the part before ":") → (purl type, default namespace).
ECOSYSTEMS: dict[str, tuple[str, str]] = {
    "PyPI": ("pypi", ""),
    "npm": ("npm", ""),
    "Maven": ("maven", ""),
    "Go": ("golang", ""),
    "crates.io": ("cargo", ""),
    "NuGet": ("nuget", ""),
    "RubyGems": ("gem", ""),
    "Packagist": ("composer", ""),
    "Hex": ("hex", ""),
    "Pub": ("pub", ""),
    "CRAN": ("cran", ""),
    "SwiftURL": ("swift", ""),
    "GitHub Actions": ("github", ""),
    "Debian": ("deb", "debian"),
    "Ubuntu": ("deb", "ubuntu"),
    "Alpine": ("apk", "alpine"),
    "Wolfi": ("apk", "wolfi"),
    "Chainguard": ("apk", "chainguard"),
    "Rocky Linux": ("rpm", "rocky-linux"),
    "AlmaLinux": ("rpm", "almalinux"),
    "Red Hat": ("rpm", "redhat"),
    "openSUSE": ("rpm", "opensuse"),
    "SUSE": ("rpm", "suse"),
}
# Types whose package name contains the namespace (split on the last separator).
_SPLIT = {"maven": ":", "npm": "/", "golang": "/", "composer": "/", "github": "/", "swift": "/"}
_PYPI_NORMAL = re.compile(r"[-_.]+")
_HEX = re.compile(r"^[0-9a-f]{7,40}$")


def normalise_key(ptype: str, namespace: str, name: str) -> PackageKey:
    ptype = (ptype or "").lower()
    namespace = (namespace or "").strip("/").lower()
    name = (name or "").lower()
    if ptype == "pypi":
        name = _PYPI_NORMAL.sub("-", name)
    return (ptype, namespace, name)


@lru_cache(maxsize=65536)
def purl_key(purl: str) -> tuple[PackageKey | None, str]:
    """(package key, version in the purl) of a package URL; (None, "") when it is not one."""
    try:
        parsed = PackageURL.from_string(purl.strip())
    except ValueError:
        return None, ""
    return normalise_key(parsed.type, parsed.namespace or "", parsed.name), parsed.version or ""


@lru_cache(maxsize=65536)
def ecosystem_key(ecosystem: str, name: str) -> PackageKey | None:
    base = ecosystem.split(":", 1)[0].strip()
    mapped = ECOSYSTEMS.get(base)
    if mapped is None or not name:
        return None
    ptype, namespace = mapped
    separator = _SPLIT.get(ptype)
    if separator and separator in name and not namespace:
        namespace, name = name.rsplit(separator, 1)
    return normalise_key(ptype, namespace, name)


def repo_key(url: str) -> PackageKey | None:
    """pkg:github/owner/repo (or gitlab) for a repository URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    path = parts.path.strip("/").removesuffix(".git")
    if host not in ("github.com", "gitlab.com") or path.count("/") < 1:
        return None
    namespace, name = path.rsplit("/", 1)
    return normalise_key(host.split(".")[0], namespace, name)


def ecosystem_scheme(ecosystem: str, key: PackageKey | None) -> str:
    """The univers versioning scheme of an ECOSYSTEM range."""
    base = ecosystem.split(":", 1)[0].strip()
    if base in ECOSYSTEMS:
        return ECOSYSTEMS[base][0]
    return key[0] if key else ""


# --- Advisories -------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def parse(cls, text: str):
    """A univers version, parsed once per process: feeds repeat the same version strings in
    thousands of advisories, and a univers parse costs ~0.1 ms."""
    return cls(text)


class Malformed(ValueError):
    """An advisory field does not have the shape the OSV schema gives it."""


def _text(value, what: str, *, required=False, limit=20_000) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise Malformed(f"{what} is not a string")
    if "\x00" in value:
        raise Malformed(f"{what} contains a NUL byte")
    return value[:limit]


def _list(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{what} is not a list")
    return value


EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


@dataclass(frozen=True)
class Range:
    type: str  # ECOSYSTEM | SEMVER | GIT
    events: tuple[tuple[str, str], ...]
    scheme: str  # univers scheme for ECOSYSTEM; "semver" for SEMVER; "" for GIT
    repo: str = ""

    @cached_property
    def version_class(self):
        if self.type == "SEMVER":
            return SemverVersion
        range_class = RANGE_CLASS_BY_SCHEMES.get(self.scheme)
        return range_class.version_class if range_class else None

    @cached_property
    def constraints(self):
        """(constraints, limits) as univers objects, or None when an event's version does not
        parse under the scheme (then the range is not comparable). Built once per range."""
        cls = self.version_class
        if cls is None:
            return None
        try:
            parsed = [
                (kind, None if (kind == "introduced" and value == "0") else parse(cls, value))
                for kind, value in self.events
            ]
        except Exception:  # univers raises several types on odd strings
            return None
        limits = [v for kind, v in parsed if kind == "limit" and v is not None]
        ordered = sorted(
            ((k, v) for k, v in parsed if k != "limit"),
            key=lambda e: (e[1] is not None, e[1] if e[1] is not None else 0),
        )
        constraints: list[VersionConstraint] = []
        start = _NOT_IN
        for kind, version in ordered:
            if kind == "introduced":
                if start is _NOT_IN:
                    start = version
            elif start is not _NOT_IN:
                if start is not None:
                    constraints.append(VersionConstraint(comparator=">=", version=start))
                comparator = "<" if kind == "fixed" else "<="
                constraints.append(VersionConstraint(comparator=comparator, version=version))
                start = _NOT_IN
        if start is not _NOT_IN:
            constraints.append(
                VersionConstraint(comparator=">=", version=start)
                if start is not None
                else VersionConstraint(comparator="*", version_class=cls)
            )
        return tuple(constraints), tuple(limits)

    def describe(self) -> str:
        events = " ".join(f"{kind}={value}" for kind, value in self.events)
        return f"{self.type}{f' ({self.scheme})' if self.type == 'ECOSYSTEM' else ''}: {events}"


_NOT_IN = object()


@dataclass(frozen=True)
class Affected:
    key: PackageKey
    ecosystem: str
    name: str
    ranges: tuple[Range, ...]
    versions: frozenset[str]

    @property
    def fixed(self) -> tuple[str, ...]:
        return tuple(v for r in self.ranges for kind, v in r.events if kind == "fixed")


@dataclass(frozen=True)
class Advisory:
    id: str
    modified: str
    published: str
    aliases: tuple[str, ...]
    summary: str
    details: str
    severity: tuple[tuple[str, str], ...]  # (type, score) of the advisory and its packages
    affected: tuple[Affected, ...]
    references: tuple[str, ...]
    withdrawn: str = ""

    @property
    def cves(self) -> tuple[str, ...]:
        ids = (self.id, *self.aliases)
        return tuple(a.upper() for a in ids if a.upper().startswith("CVE-"))

    @property
    def cvss_vector(self) -> str:
        """The newest CVSS vector given (v4, then v3, then v2), or ""."""
        by_type = dict(self.severity)
        for kind in ("CVSS_V4", "CVSS_V3", "CVSS_V2"):
            if by_type.get(kind):
                return by_type[kind]
        return ""


def package_keys(document: dict) -> set[PackageKey]:
    """The packages an advisory names, read cheaply (no range is parsed): what the matcher
    indexes on, so advisories for packages the product does not use are never parsed."""
    keys = set()
    for entry in document.get("affected") or ():
        if not isinstance(entry, dict):
            continue
        key = _entry_key(entry)
        if key is not None:
            keys.add(key)
    return keys


def _entry_key(entry: dict) -> PackageKey | None:
    package = entry.get("package")
    if isinstance(package, dict):
        purl = package.get("purl")
        if isinstance(purl, str) and purl:
            key, _ = purl_key(purl)
            if key is not None:
                return key
        ecosystem, name = package.get("ecosystem"), package.get("name")
        if isinstance(ecosystem, str) and isinstance(name, str):
            key = ecosystem_key(ecosystem, name)
            if key is not None:
                return key
    for rng in entry.get("ranges") or ():
        if isinstance(rng, dict) and rng.get("type") == "GIT" and isinstance(rng.get("repo"), str):
            key = repo_key(rng["repo"])
            if key is not None:
                return key
    return None


def parse_advisory(document) -> Advisory:
    """An OSV document as an `Advisory`; raises `Malformed` naming the field that is wrong."""
    if not isinstance(document, dict):
        raise Malformed("the document is not a JSON object")
    advisory_id = _text(document.get("id"), "id", required=True, limit=100).strip()
    if not advisory_id:
        raise Malformed("id is empty")
    severity = []
    for item in _list(document.get("severity"), "severity"):
        if isinstance(item, dict):
            severity.append(
                (
                    _text(item.get("type"), "severity.type"),
                    _text(item.get("score"), "severity.score", limit=200),
                )
            )
    affected = []
    for i, entry in enumerate(_list(document.get("affected"), "affected")):
        if not isinstance(entry, dict):
            raise Malformed(f"affected[{i}] is not an object")
        key = _entry_key(entry)
        if key is None:
            continue
        package = entry.get("package") if isinstance(entry.get("package"), dict) else {}
        ecosystem = _text(package.get("ecosystem"), f"affected[{i}].package.ecosystem")
        name = _text(package.get("name"), f"affected[{i}].package.name")
        ranges = []
        for j, rng in enumerate(_list(entry.get("ranges"), f"affected[{i}].ranges")):
            if not isinstance(rng, dict):
                raise Malformed(f"affected[{i}].ranges[{j}] is not an object")
            rtype = _text(rng.get("type"), f"affected[{i}].ranges[{j}].type")
            events = []
            for event in _list(rng.get("events"), f"affected[{i}].ranges[{j}].events"):
                if not isinstance(event, dict):
                    raise Malformed(f"affected[{i}].ranges[{j}].events has a non-object")
                for kind in EVENT_KINDS:
                    if kind in event:
                        value = _text(event[kind], f"affected[{i}].ranges[{j}] {kind}", limit=200)
                        events.append((kind, value.strip()))
            scheme = "semver" if rtype == "SEMVER" else ecosystem_scheme(ecosystem, key)
            ranges.append(
                Range(
                    rtype,
                    tuple(events),
                    scheme if rtype != "GIT" else "",
                    _text(rng.get("repo"), "repo", limit=500),
                )
            )
        versions = frozenset(
            _text(v, f"affected[{i}].versions", limit=200).strip()
            for v in _list(entry.get("versions"), f"affected[{i}].versions")
        )
        for item in _list(entry.get("severity"), f"affected[{i}].severity"):
            if isinstance(item, dict):
                severity.append(
                    (
                        _text(item.get("type"), "severity.type"),
                        _text(item.get("score"), "severity.score", limit=200),
                    )
                )
        affected.append(Affected(key, ecosystem, name, tuple(ranges), versions))
    aliases = tuple(
        _text(a, "aliases", limit=100).strip() for a in _list(document.get("aliases"), "aliases")
    )
    references = []
    for ref in _list(document.get("references"), "references"):
        if isinstance(ref, dict) and isinstance(ref.get("url"), str):
            references.append(ref["url"][:500])
    return Advisory(
        id=advisory_id,
        modified=_text(document.get("modified"), "modified", limit=40),
        published=_text(document.get("published"), "published", limit=40),
        aliases=tuple(a for a in aliases if a),
        summary=_text(document.get("summary"), "summary", limit=500),
        details=_text(document.get("details"), "details", limit=10_000),
        severity=tuple(severity),
        affected=tuple(affected),
        references=tuple(references[:20]),
        withdrawn=_text(document.get("withdrawn"), "withdrawn", limit=40),
    )


# --- Matching a version -----------------------------------------------------------------------


class Verdict(StrEnum):
    AFFECTED = "affected"
    NOT_AFFECTED = "not affected"
    NOT_COMPARABLE = "not comparable"


@dataclass(frozen=True)
class Match:
    verdict: Verdict
    basis: str
    ranges: tuple[str, ...] = field(default=())


def _variants(versions: tuple[str, ...]) -> list[str]:
    seen = []
    for version in versions:
        for v in (version, version.removeprefix("v"), version.removeprefix("V")):
            if v and v not in seen:
                seen.append(v)
    return seen


def _in_range(rng: Range, versions: list[str]) -> Verdict | None:
    """AFFECTED / NOT_AFFECTED by an ECOSYSTEM or SEMVER range; None when not comparable."""
    built = rng.constraints
    if built is None:
        return None
    constraints, limits = built
    cls = rng.version_class
    for text in versions:
        try:
            version = parse(cls, text)
        except Exception:  # noqa: S112 - univers raises several types on odd strings
            continue
        if any(version >= limit for limit in limits):
            return Verdict.NOT_AFFECTED
        if not constraints:
            return Verdict.NOT_AFFECTED
        if constraints[0].comparator == "*":  # introduced "0", never fixed: every version
            return Verdict.AFFECTED
        return Verdict.AFFECTED if contains_version(version, constraints) else Verdict.NOT_AFFECTED
    return None


def _git(rng: Range, versions: list[str]) -> Verdict | None:
    """A GIT range decides only for a version that is one of its commits."""
    for text in versions:
        commit = text.lower()
        if not _HEX.match(commit):
            continue
        for kind, value in rng.events:
            if value.lower().startswith(commit) or commit.startswith(value.lower()):
                if kind == "introduced":
                    return Verdict.AFFECTED
                if kind in ("fixed", "limit"):
                    return Verdict.NOT_AFFECTED
                if kind == "last_affected":
                    return Verdict.AFFECTED
    return None


def evaluate(affected: Affected, *versions: str) -> Match:
    """Is a package at `versions` (the SOUP version, then the purl's version: aliases of the
    same release) affected by this `affected` entry?"""
    candidates = _variants(tuple(v.strip() for v in versions if v and v.strip()))
    if not candidates:
        return Match(Verdict.NOT_COMPARABLE, "the SOUP item records no version")
    listed = next((v for v in candidates if v in affected.versions), None)
    if listed:
        return Match(
            Verdict.AFFECTED,
            f"version {listed} is listed as affected",
            tuple(r.describe() for r in affected.ranges),
        )
    described = tuple(r.describe() for r in affected.ranges)
    not_comparable = []
    decided_not = False
    for rng in affected.ranges:
        if rng.type in ("ECOSYSTEM", "SEMVER"):
            verdict = _in_range(rng, candidates)
            why = (
                f"version {candidates[0]} is not a {rng.scheme or rng.type} version"
                if rng.version_class is not None
                else f"no version order known for ecosystem {affected.ecosystem or rng.scheme!r}"
            )
        elif rng.type == "GIT":
            verdict = _git(rng, candidates)
            why = "GIT range: commit order unknown without the repository"
        else:
            verdict, why = None, f"unknown range type {rng.type!r}"
        if verdict == Verdict.AFFECTED:
            return Match(
                Verdict.AFFECTED, f"version {candidates[0]} in {rng.describe()}", described
            )
        if verdict == Verdict.NOT_AFFECTED:
            decided_not = True
        else:
            not_comparable.append(why)
    if affected.versions and (not_comparable or not affected.ranges):
        return Match(Verdict.NOT_AFFECTED, "not among the affected versions listed", described)
    if not_comparable:
        return Match(Verdict.NOT_COMPARABLE, "; ".join(dict.fromkeys(not_comparable)), described)
    if decided_not:
        return Match(Verdict.NOT_AFFECTED, "outside every affected range", described)
    return Match(Verdict.NOT_COMPARABLE, "the advisory lists no versions or ranges", described)
