"""Forms of the risk register. They validate input shape; the services validate meaning (risk
estimates against the policy, workflow rules) and their errors are put back on the named field."""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from hazards import risk
from hazards.models import (
    Acceptability,
    Category,
    ControlOption,
    Hazard,
    HipaaIdentifier,
    Product,
    RiskControl,
    RiskPolicy,
)
from hazards.selectors import SORTS as HAZARD_SORTS
from riskbench import roles, safejson
from riskbench.filters import FilterForm
from riskbench.models import Status


class VersionedForm(forms.ModelForm):
    """Carries the version the record was loaded at (optimistic locking) and a change reason."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    change_reason = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=100,
        help_text="Kept in the audit trail. Required when the record is approved.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        if self.instance.pk and getattr(self.instance, "status", "") == "approved":
            self.fields["change_reason"].required = True

    def service_fields(self) -> dict:
        """The record's fields as the service takes them: `version` and `change_reason` are
        arguments of their own (see `riskbench.forms_flow.submit_versioned_form`)."""
        return {k: v for k, v in self.cleaned_data.items() if k not in ("version", "change_reason")}


def level_choices(levels: list[dict]) -> list[tuple[str, str]]:
    return [("", "—")] + [(str(lvl["value"]), f"{lvl['value']} — {lvl['name']}") for lvl in levels]


def _level_field(label, levels, help_text=""):
    return forms.TypedChoiceField(
        label=label,
        choices=level_choices(levels),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=help_text,
    )


COMMON_FIELDS = [
    "title",
    "hazard_type",
    "hazard",
    "sequence_of_events",
    "hazardous_situation",
    "harm",
    "owner",
    "benefit_risk_justification",
]
CATEGORY_FIELDS = {
    Category.SAFETY: [
        "severity",
        "p1",
        "p2",
        "probability",
        "residual_severity",
        "residual_p1",
        "residual_p2",
        "residual_probability",
    ],
    Category.SECURITY: [
        "asset",
        "threat",
        "vulnerability",
        "cvss_vector",
        "severity",
        "probability",
        "residual_cvss_vector",
        "residual_severity",
        "residual_probability",
    ],
    Category.PRIVACY: [
        "data_elements",
        "linddun_category",
        "severity",
        "probability",
        "residual_severity",
        "residual_probability",
    ],
}


class HazardForm(VersionedForm):
    """One hazard-log row; shows only the fields that fit its category."""

    data_elements = forms.MultipleChoiceField(
        label="Data elements (HIPAA identifiers)",
        choices=HipaaIdentifier.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Hazard
        fields = COMMON_FIELDS + sorted({f for fs in CATEGORY_FIELDS.values() for f in fs})
        widgets = {
            "hazard": forms.Textarea(attrs={"rows": 2}),
            "sequence_of_events": forms.Textarea(attrs={"rows": 3}),
            "hazardous_situation": forms.Textarea(attrs={"rows": 2}),
            "harm": forms.Textarea(attrs={"rows": 2}),
            "vulnerability": forms.Textarea(attrs={"rows": 2}),
            "benefit_risk_justification": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, product: Product, category: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = Category(category)
        policy = product.risk_policy.evaluation_data
        sev_label, like_label = risk.AXIS_NAMES[self.category]
        sev_scale = policy.severity_scale(self.category)
        like_scale = policy.likelihood_scale(self.category)
        like_help = {
            Category.SAFETY: "Only when P1 and P2 cannot be estimated separately.",
            Category.SECURITY: "Only when no CVSS vector is given; otherwise derived from it.",
            Category.PRIVACY: "",
        }[self.category]
        for prefix, when in (("", "Initial"), ("residual_", "Residual")):
            self.fields[f"{prefix}severity"] = _level_field(
                f"{when} {sev_label.lower()}", sev_scale
            )
            self.fields[f"{prefix}probability"] = _level_field(
                f"{when} {like_label.lower()}", like_scale, like_help
            )
            self.fields[f"{prefix}p1"] = _level_field(
                f"{when} P1 (hazardous situation occurs)", policy.p1_levels
            )
            self.fields[f"{prefix}p2"] = _level_field(
                f"{when} P2 (situation leads to harm)", policy.p2_levels
            )
        members = get_user_model().objects.filter(memberships__product=product).order_by("username")
        self.fields["owner"].queryset = members
        keep = (
            set(COMMON_FIELDS) | set(CATEGORY_FIELDS[self.category]) | {"version", "change_reason"}
        )
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        # The service derives probability from P1/P2 (safety) or the CVSS vector (security);
        # show the entered value, not the derived one, when editing.
        if self.instance.pk and self.category == Category.SAFETY:
            for prefix in ("", "residual_"):
                if getattr(self.instance, f"{prefix}p1") is not None:
                    self.initial[f"{prefix}probability"] = None
        if self.instance.pk and self.category == Category.SECURITY:
            for prefix in ("", "residual_"):
                if getattr(self.instance, f"{prefix}cvss_vector"):
                    self.initial[f"{prefix}probability"] = None

    def service_fields(self) -> dict:
        return {**super().service_fields(), "category": self.category}

    def fieldsets(self):
        """Groups of bound fields in display order, for the template."""
        names = set(self.fields)
        groups = [
            ("Identification", ["title", "hazard_type", "owner"]),
            ("Security analysis", ["asset", "threat", "vulnerability"]),
            ("Privacy analysis", ["data_elements", "linddun_category"]),
            (
                "ISO 14971 chain",
                ["hazard", "sequence_of_events", "hazardous_situation", "harm"],
            ),
            ("Initial risk", ["cvss_vector", "severity", "p1", "p2", "probability"]),
            (
                "Residual risk",
                [
                    "residual_cvss_vector",
                    "residual_severity",
                    "residual_p1",
                    "residual_p2",
                    "residual_probability",
                    "benefit_risk_justification",
                ],
            ),
            ("Change", ["change_reason"]),
        ]
        return [
            (title, [self[n] for n in fields if n in names])
            for title, fields in groups
            if any(n in names for n in fields)
        ]


class RiskControlForm(VersionedForm):
    class Meta:
        model = RiskControl
        fields = ["title", "description", "option", "security_category", "implementation_status"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class ProductForm(VersionedForm):
    class Meta:
        model = Product
        fields = [
            "name",
            "model_number",
            "manufacturer",
            "document_number",
            "description",
            "intended_use",
            "reasonably_foreseeable_misuse",
            "intended_users",
            "use_environment",
            "connectivity",
            "safety_characteristics",
            "software_safety_class",
            "verification_plan",
            "overall_residual_risk_method",
            "post_production_plan",
            "review_conclusion",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in [
                "description",
                "intended_use",
                "reasonably_foreseeable_misuse",
                "intended_users",
                "use_environment",
                "connectivity",
                "safety_characteristics",
                "verification_plan",
                "overall_residual_risk_method",
                "post_production_plan",
                "review_conclusion",
            ]
        }


def _member_label(user) -> str:
    """A user as the administrator picks them: name and role (from the prefetched groups)."""
    groups = {g.name for g in user.groups.all()}
    role = next((r for r in (roles.AUDITOR, roles.QUALITY_ENGINEER) if r in groups), "Reader")
    full = user.get_full_name()
    return f"{user.get_username()}{f' ({full})' if full else ''} — {role}"


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return _member_label(obj)


def policy_templates():
    return RiskPolicy.objects.filter(product__isnull=True).order_by("name", "pk")


class ProductCreateForm(forms.ModelForm):
    """An administrator opens a product's risk management file (ISO 14971 4.5): who it is for,
    which template its own risk policy is copied from, and who may work on it. A member's role
    (quality engineer edits, auditor reads) is their group, shown with their name."""

    template = forms.ModelChoiceField(
        queryset=RiskPolicy.objects.none(),
        label="Risk policy template",
        help_text="The product gets its own copy of these criteria, as a draft its team "
        "approves with a signature before risks are evaluated.",
    )
    members = MemberChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="People who may see the product's risk file; their role decides whether "
        "they edit or only read.",
    )

    class Meta:
        model = Product
        fields = ["name", "slug", "manufacturer", "model_number", "document_number"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = policy_templates()
        self.fields["members"].queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .prefetch_related("groups")
            .order_by("username")
        )

    def service_fields(self) -> dict:
        return dict(self.cleaned_data)


class PolicyTemplateForm(forms.Form):
    """Replace a product's working criteria by a copy of a template's (a regulated change)."""

    template = forms.ModelChoiceField(queryset=RiskPolicy.objects.none(), label="Template")
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=100, label="Reason for the change")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = policy_templates()


class PolicyTemplateCreateForm(forms.Form):
    """An administrator keeps a new template, copied from a template or a product's policy."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    source = forms.ModelChoiceField(
        queryset=RiskPolicy.objects.none(),
        required=False,
        label="Copy the criteria of",
        help_text="Empty: the default ISO/TR 24971-style criteria.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = RiskPolicy.objects.select_related("product").order_by(
            "product__name", "name", "pk"
        )
        self.fields["source"].label_from_instance = lambda p: (
            f"{p.name} (policy of {p.product.name})" if p.product_id else f"{p.name} (template)"
        )


