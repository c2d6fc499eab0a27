"""Unit tests of the pure risk logic (ISO 14971 5.5, 6, 7.3, 7.4; AAMI TIR57; GDPR Art. 35).

The expected matrices below are written out *independently* of `hazards.risk` — as a risk
management plan would print them — so a wrong cell in the code's constants fails a test.
"""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal

import pytest
from cvss import CVSS3

from hazards import risk
from hazards.risk import Acceptability, PolicyData, RiskError, RiskEstimate

POLICY = PolicyData.default()
REGION = {"A": "acceptable", "I": "investigate", "U": "unacceptable"}


def parse_table(text: str) -> dict[tuple[int, int], str]:
    """Read a printed matrix: the first line names the columns, every further line starts with
    its row label; cells are A / I / U. Returns {(row, col): region}, both numbered from 1."""
    lines = [line.split() for line in text.strip().splitlines()]
    header, body = lines[0], lines[1:]
    table = {}
    for row, cells in enumerate(body, start=1):
        values = cells[1:]
        assert len(values) == len(header), f"row {cells[0]} has {len(values)} cells"
        for col, cell in enumerate(values, start=1):
            table[(row, col)] = cell
    return table


# ISO/TR 24971-style 5 × 5 safety matrix (rows: severity, columns: probability of harm).
SAFETY_TABLE = parse_table(
    """
                 Improbable Remote Occasional Probable Frequent
    Negligible       A        A        A         I        I
    Minor            A        A        I         I        U
    Serious          A        I        I         U        U
    Critical         A        I        U         U        U
    Catastrophic     I        U        U         U        U
    """
)
# Security: severity × exploitability (controlled / pending review / uncontrolled).
SECURITY_TABLE = parse_table(
    """
                 VeryLow Low Moderate High VeryHigh
    Negligible      A     A     A       A     A
    Minor           A     A     A       A     I
    Serious         A     A     I       U     U
    Critical        A     I     U       U     U
    Catastrophic    I     U     U       U     U
    """
)
# Privacy: impact × likelihood (CNIL-style 4 × 4).
PRIVACY_TABLE = parse_table(
    """
                 Negligible Limited Significant Maximum
    Negligible       A         A         A         I
    Limited          A         A         I         U
    Significant      A         I         U         U
    Maximum          I         U         U         U
    """
)
# P from P1 (rows) and P2 (columns).
P_TABLE = {
    (p1, p2): p
    for p1, row in enumerate(
        [
            [1, 1, 1, 2, 3],
            [1, 1, 2, 3, 4],
            [1, 2, 3, 4, 5],
            [2, 3, 4, 5, 5],
            [3, 4, 5, 5, 5],
        ],
        start=1,
    )
    for p2, p in enumerate(row, start=1)
}


def cells(table):
    return [(s, p, REGION[r]) for (s, p), r in sorted(table.items())]


def test_the_tables_cover_every_cell():
    assert len(SAFETY_TABLE) == 25
    assert len(SECURITY_TABLE) == 25
    assert len(PRIVACY_TABLE) == 16
    assert len(P_TABLE) == 25


# --- acceptability matrices -----------------------------------------------------------------


@pytest.mark.parametrize(("severity", "probability", "region"), cells(SAFETY_TABLE))
def test_default_safety_matrix_cell(severity, probability, region):
    result = risk.estimate(POLICY, "safety", severity, likelihood=probability)
    assert result.acceptability == Acceptability(region)
    assert result.probability == probability
    assert result.index == severity * probability
    assert not result.severity_only


@pytest.mark.parametrize(("severity", "exploitability", "region"), cells(SECURITY_TABLE))
def test_default_security_matrix_cell(severity, exploitability, region):
    result = risk.estimate(POLICY, "security", severity, likelihood=exploitability)
    assert result.acceptability == Acceptability(region)
    assert result.probability == exploitability


@pytest.mark.parametrize(("impact", "likelihood", "region"), cells(PRIVACY_TABLE))
def test_default_privacy_matrix_cell(impact, likelihood, region):
    result = risk.estimate(POLICY, "privacy", impact, likelihood=likelihood)
    assert result.acceptability == Acceptability(region)
    assert result.index == impact * likelihood


