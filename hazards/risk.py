"""Risk estimation and evaluation (ISO 14971 5.5, 6, 7.3, 7.4) as pure functions.

Nothing here touches the database: a policy is passed in as plain data (`PolicyData`), so the
whole risk logic is unit-tested cell by cell. The three categories share one shape:

* safety — severity of harm × probability of harm, where P = P1 × P2 (Annex C): the policy's
  mapping turns the P1 and P2 levels into a P level;
* security — severity × exploitability (AAMI TIR57, FDA premarket guidance): exploitability is
  not a probability; it is derived from the CVSS v3.1 exploitability sub-score;
* privacy — impact × likelihood (GDPR Art. 35 DPIA, CNIL scales).

The "severity axis" and the "likelihood axis" are stored in the same two fields for every
category, so matrices, heat maps and filters work the same way for all three.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum

from cvss import CVSS3
from cvss.exceptions import CVSSError


class Category(StrEnum):
    SAFETY = "safety"
    SECURITY = "security"
    PRIVACY = "privacy"


class Acceptability(StrEnum):
    """The three regions of an acceptability matrix (ISO/TR 24971 style)."""

    ACCEPTABLE = "acceptable"
    INVESTIGATE = "investigate"
    UNACCEPTABLE = "unacceptable"


ACCEPTABILITY_LABELS = {
    Category.SAFETY: {
        Acceptability.ACCEPTABLE: "Acceptable",
        Acceptability.INVESTIGATE: "Investigate further risk control",
        Acceptability.UNACCEPTABLE: "Unacceptable",
    },
    # Security risk is "controlled" or "uncontrolled" risk of patient harm, the two regions of
    # FDA's post-market cybersecurity guidance (2016) — not of AAMI TIR57, which describes the
    # process; the middle region means the assessment must be refined (e.g. with MITRE's
    # medical-device CVSS rubric) before it is called controlled.
    Category.SECURITY: {
        Acceptability.ACCEPTABLE: "Controlled risk",
        Acceptability.INVESTIGATE: "Controlled risk pending review",
        Acceptability.UNACCEPTABLE: "Uncontrolled risk",
    },
    Category.PRIVACY: {
        Acceptability.ACCEPTABLE: "Acceptable",
        Acceptability.INVESTIGATE: "Investigate further measures",
        Acceptability.UNACCEPTABLE: "Unacceptable",
    },
}

# Axis names per category: (severity axis, likelihood axis).
AXIS_NAMES = {
    Category.SAFETY: ("Severity", "Probability of harm"),
    Category.SECURITY: ("Severity", "Exploitability"),
    Category.PRIVACY: ("Impact", "Likelihood"),
}

A, I, U = Acceptability.ACCEPTABLE, Acceptability.INVESTIGATE, Acceptability.UNACCEPTABLE  # noqa: E741

# ---------------------------------------------------------------------------------------------
# Default policy (ISO/TR 24971 style 5 × 5), used by the data migration and by tests.
# ---------------------------------------------------------------------------------------------
DEFAULT_SEVERITY_LEVELS = [
    {"value": 1, "name": "Negligible", "description": "Inconvenience or temporary discomfort."},
    {
        "value": 2,
        "name": "Minor",
        "description": "Temporary injury or impairment not requiring professional medical "
        "intervention.",
    },
    {
        "value": 3,
        "name": "Serious",
        "description": "Injury or impairment requiring professional medical intervention.",
    },
    {
        "value": 4,
        "name": "Critical",
        "description": "Permanent impairment or life-threatening injury.",
    },
    {"value": 5, "name": "Catastrophic", "description": "Results in patient death."},
]
DEFAULT_PROBABILITY_LEVELS = [
    {"value": 1, "name": "Improbable", "description": "P < 10⁻⁶"},
    {"value": 2, "name": "Remote", "description": "10⁻⁶ ≤ P < 10⁻⁵"},
    {"value": 3, "name": "Occasional", "description": "10⁻⁵ ≤ P < 10⁻⁴"},
    {"value": 4, "name": "Probable", "description": "10⁻⁴ ≤ P < 10⁻³"},
    {"value": 5, "name": "Frequent", "description": "P ≥ 10⁻³"},
]
# One unit for every probability of the policy, said once (on the policy page and in the
# dossier): P and P1 per use of the device; P2 is conditional on the hazardous situation.
PROBABILITY_UNIT = "per use"
DEFAULT_P1_LEVELS = [
    {"value": 1, "name": "Very unlikely", "description": "P1 < 10⁻⁴"},
    {"value": 2, "name": "Unlikely", "description": "10⁻⁴ ≤ P1 < 10⁻³"},
    {"value": 3, "name": "Possible", "description": "10⁻³ ≤ P1 < 10⁻²"},
    {"value": 4, "name": "Likely", "description": "10⁻² ≤ P1 < 10⁻¹"},
    {"value": 5, "name": "Very likely", "description": "P1 ≥ 10⁻¹"},
]
DEFAULT_P2_LEVELS = [
    {"value": 1, "name": "Very unlikely", "description": "P2 < 10⁻⁴"},
    {"value": 2, "name": "Unlikely", "description": "10⁻⁴ ≤ P2 < 10⁻³"},
    {"value": 3, "name": "Possible", "description": "10⁻³ ≤ P2 < 10⁻²"},
    {"value": 4, "name": "Likely", "description": "10⁻² ≤ P2 < 10⁻¹"},
    {"value": 5, "name": "Almost certain", "description": "P2 ≥ 10⁻¹"},
]


def _default_probability_mapping() -> list[list[int]]:
    """P = P1 × P2 on decade scales. Each P1 and P2 level is one decade, so their product spans
    two decades of the probability scale; the mapping takes the higher one (the cautious
    estimate ISO/TR 24971 asks for when in doubt), clipped to the scale's ends. E.g. P1 in
    [10⁻³, 10⁻²) × P2 in [10⁻³, 10⁻²) lies in [10⁻⁶, 10⁻⁴): Occasional, not Remote."""
    return [[min(5, max(1, p1 + p2 - 3)) for p2 in range(1, 6)] for p1 in range(1, 6)]


DEFAULT_PROBABILITY_MAPPING = _default_probability_mapping()

# Rows: severity 1 (Negligible) … 5 (Catastrophic); columns: probability 1 (Improbable) … 5.
DEFAULT_SAFETY_MATRIX = [
    [A, A, A, I, I],
    [A, A, I, I, U],
    [A, I, I, U, U],
    [A, I, U, U, U],
    [I, U, U, U, U],
]
DEFAULT_EXPLOITABILITY_LEVELS = [
    # min_esc: lowest CVSS v3.1 exploitability sub-score (0 – 3.9) that reaches this level.
    {"value": 1, "name": "Very low", "min_esc": 0.0,
     "description": "Physical access and high privileges or complex conditions required."},
    {"value": 2, "name": "Low", "min_esc": 1.0,
     "description": "Local or adjacent access with notable preconditions."},
    {"value": 3, "name": "Moderate", "min_esc": 2.0,
     "description": "Reachable over a network or radio link with some preconditions."},
    {"value": 4, "name": "High", "min_esc": 2.8,
     "description": "Network or adjacent access, low complexity, little privilege needed."},
    {"value": 5, "name": "Very high", "min_esc": 3.5,
     "description": "Remotely exploitable without privileges or user interaction."},
]  # fmt: skip
DEFAULT_SECURITY_MATRIX = [
    [A, A, A, A, A],
    [A, A, A, A, I],
    [A, A, I, U, U],
    [A, I, U, U, U],
    [I, U, U, U, U],
]
DEFAULT_PRIVACY_IMPACT_LEVELS = [
    {"value": 1, "name": "Negligible",
     "description": "Data subjects are not affected or meet minor, easily overcome inconvenience."},
    {"value": 2, "name": "Limited",
     "description": "Significant inconvenience, overcome despite a few difficulties."},
    {"value": 3, "name": "Significant",
     "description": "Significant consequences, overcome albeit with serious difficulties."},
    {"value": 4, "name": "Maximum",
     "description": "Significant or irreversible consequences (e.g. disclosure of health "
     "status leading to discrimination)."},
]  # fmt: skip
DEFAULT_PRIVACY_LIKELIHOOD_LEVELS = [
    {"value": 1, "name": "Negligible", "description": "It does not seem possible to occur."},
    {"value": 2, "name": "Limited", "description": "It seems difficult for it to occur."},
    {"value": 3, "name": "Significant", "description": "It seems possible for it to occur."},
    {"value": 4, "name": "Maximum", "description": "It seems extremely easy for it to occur."},
]
DEFAULT_PRIVACY_MATRIX = [
    [A, A, A, I],
    [A, A, I, U],
    [A, I, U, U],
    [I, U, U, U],
]


@dataclass(frozen=True)
class PolicyData:
    """The acceptability criteria of a risk management plan (ISO 14971 4.4 d) as plain data."""

    severity_levels: list[dict]
    probability_levels: list[dict]
    p1_levels: list[dict]
    p2_levels: list[dict]
    probability_mapping: list[list[int]]
    safety_matrix: list[list[str]]
    exploitability_levels: list[dict]
    security_matrix: list[list[str]]
    privacy_impact_levels: list[dict]
    privacy_likelihood_levels: list[dict]
    privacy_matrix: list[list[str]]
    # False for criteria nobody has approved yet: risks are estimated on their scales (risk
    # index) but not evaluated — no acceptability is derived from unapproved criteria.
    approved: bool = True

    POLICY_FIELDS = (
        "severity_levels",
        "probability_levels",
        "p1_levels",
        "p2_levels",
        "probability_mapping",
        "safety_matrix",
        "exploitability_levels",
        "security_matrix",
        "privacy_impact_levels",
        "privacy_likelihood_levels",
        "privacy_matrix",
    )

    @classmethod
    def default(cls) -> PolicyData:
        return cls(
            severity_levels=DEFAULT_SEVERITY_LEVELS,
            probability_levels=DEFAULT_PROBABILITY_LEVELS,
            p1_levels=DEFAULT_P1_LEVELS,
            p2_levels=DEFAULT_P2_LEVELS,
            probability_mapping=DEFAULT_PROBABILITY_MAPPING,
            safety_matrix=[[str(c) for c in row] for row in DEFAULT_SAFETY_MATRIX],
            exploitability_levels=DEFAULT_EXPLOITABILITY_LEVELS,
            security_matrix=[[str(c) for c in row] for row in DEFAULT_SECURITY_MATRIX],
            privacy_impact_levels=DEFAULT_PRIVACY_IMPACT_LEVELS,
            privacy_likelihood_levels=DEFAULT_PRIVACY_LIKELIHOOD_LEVELS,
            privacy_matrix=[[str(c) for c in row] for row in DEFAULT_PRIVACY_MATRIX],
        )

    @classmethod
    def from_obj(cls, obj, *, approved: bool = True) -> PolicyData:
        """Build from anything with the policy attributes (a RiskPolicy, a history row)."""
        return cls(**{name: getattr(obj, name) for name in cls.POLICY_FIELDS}, approved=approved)

    @classmethod
    def from_dict(cls, criteria: dict, *, approved: bool = True) -> PolicyData:
        """Build from a criteria snapshot ({field: value} for every name in POLICY_FIELDS)."""
        return cls(**{name: criteria[name] for name in cls.POLICY_FIELDS}, approved=approved)

    def criteria(self) -> dict:
        return {name: getattr(self, name) for name in self.POLICY_FIELDS}

    def severity_scale(self, category: str) -> list[dict]:
        return self.privacy_impact_levels if category == Category.PRIVACY else self.severity_levels

    def likelihood_scale(self, category: str) -> list[dict]:
        if category == Category.SECURITY:
            return self.exploitability_levels
        if category == Category.PRIVACY:
            return self.privacy_likelihood_levels
        return self.probability_levels

    def matrix(self, category: str) -> list[list[str]]:
        return {
            Category.SAFETY: self.safety_matrix,
            Category.SECURITY: self.security_matrix,
            Category.PRIVACY: self.privacy_matrix,
        }[Category(category)]


# Regions whose residual risks a plan may allow to be accepted through a benefit-risk analysis
# (ISO 14971 4.4 d, 7.4). The default plan allows it only in the middle region: a risk in the
# unacceptable region must be reduced further.
BENEFIT_RISK_REGION_CHOICES = [
    (Acceptability.INVESTIGATE.value, "Investigate further risk control"),
    (Acceptability.UNACCEPTABLE.value, "Unacceptable"),
]


def default_benefit_risk_regions() -> list[str]:
    return [Acceptability.INVESTIGATE.value]


def validate_benefit_risk_regions(regions) -> list[tuple[str, str]]:
    allowed = {value for value, _ in BENEFIT_RISK_REGION_CHOICES}
    if not isinstance(regions, list) or any(
        not isinstance(r, str) or r not in allowed for r in regions
    ):
        return [
            (
                "benefit_risk_regions",
                "List the regions a benefit-risk analysis may accept: 'investigate' and/or "
                "'unacceptable'.",
            )
        ]
    return []


def benefit_risk_may_accept(regions, acceptability: str | None) -> bool:
    """Whether the plan lets a benefit-risk analysis accept a residual risk in this region."""
    return bool(acceptability) and acceptability in (regions or ())


class RiskError(ValueError):
    """An estimate that does not fit the policy; `field` names the offending input."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class RiskEstimate:
    """One estimated risk: where it sits in the matrix and which region that is."""

    severity: int | None
    probability: int | None
    acceptability: Acceptability | None
    index: int | None = None  # severity × likelihood, for sorting
    severity_only: bool = False  # probability could not be estimated (ISO 14971 4.4)

    @property
    def is_estimated(self) -> bool:
        return self.acceptability is not None