class LinkControlForm(forms.Form):
    control = forms.ModelChoiceField(queryset=RiskControl.objects.none(), label="Risk control")
    reason = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, product: Product, exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["control"].queryset = product.controls.exclude(pk__in=exclude).order_by("code")


class LinkHazardForm(forms.Form):
    hazard = forms.ModelChoiceField(queryset=Hazard.objects.none())
    reason = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hazard"].queryset = queryset.order_by("code")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=100, label="Reason")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[("draft", "Draft"), ("in_review", "In review")])
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=100)


class JSONListField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 8, "class": "mono"})

    def prepare_value(self, value):
        if isinstance(value, list | dict):
            return json.dumps(value, indent=1, ensure_ascii=False)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return safejson.loads(value)  # bounded depth: a 100,000-deep list is an error
        except safejson.JSONInputError as exc:
            where = f" (line {exc.line})" if exc.line else ""
            message = exc.message[:1].upper() + exc.message[1:]
            raise ValidationError(f"{message}{where}.") from exc


class MatrixWidget(forms.Widget):
    """A grid of selects (acceptable / investigate / unacceptable) for one matrix."""

    template_name = "hazards/widgets/matrix.html"

    def __init__(self, row_labels=(), col_labels=(), attrs=None):
        super().__init__(attrs)
        self.row_labels = list(row_labels)
        self.col_labels = list(col_labels)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        value = value if isinstance(value, list) else []
        rows = []
        for r, label in reversed(list(enumerate(self.row_labels))):
            cells = []
            for c in range(len(self.col_labels)):
                current = value[r][c] if r < len(value) and c < len(value[r]) else ""
                cells.append({"name": f"{name}_{r}_{c}", "value": current})
            rows.append({"label": label, "cells": cells})
        context["rows"] = rows
        context["col_labels"] = self.col_labels
        context["regions"] = [
            (a.value, risk.ACCEPTABILITY_LABELS[risk.Category.SAFETY][a])
            for a in risk.Acceptability
        ]
        return context

    def value_from_datadict(self, data, files, name):
        return [
            [data.get(f"{name}_{r}_{c}", "") for c in range(len(self.col_labels))]
            for r in range(len(self.row_labels))
        ]