@pytest.mark.parametrize("category", ["safety", "security", "privacy"])
def test_regions_never_improve_as_severity_or_likelihood_grow(category):
    """A sanity property of any sensible matrix: a worse severity or a higher likelihood never
    lands in a better region."""
    rank = {"acceptable": 0, "investigate": 1, "unacceptable": 2}
    matrix = POLICY.matrix(category)
    for s, row in enumerate(matrix):
        for p, cell in enumerate(row):
            if s + 1 < len(matrix):
                assert rank[matrix[s + 1][p]] >= rank[cell]
            if p + 1 < len(row):
                assert rank[row[p + 1]] >= rank[cell]


def test_default_scales_are_the_iso_tr_24971_five_levels():
    assert [lvl["name"] for lvl in POLICY.severity_levels] == [
        "Negligible",
        "Minor",
        "Serious",
        "Critical",
        "Catastrophic",
    ]
    assert [lvl["name"] for lvl in POLICY.probability_levels] == [
        "Improbable",
        "Remote",
        "Occasional",
        "Probable",
        "Frequent",
    ]
    assert [lvl["value"] for lvl in POLICY.exploitability_levels] == [1, 2, 3, 4, 5]
    assert len(POLICY.privacy_impact_levels) == len(POLICY.privacy_likelihood_levels) == 4


# --- P = P1 × P2 ------------------------------------------------------------------------------

# Lower bounds (as powers of ten) of each level, read from the scales' descriptions. The lowest
# level is open towards zero; "each level is one decade" puts its lower bound one decade below.
P1_LOWER_EXP = {1: -5, 2: -4, 3: -3, 4: -2, 5: -1}  # P1 < 1e-4, 1e-4 ≤ P1 < 1e-3, …, P1 ≥ 1e-1
P2_LOWER_EXP = {1: -5, 2: -4, 3: -3, 4: -2, 5: -1}
P_LOWER_EXP = {1: -7, 2: -6, 3: -5, 4: -4, 5: -3}  # P < 1e-6, 1e-6 ≤ P < 1e-5, …, P ≥ 1e-3


def level_of(value: float) -> int:
    """The probability level whose range contains `value`."""
    level = 1
    for lvl, exp in P_LOWER_EXP.items():
        if lvl > 1 and value >= 10.0**exp * (1 - 1e-9):
            level = lvl
    return level


@pytest.mark.parametrize(("p1", "p2", "expected"), [(a, b, p) for (a, b), p in P_TABLE.items()])
def test_probability_of_harm_cell(p1, p2, expected):
    assert risk.probability_of_harm(POLICY, p1, p2) == expected


@pytest.mark.parametrize(("p1", "p2"), sorted(P_TABLE))
def test_probability_mapping_is_p1_times_p2_on_decade_scales(p1, p2):
    """The docstring's claim: the product P1 × P2 spans two decades and the mapping takes the
    higher one (the cautious estimate). Checked two ways: the mapped level holds values just
    below the product of the two levels' upper bounds, and it lies inside the range the true
    product P1 × P2 can take."""
    mapped = risk.probability_of_harm(POLICY, p1, p2)
    upper = 10.0 ** (P1_LOWER_EXP[p1] + 1) * 10.0 ** (P2_LOWER_EXP[p2] + 1)
    assert mapped == level_of(upper * 0.999)

    def bounds(exp_table, level, top):
        low = 0.0 if level == 1 else 10.0 ** exp_table[level]
        high = 1.0 if level == top else 10.0 ** exp_table[level + 1]
        return low, high

    low1, high1 = bounds(P1_LOWER_EXP, p1, 5)
    low2, high2 = bounds(P2_LOWER_EXP, p2, 5)
    p_low, p_high = bounds(P_LOWER_EXP, mapped, 5)
    # The mapped level's range [p_low, p_high) overlaps the range of possible products.
    assert p_low < high1 * high2 * (1 - 1e-9)
    assert p_high > low1 * low2 * (1 + 1e-9)


