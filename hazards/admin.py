"""Django admin for administrators. Regulated records are read-only here: changes go through
the pages (services with user and reason), so the audit trail stays complete."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from hazards.models import Hazard, Membership, Product, RiskControl, RiskPolicy


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(ReadOnlyHistoryAdmin):
    list_display = ("name", "slug", "model_number", "document_number", "risk_policy")
    list_select_related = ("risk_policy",)
    search_fields = ("name", "slug")


@admin.register(RiskPolicy)
class RiskPolicyAdmin(ReadOnlyHistoryAdmin):
    list_display = ("name", "product", "status", "version", "approved_version")
    list_select_related = ("product",)


@admin.register(Hazard)
class HazardAdmin(ReadOnlyHistoryAdmin):
    list_display = ("code", "product", "category", "title", "status", "residual_acceptability")
    list_filter = ("product", "category", "status")
    search_fields = ("code", "title")
    list_select_related = ("product",)


@admin.register(RiskControl)
class RiskControlAdmin(ReadOnlyHistoryAdmin):
    list_display = ("code", "product", "title", "option", "status")
    list_filter = ("product", "option")
    list_select_related = ("product",)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    """Team membership is administered here (who may see a product's risk file)."""

    list_display = ("product", "user", "added_at")
    list_filter = ("product",)
    list_select_related = ("product", "user")
