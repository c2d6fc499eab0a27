"""Records of generated dossiers: who made which PDF, when, from which data, and its SHA-256.

A DossierExport is part of the risk management file's own record keeping (ISO 14971 4.5;
21 CFR 11.10(e)): its history says who asked for it and when it was finished. The progress
counters a background generation updates are transient and kept out of that history.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from hazards.models import Product


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def dossier_upload_to(instance, filename):
    return f"dossiers/{instance.product.slug}/{filename}"


class DossierExport(models.Model):
    """One generated risk management file (PDF) of a product."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="dossier_exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="dossier_exports",
        null=True,
        blank=True,
        help_text="Empty when made from the command line.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    scope = models.CharField(
        max_length=40, default="current", help_text="What was exported: the current data."
    )
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    stage = models.CharField(max_length=120, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to=dossier_upload_to, blank=True, max_length=300)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    data_hash = models.CharField(
        "data SHA-256", max_length=64, blank=True, help_text="SHA-256 of the data printed."
    )
    revision = models.CharField(max_length=40, blank=True)
    baseline = models.ForeignKey(
        "baselines.Baseline",
        on_delete=models.PROTECT,
        related_name="dossier_exports",
        null=True,
        blank=True,
        help_text="The signed baseline this dossier reproduces exactly (a released revision).",
    )
    data_as_of = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    audit_anchor = models.JSONField(
        default=dict,
        blank=True,
        help_text="Length and head hash of every audit chain when the dossier was requested "
        "(riskbench.audit_anchor): verify_audit checks the chains still extend it.",
    )
    history = HistoricalRecords(excluded_fields=["progress", "stage"])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"])]

    def __str__(self):
        return f"Dossier {self.product.slug} #{self.pk} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("dossier:list", args=[self.product.slug])

    @property
    def is_pending(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def filename(self) -> str:
        return self.file.name.rsplit("/", 1)[-1] if self.file else ""
