"""Records kept after release: problem reports and change requests (IEC 62304 §9), SOUP
vulnerabilities with their VEX-style assessment (FDA premarket cybersecurity guidance 2023,
IEC 81001-5-1), and production and post-production information (ISO 14971 §10).

Every model is a regulated record with a history and a `version`, written only through
`postmarket.services` with the acting user and a reason. Links to records of the apps below
(hazards, software items, test runs) are explicit through-models on `TraceLink`, so each keeps
who linked it, when, and the version of both ends it saw: a hazard that changed after a problem
report linked it has been *re-evaluated* (derived, as suspicion is — DESIGN.md §3).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from hazards.models import Hazard, Product
from riskbench.models import RegulatedModel, TraceLink
from traceability.models import SoftwareItem, TestRun

# --- Problem resolution (IEC 62304 §9) --------------------------------------------------------


class ProblemSource(models.TextChoices):
    TEST_FAILURE = "test_failure", "Test failure"
    COMPLAINT = "complaint", "Complaint"
    FIELD_REPORT = "field_report", "Field report"
    VULNERABILITY = "vulnerability", "Vulnerability"
    INTERNAL_REVIEW = "internal_review", "Internal review"


class ProblemStatus(models.TextChoices):
    """IEC 62304 9.1–9.8: report, investigate, change, verify, close."""

    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating (9.2)"
    CHANGE = "change", "Change in progress (9.4)"
    VERIFYING = "verifying", "Verifying the fix (9.7)"
    CLOSED = "closed", "Closed"


class TrendCategory(models.TextChoices):
    """What the problem is about, for trend analysis (IEC 62304 9.6)."""

    REQUIREMENTS = "requirements", "Requirements / specification"
    DESIGN = "design", "Design or coding defect"
    SOUP = "soup", "SOUP"
    USABILITY = "usability", "Usability / use error"
    CYBERSECURITY = "cybersecurity", "Cybersecurity"
    INTEROPERABILITY = "interoperability", "Interoperability / connectivity"
    DOCUMENTATION = "documentation", "Documentation / labelling"
    HARDWARE = "hardware", "Hardware interaction"
    OTHER = "other", "Other"


class ProblemReport(RegulatedModel):
    """A software problem report (IEC 62304 9.1) with its investigation (9.2), its relevance to
    safety (9.2 c, 9.3: a problem may reveal a new hazard or change an estimate), the change
    requests that fix it (9.4), the verification of the fix (9.7) and its closure (9.8).

    Open at a release, it is a *known residual anomaly* (5.8.2) and needs the evaluation that it
    does not contribute to an unacceptable risk (5.8.3) in `anomaly_evaluation`.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="problem_reports")
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    source = models.CharField(max_length=20, choices=ProblemSource.choices)
    description = models.TextField()
    product_versions = models.CharField("product version(s) affected", max_length=200, blank=True)
    investigation = models.TextField(blank=True, help_text="Cause, scope, effect (IEC 62304 9.2).")
    safety_related = models.BooleanField(
        "relevant to safety", null=True, blank=True, help_text="Empty until investigated."
    )
    safety_rationale = models.TextField("why (not) relevant to safety", blank=True)
    trend_category = models.CharField(max_length=20, choices=TrendCategory.choices, blank=True)
    status = models.CharField(
        max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    anomaly_evaluation = models.TextField(
        "known-anomaly evaluation",
        blank=True,
        help_text="While open at a release: why it does not contribute to an unacceptable risk "
        "(IEC 62304 5.8.3).",
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="unique_problem_report_code")
        ]
        indexes = [models.Index(fields=["product", "status"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return reverse("postmarket:problem_report_detail", args=[self.product.slug, self.code])

    @property
    def is_open(self) -> bool:
        return self.status != ProblemStatus.CLOSED


class ChangeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    IMPLEMENTED = "implemented", "Implemented"
    REJECTED = "rejected", "Rejected"


class ChangeRequest(RegulatedModel):
    """A change request that fixes a problem (IEC 62304 9.4, 8.2)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="change_requests")
    code = models.CharField(max_length=20)
    problem_report = models.ForeignKey(
        ProblemReport, on_delete=models.PROTECT, related_name="change_requests"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=ChangeStatus.choices, default=ChangeStatus.PROPOSED
    )
    implemented_in = models.CharField("implemented in version", max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="unique_change_request_code")
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return self.problem_report.get_absolute_url()


class ProblemReportHazard(TraceLink):
    """The problem is relevant to this hazard (IEC 62304 9.3; ISO 14971 10.4). The hazard counts
    as re-evaluated once it changed after the link was made, or the link was reviewed with the
    reason the estimate still holds."""

    SOURCE_FIELD = "problem_report"
    TARGET_FIELD = "hazard"
    KIND = "problem_concerns"

    problem_report = models.ForeignKey(
        ProblemReport, on_delete=models.CASCADE, related_name="hazard_links"
    )
    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="problem_links")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["problem_report", "hazard"], name="unique_problem_report_hazard"
            )
        ]

    def __str__(self):
        return f"{self.problem_report.code} concerns {self.hazard.code}"

    @property
    def re_evaluated(self) -> bool:
        return self.reviewed_at is not None or self.hazard.version > self.target_version


class ProblemReportItem(TraceLink):
    """The problem lies in (or touches) this software item (IEC 62304 9.2)."""

    SOURCE_FIELD = "problem_report"
    TARGET_FIELD = "software_item"
    KIND = "problem_in"

    problem_report = models.ForeignKey(
        ProblemReport, on_delete=models.CASCADE, related_name="item_links"
    )
    software_item = models.ForeignKey(
        SoftwareItem, on_delete=models.CASCADE, related_name="problem_links"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["problem_report", "software_item"], name="unique_problem_report_item"
            )
        ]

    def __str__(self):
        return f"{self.problem_report.code} in {self.software_item.code}"


class RunRole(models.TextChoices):
    FAILURE = "failure", "Failure that revealed the problem"
    VERIFICATION = "verification", "Verification of the fix (9.7)"


class ProblemReportRun(TraceLink):
    """A test run that revealed the problem, or one that verifies its fix (IEC 62304 9.7)."""

    SOURCE_FIELD = "problem_report"
    TARGET_FIELD = "test_run"
    KIND = "problem_run"

    problem_report = models.ForeignKey(
        ProblemReport, on_delete=models.CASCADE, related_name="run_links"
    )
    test_run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="problem_links")
    role = models.CharField(max_length=12, choices=RunRole.choices)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["problem_report", "test_run", "role"], name="unique_problem_report_run"
            )
        ]

    def __str__(self):
        return f"{self.problem_report.code} {self.get_role_display().lower()}: {self.test_run}"


# --- SOUP vulnerabilities (FDA premarket cybersecurity guidance; IEC 81001-5-1) -----------------


class AnalysisState(models.TextChoices):
    """VEX-style status; the CycloneDX `analysis.state` each maps to is in `vex.py`."""

    UNDER_INVESTIGATION = "under_investigation", "Under investigation"
    AFFECTED = "affected", "Affected"
    NOT_AFFECTED = "not_affected", "Not affected"
    FIXED = "fixed", "Fixed"


class Justification(models.TextChoices):
    """CycloneDX 1.6 `impactAnalysisJustification`: why a component is not affected."""

    CODE_NOT_PRESENT = "code_not_present", "Code not present"
    CODE_NOT_REACHABLE = "code_not_reachable", "Code not reachable"
    REQUIRES_CONFIGURATION = "requires_configuration", "Requires configuration"
    REQUIRES_DEPENDENCY = "requires_dependency", "Requires dependency"
    REQUIRES_ENVIRONMENT = "requires_environment", "Requires environment"
    PROTECTED_BY_COMPILER = "protected_by_compiler", "Protected by compiler"
    PROTECTED_AT_RUNTIME = "protected_at_runtime", "Protected at runtime"
    PROTECTED_AT_PERIMETER = "protected_at_perimeter", "Protected at perimeter"
    PROTECTED_BY_MITIGATING_CONTROL = (
        "protected_by_mitigating_control",
        "Protected by mitigating control",
    )


class Vulnerability(RegulatedModel):
    """One published advisory matched to one SOUP item of the product, with its assessment.

    The advisory fields (`advisory_*`, `aliases`, `cvss_*`, `in_kev`, `match_*`) come from the
    feed and are refreshed by `vulncheck` only when the feed says something new; the assessment
    fields are a person's (state, justification, detail, the hazard or problem report that
    handles an affected one).
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="vulnerabilities")
    code = models.CharField(max_length=20)
    software_item = models.ForeignKey(
        SoftwareItem, on_delete=models.PROTECT, related_name="vulnerabilities"
    )
    advisory_id = models.CharField("advisory", max_length=100)
    aliases = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    details = models.TextField(blank=True)
    advisory_modified = models.CharField(max_length=40, blank=True)
    published = models.CharField(max_length=40, blank=True)
    cvss_vector = models.CharField("CVSS vector", max_length=200, blank=True)
    cvss_score = models.DecimalField(
        "CVSS base score", max_digits=3, decimal_places=1, null=True, blank=True
    )
    in_kev = models.BooleanField("in CISA KEV", default=False)
    kev_date_added = models.CharField("KEV date added", max_length=20, blank=True)
    withdrawn = models.BooleanField(default=False)
    matched_version = models.CharField(max_length=100, blank=True)
    match_basis = models.CharField(max_length=300, blank=True)
    affected_ranges = models.TextField(blank=True)
    fixed_versions = models.JSONField(default=list, blank=True)
    references = models.JSONField(default=list, blank=True)

    analysis_state = models.CharField(
        max_length=20, choices=AnalysisState.choices, default=AnalysisState.UNDER_INVESTIGATION
    )
    justification = models.CharField(max_length=40, choices=Justification.choices, blank=True)
    analysis_detail = models.TextField(blank=True)
    hazard = models.ForeignKey(
        Hazard,
        on_delete=models.PROTECT,
        related_name="vulnerabilities",
        null=True,
        blank=True,
        help_text="The security hazard that handles an affected vulnerability.",
    )
    problem_report = models.ForeignKey(
        ProblemReport,
        on_delete=models.PROTECT,
        related_name="vulnerabilities",
        null=True,
        blank=True,
    )
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "vulnerabilities"
        ordering = ["product", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="unique_vulnerability_code"),
            models.UniqueConstraint(
                fields=["software_item", "advisory_id"], name="unique_vulnerability_advisory"
            ),
        ]
        indexes = [models.Index(fields=["product", "analysis_state"])]

    def __str__(self):
        return f"{self.code} {self.advisory_id}"

    def get_absolute_url(self):
        return reverse("postmarket:vulnerability_detail", args=[self.product.slug, self.code])

    @property
    def cve_ids(self) -> list[str]:
        return [a for a in self.aliases or () if str(a).upper().startswith("CVE-")]

    @property
    def needs_assessment(self) -> bool:
        return not self.withdrawn and self.analysis_state == AnalysisState.UNDER_INVESTIGATION

    @property
    def missing_link(self) -> bool:
        """Affected but handled nowhere: no security hazard and no problem report."""
        return (
            not self.withdrawn
            and self.analysis_state == AnalysisState.AFFECTED
            and self.hazard_id is None
            and self.problem_report_id is None
        )


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def feed_upload_to(instance, filename):
    return f"vulnfeeds/{instance.product.slug}/{filename}"