class MatrixField(forms.Field):
    def prepare_value(self, value):
        return value


class RiskPolicyForm(VersionedForm):
    """The acceptability criteria (ISO 14971 4.4 d): scales as JSON lists, matrices as grids."""

    severity_levels = JSONListField()
    probability_levels = JSONListField()
    p1_levels = JSONListField(label="P1 levels")
    p2_levels = JSONListField(label="P2 levels")
    probability_mapping = JSONListField(
        help_text="P level for each P1 (rows) and P2 (columns), e.g. [[1,1,1,1,1], …]."
    )
    exploitability_levels = JSONListField(
        help_text="Each level: value, name, description, min_esc (CVSS exploitability sub-score)."
    )
    privacy_impact_levels = JSONListField()
    privacy_likelihood_levels = JSONListField()

    class Meta:
        model = RiskPolicy
        fields = ["name", "description", *risk.PolicyData.POLICY_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = self.instance.data
        for name, rows, cols in (
            ("safety_matrix", policy.severity_levels, policy.probability_levels),
            ("security_matrix", policy.severity_levels, policy.exploitability_levels),
            ("privacy_matrix", policy.privacy_impact_levels, policy.privacy_likelihood_levels),
        ):
            self.fields[name] = MatrixField(
                widget=MatrixWidget([lvl["name"] for lvl in rows], [lvl["name"] for lvl in cols]),
                label=name.replace("_", " ").capitalize(),
                help_text="Change the scales first and save; the grid follows their size.",
            )


# --- List filters (query parameters; see riskbench.filters) ------------------------------------

_SEARCH_TEXT = {"required": False, "max_length": 200}


class HazardLogFilters(FilterForm):
    """Filters of the hazard log, kept in the URL. Severity is one of the policy's levels."""

    category = forms.ChoiceField(required=False, choices=Category.choices)
    status = forms.ChoiceField(required=False, choices=Status.choices)
    initial = forms.ChoiceField(required=False, choices=Acceptability.choices)
    residual = forms.ChoiceField(required=False, choices=Acceptability.choices)
    severity = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    owner = forms.CharField(required=False, max_length=150)
    q = forms.CharField(**_SEARCH_TEXT)
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in HAZARD_SORTS])

    def __init__(self, data=None, *, policy: risk.PolicyData, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["severity"].choices = [
            (str(level["value"]), level["name"]) for level in policy.severity_levels
        ]


class ControlListFilters(FilterForm):
    option = forms.ChoiceField(required=False, choices=ControlOption.choices)