def test_probability_mapping_is_monotone():
    for (p1, p2), p in P_TABLE.items():
        if p1 < 5:
            assert P_TABLE[(p1 + 1, p2)] >= p
        if p2 < 5:
            assert P_TABLE[(p1, p2 + 1)] >= p


def test_estimate_from_p1_and_p2_uses_the_mapping():
    # P1 = Likely (4), P2 = Possible (3) → P = Probable (4); Critical × Probable = unacceptable.
    result = risk.estimate(POLICY, "safety", 4, p1=4, p2=3)
    assert result.probability == 4
    assert result.acceptability == Acceptability.UNACCEPTABLE
    assert result.index == 16


def test_p1_and_p2_win_over_a_directly_entered_probability():
    result = risk.estimate(POLICY, "safety", 2, p1=1, p2=1, likelihood=5)
    assert result.probability == 1
    assert result.acceptability == Acceptability.ACCEPTABLE


# --- severity only (ISO 14971 4.4) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "severity", "expected"),
    [
        ("safety", 1, Acceptability.INVESTIGATE),  # Negligible × Frequent
        ("safety", 2, Acceptability.UNACCEPTABLE),
        ("safety", 5, Acceptability.UNACCEPTABLE),
        ("security", 1, Acceptability.ACCEPTABLE),  # Negligible × Very high exploitability
        ("security", 2, Acceptability.INVESTIGATE),
        ("privacy", 1, Acceptability.INVESTIGATE),  # Negligible impact × Maximum likelihood
        ("privacy", 4, Acceptability.UNACCEPTABLE),
    ],
)
def test_without_likelihood_the_risk_is_evaluated_at_the_worst_likelihood(
    category, severity, expected
):
    result = risk.estimate(POLICY, category, severity)
    assert result.severity_only
    assert result.probability is None
    assert result.acceptability == expected
    worst = len(POLICY.likelihood_scale(category))
    assert result.index == severity * worst
    assert result.is_estimated


def test_nothing_entered_means_not_estimated():
    assert risk.estimate(POLICY, "safety", None) == risk.NOT_ESTIMATED
    assert not risk.NOT_ESTIMATED.is_estimated


# --- errors name the field --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"category": "safety", "severity": 6}, "severity"),
        ({"category": "safety", "severity": 0}, "severity"),
        ({"category": "privacy", "severity": 5}, "severity"),  # impact scale is 1–4
        ({"category": "safety", "severity": 3, "p1": 2}, "p2"),
        ({"category": "safety", "severity": 3, "p2": 2}, "p1"),
        ({"category": "safety", "severity": 3, "p1": 2, "p2": 6}, "p2"),
        ({"category": "safety", "severity": 3, "p1": 0, "p2": 2}, "p1"),
        ({"category": "safety", "severity": 3, "likelihood": 6}, "probability"),
        ({"category": "privacy", "severity": 2, "likelihood": 5}, "probability"),
        ({"category": "security", "severity": 3, "cvss_vector": "CVSS:3.1/AV:N"}, "cvss_vector"),
        ({"category": "safety", "severity": None, "p1": 2, "p2": 2}, "severity"),
        ({"category": "security", "severity": None, "cvss_vector": "CVSS:3.1/AV:N"}, "severity"),
    ],
)
@pytest.mark.parametrize("prefix", ["", "residual_"])
def test_estimate_errors_name_the_field(kwargs, field, prefix):
    kwargs = dict(kwargs)
    category, severity = kwargs.pop("category"), kwargs.pop("severity")
    with pytest.raises(RiskError) as excinfo:
        risk.estimate(POLICY, category, severity, prefix=prefix, **kwargs)
    assert excinfo.value.field == prefix + field
    assert excinfo.value.message


def test_off_scale_message_states_the_scale():
    with pytest.raises(RiskError) as excinfo:
        risk.estimate(POLICY, "privacy", 5)
    assert "Impact 5" in excinfo.value.message
    assert "1–4" in excinfo.value.message


def test_unknown_category_is_refused():
    with pytest.raises(ValueError, match="hardware"):
        risk.estimate(POLICY, "hardware", 3)


