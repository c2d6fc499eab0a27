"""The IEC 62304 side of the risk file: software items and SOUP, requirements, verification
activities and their evidence, and the explicit trace links between them and the risk register.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from hazards.models import Hazard, Product, RiskControl, SoftwareSafetyClass
from riskbench.models import RegulatedModel, TraceLink, WorkflowModel


class SupportStatus(models.TextChoices):
    SUPPORTED = "supported", "Supported"
    LIMITED = "limited", "Limited support"
    END_OF_SUPPORT = "end_of_support", "End of support"
    UNKNOWN = "unknown", "Unknown"


class SoftwareItem(WorkflowModel):
    """A software item of the architecture (IEC 62304 5.3), possibly SOUP (8.1.2).

    Reviewed and approved like every record of the file: its safety class (4.3) and, for SOUP,
    its specification and anomaly evaluation are claims an approver stands behind."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="software_items")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="children", null=True, blank=True
    )
    safety_class = models.CharField(max_length=1, choices=SoftwareSafetyClass.choices)
    safety_class_rationale = models.TextField(blank=True)
    segregation_note = models.TextField(
        blank=True, help_text="Segregation that justifies a class lower than the parent's (4.3)."
    )
    is_soup = models.BooleanField("SOUP", default=False)
    manufacturer = models.CharField(max_length=200, blank=True)
    soup_version = models.CharField("SOUP version", max_length=100, blank=True)
    purl = models.CharField("package URL", max_length=500, blank=True)
    licence = models.CharField(max_length=200, blank=True)
    soup_requirements = models.TextField(
        "functional and performance requirements", blank=True, help_text="IEC 62304 5.3.3."
    )
    soup_hardware_software = models.TextField(
        "required hardware and software", blank=True, help_text="IEC 62304 5.3.4."
    )
    anomalies_reviewed_at = models.DateField("known anomalies reviewed on", null=True, blank=True)
    anomalies_notes = models.TextField("known anomalies evaluation", blank=True)
    anomalies_reviewed_version = models.CharField(
        "SOUP version the anomaly review covers",
        max_length=100,
        blank=True,
        help_text="A review of an earlier version does not cover the current one "
        "(IEC 62304 7.1.3, 7.4.1).",
    )
    support_status = models.CharField(
        max_length=20, choices=SupportStatus.choices, default=SupportStatus.UNKNOWN
    )
    end_of_support = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="unique_software_item_code")
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("traceability:software_item_detail", args=[self.product.slug, self.code])


class RequirementLevel(models.TextChoices):
    SYSTEM = "system", "System"
    SOFTWARE = "software", "Software"
    SECURITY = "security", "Security"
    PRIVACY = "privacy", "Privacy"
    LABELING = "labeling", "Labeling"


