"""What the import pages remember between steps and across imports.

Neither model is part of the risk management file itself: an ImportMapping is a user's
column-mapping preset; a StagedUpload is the uploaded file kept between the preview and the
confirmation (through Django's storage API, so any app server can finish what another began).
"""

from django.conf import settings
from django.db import models

from hazards.models import Product


class ImportMapping(models.Model):
    """A saved column mapping, reusable on the import pages and from the command line: for
    hazard-log spreadsheets a field → column header map (`import_hazards --mapping NAME`), for
    workbooks a mapping document with columns and value maps per sheet (`mappings.py`,
    `import_workbook --mapping NAME`)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="import_mappings")
    name = models.CharField(max_length=100)
    columns = models.JSONField(help_text="Field name → column header in the file.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="unique_import_mapping")
        ]

    def __str__(self):
        return self.name


class UploadKind(models.TextChoices):
    HAZARDS = "hazards", "Hazard log (CSV / XLSX)"
    JUNIT = "junit", "JUnit XML"
    SBOM = "sbom", "CycloneDX SBOM"
    REQIF = "reqif", "ReqIF"
    PRODUCT = "product", "Product JSON"
    WORKBOOK = "workbook", "Risk file workbook (XLSX / ZIP of CSV)"


def staged_upload_to(instance, filename):
    return f"imports/{instance.product.slug}/{instance.sha256[:16]}-{filename}"


class StagedUpload(models.Model):
    """An uploaded file waiting for its preview to be confirmed. Deleted once imported; left
    over ones are purged after a day."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="staged_uploads")
    kind = models.CharField(max_length=10, choices=UploadKind.choices)
    file = models.FileField(upload_to=staged_upload_to, max_length=300)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.filename} ({self.get_kind_display()})"

    def read(self) -> bytes:
        with self.file.open("rb") as handle:
            return handle.read()