NOT_ESTIMATED = RiskEstimate(None, None, None)


def level_name(levels: list[dict], value: int | None) -> str:
    for level in levels:
        if level["value"] == value:
            return level["name"]
    return "—" if value is None else str(value)


def _check_level(levels: list[dict], value: int, field_name: str, label: str) -> None:
    values = [lvl["value"] for lvl in levels]
    if value not in values:
        raise RiskError(
            field_name,
            f"{label} {value} is not on the policy's scale ({min(values)}–{max(values)}).",
        )


def probability_of_harm(policy: PolicyData, p1: int, p2: int) -> int:
    """P from P1 (hazardous situation occurs) and P2 (situation leads to harm), ISO 14971
    Annex C."""
    _check_level(policy.p1_levels, p1, "p1", "P1")
    _check_level(policy.p2_levels, p2, "p2", "P2")
    return policy.probability_mapping[p1 - 1][p2 - 1]


def evaluate(matrix: list[list[str]], severity: int, likelihood: int) -> Acceptability:
    """Look a risk up in an acceptability matrix (ISO 14971 6)."""
    return Acceptability(matrix[severity - 1][likelihood - 1])


@dataclass(frozen=True)
class CvssScore:
    vector: str
    base_score: float
    exploitability_subscore: float
    exploitability: int