# --- CVSS v3.1 → exploitability ------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "base_score", "level"),
    [
        # Remote, no privileges, no interaction: the infusion pump reprogrammed over the network.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, 5),
        # Adjacent (Bluetooth / same Wi-Fi), low complexity: exploitability sub-score 2.8.
        ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8, 4),
        # Network but high attack complexity: sub-score 2.2.
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1, 3),
        # Local access with low privileges: sub-score 1.8.
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, 2),
        # Physical access, complex, high privileges, user interaction: sub-score 0.1.
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:H", 6.0, 1),
        # Scope change raises PR:L's weight: sub-score 3.1.
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, 4),
    ],
)
def test_cvss_vector_maps_to_exploitability(vector, base_score, level):
    score = risk.score_cvss(vector, POLICY.exploitability_levels)
    assert score.base_score == base_score  # the FIRST calculator's figure
    assert score.base_score == float(CVSS3(vector).base_score)  # and the library's
    assert score.exploitability_subscore == round(float(CVSS3(vector).esc), 2)
    assert score.exploitability == level
    assert risk.estimate(POLICY, "security", 3, cvss_vector=vector).probability == level


def test_cvss_exploitability_is_the_highest_level_whose_threshold_is_reached():
    levels = POLICY.exploitability_levels
    for vector, esc in [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 3.887),
        ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 2.835),
    ]:
        expected = max(lvl["value"] for lvl in levels if esc >= lvl["min_esc"])
        assert risk.score_cvss(vector, levels).exploitability == expected


def test_cvss_vector_is_normalised_to_the_canonical_order():
    score = risk.score_cvss(
        "  CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H/E:X ", POLICY.exploitability_levels
    )
    assert score.vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def test_cvss_v30_vector_is_scored_by_the_library_as_v30():
    """NVD still publishes v3.0 vectors; their exploitability sub-score formula is the same as
    v3.1's, so the library scores them and the prefix is kept, not silently rewritten."""
    score = risk.score_cvss(
        "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", POLICY.exploitability_levels
    )
    assert score.vector.startswith("CVSS:3.0/")
    assert score.base_score == 9.8
    assert score.exploitability == 5


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "   ",
        "garbage",
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # no prefix
        "CVSS:3.1/AV:N",  # mandatory metrics missing
        "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # unknown value
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # duplicate metric
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",  # trailing slash
        "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # no such version
        "AV:N/AC:L/Au:N/C:C/I:C/A:C",  # CVSS v2
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    ],
)
def test_malformed_cvss_vector_is_refused_naming_the_field(vector):
    with pytest.raises(RiskError) as excinfo:
        risk.score_cvss(vector, POLICY.exploitability_levels)
    assert excinfo.value.field == "cvss_vector"


def test_residual_cvss_error_names_the_residual_field():
    with pytest.raises(RiskError) as excinfo:
        risk.estimate(POLICY, "security", 3, cvss_vector="CVSS:3.1/AV:N", prefix="residual_")
    assert excinfo.value.field == "residual_cvss_vector"


def test_cvss_wins_over_a_directly_entered_exploitability():
    result = risk.estimate(
        POLICY,
        "security",
        4,
        likelihood=1,
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    )
    assert result.probability == 5
    assert result.acceptability == Acceptability.UNACCEPTABLE


# --- benefit-risk and approval ---------------------------------------------------------------


def est(severity, probability, region):
    return RiskEstimate(severity, probability, Acceptability(region), severity * probability)


@pytest.mark.parametrize(
    ("residual", "required"),
    [
        (risk.NOT_ESTIMATED, False),
        (est(1, 1, "acceptable"), False),
        (est(2, 3, "investigate"), True),
        (est(5, 5, "unacceptable"), True),
    ],
)
def test_benefit_risk_is_required_unless_the_residual_risk_is_acceptable(residual, required):
    assert risk.requires_benefit_risk(residual) is required


def problem_fields(check):
    return [f for f, _ in check.problems]


