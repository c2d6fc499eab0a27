"""Form of the risk management report page."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from hazards.forms import VersionedForm
from riskbench import roles
from traceability.report.models import RiskManagementReport

TEXTAREAS = (
    "evaluation_method",
    "data_considered",
    "overall_residual_risk_conclusion",
    "significant_residual_risks",
    "plan_implemented_basis",
    "residual_risk_acceptable_basis",
    "post_production_methods_basis",
)
REVIEWER_SLOTS = 4


class ReportForm(VersionedForm):
    """The report's §8 and §9 content; the named reviewers as up to four (person, role) rows,
    people chosen among the product's editors (who may sign)."""

    class Meta:
        model = RiskManagementReport
        fields = [
            "release",
            "evaluation_method",
            "data_considered",
            "overall_residual_risk_conclusion",
            "overall_residual_risk_acceptable",
            "significant_residual_risks",
            "plan_implemented",
            "plan_implemented_basis",
            "residual_risk_acceptable",
            "residual_risk_acceptable_basis",
            "post_production_methods_in_place",
            "post_production_methods_basis",
        ]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in TEXTAREAS}

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        editors = [
            u
            for u in get_user_model()
            ._default_manager.filter(memberships__product=product, is_active=True)
            .prefetch_related("groups")
            .order_by("last_name", "first_name", "username")
            if roles.can_edit(u, product)
        ]
        choices = [("", "—")]
        choices += [(str(u.pk), u.get_full_name() or u.get_username()) for u in editors]
        current = list(self.instance.reviewers or []) if self.instance.pk else []
        for i in range(REVIEWER_SLOTS):
            entry = current[i] if i < len(current) else {}
            self.fields[f"reviewer_{i}"] = forms.TypedChoiceField(
                label=f"Reviewer {i + 1}",
                choices=choices,
                coerce=int,
                empty_value=None,
                required=False,
                initial=entry.get("user"),
            )
            self.fields[f"reviewer_{i}_role"] = forms.CharField(
                label=f"Role of reviewer {i + 1} in the review",
                max_length=200,
                required=False,
                initial=entry.get("role", ""),
            )
        self.reviewer_rows = [
            (self[f"reviewer_{i}"], self[f"reviewer_{i}_role"]) for i in range(REVIEWER_SLOTS)
        ]

    @property
    def content_fields(self):
        return [self[name] for name in self.Meta.fields]

    def clean(self):
        cleaned = super().clean()
        reviewers = []
        for i in range(REVIEWER_SLOTS):
            user, role = cleaned.get(f"reviewer_{i}"), cleaned.get(f"reviewer_{i}_role", "")
            if user is None:
                if role:
                    self.add_error(f"reviewer_{i}", "Choose the person for this role.")
                continue
            if not role.strip():
                self.add_error(f"reviewer_{i}_role", "Give the reviewer's role in the review.")
            reviewers.append({"user": user, "role": role.strip()})
        cleaned["reviewers"] = reviewers
        return cleaned

    def service_fields(self) -> dict:
        fields = super().service_fields()
        for i in range(REVIEWER_SLOTS):
            fields.pop(f"reviewer_{i}", None)
            fields.pop(f"reviewer_{i}_role", None)
        return fields
