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
    ImplementationStatus,
    Product,
    RiskControl,
    RiskPolicy,
    SecurityControlCategory,
)
from hazards.selectors import CONTROL_SORTS, NOT_ESTIMATED
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
    "severity_reduction_rationale",
    "benefit_risk_region",
    "benefit_risk_benefits",
    "further_control_not_practicable",
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
        "residual_cvss_rationale",
        "residual_severity",
        "residual_probability",
    ],
    Category.PRIVACY: [
        "asset",
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
            "benefit_risk_benefits": forms.Textarea(attrs={"rows": 2}),
            "further_control_not_practicable": forms.Textarea(attrs={"rows": 2}),
            "severity_reduction_rationale": forms.Textarea(attrs={"rows": 2}),
            "residual_cvss_rationale": forms.Textarea(attrs={"rows": 2}),
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
            (
                "Security analysis",
                ["threat", "vulnerability"]
                if self.category == Category.PRIVACY
                else ["asset", "threat", "vulnerability"],
            ),
            ("Privacy analysis", ["data_elements", "linddun_category"]),
            ("Asset", ["asset"] if self.category == Category.PRIVACY else []),
            (
                "ISO 14971 chain",
                ["hazard", "sequence_of_events", "hazardous_situation", "harm"],
            ),
            ("Initial risk", ["cvss_vector", "severity", "p1", "p2", "probability"]),
            (
                "Residual risk",
                [
                    "residual_cvss_vector",
                    "residual_cvss_rationale",
                    "residual_severity",
                    "severity_reduction_rationale",
                    "residual_p1",
                    "residual_p2",
                    "residual_probability",
                ],
            ),
            (
                "Benefit-risk analysis (ISO 14971 7.4)",
                [
                    "benefit_risk_region",
                    "further_control_not_practicable",
                    "benefit_risk_benefits",
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
            "responsibilities_and_authorities",
            "review_requirements",
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
                "responsibilities_and_authorities",
                "review_requirements",
                "verification_plan",
                "overall_residual_risk_method",
                "post_production_plan",
                "review_conclusion",
            ]
        }


PICKER_HINTS = {
    "hazard": "HAZ-… or words",
    "safety_hazard": "HAZ-… or words",
    "control": "RC-… or words",
    "requirement": "SRS-… or words",
    "test": "TC-… or words",
    "software_item": "SW-… or words",
}


def picker_url(product: Product, kind: str) -> str:
    """The type-ahead search of `product`'s records of `kind` (served by traceability), or ""
    when it is not installed: the field then stays a plain code box."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("traceability:picker", args=[product.slug]) + f"?kind={kind}"
    except NoReverseMatch:
        return ""


class CodePickerField(forms.ModelChoiceField):
    """Choose one record of the product by its code (HAZ-012, RC-003…), typed in a text box.

    Without JavaScript it is a plain form field; with it, the box suggests matching records as
    you type (static/js/riskbench.js over the JSON search endpoint). A product's whole list is
    never sent to the page. A number is still accepted as the record's id (older clients)."""

    def __init__(self, *args, kind: str, **kwargs):
        self.kind = kind
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"placeholder": PICKER_HINTS.get(kind, "code"), "size": 16, "maxlength": 40}
            ),
        )
        super().__init__(*args, **kwargs)

    def for_product(self, product: Product) -> None:
        url = picker_url(product, self.kind)
        if url:
            self.widget.attrs["data-picker"] = url

    def prepare_value(self, value):
        if hasattr(value, "code"):
            return value.code
        return "" if value is None else value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        record = self.queryset.filter(code__iexact=text).first()
        if record is None and text.isascii() and text.isdigit() and len(text) <= 18:
            record = self.queryset.filter(pk=int(text)).first()
        if record is None:
            raise ValidationError(
                f"“{text[:40]}” is not a {self.label.lower()} of this product that can be linked "
                "here; type its code (suggestions appear as you type).",
                code="invalid_choice",
            )
        return record

    def validate(self, value):
        forms.Field.validate(self, value)


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
    control = CodePickerField(
        queryset=RiskControl.objects.none(), label="Risk control", kind="control"
    )
    reason = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, product: Product, exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["control"].queryset = product.controls.exclude(pk__in=exclude).order_by("code")
        self.fields["control"].for_product(product)


