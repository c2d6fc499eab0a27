"""Django admin for administrators: post-market records are read-only here; changes go through
the pages (services with user and reason), so the audit trail stays complete."""

from django.contrib import admin

from hazards.admin import ReadOnlyHistoryAdmin
from postmarket.models import (
    ChangeRequest,
    FieldExposure,
    FieldRecord,
    ProblemReport,
    Vulnerability,
    VulnerabilityImport,
)


@admin.register(ProblemReport)
class ProblemReportAdmin(ReadOnlyHistoryAdmin):
    list_display = ("code", "product", "title", "source", "status", "safety_related")
    list_filter = ("product", "status", "source")
    search_fields = ("code", "title")
    list_select_related = ("product",)


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyHistoryAdmin):
    list_display = ("code", "product", "problem_report", "title", "status")
    list_filter = ("product", "status")
    list_select_related = ("product", "problem_report")


@admin.register(Vulnerability)
class VulnerabilityAdmin(ReadOnlyHistoryAdmin):
    list_display = ("code", "product", "advisory_id", "software_item", "analysis_state", "in_kev")
    list_filter = ("product", "analysis_state", "in_kev", "withdrawn")
    search_fields = ("code", "advisory_id", "summary")
    list_select_related = ("product", "software_item")


@admin.register(VulnerabilityImport)
class VulnerabilityImportAdmin(ReadOnlyHistoryAdmin):
    list_display = ("pk", "product", "feed_name", "status", "created_by", "created_at")
    list_filter = ("product", "status")


@admin.register(FieldRecord)
class FieldRecordAdmin(ReadOnlyHistoryAdmin):
    list_display = ("code", "product", "kind", "title", "received_on", "decision")
    list_filter = ("product", "kind", "decision")
    search_fields = ("code", "title", "reference")
    list_select_related = ("product",)


@admin.register(FieldExposure)
class FieldExposureAdmin(ReadOnlyHistoryAdmin):
    list_display = ("product", "period_start", "period_end", "uses")
