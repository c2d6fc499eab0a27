"""Django admin for administrators. Regulated records and trace links are read-only here:
changes go through the pages (services with user and reason), so the audit trail stays
complete (21 CFR 11.10(e))."""

from django.contrib import admin

from hazards.admin import ReadOnlyHistoryAdmin
from traceability.models import (
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementTest,
    SoftwareItem,
    SoftwareItemHazard,
    TestCase,
    TestRun,
)


@admin.register(SoftwareItem)
class SoftwareItemAdmin(ReadOnlyHistoryAdmin):
    list_display = ("code", "product", "name", "safety_class", "is_soup", "soup_version")
    list_filter = ("product", "safety_class", "is_soup")
    search_fields = ("code", "name", "purl")
    list_select_related = ("product",)


@admin.register(Requirement)
class RequirementAdmin(ReadOnlyHistoryAdmin):
    list_display = ("code", "product", "level", "title", "status", "version")
    list_filter = ("product", "level", "status")
    search_fields = ("code", "title")
    list_select_related = ("product",)


@admin.register(TestCase)
class TestCaseAdmin(ReadOnlyHistoryAdmin):
    list_display = ("code", "product", "title", "method", "level", "version")
    list_filter = ("product", "method", "level")
    search_fields = ("code", "title")
    list_select_related = ("product",)


@admin.register(TestRun)
class TestRunAdmin(ReadOnlyHistoryAdmin):
    list_display = ("test_case", "result", "executed_at", "executed_by", "evidence_sha256")
    list_filter = ("result", "test_case__product")
    search_fields = ("test_case__code", "evidence_sha256", "external_reference")
    list_select_related = ("test_case", "executed_by")


class LinkAdmin(ReadOnlyHistoryAdmin):
    list_display = ("__str__", "source_version", "target_version", "created_at", "reviewed_at")


for _model in (
    ControlRequirement,
    RequirementTest,
    ControlImplementationTest,
    ControlEffectivenessTest,
    SoftwareItemHazard,
):
    admin.site.register(
        _model, LinkAdmin, list_select_related=(_model.SOURCE_FIELD, _model.TARGET_FIELD)
    )
