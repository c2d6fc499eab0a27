"""Reads of the post-market records that span relations, each in a fixed number of queries."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from hazards.models import Hazard, Product
from postmarket import trend
from postmarket.models import (
    EVENT_KINDS,
    AnalysisState,
    FieldExposure,
    FieldRecord,
    FieldRecordHazard,
    ProblemReport,
    ProblemReportHazard,
    ProblemStatus,
    Vulnerability,
)
from traceability.models import SoftwareItem


def problem_report_list(product: Product, filters: dict):
    """Query plan: reports (1) + their hazard links with hazards (1) + run links (1)."""
    qs = product.problem_reports.prefetch_related(
        Prefetch("hazard_links", queryset=ProblemReportHazard.objects.select_related("hazard")),
        "change_requests",
    )
    if filters.get("status") == "open":
        qs = qs.exclude(status=ProblemStatus.CLOSED)
    elif filters.get("status") in ProblemStatus.values:
        qs = qs.filter(status=filters["status"])
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    if filters.get("safety") in ("yes", "no", "unknown"):
        qs = qs.filter(
            safety_related={"yes": True, "no": False, "unknown": None}[filters["safety"]]
        )
    if filters.get("trend"):
        qs = qs.filter(trend_category=filters["trend"])
    if filters.get("q"):
        text = filters["q"]
        qs = qs.filter(
            Q(code__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
        )
    return qs.order_by("-created_at", "-id")


def problem_report_detail(product: Product, code: str) -> ProblemReport:

    return get_object_or_404(
        ProblemReport.objects.prefetch_related(
            Prefetch(
                "hazard_links",
                queryset=ProblemReportHazard.objects.select_related("hazard").order_by("pk"),
            ),
            "item_links__software_item",
            "run_links__test_run__test_case",
            "change_requests",
            "vulnerabilities",
            "field_records",
        ),
        product=product,
        code=code,
    )


def vulnerability_list(product: Product, filters: dict):
    """Query plan: vulnerabilities with SOUP item, hazard and problem report (1)."""
    qs = product.vulnerabilities.select_related("software_item", "hazard", "problem_report")
    state = filters.get("state")
    if state == "open":
        qs = qs.filter(withdrawn=False).filter(
            Q(analysis_state=AnalysisState.UNDER_INVESTIGATION)
            | Q(
                analysis_state=AnalysisState.AFFECTED,
                hazard__isnull=True,
                problem_report__isnull=True,
            )
        )
    elif state in AnalysisState.values:
        qs = qs.filter(analysis_state=state)
    if filters.get("kev") == "1":
        qs = qs.filter(in_kev=True)
    if filters.get("item"):
        qs = qs.filter(software_item__code=filters["item"])
    if filters.get("withdrawn") != "1":
        qs = qs.filter(withdrawn=False)
    if filters.get("q"):
        text = filters["q"]
        qs = qs.filter(
            Q(code__icontains=text)
            | Q(advisory_id__icontains=text)
            | Q(summary__icontains=text)
            | Q(aliases__icontains=text)
        )
    return qs.order_by("-in_kev", "-cvss_score", "code")


def field_record_list(product: Product, filters: dict):
    qs = product.field_records.prefetch_related(
        Prefetch("hazard_links", queryset=FieldRecordHazard.objects.select_related("hazard"))
    ).select_related("problem_report")
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("decision") == "none":
        qs = qs.filter(decision="")
    elif filters.get("decision"):
        qs = qs.filter(decision=filters["decision"])
    if filters.get("q"):
        text = filters["q"]
        qs = qs.filter(
            Q(code__icontains=text) | Q(title__icontains=text) | Q(reference__icontains=text)
        )
    return qs.order_by("-received_on", "-id")


def soup_past_end_of_support(product: Product, today=None) -> list[SoftwareItem]:
    """SOUP items whose end-of-support date has passed (FDA premarket cybersecurity guidance:
    support status per component). One query."""
    today = today or timezone.localdate()
    return list(
        SoftwareItem.objects.filter(product=product, is_soup=True, end_of_support__lt=today)
        .only("code", "name", "soup_version", "end_of_support", "product_id")
        .order_by("end_of_support", "code")
    )


def dashboard_counts(product: Product) -> dict:
    """Two queries: problem reports and vulnerabilities."""
    reports = product.problem_reports.aggregate(
        open=Count("id", filter=~Q(status=ProblemStatus.CLOSED)),
        safety=Count("id", filter=~Q(status=ProblemStatus.CLOSED) & Q(safety_related=True)),
    )
    vulns = product.vulnerabilities.filter(withdrawn=False).aggregate(
        unassessed=Count("id", filter=Q(analysis_state=AnalysisState.UNDER_INVESTIGATION)),
        affected=Count("id", filter=Q(analysis_state=AnalysisState.AFFECTED)),
        unlinked=Count(
            "id",
            filter=Q(
                analysis_state=AnalysisState.AFFECTED,
                hazard__isnull=True,
                problem_report__isnull=True,
            ),
        ),
        kev=Count("id", filter=Q(in_kev=True) & ~Q(analysis_state=AnalysisState.FIXED)),
    )
    return {**{f"reports_{k}": v for k, v in reports.items()}, **vulns}


# --- Probability trend per hazard (ISO 14971 10.4) -----------------------------------------------


def hazard_trends(
    product: Product, hazard_code: str = ""
) -> tuple[list[dict], FieldExposure | None]:
    """For every hazard with linked field information (or the one asked for): the records,
    the events counted, the quarterly trend and whether the estimate still holds (`trend`).
    Three queries: links with records and hazards, the latest exposure, the policy (cached)."""
    links = (
        FieldRecordHazard.objects.filter(field_record__product=product)
        .select_related("field_record", "hazard")
        .order_by("hazard__code", "field_record__received_on", "pk")
    )
    if hazard_code:
        links = links.filter(hazard__code=hazard_code)
    exposure = product.field_exposures.order_by("-period_end", "-id").first()
    policy = product.risk_policy.evaluation_data
    grouped: dict[int, dict] = {}
    for link in links:
        entry = grouped.setdefault(
            link.hazard_id, {"hazard": link.hazard, "records": [], "dated_events": []}
        )
        record = link.field_record
        entry["records"].append(record)
        counted = record.kind in EVENT_KINDS
        in_period = exposure is None or (
            exposure.period_start <= record.received_on <= exposure.period_end
        )
        if counted and in_period:
            entry["dated_events"].append((record.received_on, record.event_count))
    rows = []
    for entry in grouped.values():
        hazard: Hazard = entry["hazard"]
        level = hazard.residual_probability or hazard.probability
        events = sum(n for _, n in entry["dated_events"])
        rows.append(
            {
                **entry,
                "events": events,
                "level": level,
                "check": trend.probability_check(
                    events=events,
                    uses=exposure.uses if exposure else None,
                    level=level,
                    levels=policy.likelihood_scale(hazard.category),
                ),
                "trend": trend.quarterly_trend(entry["dated_events"]),
            }
        )
    return rows, exposure


def vulnerability_detail(product: Product, code: str) -> Vulnerability:

    return get_object_or_404(
        Vulnerability.objects.select_related(
            "software_item", "hazard", "problem_report", "assessed_by"
        ),
        product=product,
        code=code,
    )


def field_record_detail(product: Product, code: str) -> FieldRecord:

    return get_object_or_404(
        FieldRecord.objects.select_related("problem_report", "reviewed_by").prefetch_related(
            Prefetch(
                "hazard_links",
                queryset=FieldRecordHazard.objects.select_related("hazard").order_by("pk"),
            )
        ),
        product=product,
        code=code,
    )


def search_postmarket(product: Product, query: str) -> list:
    """Problem reports, vulnerabilities (advisory or CVE id) and field information matching the
    search box (riskbench.navigation.SEARCH_PROVIDERS). Three queries, 50 hits each at most."""
    from django.urls import reverse

    from hazards.selectors import SearchHit

    text = query.strip()
    if not text:
        return []
    slug = product.slug
    hits = [
        SearchHit(
            r.code,
            r.title,
            "Problem report",
            reverse("postmarket:problem_report_detail", args=[slug, r.code]),
        )
        for r in product.problem_reports.filter(
            Q(code__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
        ).order_by("code")[:50]
    ]
    hits += [
        SearchHit(
            v.code,
            f"{v.advisory_id} {v.summary}".strip(),
            "Vulnerability",
            reverse("postmarket:vulnerability_detail", args=[slug, v.code]),
        )
        for v in product.vulnerabilities.filter(
            Q(code__icontains=text)
            | Q(advisory_id__icontains=text)
            | Q(aliases__icontains=text)
            | Q(summary__icontains=text)
        ).order_by("code")[:50]
    ]
    hits += [
        SearchHit(
            f.code,
            f.title,
            "Field information",
            reverse("postmarket:field_record_detail", args=[slug, f.code]),
        )
        for f in product.field_records.filter(
            Q(code__icontains=text) | Q(title__icontains=text) | Q(reference__icontains=text)
        ).order_by("code")[:50]
    ]
    return hits