def score_cvss(vector: str, exploitability_levels: list[dict]) -> CvssScore:
    """Score a CVSS v3.1 vector with the `cvss` library and place its exploitability sub-score
    on the policy's exploitability scale (highest level whose `min_esc` it reaches)."""
    vector = (vector or "").strip()
    if not vector.startswith("CVSS:3."):
        raise RiskError("cvss_vector", "Enter a CVSS v3.1 vector starting with 'CVSS:3.1/'.")
    try:
        cvss = CVSS3(vector)
    except CVSSError as exc:
        raise RiskError("cvss_vector", f"Malformed CVSS vector: {exc}") from exc
    esc = float(cvss.esc)
    level = min(lvl["value"] for lvl in exploitability_levels)
    for lvl in sorted(exploitability_levels, key=lambda item: item["min_esc"]):
        if esc >= lvl["min_esc"]:
            level = lvl["value"]
    return CvssScore(cvss.clean_vector(), float(cvss.base_score), round(esc, 2), level)


def estimate(
    policy: PolicyData,
    category: str,
    severity: int | None,
    *,
    p1: int | None = None,
    p2: int | None = None,
    likelihood: int | None = None,
    cvss_vector: str = "",
    prefix: str = "",
) -> RiskEstimate:
    """Estimate one risk (ISO 14971 5.5) and evaluate it (6).

    Safety uses P1 and P2 when both are given; a directly entered probability otherwise. When no
    likelihood can be estimated at all, the risk is evaluated on severity alone at the worst
    likelihood, as the plan's criteria require (4.4). Security derives exploitability from the
    CVSS vector when one is given. `prefix` ("residual_") makes errors name the right field.
    Criteria not approved (`policy.approved` False) estimate the risk but evaluate nothing:
    the acceptability stays None (ISO 14971 6 evaluates against the plan's approved criteria).
    """
    category = Category(category)
    if severity is None:
        if any(v not in (None, "") for v in (p1, p2, likelihood, cvss_vector)):
            raise RiskError(f"{prefix}severity", "Enter a severity to estimate the risk.")
        return NOT_ESTIMATED
    sev_scale = policy.severity_scale(category)
    like_scale = policy.likelihood_scale(category)
    _check_level(sev_scale, severity, f"{prefix}severity", AXIS_NAMES[category][0])

    if category == Category.SAFETY and (p1 is not None or p2 is not None):
        if p1 is None or p2 is None:
            missing = "p1" if p1 is None else "p2"
            raise RiskError(f"{prefix}{missing}", "Enter both P1 and P2, or neither.")
        try:
            likelihood = probability_of_harm(policy, p1, p2)
        except RiskError as exc:
            raise RiskError(f"{prefix}{exc.field}", exc.message) from exc
    elif category == Category.SECURITY and cvss_vector:
        try:
            likelihood = score_cvss(cvss_vector, like_scale).exploitability
        except RiskError as exc:
            raise RiskError(f"{prefix}{exc.field}", exc.message) from exc

    severity_only = likelihood is None
    if severity_only:
        likelihood = max(lvl["value"] for lvl in like_scale)
    else:
        _check_level(like_scale, likelihood, f"{prefix}probability", AXIS_NAMES[category][1])
    return RiskEstimate(
        severity=severity,
        probability=None if severity_only else likelihood,
        acceptability=(
            evaluate(policy.matrix(category), severity, likelihood) if policy.approved else None
        ),
        index=severity * likelihood,
        severity_only=severity_only,
    )


