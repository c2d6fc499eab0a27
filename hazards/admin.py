"""Django admin for administrators. Regulated records are read-only here: changes go through
the pages (services with user and reason), so the audit trail stays complete."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from simple_history.admin import SimpleHistoryAdmin

from hazards import services
from hazards.models import Hazard, Membership, Product, RiskControl, RiskPolicy
from riskbench import roles


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """Regulated records and their history: viewable, never added, changed, deleted or
    "reverted" to a historical version here (that would bypass the services' checks, reason
    and version; DESIGN.md §7)."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_history_permission(self, request, obj=None):
        return False

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history saves a POSTed historical form without checking change permission.
        if request.method != "GET":
            raise PermissionDenied("History is read-only.")
        return super().history_form_view(request, object_id, version_id, extra_context)


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
class MembershipAdmin(ReadOnlyHistoryAdmin):
    """Team membership (who may see a product's risk file), given and withdrawn through the
    membership services: administrators only, with a history row naming who and why."""

    list_display = ("product", "user", "added_at")
    list_filter = ("product",)
    list_select_related = ("product", "user")
    fields = ("product", "user")

    def has_add_permission(self, request, obj=None):
        return roles.is_administrator(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.is_administrator(request.user)

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied("A membership is given or withdrawn, never changed.")
        try:
            membership = services.membership_add(
                product=obj.product, user=obj.user, by=request.user, reason="Given in the admin"
            )
        except ValidationError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from exc
        obj.pk = membership.pk

    def delete_model(self, request, obj):
        services.membership_remove(membership=obj, by=request.user, reason="Withdrawn in the admin")

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            self.delete_model(request, membership)