class VulnerabilityImport(models.Model):
    """One run of the vulnerability check from the upload page (a background task). Progress
    is transient and kept out of the history, as for dossier exports."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="vuln_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    feed = models.FileField(upload_to=feed_upload_to, max_length=300)
    feed_name = models.CharField(max_length=255)
    feed_sha256 = models.CharField("feed SHA-256", max_length=64)
    kev = models.FileField(upload_to=feed_upload_to, max_length=300, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=120, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["progress", "stage"])

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Vulnerability check {self.product.slug} #{self.pk} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("postmarket:vulnerability_import", args=[self.product.slug])

    @property
    def is_pending(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


# --- Production and post-production information (ISO 14971 §10) --------------------------------


class FieldKind(models.TextChoices):
    """ISO 14971 10.2: sources of production and post-production information."""

    COMPLAINT = "complaint", "Complaint"
    ADVERSE_EVENT = "adverse_event", "Adverse-event report"
    SERVICE = "service", "Service data"
    LITERATURE = "literature", "Literature"
    SIMILAR_DEVICE = "similar_device", "Similar devices"
    VULNERABILITY_DISCLOSURE = "vulnerability_disclosure", "Vulnerability disclosure"


# Kinds whose records are events of this product in the field (counted by the trend check);
# literature and similar devices inform the review but are not our device's occurrences.
EVENT_KINDS = (FieldKind.COMPLAINT, FieldKind.ADVERSE_EVENT, FieldKind.SERVICE)


class FieldDecision(models.TextChoices):
    """ISO 14971 10.4: what the review of the information led to."""

    NO_CHANGE = "no_change", "No change"
    RE_ESTIMATE = "re_estimate", "Re-estimate linked hazards"
    NEW_HAZARD = "new_hazard", "New hazard"
    PROBLEM_REPORT = "problem_report", "Problem report"


class FieldRecord(RegulatedModel):
    """One piece of production or post-production information (ISO 14971 10.2), reviewed for
    its relevance to safety (10.3) with the action taken (10.4)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="field_records")
    code = models.CharField(max_length=20)
    kind = models.CharField(max_length=30, choices=FieldKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    received_on = models.DateField()
    reference = models.CharField(
        max_length=200, blank=True, help_text="Complaint number, MDR/vigilance id, citation…"
    )
    event_count = models.PositiveIntegerField(
        default=1, help_text="Occurrences this record reports (for the probability trend)."
    )
    safety_relevant = models.BooleanField(
        "relevant to safety", null=True, blank=True, help_text="Empty until reviewed (10.3)."
    )
    decision = models.CharField(max_length=20, choices=FieldDecision.choices, blank=True)
    review_notes = models.TextField("review", blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    problem_report = models.ForeignKey(
        ProblemReport,
        on_delete=models.PROTECT,
        related_name="field_records",
        null=True,
        blank=True,
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="unique_field_record_code")
        ]
        indexes = [models.Index(fields=["product", "received_on"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return reverse("postmarket:field_record_detail", args=[self.product.slug, self.code])


class FieldRecordHazard(TraceLink):
    """The field information concerns this hazard (ISO 14971 10.4)."""

    SOURCE_FIELD = "field_record"
    TARGET_FIELD = "hazard"
    KIND = "field_concerns"

    field_record = models.ForeignKey(
        FieldRecord, on_delete=models.CASCADE, related_name="hazard_links"
    )
    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="field_links")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["field_record", "hazard"], name="unique_field_record_hazard"
            )
        ]

    def __str__(self):
        return f"{self.field_record.code} concerns {self.hazard.code}"


class FieldExposure(RegulatedModel):
    """The denominator of the probability trend: how many uses of the device the field saw in a
    period (e.g. units in use × days × uses per day), with how it was estimated. Probability
    levels of the default policy are per use (P1 "per use"), so events / uses is comparable."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="field_exposures")
    period_start = models.DateField()
    period_end = models.DateField()
    uses = models.PositiveBigIntegerField(help_text="Estimated uses in the field in the period.")
    basis = models.TextField(help_text="How the number was estimated.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "-period_end", "-id"]

    def __str__(self):
        return f"{self.uses} uses, {self.period_start} – {self.period_end}"

    def get_absolute_url(self):
        return reverse("postmarket:field_trend", args=[self.product.slug])
