"""Read-only in the admin: the report changes through its page and services (DESIGN.md §7)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from traceability.report.models import RiskManagementReport


@admin.register(RiskManagementReport)
class RiskManagementReportAdmin(SimpleHistoryAdmin):
    list_display = ("product", "release", "status", "version", "updated_at")
    list_filter = ("status",)
    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
