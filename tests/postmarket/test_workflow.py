"""Problem-resolution workflow and assessment rules (pure: no database)."""

import pytest

from postmarket import workflow


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("open", "investigating", True),
        ("open", "closed", False),
        ("investigating", "closed", True),
        ("change", "closed", False),
        ("verifying", "closed", True),
        ("verifying", "change", True),
        ("closed", "open", True),
        ("closed", "verifying", False),
    ],
)
def test_transitions(current, target, allowed):
    assert workflow.can_move(current, target) is allowed


def closure(**overrides):
    values = {
        "status": "verifying",
        "investigation": "Root cause found",
        "safety_related": False,
        "hazard_links": [],
        "change_requests": [("CR-001", "implemented")],
        "verification_results": ["pass"],
    }
    values.update(overrides)
    return dict(workflow.closure_problems(**values))


def test_a_resolved_report_may_close():
    assert closure() == {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "change"}, "status"),
        ({"investigation": "  "}, "investigation"),
        ({"safety_related": None}, "safety_related"),
        ({"safety_related": True}, "hazards"),
        ({"safety_related": True, "hazard_links": [("HAZ-001", False)]}, "hazards"),
        ({"change_requests": [("CR-001", "approved")]}, "change_requests"),
        ({"verification_results": ["fail"]}, "verification"),
    ],
)
def test_what_stops_a_closure_is_named(overrides, field):
    assert field in closure(**overrides)


def test_no_change_needed_closes_without_verification():
    assert closure(status="investigating", change_requests=[], verification_results=[]) == {}


@pytest.mark.parametrize(
    ("state", "justification", "hazard", "report", "field"),
    [
        ("not_affected", "", False, False, "justification"),
        ("affected", "code_not_present", True, False, "justification"),
        ("affected", "", False, False, "hazard"),
        ("exploited", "", False, False, "analysis_state"),
    ],
)
def test_assessment_rules(state, justification, hazard, report, field):
    problems = dict(
        workflow.assessment_problems(
            state=state, justification=justification, has_hazard=hazard, has_problem_report=report
        )
    )
    assert field in problems


def test_affected_with_a_problem_report_is_handled():
    assert (
        workflow.assessment_problems(
            state="affected", justification="", has_hazard=False, has_problem_report=True
        )
        == []
    )