def requires_benefit_risk(residual: RiskEstimate) -> bool:
    """ISO 14971 7.4: a residual risk not acceptable under the plan's criteria needs a documented
    benefit-risk analysis (the middle region too: it is acceptable only once that is shown)."""
    return residual.is_estimated and residual.acceptability != Acceptability.ACCEPTABLE


@dataclass(frozen=True)
class ApprovalCheck:
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message)

    @property
    def ok(self) -> bool:
        return not self.problems


def approval_check(
    initial: RiskEstimate,
    residual: RiskEstimate,
    benefit_risk_justification: str,
    control_count: int,
) -> ApprovalCheck:
    """The rules a hazard row must satisfy before it can be approved (ISO 14971 5.5, 7.3, 7.4)."""
    problems: list[tuple[str, str]] = []
    if not initial.is_estimated:
        problems.append(("severity", "The initial risk has not been estimated."))
    if not residual.is_estimated:
        problems.append(
            ("residual_severity", "A row cannot be approved without a residual risk estimate.")
        )
    elif requires_benefit_risk(residual) and not benefit_risk_justification.strip():
        problems.append(
            (
                "benefit_risk_justification",
                "The residual risk is not acceptable: record a benefit-risk justification "
                "(ISO 14971 7.4).",
            )
        )
    if (
        initial.is_estimated
        and initial.acceptability != Acceptability.ACCEPTABLE
        and control_count == 0
    ):
        problems.append(
            ("controls", "The initial risk is not acceptable and no risk control reduces it (7.1).")
        )
    if initial.is_estimated and residual.is_estimated and _worse(residual, initial):
        problems.append(("residual_severity", "The residual risk is higher than the initial risk."))
    return ApprovalCheck(problems)


