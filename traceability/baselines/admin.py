from django.contrib import admin

from riskbench.admin import ReadOnlyAdmin
from traceability.baselines.models import Baseline


@admin.register(Baseline)
class BaselineAdmin(ReadOnlyAdmin):
    """Baselines are frozen: viewable, never changed or deleted (21 CFR 11.10(e))."""

    list_display = ("name", "product", "created_at", "created_by", "content_sha256")
    list_filter = ("product",)
    exclude = ("snapshot_json",)
