"""One post-market record of every kind, and the URL arguments of every postmarket page, for
tests/test_all_urls.py (kept here so that file needs only two small hooks)."""

from django.core.files.base import ContentFile

from postmarket.models import (
    ChangeRequest,
    FieldRecord,
    FieldRecordHazard,
    ProblemReport,
    ProblemReportHazard,
    Vulnerability,
    VulnerabilityImport,
)


def postmarket_world(product, editor, world) -> dict:
    report = ProblemReport.objects.create(
        product=product,
        code="PR-001",
        title="Duplicate bolus",
        source="test_failure",
        description="Seen in TC-001.",
    )
    change = ChangeRequest.objects.create(
        product=product, code="CR-001", problem_report=report, title="Idempotent command ids"
    )
    hazard_link = ProblemReportHazard.objects.create(problem_report=report, hazard=world["hazard"])
    vulnerability = Vulnerability.objects.create(
        product=product, code="VUL-001", software_item=world["item"], advisory_id="GHSA-1"
    )
    field = FieldRecord.objects.create(
        product=product,
        code="FI-001",
        kind="complaint",
        title="Two boluses",
        received_on="2026-01-05",
    )
    field_link = FieldRecordHazard.objects.create(field_record=field, hazard=world["hazard"])
    feed = VulnerabilityImport(
        product=product, created_by=editor, feed_name="a.json", feed_sha256="0" * 64
    )
    feed.feed.save("a.json", ContentFile(b"{}"), save=False)
    feed.save()
    return {
        "report": report,
        "change": change,
        "report_hazard": hazard_link,
        "vulnerability": vulnerability,
        "field": field,
        "field_link": field_link,
        "feed_import": feed,
    }


def postmarket_kwargs(name: str, params: list[str], world) -> dict | None:
    """Arguments of a postmarket URL from its parameter names."""
    short = name.split(":", 1)[1]
    values = {
        "slug": world["product"].slug,
        "what": "hazards",
        "change_code": world["change"].code,
        "pk": world["feed_import"].pk,
    }
    if short.startswith("vulnerability_"):
        values["code"] = world["vulnerability"].code
    elif short.startswith("field_record_"):
        values["code"] = world["field"].code
        values["link_id"] = world["field_link"].pk
    elif short == "problem_report_from_run":
        values["code"] = world["test_case"].code
        values["run_id"] = world["run"].pk
    else:
        values["code"] = world["report"].code
        values["kind"] = "hazard"
        values["link_id"] = world["report_hazard"].pk
    if not set(params) <= values.keys():
        return None
    return {param: values[param] for param in params}
