"""The ISO 14971 risk register: products, risk policies, hazards and risk controls.

Every model here is a regulated record: it has a history (django-simple-history) and is written
only through `hazards.services`, which take the acting user and a reason.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from hazards import risk
from riskbench.models import RegulatedModel, TraceLink, WorkflowModel


class SoftwareSafetyClass(models.TextChoices):
    """IEC 62304:2006 + A1:2015, 4.3 (the decision itself: `hazards.risk.software_safety_class`)."""

    A = (
        "A",
        (
            "Class A — cannot contribute to a hazardous situation, or no unacceptable risk after "
            "risk control measures external to the software system"
        ),
    )
    B = (
        "B",
        (
            "Class B — unacceptable risk after external risk control measures; possible harm is "
            "non-serious injury"
        ),
    )
    C = (
        "C",
        (
            "Class C — unacceptable risk after external risk control measures; possible harm is "
            "death or serious injury"
        ),
    )


class RiskPolicy(WorkflowModel):
    """Acceptability criteria of a risk management plan (ISO 14971 4.4 d), as editable data.

    The scales and matrices are JSON so a manufacturer can fit them to its own plan; the
    structure is checked by `risk.validate_policy` on every save through the service.

    **Each product owns one policy** (`product`, one-to-one): its criteria belong to that
    product's risk management plan, so editing them changes that product only, and its history
    and signatures go to that product's audit chain. A row without a product is a **template**:
    a starting point that administrators keep, never used to evaluate a risk; a new product
    starts from a copy of one (`template`, `template_version` record which).

    **Working vs approved criteria.** The criteria fields are the working copy that editors
    change. Hazards are evaluated only against `approved_criteria`: a snapshot of the criteria
    taken when a person approved the policy with an electronic signature (21 CFR 11.50, 11.70),
    at `approved_version`. Editing the working criteria therefore never changes an
    acceptability silently; approving a new version re-evaluates every hazard of the product.
    Until a first approval, risks are estimated (risk index) but not evaluated.
    """

    product = models.OneToOneField(
        "hazards.Product",
        on_delete=models.PROTECT,
        related_name="risk_policy",
        null=True,
        blank=True,
        help_text="The product whose risk management plan this is; empty for a template.",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity_levels = models.JSONField()
    probability_levels = models.JSONField()
    p1_levels = models.JSONField()
    p2_levels = models.JSONField()
    probability_mapping = models.JSONField(help_text="P level for each (P1, P2): rows P1, cols P2.")
    safety_matrix = models.JSONField()
    exploitability_levels = models.JSONField()
    security_matrix = models.JSONField()
    privacy_impact_levels = models.JSONField()
    privacy_likelihood_levels = models.JSONField()
    privacy_matrix = models.JSONField()
    template = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="copies",
        null=True,
        blank=True,
        help_text="The template the criteria were last copied from.",
    )
    template_version = models.PositiveIntegerField(null=True, blank=True)
    approved_criteria = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The criteria as approved by signature: the only ones hazards are evaluated "
        "against.",
    )
    approved_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    benefit_risk_regions = models.JSONField(
        default=risk.default_benefit_risk_regions,
        blank=True,
        help_text="Regions whose residual risks the plan allows to be accepted through a "
        "benefit-risk analysis (ISO 14971 4.4 d, 7.4): 'investigate' and/or 'unacceptable'.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "risk policies"
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(product__isnull=True),
                name="unique_policy_template_name",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        if self.product_id:
            return reverse("hazards:product_policy", args=[self.product.slug])
        return reverse("hazards:policy_detail", args=[self.pk])

    @property
    def is_template(self) -> bool:
        return self.product_id is None

    @property
    def data(self) -> risk.PolicyData:
        """The working criteria (what the editor shows and changes)."""
        return risk.PolicyData.from_obj(self)

    @property
    def is_approved(self) -> bool:
        """Criteria approved by signature are in force (whatever the working copy says)."""
        return self.approved_criteria is not None

    @property
    def approved_data(self) -> risk.PolicyData | None:
        if self.approved_criteria is None:
            return None
        return risk.PolicyData.from_dict(self.approved_criteria)

    @property
    def evaluation_data(self) -> risk.PolicyData:
        """What hazards are estimated and evaluated against: the approved criteria; before a
        first approval, the working scales with evaluation switched off (`approved=False`)."""
        return self.approved_data or risk.PolicyData.from_obj(self, approved=False)

    @property
    def has_unapproved_changes(self) -> bool:
        return self.approved_version != self.version or self.approved_criteria != self.criteria()

    def criteria(self) -> dict:
        """The working criteria as plain data (what an approval snapshots)."""
        return {name: getattr(self, name) for name in risk.PolicyData.POLICY_FIELDS}


class _ProductHistoryBase(models.Model):
    """Products used to point at a shared policy (`risk_policy`); the column stays in their
    history so that the audit chain entries written before per-product policies still verify
    (their hash covers it). New history rows leave it empty: `RiskPolicy.product` says it now."""

    risk_policy = models.ForeignKey(
        RiskPolicy,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        abstract = True


class Product(RegulatedModel):
    """The device or standalone software whose risk management file this is (ISO 14971 5.2)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    model_number = models.CharField("model / version under review", max_length=100, blank=True)
    manufacturer = models.CharField(max_length=200, blank=True)
    document_number = models.CharField(
        max_length=60, blank=True, help_text="Document number of the risk management file."
    )
    description = models.TextField(blank=True)
    intended_use = models.TextField(blank=True)
    reasonably_foreseeable_misuse = models.TextField(blank=True)
    intended_users = models.TextField("users", blank=True)
    use_environment = models.TextField("environment", blank=True)
    connectivity = models.TextField(
        blank=True, help_text="Device ↔ smartphone / gateway ↔ cloud: links, protocols, trust."
    )
    safety_characteristics = models.TextField(blank=True, help_text="ISO 14971 5.3.")
    software_safety_class = models.CharField(
        max_length=1, choices=SoftwareSafetyClass.choices, default=SoftwareSafetyClass.C
    )
    responsibilities_and_authorities = models.TextField(
        "responsibilities and authorities",
        blank=True,
        help_text="Who does, reviews and approves the risk management activities, with what "
        "authority (ISO 14971 4.4 b).",
    )
    review_requirements = models.TextField(
        "requirements for review of risk management activities",
        blank=True,
        help_text="When and by whom risk management activities are reviewed, and the review "
        "before release (ISO 14971 4.4 c, 9).",
    )
    verification_plan = models.TextField(
        blank=True, help_text="How risk controls are verified (ISO 14971 4.4 e)."
    )
    overall_residual_risk_method = models.TextField(
        blank=True, help_text="Method and criteria for the overall residual risk (4.4 f, 8)."
    )
    post_production_plan = models.TextField(
        blank=True, help_text="Production and post-production information activities (4.4 g, 10)."
    )
    review_conclusion = models.TextField(
        "risk management review conclusion", blank=True, help_text="ISO 14971 9."
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="products"
    )
    history = HistoricalRecords(bases=[_ProductHistoryBase])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} {self.model_number}".strip()

    def get_absolute_url(self):
        return reverse("hazards:dashboard", args=[self.slug])