_REGION_RANK = {
    Acceptability.ACCEPTABLE: 0,
    Acceptability.INVESTIGATE: 1,
    Acceptability.UNACCEPTABLE: 2,
}


def _worse(residual: RiskEstimate, initial: RiskEstimate) -> bool:
    """Controls must not make a risk worse (7.3): a higher index, or a worse region even at an
    equal index (e.g. Minor × Remote → Negligible × Probable), means the estimate is wrong."""
    if residual.index is not None and initial.index is not None and residual.index > initial.index:
        return True
    return (
        _REGION_RANK[Acceptability(residual.acceptability)]
        > _REGION_RANK[Acceptability(initial.acceptability)]
    )


def heat_map(cells: list[tuple[int | None, int | None]], n_severity: int, n_likelihood: int):
    """Count risks per matrix cell: rows are severity (highest first), columns likelihood."""
    counts = [[0] * n_likelihood for _ in range(n_severity)]
    for severity, likelihood in cells:
        # Off-scale values (a row estimated under a larger, since edited scale) are left out:
        # a negative index would silently count them in the wrong cell.
        if severity and likelihood and severity <= n_severity and likelihood <= n_likelihood:
            counts[n_severity - severity][likelihood - 1] += 1
    return counts


def validate_policy(policy: PolicyData) -> list[tuple[str, str]]:
    """Structural checks on an edited policy: scales numbered 1..n, matrices the right shape and
    filled with known regions, the P mapping pointing inside the probability scale."""
    errors: list[tuple[str, str]] = []
    valid_regions = {a.value for a in Acceptability}

    def check_scale(name: str, levels) -> int:
        if not isinstance(levels, list) or not levels:
            errors.append((name, "Must be a non-empty list of levels."))
            return 0
        values = [lvl.get("value") if isinstance(lvl, dict) else None for lvl in levels]
        if values != list(range(1, len(levels) + 1)):
            errors.append((name, "Levels must be numbered 1, 2, 3 … in order."))
        for lvl in levels:
            if not isinstance(lvl, dict) or not str(lvl.get("name", "")).strip():
                errors.append((name, "Every level needs a name."))
                break
        return len(levels)

    def check_matrix(name: str, matrix, rows: int, cols: int, allowed) -> None:
        if (
            not isinstance(matrix, list)
            or len(matrix) != rows
            or any(not isinstance(r, list) or len(r) != cols for r in matrix)
        ):
            errors.append((name, f"Must be {rows} rows of {cols} cells."))
            return
        # Compare by value without hashing: an edited JSON cell may be a list or a dict.
        bad = {str(c) for r in matrix for c in r if not any(_same(c, a) for a in allowed)}
        if bad:
            errors.append((name, f"Unknown value(s): {', '.join(sorted(bad))}."))

    n_sev = check_scale("severity_levels", policy.severity_levels)
    n_prob = check_scale("probability_levels", policy.probability_levels)
    n_p1 = check_scale("p1_levels", policy.p1_levels)
    n_p2 = check_scale("p2_levels", policy.p2_levels)
    n_exp = check_scale("exploitability_levels", policy.exploitability_levels)
    n_imp = check_scale("privacy_impact_levels", policy.privacy_impact_levels)
    n_lik = check_scale("privacy_likelihood_levels", policy.privacy_likelihood_levels)
    check_matrix(
        "probability_mapping", policy.probability_mapping, n_p1, n_p2, set(range(1, n_prob + 1))
    )
    check_matrix("safety_matrix", policy.safety_matrix, n_sev, n_prob, valid_regions)
    check_matrix("security_matrix", policy.security_matrix, n_sev, n_exp, valid_regions)
    check_matrix("privacy_matrix", policy.privacy_matrix, n_imp, n_lik, valid_regions)
    if isinstance(policy.exploitability_levels, list) and policy.exploitability_levels:
        thresholds = [
            lvl.get("min_esc") if isinstance(lvl, dict) else None
            for lvl in policy.exploitability_levels
        ]
        if not all(_is_number(t) and 0 <= t <= 3.9 for t in thresholds):
            # 3.9 is the highest CVSS v3.1 exploitability sub-score (8.22 × 0.85 × 0.77 × …).
            errors.append(
                (
                    "exploitability_levels",
                    "Every level needs a min_esc threshold between 0 and 3.9 (the CVSS "
                    "exploitability sub-score).",
                )
            )
        elif any(a >= b for a, b in itertools.pairwise(thresholds)):
            errors.append(
                ("exploitability_levels", "The min_esc thresholds must rise with the level.")
            )
    return errors


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(cell, allowed) -> bool:
    """Equality of the right type: a JSON boolean or 2.0 is not level 2 (it could not index a
    matrix), while an `Acceptability` member is its string."""
    return isinstance(cell, type(allowed)) and not isinstance(cell, bool) and cell == allowed