def test_approval_needs_a_residual_estimate():
    check = risk.approval_check(est(4, 3, "unacceptable"), risk.NOT_ESTIMATED, "", 1)
    assert not check.ok
    assert problem_fields(check) == ["residual_severity"]


def test_approval_needs_an_initial_estimate():
    check = risk.approval_check(risk.NOT_ESTIMATED, est(1, 1, "acceptable"), "", 0)
    assert "severity" in problem_fields(check)


def test_unacceptable_residual_needs_a_benefit_risk_justification():
    initial, residual = est(5, 4, "unacceptable"), est(5, 2, "unacceptable")
    refused = risk.approval_check(initial, residual, "   ", 2)
    assert problem_fields(refused) == ["benefit_risk_justification"]
    assert "7.4" in refused.problems[0][1]
    accepted = risk.approval_check(
        initial, residual, "Dosing benefit outweighs the residual risk of …", 2
    )
    assert accepted.ok


def test_investigate_residual_also_needs_a_justification():
    check = risk.approval_check(est(4, 3, "unacceptable"), est(2, 3, "investigate"), "", 1)
    assert problem_fields(check) == ["benefit_risk_justification"]


def test_unacceptable_initial_risk_without_controls_is_refused():
    check = risk.approval_check(est(4, 3, "unacceptable"), est(4, 1, "acceptable"), "", 0)
    assert problem_fields(check) == ["controls"]
    assert risk.approval_check(est(4, 3, "unacceptable"), est(4, 1, "acceptable"), "", 1).ok


def test_acceptable_initial_risk_needs_no_control():
    assert risk.approval_check(est(1, 2, "acceptable"), est(1, 2, "acceptable"), "", 0).ok


def test_residual_risk_higher_than_initial_is_refused():
    check = risk.approval_check(est(2, 2, "acceptable"), est(3, 2, "investigate"), "why", 1)
    assert problem_fields(check) == ["residual_severity"]
    assert "higher" in check.problems[0][1]


def test_residual_risk_in_a_worse_region_than_initial_is_refused_even_at_equal_index():
    """Initial Minor × Remote (index 4, acceptable); residual Negligible × Probable (index 4,
    investigate): the index did not grow, but the risk moved to a worse region."""
    check = risk.approval_check(est(2, 2, "acceptable"), est(1, 4, "investigate"), "why", 1)
    assert "residual_severity" in problem_fields(check)


def test_a_fully_estimated_reduced_risk_is_approvable():
    assert risk.approval_check(est(4, 4, "unacceptable"), est(4, 1, "acceptable"), "", 2).ok


# --- heat map ---------------------------------------------------------------------------------


def test_heat_map_counts_per_cell_with_highest_severity_first():
    counts = risk.heat_map([(5, 1), (5, 1), (1, 5), (3, 3), (None, 2), (2, None)], 5, 5)
    assert counts == [
        [2, 0, 0, 0, 0],  # Catastrophic
        [0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],  # Negligible
    ]


def test_heat_map_ignores_cells_off_the_scale():
    """A row estimated under an older, larger scale must not be drawn in a wrong cell."""
    counts = risk.heat_map([(6, 1), (1, 6), (0, 1), (4, 4)], 4, 4)
    assert sum(map(sum, counts)) == 1
    assert counts[0][3] == 1


# --- policy validation ----------------------------------------------------------------------


def broken(**changes) -> PolicyData:
    return dataclasses.replace(copy.deepcopy(POLICY), **changes)


def error_fields(policy):
    return {f for f, _ in risk.validate_policy(policy)}


def test_default_policy_is_valid():
    assert risk.validate_policy(POLICY) == []


def test_matrix_with_a_missing_row_is_refused():
    assert error_fields(broken(safety_matrix=POLICY.safety_matrix[:4])) == {"safety_matrix"}


def test_matrix_with_a_short_row_is_refused():
    matrix = copy.deepcopy(POLICY.privacy_matrix)
    matrix[2] = matrix[2][:3]
    assert error_fields(broken(privacy_matrix=matrix)) == {"privacy_matrix"}


def test_matrix_that_is_not_a_list_is_refused():
    assert error_fields(broken(security_matrix={"rows": 5})) == {"security_matrix"}