class Membership(models.Model):
    """A user's access to one product's risk file. What the user may do there comes from the
    user's group ("Quality engineer" edits, "Auditor" reads) — see `riskbench.roles`."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.user} on {self.product}"


class Category(models.TextChoices):
    SAFETY = "safety", "Safety"
    SECURITY = "security", "Security"
    PRIVACY = "privacy", "Privacy"


class Acceptability(models.TextChoices):
    ACCEPTABLE = "acceptable", "Acceptable"
    INVESTIGATE = "investigate", "Investigate further risk control"
    UNACCEPTABLE = "unacceptable", "Unacceptable"


class HazardType(models.TextChoices):
    """Hazard categories of ISO 14971:2019 Annex C (Table C.1).

    A use error is not a hazard type: it is a cause within the sequence of events that leads
    to a hazardous situation (IEC 62366-1; ISO 14971:2019 Table C.2), recorded there and, for
    use-related hazards, linked to the use scenario.
    """

    ENERGY = (
        "energy",
        ("Energy hazard (acoustic, electric, electromagnetic, mechanical, radiation, thermal…)"),
    )
    BIOLOGICAL = "biological", "Biological and chemical hazard"
    PERFORMANCE = (
        "performance",
        (
            "Performance-related hazard (data, delivery of a quantity, diagnostic information, "
            "functionality)"
        ),
    )


class Stride(models.TextChoices):
    SPOOFING = "spoofing", "Spoofing"
    TAMPERING = "tampering", "Tampering"
    REPUDIATION = "repudiation", "Repudiation"
    INFORMATION_DISCLOSURE = "information_disclosure", "Information disclosure"
    DENIAL_OF_SERVICE = "denial_of_service", "Denial of service"
    ELEVATION_OF_PRIVILEGE = "elevation_of_privilege", "Elevation of privilege"


class Linddun(models.TextChoices):
    LINKING = "linking", "Linking"
    IDENTIFYING = "identifying", "Identifying"
    NON_REPUDIATION = "non_repudiation", "Non-repudiation"
    DETECTING = "detecting", "Detecting"
    DATA_DISCLOSURE = "data_disclosure", "Data disclosure"
    UNAWARENESS = "unawareness", "Unawareness"
    NON_COMPLIANCE = "non_compliance", "Non-compliance"


class HipaaIdentifier(models.TextChoices):
    """The 18 HIPAA identifiers that make health data identifiable (45 CFR 164.514(b)(2))."""

    NAMES = "names", "Names"
    ADDRESSES = "addresses", "Geographic subdivisions smaller than a state (addresses)"
    DATES = "dates", "Dates (birth, admission, discharge, death)"
    PHONE_NUMBERS = "phone_numbers", "Telephone numbers"
    FAX_NUMBERS = "fax_numbers", "Fax numbers"
    EMAIL = "email", "Email addresses"
    SSN = "ssn", "Social security numbers"
    MEDICAL_RECORD_NUMBERS = "mrn", "Medical record numbers"
    HEALTH_PLAN_NUMBERS = "health_plan", "Health plan beneficiary numbers"
    ACCOUNT_NUMBERS = "account_numbers", "Account numbers"
    LICENCE_NUMBERS = "licence_numbers", "Certificate / licence numbers"
    VEHICLE_IDS = "vehicle_ids", "Vehicle identifiers and serial numbers"
    DEVICE_IDS = "device_ids", "Device identifiers and serial numbers"
    URLS = "urls", "Web URLs"
    IP_ADDRESSES = "ip_addresses", "IP addresses"
    BIOMETRICS = "biometrics", "Biometric identifiers"
    PHOTOS = "photos", "Full-face photographs"
    OTHER = "other_unique", "Any other unique identifying number or code"


class HazardQuerySet(models.QuerySet):
    def for_log(self):
        """What the hazard log and the dossier show, in a fixed number of queries."""
        return self.select_related("owner", "product__risk_policy").prefetch_related(
            "control_links__control"
        )


class Hazard(WorkflowModel):
    """One row of the hazard log: hazard → sequence of events → hazardous situation → harm.

    The severity axis is stored in `severity` and the likelihood axis in `probability` for every
    category (safety: probability of harm from P1 × P2; security: exploitability; privacy:
    impact and likelihood), so matrices and filters treat the three categories alike.
    `initial_*` and `residual_*` evaluation fields are derived by the service from the policy.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="hazards")
    code = models.CharField(max_length=20)
    category = models.CharField(max_length=10, choices=Category.choices)
    title = models.CharField(max_length=200)
    hazard_type = models.CharField(max_length=20, choices=HazardType.choices, blank=True)
    hazard = models.TextField("hazard", blank=True, help_text="Potential source of harm.")
    sequence_of_events = models.TextField(blank=True)
    hazardous_situation = models.TextField(blank=True)
    harm = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_hazards",
        null=True,
        blank=True,
    )
    revision = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised each time an approved row is reopened."
    )

    # Initial risk estimation (ISO 14971 5.5) and evaluation (6).
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    p1 = models.PositiveSmallIntegerField("P1", null=True, blank=True)
    p2 = models.PositiveSmallIntegerField("P2", null=True, blank=True)
    probability = models.PositiveSmallIntegerField(null=True, blank=True)
    initial_risk_index = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    initial_acceptability = models.CharField(
        max_length=12, choices=Acceptability.choices, blank=True, editable=False
    )

    # Residual risk after controls (7.3) and benefit-risk (7.4).
    residual_severity = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_p1 = models.PositiveSmallIntegerField("residual P1", null=True, blank=True)
    residual_p2 = models.PositiveSmallIntegerField("residual P2", null=True, blank=True)
    residual_probability = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_risk_index = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    residual_acceptability = models.CharField(
        max_length=12, choices=Acceptability.choices, blank=True, editable=False
    )
    benefit_risk_justification = models.TextField(
        blank=True, help_text="Conclusion of the benefit-risk analysis (ISO 14971 7.4)."
    )
    benefit_risk_benefits = models.TextField(
        "benefits weighed",
        blank=True,
        help_text="The medical benefits of the intended use that outweigh this residual risk "
        "(ISO 14971 7.4).",
    )
    further_control_not_practicable = models.TextField(
        "why further risk control is not practicable",
        blank=True,
        help_text="ISO 14971 7.4 applies only once further risk control is not practicable: "
        "say why.",
    )
    benefit_risk_region = models.CharField(
        "region the justification accepts",
        max_length=12,
        choices=Acceptability.choices,
        blank=True,
        help_text="The residual risk region the benefit-risk justification was written for; "
        "it must be the region computed from the residual estimate.",
    )
    severity_reduction_rationale = models.TextField(
        blank=True,
        help_text="Why the residual severity is lower than the initial one (controls usually "
        "reduce probability, not severity; ISO 14971 7.3).",
    )

    # Security rows (AAMI TIR57, FDA premarket cybersecurity guidance).
    asset = models.CharField(max_length=200, blank=True)
    threat = models.CharField("threat (STRIDE)", max_length=30, choices=Stride.choices, blank=True)
    vulnerability = models.TextField(blank=True)
    cvss_vector = models.CharField("CVSS v3.1 vector", max_length=120, blank=True)
    cvss_base_score = models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, editable=False
    )
    residual_cvss_vector = models.CharField("residual CVSS v3.1 vector", max_length=120, blank=True)
    residual_cvss_rationale = models.TextField(
        "residual CVSS rationale",
        blank=True,
        help_text="The base vector describes the vulnerability; say how the controls change "
        "its exploitability.",
    )

    # Privacy rows (HIPAA, GDPR Art. 35, LINDDUN).
    data_elements = models.JSONField(default=list, blank=True)
    linddun_category = models.CharField(
        "LINDDUN threat", max_length=20, choices=Linddun.choices, blank=True
    )

    history = HistoricalRecords()
    objects = HazardQuerySet.as_manager()

    class Meta:
        ordering = ["product", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="unique_hazard_code")
        ]
        indexes = [models.Index(fields=["product", "category"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return reverse("hazards:hazard_detail", args=[self.product.slug, self.code])

    @property
    def initial_estimate(self) -> risk.RiskEstimate:
        return risk.RiskEstimate(
            self.severity,
            self.probability,
            risk.Acceptability(self.initial_acceptability) if self.initial_acceptability else None,
            self.initial_risk_index,
        )

    @property
    def residual_estimate(self) -> risk.RiskEstimate:
        return risk.RiskEstimate(
            self.residual_severity,
            self.residual_probability,
            risk.Acceptability(self.residual_acceptability)
            if self.residual_acceptability
            else None,
            self.residual_risk_index,
        )

    @property
    def data_element_labels(self) -> list[str]:
        labels = dict(HipaaIdentifier.choices)
        return [labels.get(e, e) for e in self.data_elements or []]


class ControlOption(models.TextChoices):
    """ISO 14971 7.1, in priority order."""

    INHERENT_SAFETY = "inherent_safety", "Inherent safety by design"
    PROTECTIVE_MEASURE = "protective_measure", "Protective measure"
    INFORMATION_FOR_SAFETY = "information_for_safety", "Information for safety"


class SecurityControlCategory(models.TextChoices):
    """FDA premarket cybersecurity guidance, Appendix 1 control categories."""

    AUTHENTICATION = "authentication", "Authentication"
    AUTHORIZATION = "authorization", "Authorization"
    CRYPTOGRAPHY = "cryptography", "Cryptography"
    INTEGRITY = "integrity", "Code, data and execution integrity"
    CONFIDENTIALITY = "confidentiality", "Confidentiality"
    LOGGING = "logging", "Event detection and logging"
    RESILIENCE = "resilience", "Resiliency and recovery"
    PATCHABILITY = "patchability", "Updatability and patchability"


class ImplementationStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    IMPLEMENTED = "implemented", "Implemented"


class RiskControl(WorkflowModel):
    """A risk control measure (ISO 14971 7.1)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="controls")
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    option = models.CharField(max_length=30, choices=ControlOption.choices)
    security_category = models.CharField(
        max_length=20, choices=SecurityControlCategory.choices, blank=True
    )
    implementation_status = models.CharField(
        max_length=20, choices=ImplementationStatus.choices, default=ImplementationStatus.PLANNED
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="unique_control_code")
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return reverse("hazards:control_detail", args=[self.product.slug, self.code])


class HazardControl(TraceLink):
    """A risk control reduces the risk of a hazard (ISO 14971 7.1)."""

    SOURCE_FIELD = "hazard"
    TARGET_FIELD = "control"
    KIND = "reduces"

    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="control_links")
    control = models.ForeignKey(RiskControl, on_delete=models.CASCADE, related_name="hazard_links")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hazard", "control"], name="unique_hazard_control")
        ]

    def __str__(self):
        return f"{self.control.code} reduces {self.hazard.code}"


class ControlIntroducedHazard(TraceLink):
    """A risk control introduces a new hazard (ISO 14971 7.5)."""

    SOURCE_FIELD = "control"
    TARGET_FIELD = "hazard"
    KIND = "introduces"

    control = models.ForeignKey(
        RiskControl, on_delete=models.CASCADE, related_name="introduced_links"
    )
    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="introduced_by_links")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["control", "hazard"], name="unique_control_introduces")
        ]

    def __str__(self):
        return f"{self.control.code} introduces {self.hazard.code}"


class HazardTransfer(TraceLink):
    """A security risk that can lead to a safety hazard is transferred into the safety analysis
    (AAMI TIR57; FDA premarket cybersecurity guidance)."""

    SOURCE_FIELD = "security_hazard"
    TARGET_FIELD = "safety_hazard"
    KIND = "can_lead_to"

    security_hazard = models.ForeignKey(
        Hazard, on_delete=models.CASCADE, related_name="leads_to_links"
    )
    safety_hazard = models.ForeignKey(
        Hazard, on_delete=models.CASCADE, related_name="caused_by_security_links"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["security_hazard", "safety_hazard"], name="unique_hazard_transfer"
            )
        ]

    def __str__(self):
        return f"{self.security_hazard.code} can lead to {self.safety_hazard.code}"