class LinkHazardForm(forms.Form):
    hazard = CodePickerField(queryset=Hazard.objects.none(), label="Hazard", kind="hazard")
    reason = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, queryset, product: Product | None = None, kind="hazard", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hazard"].queryset = queryset.order_by("code")
        self.fields["hazard"].kind = kind
        if product is not None:
            self.fields["hazard"].for_product(product)


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
        if isinstance(value, list):
            return value
        value = super().to_python(value)
        try:
            return safejson.loads(value)  # bounded depth: a 100,000-deep list is an error
        except safejson.JSONInputError as exc:
            where = f" (line {exc.line})" if exc.line else ""
            message = exc.message[:1].upper() + exc.message[1:]
            raise ValidationError(f"{message}{where}.") from exc


MAX_ROWS = 20  # a posted row count beyond this is not a scale anybody edits by hand


def _small_number(text: str) -> bool:
    """ASCII digits only ("²" and "٣" are digits to str.isdigit, not to int())."""
    return text.isascii() and text.isdigit() and len(text) <= 3


def _posted_count(data, key: str) -> int | None:
    raw = str(data.get(key, "")).strip()
    return min(int(raw[:3]), MAX_ROWS) if raw.isascii() and raw.isdigit() else None


class ScaleWidget(forms.Widget):
    """A scale of the policy as editable rows (number, name, description and, for
    exploitability, the CVSS threshold). Rows are numbered 1..n by their position; the row
    count travels in `<name>-count`. A JSON list posted as `<name>` (scripts, old forms) is
    still read."""

    template_name = "hazards/widgets/scale.html"

    def __init__(self, extra: tuple[str, str] | None = None, attrs=None):
        super().__init__(attrs)
        self.extra = extra  # (key, column label), e.g. ("min_esc", "CVSS exploitability ≥")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if isinstance(value, str):
            try:
                value = safejson.loads(value)
            except safejson.JSONInputError:
                value = []
        levels = value if isinstance(value, list) else []
        context["widget"]["rows"] = [
            {
                "index": i,
                "number": i + 1,
                "name": level.get("name", "") if isinstance(level, dict) else "",
                "description": level.get("description", "") if isinstance(level, dict) else "",
                "extra": level.get(self.extra[0], "") if self.extra and isinstance(level, dict)
                else "",
            }
            for i, level in enumerate(levels)
        ]  # fmt: skip
        context["widget"]["count"] = len(levels)
        context["widget"]["extra"] = self.extra
        return context

    def value_from_datadict(self, data, files, name):
        count = _posted_count(data, f"{name}-count")
        if count is None:
            return data.get(name)
        levels = []
        for i in range(count):
            level = {
                "value": i + 1,
                "name": str(data.get(f"{name}-{i}-name", "")).strip(),
                "description": str(data.get(f"{name}-{i}-description", "")).strip(),
            }
            if self.extra:
                raw = str(data.get(f"{name}-{i}-{self.extra[0]}", "")).strip()
                try:
                    level[self.extra[0]] = float(raw)
                except ValueError:
                    level[self.extra[0]] = raw
            levels.append(level)
        return levels

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-count" not in data and name not in data

    @staticmethod
    def post_data(name: str, levels: list[dict], extra: str | None = None) -> dict:
        """What a browser posts for these levels (used by tests and the level actions)."""
        data = {f"{name}-count": str(len(levels))}
        for i, level in enumerate(levels):
            data[f"{name}-{i}-name"] = level.get("name", "")
            data[f"{name}-{i}-description"] = level.get("description", "")
            if extra:
                data[f"{name}-{i}-{extra}"] = str(level.get(extra, ""))
        return data