@dataclass(frozen=True)
class HeatCell:
    severity: int
    likelihood: int
    count: int
    region: Acceptability


@dataclass(frozen=True)
class HeatRow:
    label: str
    cells: list[HeatCell]


@dataclass(frozen=True)
class HeatMap:
    """A category's matrix with counts per cell; rows are severity, highest first (as printed)."""

    category: Category
    severity_axis: str
    likelihood_axis: str
    likelihood_labels: list[str]
    rows: list[HeatRow]  # highest severity first
    total: int


def heat_map_grid(
    policy: PolicyData, category: str, cells: list[tuple[int | None, int | None]]
) -> HeatMap:
    """Counts of `(severity, likelihood)` pairs laid over the category's acceptability matrix."""
    category = Category(category)
    sev_scale = policy.severity_scale(category)
    like_scale = policy.likelihood_scale(category)
    counts = heat_map(cells, len(sev_scale), len(like_scale))
    matrix = policy.matrix(category)
    rows = []
    for row_index, severity in enumerate(range(len(sev_scale), 0, -1)):
        cells = [
            HeatCell(
                severity,
                likelihood,
                counts[row_index][likelihood - 1],
                Acceptability(matrix[severity - 1][likelihood - 1]),
            )
            for likelihood in range(1, len(like_scale) + 1)
        ]
        rows.append(HeatRow(sev_scale[severity - 1]["name"], cells))
    return HeatMap(
        category=category,
        severity_axis=AXIS_NAMES[category][0],
        likelihood_axis=AXIS_NAMES[category][1],
        likelihood_labels=[lvl["name"] for lvl in like_scale],
        rows=rows,
        total=sum(sum(r) for r in counts),
    )


