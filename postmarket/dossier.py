"""The dossier's post-release sections, registered with `traceability.dossier.extensions`:
known residual anomalies (IEC 62304 5.8.2–5.8.3), SOUP vulnerabilities and their assessments
(FDA premarket cybersecurity guidance), and production and post-production information with
the decisions taken (ISO 14971 §10). Each is gathered in one or two queries into plain strings,
in code order."""

from __future__ import annotations

from collections import defaultdict

from postmarket.models import (
    FieldRecordHazard,
    ProblemReport,
    ProblemReportHazard,
    ProblemStatus,
    Vulnerability,
)
from traceability.dossier.data import ExtraSection
from traceability.graph import code_key


def _yes_no(value) -> str:
    return {True: "Yes", False: "No"}.get(value, "Not decided")


def known_anomalies(product) -> ExtraSection:
    """Problem reports open now: the known residual anomalies a release would carry. Two
    queries."""
    reports = list(
        ProblemReport.objects.filter(product=product)
        .exclude(status=ProblemStatus.CLOSED)
        .order_by()
    )
    hazards = defaultdict(list)
    for report_id, code in ProblemReportHazard.objects.filter(
        problem_report__product=product
    ).values_list("problem_report_id", "hazard__code"):
        hazards[report_id].append(code)
    rows = tuple(
        (
            r.code,
            r.title,
            r.get_status_display(),
            r.product_versions,
            _yes_no(r.safety_related),
            ", ".join(sorted(hazards[r.pk], key=code_key)),
            r.anomaly_evaluation or "NOT EVALUATED",
        )
        for r in sorted(reports, key=lambda r: code_key(r.code))
    )
    return ExtraSection(
        title="Known residual anomalies",
        clause="IEC 62304 5.8.2–5.8.3, 9",
        note="Problem reports not closed when this file was printed, with the evaluation that "
        "each does not contribute to an unacceptable risk.",
        header=("Report", "Title", "Status", "Versions", "Safety", "Hazards", "Evaluation"),
        rows=rows,
        empty="No open problem report: the release carries no known residual anomaly.",
        weights=(0.8, 2.2, 1.2, 1.0, 0.7, 1.0, 3.5),
    )


def vulnerabilities(product) -> ExtraSection:
    """SOUP vulnerabilities (not withdrawn) and their assessments, KEV first. One query."""
    rows = []
    records = Vulnerability.objects.filter(product=product, withdrawn=False).select_related(
        "software_item", "hazard", "problem_report"
    )
    for v in sorted(records, key=lambda v: (not v.in_kev, code_key(v.code))):
        handled = " ".join(
            code
            for code in (v.hazard and v.hazard.code, v.problem_report and v.problem_report.code)
            if code
        )
        state = v.get_analysis_state_display()
        if v.justification:
            state += f" — {v.get_justification_display()}"
        rows.append(
            (
                v.code,
                " ".join([v.advisory_id, *v.aliases]) + (" [CISA KEV]" if v.in_kev else ""),
                f"{v.software_item.code} {v.software_item.name} {v.matched_version}",
                "" if v.cvss_score is None else str(v.cvss_score),
                state,
                handled,
                v.analysis_detail,
            )
        )
    return ExtraSection(
        title="SOUP vulnerabilities and their assessments",
        clause="FDA premarket cybersecurity guidance; IEC 81001-5-1 7.4",
        note="Published advisories matched to the SOUP by package URL and version, each with a "
        "VEX-style assessment; an affected one is handled by a security hazard or a problem "
        "report. CISA Known Exploited Vulnerabilities first.",
        header=("Code", "Advisory", "SOUP item", "CVSS", "Assessment", "Handled by", "Detail"),
        rows=tuple(rows),
        empty="No vulnerability has been matched to the SOUP.",
        weights=(0.7, 2.0, 1.8, 0.5, 1.6, 0.9, 3.0),
    )


def field_information(product) -> ExtraSection:
    """Production and post-production information with the review and decision. Two queries."""
    hazards = defaultdict(list)
    for record_id, code in FieldRecordHazard.objects.filter(
        field_record__product=product
    ).values_list("field_record_id", "hazard__code"):
        hazards[record_id].append(code)
    records = product.field_records.select_related("problem_report").order_by()
    rows = tuple(
        (
            r.code,
            r.received_on.isoformat(),
            r.get_kind_display(),
            r.title,
            str(r.event_count),
            ", ".join(sorted(hazards[r.pk], key=code_key)),
            "Not reviewed" if r.safety_relevant is None else _yes_no(r.safety_relevant),
            (r.get_decision_display() or "—")
            + (f" → {r.problem_report.code}" if r.problem_report_id else ""),
            r.review_notes,
        )
        for r in sorted(records, key=lambda r: code_key(r.code))
    )
    return ExtraSection(
        title="Production and post-production information",
        clause="ISO 14971 10.2–10.4",
        note="Complaints, adverse events, service data, literature, similar devices and "
        "vulnerability disclosures, each reviewed for relevance to safety with the action "
        "taken; re-estimations are in the hazards' history with the record as reason.",
        header=(
            "Record",
            "Received",
            "Kind",
            "Title",
            "Events",
            "Hazards",
            "Relevant",
            "Decision",
            "Review",
        ),
        rows=rows,
        empty="No production or post-production information is recorded.",
        weights=(0.7, 0.9, 1.2, 2.0, 0.6, 0.9, 0.8, 1.4, 2.8),
    )


SECTIONS = (known_anomalies, vulnerabilities, field_information)