class ScaleField(JSONListField):
    widget = ScaleWidget

    def __init__(self, *args, extra=None, **kwargs):
        kwargs.setdefault("widget", ScaleWidget(extra=extra))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in (None, ""):
            raise ValidationError("Give at least one level.")
        return super().to_python(value)


# Short words for the grid cells (the full labels are on the policy page and in the legend).
REGION_WORDS = {
    risk.Acceptability.ACCEPTABLE: "Acceptable",
    risk.Acceptability.INVESTIGATE: "Investigate",
    risk.Acceptability.UNACCEPTABLE: "Unacceptable",
}


class MatrixWidget(forms.Widget):
    """A grid of selects for one matrix (acceptability regions, or P levels for the P1 × P2
    mapping), coloured by region. Rows are listed highest level first, as printed; the cell
    `<name>_<r>_<c>` holds row level r+1, column level c+1. Row and column headers carry the
    scale they come from, so renaming a level renames them (static/js/riskbench.js)."""

    template_name = "hazards/widgets/matrix.html"

    def __init__(
        self,
        row_labels=(),
        col_labels=(),
        attrs=None,
        *,
        choices=None,
        row_scale="",
        col_scale="",
        row_axis="",
        col_axis="",
    ):
        super().__init__(attrs)
        self.row_labels = list(row_labels)
        self.col_labels = list(col_labels)
        self.choices = choices
        self.row_scale, self.col_scale = row_scale, col_scale
        self.row_axis, self.col_axis = row_axis, col_axis

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        value = value if isinstance(value, list) else []
        rows = []
        for r, label in reversed(list(enumerate(self.row_labels))):
            cells = []
            for c, col_label in enumerate(self.col_labels):
                row = value[r] if r < len(value) and isinstance(value[r], list) else []
                current = row[c] if c < len(row) else ""
                cells.append(
                    {
                        "name": f"{name}_{r}_{c}",
                        "value": str(current),
                        "label": f"{label} × {col_label}",
                    }
                )
            rows.append({"label": label, "index": r, "cells": cells})
        regions = [(a.value, REGION_WORDS[a]) for a in risk.Acceptability]
        context["widget"].update(
            {
                "rows": rows,
                "col_labels": list(enumerate(self.col_labels)),
                "regions": [(str(v), label) for v, label in (self.choices or regions)],
                "row_scale": self.row_scale,
                "col_scale": self.col_scale,
                "row_axis": self.row_axis,
                "col_axis": self.col_axis,
            }
        )
        return context

    def value_from_datadict(self, data, files, name):
        if f"{name}_0_0" not in data and name in data:
            return data.get(name)  # the grid posted as JSON (scripts, old forms)
        return [
            [data.get(f"{name}_{r}_{c}", "") for c in range(len(self.col_labels))]
            for r in range(len(self.row_labels))
        ]

    def value_omitted_from_data(self, data, files, name):
        return f"{name}_0_0" not in data and name not in data


class MatrixField(forms.Field):
    """A grid; `integers` for the P1 × P2 mapping (its cells are P levels)."""

    def __init__(self, *args, integers=False, **kwargs):
        self.integers = integers
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        return value

    def to_python(self, value):
        if isinstance(value, str):
            try:
                value = safejson.loads(value)  # bounded depth, like every JSON we read
            except safejson.JSONInputError as exc:
                where = f" (line {exc.line})" if exc.line else ""
                raise ValidationError(
                    f"{exc.message[:1].upper()}{exc.message[1:]}{where}."
                ) from exc
        if self.integers and isinstance(value, list):
            value = [
                [int(c) if isinstance(c, str) and _small_number(c.strip()) else c for c in row]
                if isinstance(row, list)
                else row
                for row in value
            ]
        return value


