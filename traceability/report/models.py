"""The risk management report of one product release (ISO 14971:2019 §8 and §9).

Before a release, the overall residual risk is evaluated against the benefits by the method the
plan set (4.4 f, §8), and the people the plan names review the risk management (§9): that the
plan was carried out, that the overall residual risk is acceptable, and that methods are in
place to collect and review production and post-production information. The result is this
record, signed by each named reviewer with an electronic signature (21 CFR 11.50, 11.70).

The named reviewers are part of the report's content (a JSON list, so that they are in its
history, its version and the SHA-256 its signatures cover): changing who reviews supersedes the
signatures given so far.
"""

from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from riskbench.models import WorkflowModel


class RiskManagementReport(WorkflowModel):
    product = models.ForeignKey(
        "hazards.Product", on_delete=models.PROTECT, related_name="risk_management_reports"
    )
    release = models.CharField(
        "release", max_length=100, help_text="The version of the product this report releases."
    )
    # ISO 14971 §8 — evaluation of overall residual risk.
    evaluation_method = models.TextField(
        "method of the overall residual risk evaluation",
        blank=True,
        help_text="As the plan sets it (4.4 f): how the residual risks were weighed together.",
    )
    data_considered = models.TextField(
        "data considered",
        blank=True,
        help_text="What the evaluation used: the hazard analysis, verification results, "
        "clinical data, field and literature data, comparable devices…",
    )
    overall_residual_risk_conclusion = models.TextField(
        "conclusion on the overall residual risk",
        blank=True,
        help_text="Why the overall residual risk is acceptable in relation to the benefits of "
        "the intended use (§8).",
    )
    overall_residual_risk_acceptable = models.BooleanField(
        "the overall residual risk is acceptable in relation to the benefits", default=False
    )
    significant_residual_risks = models.TextField(
        "significant residual risks disclosed",
        blank=True,
        help_text="Which significant residual risks are disclosed to users, and where "
        "(accompanying documentation, §8).",
    )
    # ISO 14971 §9 — risk management review.
    plan_implemented = models.BooleanField(
        "the risk management plan has been appropriately implemented (9 a)", default=False
    )
    plan_implemented_basis = models.TextField("basis (9 a)", blank=True)
    residual_risk_acceptable = models.BooleanField(
        "the overall residual risk is acceptable (9 b)", default=False
    )
    residual_risk_acceptable_basis = models.TextField("basis (9 b)", blank=True)
    post_production_methods_in_place = models.BooleanField(
        "appropriate methods are in place to collect and review production and "
        "post-production information (9 c)",
        default=False,
    )
    post_production_methods_basis = models.TextField("basis (9 c)", blank=True)
    reviewers = models.JSONField(
        "named reviewers",
        default=list,
        blank=True,
        help_text='[{"user": user id, "role": role in the review}] — people with the authority '
        "the plan names (4.4 b, §9).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "release"], name="unique_report_per_product_release"
            )
        ]

    def __str__(self):
        return f"Risk management report {self.product.name} {self.release}".strip()

    def get_absolute_url(self):
        return reverse("report:detail", args=[self.product.slug, self.pk])

    @property
    def reviewer_ids(self) -> list[int]:
        return [entry["user"] for entry in self.reviewers]
