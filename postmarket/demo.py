"""Post-market demo data for the Aurora insulin pump, written through the services (real
history), registered as a `traceability.demo.EXTENSIONS` hook so `loaddemo` stays one command:

* the failed run of TC-001 (duplicate bolus over a lossy link) with its problem report PR-001 —
  safety-related, HAZ-001 re-evaluated, a change requested, a known-anomaly evaluation;
* two SOUP vulnerabilities from a small offline feed (`DEMO_FEED`, hand-written demo advisories
  in the OSV shape): one in NimBLE, affected and handled by the security hazard HAZ-015, one
  in Mbed TLS, assessed not affected (the vulnerable feature is not compiled in);
* FreeRTOS (SW-006) is past its end of support (2026-06-30): flagged by the gate and the pages;
* field complaints about occlusion alarms that led to a re-estimation of HAZ-002's P1 (in the
  hazard's history with the field record as reason), with service data and literature that led
  to no change, and the exposure that the probability check divides by.

Idempotent: records are looked up first (by run, by advisory, by title), assessments and reviews
are made only once, so a second run writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json

from hazards import services as hazard_services
from hazards.models import Hazard, Product
from postmarket import feeds, services
from postmarket.models import (
    AnalysisState,
    FieldDecision,
    FieldExposure,
    FieldRecord,
    Justification,
    ProblemStatus,
    Vulnerability,
)
from riskbench.models import Status
from riskbench.services import link_review
from traceability.models import TestRun

SLUG = "aurora-insulin-pump"

DEMO_FEED = [
    {
        "schema_version": "1.6.0",
        "id": "DEMO-OSV-2026-0001",
        "modified": "2026-09-02T10:00:00Z",
        "published": "2026-09-01T10:00:00Z",
        "summary": "Crafted L2CAP signalling packet makes the NimBLE host loop (demo advisory)",
        "details": "A peer within radio range can send an L2CAP LE credit-based connection "
        "request with a zero MTU that makes the host's signalling handler loop, stalling the "
        "BLE stack until reset. Demo data in the shape of an OSV advisory.",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
        "affected": [
            {
                "package": {
                    "ecosystem": "GIT",
                    "name": "mynewt-nimble",
                    "purl": "pkg:github/apache/mynewt-nimble",
                },
                "ranges": [
                    {
                        "type": "GIT",
                        "repo": "https://github.com/apache/mynewt-nimble",
                        "events": [
                            {"introduced": "0"},
                            {"fixed": "5f2a9c1e7d3b4a6f8e0c2d4b6a8f0e1d3c5b7a9f"},
                        ],
                    }
                ],
                "versions": ["nimble_1_5_0_tag", "nimble_1_6_0_tag", "nimble_1_7_0_tag"],
            }
        ],
        "references": [{"type": "WEB", "url": "https://example.org/demo/nimble-l2cap-loop"}],
    },
    {
        "schema_version": "1.6.0",
        "id": "DEMO-OSV-2026-0002",
        "modified": "2026-08-28T10:00:00Z",
        "published": "2026-08-27T10:00:00Z",
        "summary": "TLS 1.3 early data accepted after renegotiation in Mbed TLS (demo advisory)",
        "details": "With MBEDTLS_SSL_EARLY_DATA enabled, a server may accept early data on a "
        "resumed session whose ticket was issued for another ALPN. Demo data in the shape of "
        "an OSV advisory.",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N"}],
        "affected": [
            {
                "package": {
                    "ecosystem": "GIT",
                    "name": "mbedtls",
                    "purl": "pkg:github/Mbed-TLS/mbedtls",
                },
                "versions": ["v3.6.0", "v3.6.1", "v3.6.2"],
            }
        ],
        "references": [{"type": "WEB", "url": "https://example.org/demo/mbedtls-early-data"}],
    },
]

FIELD_RECORDS = [
    # title, kind, received, reference, events, description, review (relevant, decision, notes)
    (
        "Occlusion alarm during night basal",
        "complaint",
        "2026-08-14",
        "CMP-2026-0412",
        2,
        "Two users report an occlusion alarm at night after a kinked cannula; delivery stopped "
        "and resumed after a site change. No hypo- or hyperglycaemia reported.",
        (
            True,
            FieldDecision.RE_ESTIMATE,
            "Occlusions happen more often than the P1 of HAZ-002 "
            "assumed: re-estimate P1. The alarm worked, so the residual estimate still holds.",
        ),
    ),
    (
        "Occlusion alarm after set change",
        "complaint",
        "2026-09-03",
        "CMP-2026-0467",
        1,
        "Occlusion alarm within an hour of a set change; the set was found kinked.",
        (
            True,
            FieldDecision.RE_ESTIMATE,
            "Same hazardous situation as FI-001; covered by the re-estimation of HAZ-002.",
        ),
    ),
    (
        "Returned pumps: occlusion sensor within specification",
        "service",
        "2026-09-20",
        "SRV-Q3-2026",
        0,
        "Service analysis of 14 returned pumps: occlusion sensor thresholds "
        "within specification on all.",
        (True, FieldDecision.NO_CHANGE, "Confirms the control RC-003 works as verified."),
    ),
    (
        "Occlusion rates in patch pumps (literature)",
        "literature",
        "2026-10-02",
        "Diabetes Technol Ther (review)",
        0,
        "Review of occlusion alarm rates in tubeless pumps.",
        (False, FieldDecision.NO_CHANGE, "Rates reported are within our updated P1."),
    ),
]


def _user(by, signer, product):
    if signer is None:
        return by
    signer.start(product)
    return signer.user


def load(*, by, signer=None) -> dict[str, int]:
    """Load the post-market demo of the Aurora pump; returns what was created."""
    product = Product.objects.filter(slug=SLUG).first()
    created: dict[str, int] = {}
    if product is None:
        return created
    by = _user(by, signer, product)
    _problem_report(product, by, created)
    _vulnerabilities(product, by, created)
    _field(product, by, signer, created)
    return created


def _count(created, kind, n=1):
    created[kind] = created.get(kind, 0) + n


def _problem_report(product, by, created) -> None:
    run = (
        TestRun.objects.filter(test_case__product=product, test_case__code="TC-001", result="fail")
        .order_by("-executed_at", "-id")
        .first()
    )
    if run is None:
        return
    report, new = services.problem_report_from_run(run=run, by=by)
    if not new:
        return
    _count(created, "problem_reports")
    report = services.problem_report_update(
        report=report,
        by=by,
        reason="Investigated (IEC 62304 9.2)",
        investigation="The pump acknowledges a bolus before the command ID is persisted; when "
        "the link drops during the flash write, the app's retry is not recognised as a "
        "duplicate. Reproduced 1 in 500 on 3.2.0-rc2.",
        safety_related=True,
        safety_rationale="A duplicated bolus is the hazardous situation of HAZ-001.",
        trend_category="design",
        anomaly_evaluation="Known residual anomaly of 3.2.0-rc2 only: release 3.2.0 is blocked "
        "until CR-001 is verified; RC-001 (bolus limit per hour) caps the over-delivery.",
        expected_version=report.version,
    )
    services.problem_report_set_status(
        report=report, status=ProblemStatus.INVESTIGATING, by=by, expected_version=report.version
    )
    hazard = Hazard.objects.get(product=product, code="HAZ-001")
    link = services.problem_report_link_hazard(
        report=report, hazard=hazard, by=by, reason="Duplicated bolus"
    )
    services.problem_hazard_review(
        link=link, by=by, reason="P2 unchanged: the hourly bolus limit caps the excess dose"
    )
    services.change_request_create(
        report=report,
        by=by,
        title="Persist the command ID before acknowledging a bolus",
        description="Write the ID table entry, then acknowledge; retries with a known ID are "
        "answered from the table.",
    )
    services.problem_report_set_status(
        report=report, status=ProblemStatus.CHANGE, by=by, expected_version=report.version
    )


def _vulnerabilities(product, by, created) -> None:
    # Imported here: this module is imported at start-up (its `load` is registered from
    # `PostmarketConfig.ready()`), the OSV matcher's version libraries only when demo data loads.
    from postmarket import vulncheck

    index, _ = vulncheck.index_soup(product)
    members = [feeds.Member(f"{doc['id']}.json", json.dumps(doc).encode()) for doc in DEMO_FEED]
    applied = vulncheck.apply(
        product, vulncheck.scan(members, index), by=by, kev={}, source="Demo OSV feed"
    )
    if applied.created:
        _count(created, "vulnerabilities", len(applied.created))
    for v in Vulnerability.objects.filter(product=product, advisory_id__startswith="DEMO-"):
        if v.analysis_state != AnalysisState.UNDER_INVESTIGATION:
            continue
        if v.advisory_id == "DEMO-OSV-2026-0001":
            services.vulnerability_assess(
                vulnerability=v,
                by=by,
                analysis_state=AnalysisState.AFFECTED,
                hazard=Hazard.objects.get(product=product, code="HAZ-015"),
                analysis_detail="The pump's BLE host is reachable by any device in radio range: "
                "telemetry stalls until the watchdog resets the stack. Handled by HAZ-015; "
                "NimBLE update planned for 3.2.1.",
                reason="Assessed at the security review board",
                expected_version=v.version,
            )
        else:
            services.vulnerability_assess(
                vulnerability=v,
                by=by,
                analysis_state=AnalysisState.NOT_AFFECTED,
                justification=Justification.REQUIRES_CONFIGURATION,
                analysis_detail="MBEDTLS_SSL_EARLY_DATA is not enabled in the AP-200 build "
                "configuration (mbedtls_config.h reviewed).",
                reason="Assessed at the security review board",
                expected_version=v.version,
            )
        _count(created, "assessments")


def _field(product, by, signer, created) -> None:
    period = (dt.date(2026, 1, 1), dt.date(2026, 10, 31))
    if not FieldExposure.objects.filter(product=product, period_start=period[0]).exists():
        services.field_exposure_create(
            product=product,
            by=by,
            period_start=period[0],
            period_end=period[1],
            uses=4_200_000,
            basis="About 1,400 pumps in use × 300 days × 10 deliveries a day "
            "(boluses and basal segments), from the device registry.",
        )
        _count(created, "exposures")
    hazard = Hazard.objects.get(product=product, code="HAZ-002")
    records = {r.title: r for r in FieldRecord.objects.filter(product=product)}
    for title, kind, received, reference, events, description, review in FIELD_RECORDS:
        if title in records:
            continue
        related = [hazard] if kind in ("complaint", "service") else []
        record = services.field_record_create(
            product=product,
            by=by,
            kind=kind,
            title=title,
            received_on=received,
            reference=reference,
            event_count=events,
            description=description,
            hazards=related,
        )
        _count(created, "field_records")
        relevant, decision, notes = review
        record = services.field_record_review(
            record=record,
            by=by,
            safety_relevant=relevant,
            decision=decision,
            review_notes=notes,
            expected_version=record.version,
        )
        if decision == FieldDecision.RE_ESTIMATE and hazard.p1 == 4:
            hazard = _reestimate(record, hazard, by, signer)
            _count(created, "re_estimations")


def _reestimate(record, hazard, by, signer) -> Hazard:
    """P1 of HAZ-002 raised from the complaints; the hazard is then re-approved (signed when the
    demo has a signer) and its links confirmed, as the review board would."""
    from django.db.models import Q

    from hazards.models import ControlIntroducedHazard, HazardControl, HazardTransfer
    from traceability.models import SoftwareItemHazard

    was_approved = hazard.status == Status.APPROVED
    hazard = services.field_record_reestimate(
        record=record,
        hazard=hazard,
        by=by,
        p1=5,
        note="occlusions more frequent",
        expected_version=hazard.version,
    )
    # Re-approved as it was before, where approval is possible: not while the product's policy
    # is unapproved (then risks are not evaluated and the demo loader leaves hazards in review).
    policy_in_force = Product.objects.get(pk=hazard.product_id).risk_policy.is_approved
    if was_approved and policy_in_force and hazard.status == Status.IN_REVIEW:
        reason = f"Re-approved after the re-estimation from {record.code}"
        if signer is not None:
            signer.approve(hazard, reason=reason)
        else:
            hazard_services.record_set_status(
                record=hazard,
                status=Status.APPROVED,
                by=by,
                reason=reason,
                expected_version=hazard.version,
            )
    touching = [
        HazardControl.objects.filter(hazard=hazard),
        ControlIntroducedHazard.objects.filter(hazard=hazard),
        SoftwareItemHazard.objects.filter(hazard=hazard),
        HazardTransfer.objects.filter(Q(security_hazard=hazard) | Q(safety_hazard=hazard)),
    ]
    for links in touching:
        for link in links:
            if link.is_suspect:
                link_review(link, by=by, reason=f"Still holds after re-estimation ({record.code})")
    return Hazard.objects.get(pk=hazard.pk)