# (field, label, extra column) of each scale, in the order the editor shows them.
SCALE_FIELDS = [
    ("severity_levels", "Severity (safety and security)", None),
    ("probability_levels", "Probability of harm", None),
    ("p1_levels", "P1 — the hazardous situation occurs", None),
    ("p2_levels", "P2 — the hazardous situation leads to harm", None),
    ("exploitability_levels", "Exploitability (security)", ("min_esc", "CVSS exploitability ≥")),
    ("privacy_impact_levels", "Privacy impact", None),
    ("privacy_likelihood_levels", "Privacy likelihood", None),
]
# (field, label, row scale, column scale, row axis, column axis)
GRID_FIELDS = [
    (
        "probability_mapping",
        "P = P1 × P2",
        "p1_levels",
        "p2_levels",
        "P1",
        "P2",
    ),
    ("safety_matrix", "Safety", "severity_levels", "probability_levels", "Severity", "Probability"),
    (
        "security_matrix",
        "Security",
        "severity_levels",
        "exploitability_levels",
        "Severity",
        "Exploitability",
    ),
    (
        "privacy_matrix",
        "Privacy",
        "privacy_impact_levels",
        "privacy_likelihood_levels",
        "Impact",
        "Likelihood",
    ),
]


class RiskPolicyForm(VersionedForm):
    """The acceptability criteria (ISO 14971 4.4 d): each scale as editable rows, each matrix
    (and the P1 × P2 mapping) as a grid of selects sized by the scales it crosses."""

    class Meta:
        model = RiskPolicy
        fields = ["name", "description", *risk.PolicyData.POLICY_FIELDS, "benefit_risk_regions"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benefit_risk_regions"] = forms.TypedMultipleChoiceField(
            label="Regions that a benefit-risk analysis may accept (ISO 14971 7.4)",
            choices=risk.BENEFIT_RISK_REGION_CHOICES,
            widget=forms.CheckboxSelectMultiple,
            required=False,
            help_text="A residual risk in another region that is not acceptable must be "
            "reduced further: the release gate reports it.",
        )
        for name, label, extra in SCALE_FIELDS:
            self.fields[name] = ScaleField(label=label, extra=extra)
        scales = self._current_scales()
        for name, label, row_scale, col_scale, row_axis, col_axis in GRID_FIELDS:
            rows, cols = scales[row_scale], scales[col_scale]
            choices = None
            if name == "probability_mapping":
                choices = [
                    (lvl.get("value", i + 1), f"{lvl.get('value', i + 1)} {lvl.get('name', '')}")
                    for i, lvl in enumerate(scales["probability_levels"])
                ]
            self.fields[name] = MatrixField(
                widget=MatrixWidget(
                    [lvl.get("name", "") for lvl in rows],
                    [lvl.get("name", "") for lvl in cols],
                    choices=choices,
                    row_scale=row_scale,
                    col_scale=col_scale,
                    row_axis=row_axis,
                    col_axis=col_axis,
                ),
                label=label,
                integers=name == "probability_mapping",
            )

    def _current_scales(self) -> dict[str, list[dict]]:
        """The scales the grids are sized by: as posted when the form is bound (so the grids
        match what the user sees), else the initial values, else the stored policy."""
        scales = {}
        for name, _label, _extra in SCALE_FIELDS:
            value = None
            if self.is_bound:
                value = self.fields[name].widget.value_from_datadict(
                    self.data, self.files, self.add_prefix(name)
                )
                if isinstance(value, str):
                    try:
                        value = safejson.loads(value)
                    except safejson.JSONInputError:
                        value = None
            if value is None:
                value = self.initial.get(name, getattr(self.instance, name, None))
            scales[name] = [lvl for lvl in value or [] if isinstance(lvl, dict)]
        return scales

    def scale_sections(self):
        """Bound fields grouped as the editor shows them: (title, scales, grids)."""
        return [
            (
                "Safety (ISO 14971): severity × probability of harm, P = P1 × P2",
                [self["severity_levels"], self["probability_levels"], self["p1_levels"],
                 self["p2_levels"]],
                [self["probability_mapping"], self["safety_matrix"]],
            ),
            (
                "Security (process per AAMI TIR57): severity × exploitability",
                [self["exploitability_levels"]],
                [self["security_matrix"]],
            ),
            (
                "Privacy: impact × likelihood",
                [self["privacy_impact_levels"], self["privacy_likelihood_levels"]],
                [self["privacy_matrix"]],
            ),
        ]  # fmt: skip

    @classmethod
    def after_level_change(cls, data, *, instance, action: str):
        """An unbound form showing what was posted with one level added or removed (the
        "Add a level" / "Remove the last level" buttons): nothing is saved, no error shown."""
        from hazards.policy_editing import change_levels, parse_action

        posted = cls(data, instance=instance)
        values = {}
        for name in risk.PolicyData.POLICY_FIELDS:
            field = posted.fields[name]
            raw = field.widget.value_from_datadict(data, None, name)
            try:
                values[name] = field.to_python(raw)
            except ValidationError:
                values[name] = getattr(instance, name)
        parsed = parse_action(action)
        if parsed:
            values = change_levels(values, *parsed)
        initial = {
            **values,
            "name": data.get("name", instance.name),
            "description": data.get("description", instance.description),
            "benefit_risk_regions": data.getlist("benefit_risk_regions")
            if hasattr(data, "getlist")
            else instance.benefit_risk_regions,
            "change_reason": data.get("change_reason", ""),
            "version": data.get("version", instance.version),
        }
        form = cls(instance=instance, initial=initial)
        form.fields["version"].initial = initial["version"]
        return form


