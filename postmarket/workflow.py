"""Pure rules of problem resolution (IEC 62304 §9) and of the vulnerability assessment, kept
free of the ORM so they are unit-tested without a database."""

from __future__ import annotations

from postmarket.models import AnalysisState, ChangeStatus, ProblemStatus

S = ProblemStatus

# Where a problem report may go from each status. Closing is signed and goes through
# `services.problem_report_close`; reopening a closed report needs a reason.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.OPEN: (S.INVESTIGATING,),
    S.INVESTIGATING: (S.OPEN, S.CHANGE, S.CLOSED),  # closed: investigated, no change needed
    S.CHANGE: (S.INVESTIGATING, S.VERIFYING),
    S.VERIFYING: (S.CHANGE, S.CLOSED),  # back to change: the fix did not verify
    S.CLOSED: (S.OPEN,),
}


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, ())


def closure_problems(
    *,
    status: str,
    investigation: str,
    safety_related: bool | None,
    hazard_links: list[tuple[str, bool]],  # (hazard code, re-evaluated)
    change_requests: list[tuple[str, str]],  # (code, status)
    verification_results: list[str],  # results of the runs linked as verification
) -> list[tuple[str, str]]:
    """What stops a problem report from being closed (IEC 62304 9.2–9.8), as (field, message);
    empty when it may be closed."""
    problems = []
    if not can_move(status, S.CLOSED):
        problems.append(
            (
                "status",
                "Only an investigated report, or one whose fix is in verification, can be closed.",
            )
        )
    if not investigation.strip():
        problems.append(("investigation", "Record the investigation (IEC 62304 9.2)."))
    if safety_related is None:
        problems.append(("safety_related", "Say whether the problem is relevant to safety."))
    if safety_related:
        if not hazard_links:
            problems.append(
                (
                    "hazards",
                    "A safety-related problem must name the hazards it "
                    "concerns, existing or new (IEC 62304 9.3).",
                )
            )
        stale = [code for code, done in hazard_links if not done]
        if stale:
            problems.append(
                ("hazards", f"Re-evaluate {', '.join(stale)} before closing (ISO 14971 10.4).")
            )
    pending = [
        code
        for code, st in change_requests
        if st not in (ChangeStatus.IMPLEMENTED, ChangeStatus.REJECTED)
    ]
    if pending:
        problems.append(("change_requests", f"{', '.join(pending)} not implemented or rejected."))
    implemented = any(st == ChangeStatus.IMPLEMENTED for _, st in change_requests)
    if implemented and "pass" not in verification_results:
        problems.append(
            (
                "verification",
                "An implemented change needs a passing verification "
                "run linked to the report (IEC 62304 9.7).",
            )
        )
    return problems


def assessment_problems(
    *, state: str, justification: str, has_hazard: bool, has_problem_report: bool
) -> list[tuple[str, str]]:
    """A VEX-style assessment must hold together: "not affected" says why (a CycloneDX
    justification); "affected" is handled by a security hazard or a problem report."""
    problems = []
    if state not in AnalysisState.values:
        problems.append(("analysis_state", f"Unknown state {state!r}."))
    if state == AnalysisState.NOT_AFFECTED and not justification:
        problems.append(("justification", "Not affected needs a justification."))
    if state != AnalysisState.NOT_AFFECTED and justification:
        problems.append(("justification", "A justification is given only for not affected."))
    if state == AnalysisState.AFFECTED and not (has_hazard or has_problem_report):
        problems.append(
            (
                "hazard",
                "An affected vulnerability must link a security hazard "
                "(new or existing) or a problem report.",
            )
        )
    return problems