class Requirement(WorkflowModel):
    """A requirement; risk control measures implemented in software become software
    requirements (IEC 62304 7.2)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="requirements")
    code = models.CharField(max_length=20)
    level = models.CharField(max_length=10, choices=RequirementLevel.choices)
    title = models.CharField(max_length=200)
    text = models.TextField()
    rationale = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="children", null=True, blank=True
    )
    software_item = models.ForeignKey(
        SoftwareItem,
        on_delete=models.PROTECT,
        related_name="requirements",
        null=True,
        blank=True,
        help_text="The software item that implements this requirement.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="unique_requirement_code")
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return reverse("traceability:requirement_detail", args=[self.product.slug, self.code])


class TestMethod(models.TextChoices):
    TEST = "test", "Test"
    INSPECTION = "inspection", "Inspection"
    ANALYSIS = "analysis", "Analysis"
    DEMONSTRATION = "demonstration", "Demonstration"


class TestLevel(models.TextChoices):
    UNIT = "unit", "Unit"
    INTEGRATION = "integration", "Integration"
    SYSTEM = "system", "System"
    VALIDATION = "validation", "Validation"


class TestCase(WorkflowModel):
    """A verification activity (IEC 62304 5.5–5.7, 7.3.1); its procedure and acceptance
    criteria are reviewed and approved before its runs count as evidence for a release."""

    __test__ = False  # not a pytest test class

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="test_cases")
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    method = models.CharField(max_length=15, choices=TestMethod.choices, default=TestMethod.TEST)
    level = models.CharField(max_length=12, choices=TestLevel.choices, default=TestLevel.SYSTEM)
    procedure = models.TextField(blank=True)
    acceptance_criteria = models.TextField(
        blank=True,
        help_text="What the result must show for the test to pass (IEC 62304 5.7.1, 7.3.1).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="unique_test_case_code")
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return reverse("traceability:test_case_detail", args=[self.product.slug, self.code])


class TestResult(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    BLOCKED = "blocked", "Blocked"
    NOT_RUN = "not_run", "Not run"


def evidence_upload_to(instance, filename):
    return f"evidence/{instance.test_case.product.slug}/{instance.test_case.code}/{filename}"


class TestRun(RegulatedModel):
    """Recorded evidence of one execution of a test case. Never edited once recorded: a new
    execution is a new run; the latest run (by `executed_at`, then id) is the current result."""

    __test__ = False

    test_case = models.ForeignKey(TestCase, on_delete=models.PROTECT, related_name="runs")
    result = models.CharField(max_length=10, choices=TestResult.choices)
    executed_at = models.DateTimeField()
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="test_runs", null=True
    )
    software_version = models.CharField("software version tested", max_length=100, blank=True)
    notes = models.TextField(blank=True)
    evidence = models.FileField(upload_to=evidence_upload_to, blank=True, max_length=300)
    evidence_name = models.CharField(max_length=255, blank=True)
    evidence_sha256 = models.CharField("evidence SHA-256", max_length=64, blank=True)
    evidence_size = models.PositiveBigIntegerField(null=True, blank=True)
    external_reference = models.CharField(
        max_length=300, blank=True, help_text="CI job URL, JUnit case id, report number…"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["test_case", "-executed_at", "-id"]
        indexes = [models.Index(fields=["test_case", "-executed_at", "-id"])]

    def __str__(self):
        return f"{self.test_case.code} {self.get_result_display()} {self.executed_at:%Y-%m-%d}"


def sha256_of_file(file) -> str:
    """SHA-256 of an uploaded file, read in chunks so large evidence never sits in memory."""
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


# --- Trace links ------------------------------------------------------------------------------


class ControlRequirement(TraceLink):
    """A risk control is implemented by a requirement (IEC 62304 7.2)."""

    SOURCE_FIELD = "control"
    TARGET_FIELD = "requirement"
    KIND = "implemented_by"

    control = models.ForeignKey(
        RiskControl, on_delete=models.CASCADE, related_name="requirement_links"
    )
    requirement = models.ForeignKey(
        Requirement, on_delete=models.CASCADE, related_name="control_links"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["control", "requirement"], name="unique_control_requirement"
            )
        ]

    def __str__(self):
        return f"{self.control.code} implemented by {self.requirement.code}"


class RequirementTest(TraceLink):
    """A requirement is verified by a test case (IEC 62304 5.7, 7.3.1)."""

    SOURCE_FIELD = "requirement"
    TARGET_FIELD = "test_case"
    KIND = "verified_by"

    requirement = models.ForeignKey(
        Requirement, on_delete=models.CASCADE, related_name="test_links"
    )
    test_case = models.ForeignKey(
        TestCase, on_delete=models.CASCADE, related_name="requirement_links"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "test_case"], name="unique_requirement_test"
            )
        ]

    def __str__(self):
        return f"{self.requirement.code} verified by {self.test_case.code}"


class ControlImplementationTest(TraceLink):
    """Verification of the *implementation* of a risk control (ISO 14971 7.2, first part)."""

    SOURCE_FIELD = "control"
    TARGET_FIELD = "test_case"
    KIND = "implementation_verified_by"

    control = models.ForeignKey(
        RiskControl, on_delete=models.CASCADE, related_name="implementation_test_links"
    )
    test_case = models.ForeignKey(
        TestCase, on_delete=models.CASCADE, related_name="implementation_control_links"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["control", "test_case"], name="unique_control_implementation_test"
            )
        ]

    def __str__(self):
        return f"{self.control.code} implementation verified by {self.test_case.code}"


class ControlEffectivenessTest(TraceLink):
    """Verification of the *effectiveness* of a risk control (ISO 14971 7.2, second part)."""

    SOURCE_FIELD = "control"
    TARGET_FIELD = "test_case"
    KIND = "effectiveness_verified_by"

    control = models.ForeignKey(
        RiskControl, on_delete=models.CASCADE, related_name="effectiveness_test_links"
    )
    test_case = models.ForeignKey(
        TestCase, on_delete=models.CASCADE, related_name="effectiveness_control_links"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["control", "test_case"], name="unique_control_effectiveness_test"
            )
        ]

    def __str__(self):
        return f"{self.control.code} effectiveness verified by {self.test_case.code}"


class CauseType(models.TextChoices):
    """Causes by which software contributes to a hazardous situation (IEC 62304 7.1.2)."""

    SPECIFICATION = "specification", "Incorrect or incomplete specification of functionality"
    DEFECT = "defect", "Software defect in the item's functionality"
    SOUP_FAILURE = "soup_failure", "Failure or unexpected result from SOUP"
    HARDWARE_OR_SOFTWARE = "hw_sw_fault", "Hardware failure or other software defect"
    MISUSE = "misuse", "Reasonably foreseeable misuse"


class SoftwareItemHazard(TraceLink):
    """A software item can contribute to a hazardous situation (IEC 62304 7.1.1, 7.1.2)."""

    SOURCE_FIELD = "software_item"
    TARGET_FIELD = "hazard"
    KIND = "contributes_to"

    software_item = models.ForeignKey(
        SoftwareItem, on_delete=models.CASCADE, related_name="hazard_links"
    )
    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="software_links")
    cause_type = models.CharField(max_length=20, choices=CauseType.choices)
    cause = models.TextField(blank=True, help_text="The specific cause, in words.")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["software_item", "hazard", "cause_type"], name="unique_item_hazard_cause"
            )
        ]

    def __str__(self):
        return f"{self.software_item.code} contributes to {self.hazard.code}"


LINK_MODELS = (
    ControlRequirement,
    RequirementTest,
    ControlImplementationTest,
    ControlEffectivenessTest,
    SoftwareItemHazard,
)
