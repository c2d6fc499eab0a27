"""Baselines: frozen, hashed snapshots of a product's whole risk management file
(ISO 14971 4.5 risk management file; IEC 62304 8.1.3 configuration identification)."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from riskbench.models import AppendOnlyModel


class BaselineKind(models.TextChoices):
    """A working baseline can be taken at any time; a release baseline only when the release
    gate passes (ISO 14971 9: review before release; IEC 62304 5.8)."""

    WORKING = "working", "Working baseline"
    RELEASE = "release", "Release baseline"


class Baseline(AppendOnlyModel):
    """A named snapshot of a product's risk file, never changed once taken.

    `snapshot_json` is the canonical JSON text built by `selectors.snapshot` and
    `content_sha256` its SHA-256: it covers the product's content only (not this baseline's
    name, time or author), so two baselines of unchanged data carry the same hash, on SQLite
    and on PostgreSQL alike. `audit_chain_seq` / `audit_chain_hash` record the head of the
    product's audit chain at that moment, and `audit_anchor` the head of every chain and of the
    access log (`riskbench.audit_anchor`): anchors `verify_audit` checks, outside the content hash.
    """

    product = models.ForeignKey(
        "hazards.Product", on_delete=models.PROTECT, related_name="baselines"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=10, choices=BaselineKind.choices, default=BaselineKind.WORKING
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField("taken at (UTC)")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="baselines",
        null=True,
        blank=True,
    )
    format_version = models.PositiveSmallIntegerField(default=1)
    content_sha256 = models.CharField("content SHA-256", max_length=64, db_index=True)
    snapshot_json = models.TextField()
    audit_chain_seq = models.PositiveBigIntegerField(default=0)
    audit_chain_hash = models.CharField(max_length=64, blank=True)
    audit_anchor = models.JSONField(
        default=dict,
        blank=True,
        help_text="Length and head hash of every audit chain when the baseline was taken.",
    )

    class Meta(AppendOnlyModel.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="unique_baseline_name")
        ]

    def __str__(self):
        return f"Baseline {self.name}"

    @property
    def is_release(self) -> bool:
        return self.kind == BaselineKind.RELEASE

    def get_absolute_url(self):
        return reverse("baselines:detail", args=[self.product.slug, self.pk])
