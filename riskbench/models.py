"""Abstract bases shared by both apps: versioned regulated records and trace links.

Concrete models live in `hazards` and `traceability`; this module knows neither.
"""

from django.conf import settings
from django.db import models


class Status(models.TextChoices):
    """Review workflow of a regulated record (ISO 14971 4.5; 21 CFR 11)."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"


class RegulatedModel(models.Model):
    """A record of the risk management file.

    `version` is incremented by every service save: it drives optimistic locking (a form carries
    the version it was loaded at) and suspect links (a link remembers the versions it saw).
    """

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkflowModel(RegulatedModel):
    """A regulated record that is reviewed and approved (draft → in review → approved)."""

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)

    class Meta:
        abstract = True


class TraceLink(models.Model):
    """Common fields of every explicit trace link.

    Concrete links name their two ends in `SOURCE_FIELD` and `TARGET_FIELD`. A link is *suspect*
    when either end's current `version` is newer than the version recorded here when the link was
    made or last reviewed (derived state, so the app that owns the end needs no signal).
    """

    SOURCE_FIELD = "source"
    TARGET_FIELD = "target"
    KIND = "link"

    source_version = models.PositiveIntegerField(default=1)
    target_version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def source(self):
        return getattr(self, self.SOURCE_FIELD)

    @property
    def target(self):
        return getattr(self, self.TARGET_FIELD)

    @property
    def is_suspect(self) -> bool:
        return is_suspect(
            self.source_version, self.source.version, self.target_version, self.target.version
        )


def is_suspect(recorded_source: int, current_source: int, recorded_target: int, current_target: int) -> bool:
    """A link is suspect when an end changed after the link was made or last reviewed."""
    return current_source > recorded_source or current_target > recorded_target
