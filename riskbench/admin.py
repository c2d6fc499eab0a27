"""Admin of the Part 11 records: read-only, and nothing can be deleted (21 CFR 11.10(e))."""

from django.contrib import admin
from rest_framework.authtoken import admin as drf_token_admin
from rest_framework.authtoken.models import TokenProxy

from riskbench.models import (
    AccessLogEntry,
    AuditChainEntry,
    AuditChainHead,
    AuditSchema,
    Signature,
    SigningGuard,
    UserProfile,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by administrators; no add, change, delete or bulk action."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("signed_at", "printed_name", "meaning", "record_label", "record_version")
    list_filter = ("meaning",)
    search_fields = ("record_label", "printed_name", "signer__username")
    date_hierarchy = "signed_at"


@admin.register(AuditChainEntry)
class AuditChainEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "chain", "seq", "model_label", "object_repr", "action", "user")
    list_filter = ("source", "model_label", "action")
    search_fields = ("object_repr", "reason")
    list_select_related = ("user",)


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "username", "action", "detail", "ip_address")
    list_filter = ("action",)
    search_fields = ("username", "detail")


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("chain", "seq", "row_hash")


@admin.register(AuditSchema)
class AuditSchemaAdmin(ReadOnlyAdmin):
    list_display = ("model_label", "digest")


@admin.register(SigningGuard)
class SigningGuardAdmin(admin.ModelAdmin):
    """An administrator may lift a signing lock early (the change is in the admin log)."""

    list_display = ("user", "consecutive_failures", "last_failure_at", "locked_until")
    fields = ("user", "consecutive_failures", "last_failure_at", "locked_until")
    readonly_fields = ("user", "last_failure_at")
    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    """Role and qualification of each person (ISO 14971 4.3), kept by administrators and
    written through `riskbench.services.profile_update` (history with who and why)."""

    list_display = ("user", "role_title", "qualification", "updated_at")
    search_fields = ("user__username", "user__first_name", "user__last_name", "role_title")
    fields = ("user", "role_title", "qualification")
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from riskbench.services import profile_update

        saved = profile_update(
            user=obj.user,
            by=request.user,
            reason="Changed in the admin" if change else "Recorded in the admin",
            role_title=obj.role_title,
            qualification=obj.qualification,
        )
        obj.pk = saved.pk


# API tokens: DRF's admin lets an administrator create a token for any user — a credential
# to act as that person, outside any record (21 CFR 11.300). Here tokens are only listed and
# revoked; each user makes their own on the API token page.
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(drf_token_admin.TokenAdmin):
    """List and revoke API tokens; never create or change one (not even one's own here)."""

    actions = None
    fields = ("user", "created")
    readonly_fields = ("user", "created")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