def test_unknown_region_is_refused_and_named():
    matrix = copy.deepcopy(POLICY.safety_matrix)
    matrix[0][0] = "tolerable"
    errors = risk.validate_policy(broken(safety_matrix=matrix))
    assert [f for f, _ in errors] == ["safety_matrix"]
    assert "tolerable" in errors[0][1]


def test_malformed_cell_is_reported_not_crashed_on():
    matrix = copy.deepcopy(POLICY.safety_matrix)
    matrix[1][1] = ["acceptable"]
    assert error_fields(broken(safety_matrix=matrix)) == {"safety_matrix"}


def test_mis_numbered_levels_are_refused():
    levels = copy.deepcopy(POLICY.severity_levels)
    levels[2]["value"] = 4
    assert "severity_levels" in error_fields(broken(severity_levels=levels))


def test_level_without_a_name_is_refused():
    levels = copy.deepcopy(POLICY.p1_levels)
    levels[0]["name"] = "  "
    assert error_fields(broken(p1_levels=levels)) == {"p1_levels"}


def test_empty_scale_is_refused():
    assert "probability_levels" in error_fields(broken(probability_levels=[]))


def test_a_sixth_severity_level_needs_both_matrices_to_grow():
    levels = [*POLICY.severity_levels, {"value": 6, "name": "Multiple deaths"}]
    assert error_fields(broken(severity_levels=levels)) == {"safety_matrix", "security_matrix"}


def test_probability_mapping_must_point_inside_the_probability_scale():
    mapping = copy.deepcopy(POLICY.probability_mapping)
    mapping[4][4] = 6
    assert error_fields(broken(probability_mapping=mapping)) == {"probability_mapping"}


def test_exploitability_level_without_min_esc_is_refused():
    levels = copy.deepcopy(POLICY.exploitability_levels)
    del levels[3]["min_esc"]
    assert error_fields(broken(exploitability_levels=levels)) == {"exploitability_levels"}


@pytest.mark.parametrize("bad", ["high", None, -1, 4.5])
def test_exploitability_threshold_must_be_a_sub_score(bad):
    levels = copy.deepcopy(POLICY.exploitability_levels)
    levels[2]["min_esc"] = bad
    assert error_fields(broken(exploitability_levels=levels)) == {"exploitability_levels"}


def test_exploitability_thresholds_must_rise_with_the_level():
    levels = copy.deepcopy(POLICY.exploitability_levels)
    levels[3]["min_esc"] = 1.5  # below level 3's 2.0
    assert error_fields(broken(exploitability_levels=levels)) == {"exploitability_levels"}


def test_edited_policy_is_used_for_evaluation():
    matrix = copy.deepcopy(POLICY.safety_matrix)
    matrix[0][0] = "unacceptable"
    policy = broken(safety_matrix=matrix)
    assert risk.estimate(policy, "safety", 1, likelihood=1).acceptability == "unacceptable"
    assert risk.estimate(POLICY, "safety", 1, likelihood=1).acceptability == "acceptable"


def test_level_name_lookup():
    assert risk.level_name(POLICY.severity_levels, 5) == "Catastrophic"
    assert risk.level_name(POLICY.severity_levels, None) == "—"
    assert risk.level_name(POLICY.severity_levels, 9) == "9"


def test_cvss_base_score_fits_the_model_field():
    score = risk.score_cvss(
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", POLICY.exploitability_levels
    )
    assert Decimal(str(score.base_score)) == Decimal("10.0")


@pytest.mark.parametrize("bad", [True, 2.0, "2", None])
def test_probability_mapping_cells_must_be_whole_levels(bad):
    mapping = copy.deepcopy(POLICY.probability_mapping)
    mapping[0][0] = bad
    assert error_fields(broken(probability_mapping=mapping)) == {"probability_mapping"}


def test_matrix_of_acceptability_members_is_valid():
    policy = broken(safety_matrix=[list(row) for row in risk.DEFAULT_SAFETY_MATRIX])
    assert risk.validate_policy(policy) == []