# ---------------------------------------------------------------------------------------------
# IEC 62304:2006 + A1:2015, 4.3: software safety classification
# ---------------------------------------------------------------------------------------------

# Severity levels of the default 5-level scale as IEC 62304 reads them: 1 Negligible (no
# injury), 2 Minor (injury not needing professional intervention → non-serious injury),
# 3 Serious and above (needs medical intervention, permanent impairment, life-threatening or
# death → serious injury, as 62304 3.23 defines it).
NON_SERIOUS_INJURY_SEVERITY = 2
SERIOUS_INJURY_SEVERITY = 3


@dataclass(frozen=True)
class SoftwareContribution:
    """One hazardous situation the software system (or item) can contribute to.

    `acceptable_after_external_controls`: the risk is acceptable once the risk control measures
    *external to the software system* are considered (hardware, labelling, clinical practice);
    None when that is not known (e.g. some controls are implemented in the software itself, so
    no estimate with external controls only exists). `severity`: the severity of the possible
    harm on the policy's scale, None when not estimated.
    """

    acceptable_after_external_controls: bool | None
    severity: int | None


def software_safety_class(contributions) -> str:
    """The software safety class IEC 62304 4.3 (Amendment 1) requires, as a pure decision:

    * **A** — the software system cannot contribute to a hazardous situation, or it can but
      the hazardous situation does not result in unacceptable risk after consideration of
      risk control measures external to the software system;
    * **B** — it can contribute to a hazardous situation that results in unacceptable risk
      after those external controls, and the resulting possible harm is non-serious injury;
    * **C** — as B, but the possible harm is death or serious injury.

    Each contribution counts only when it is not shown acceptable after external controls;
    an unknown acceptability or an unestimated severity counts as the worst case (C), since
    neither rules out serious injury.
    """
    worst = "A"
    for c in contributions:
        if c.acceptable_after_external_controls is True:
            continue
        if c.severity is None or c.severity >= SERIOUS_INJURY_SEVERITY:
            return "C"
        if c.severity >= NON_SERIOUS_INJURY_SEVERITY:
            worst = "B"
    return worst