# --- List filters (query parameters; see riskbench.filters) ------------------------------------

_SEARCH_TEXT = {"required": False, "max_length": 200}
VERIFICATION_CHOICES = [
    ("verified", "Verified"),
    ("partly", "Partly verified"),
    ("failed", "Failed"),
    ("none", "Not verified"),
]
ESTIMATE_CHOICES = [*Acceptability.choices, (NOT_ESTIMATED, "Not estimated")]


def sort_choices(sorts) -> list[tuple[str, str]]:
    """`key` and its reverse `-key` for every sortable column."""
    return [(p, p) for key in sorts for p in (key, f"-{key}")]


def _level_filter():
    """A scale level from a heat-map cell (1 … 20; the scales are short)."""
    return forms.IntegerField(required=False, min_value=1, max_value=20)


class HazardLogFilters(FilterForm):
    """Filters of the hazard log, kept in the URL. Severity is one of the policy's levels; the
    likelihood and residual levels come from heat-map cells."""

    category = forms.ChoiceField(required=False, choices=Category.choices)
    status = forms.ChoiceField(required=False, choices=Status.choices)
    initial = forms.ChoiceField(required=False, choices=ESTIMATE_CHOICES)
    residual = forms.ChoiceField(required=False, choices=ESTIMATE_CHOICES)
    severity = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    probability = _level_filter()
    residual_severity = _level_filter()
    residual_probability = _level_filter()
    owner = forms.CharField(required=False, max_length=150)
    verification = forms.ChoiceField(required=False, choices=VERIFICATION_CHOICES)
    q = forms.CharField(**_SEARCH_TEXT)
    sort = forms.ChoiceField(required=False, choices=sort_choices(HAZARD_SORTS))

    def __init__(self, data=None, *, policy: risk.PolicyData, **kwargs):
        super().__init__(data, **kwargs)
        # Severity (safety, security) or impact (privacy): either scale's levels.
        levels = {}
        for level in [*policy.privacy_impact_levels, *policy.severity_levels]:
            levels[str(level["value"])] = level["name"]
        self.fields["severity"].choices = sorted(levels.items(), key=lambda kv: int(kv[0]))


class ControlListFilters(FilterForm):
    option = forms.ChoiceField(required=False, choices=ControlOption.choices)
    security_category = forms.ChoiceField(required=False, choices=SecurityControlCategory.choices)
    implementation = forms.ChoiceField(required=False, choices=ImplementationStatus.choices)
    status = forms.ChoiceField(required=False, choices=Status.choices)
    verification = forms.ChoiceField(required=False, choices=VERIFICATION_CHOICES)
    q = forms.CharField(**_SEARCH_TEXT)
    sort = forms.ChoiceField(required=False, choices=sort_choices(CONTROL_SORTS))
