"""Forms of the post-market pages. They check input shape; the services check meaning (same
product, workflow, assessment rules) and their errors are put back on the named field."""

from __future__ import annotations

from django import forms

from hazards.forms import VersionedForm
from hazards.models import Category, Hazard, Product
from postmarket.models import (
    AnalysisState,
    ChangeStatus,
    FieldDecision,
    FieldExposure,
    FieldKind,
    FieldRecord,
    Justification,
    ProblemReport,
    ProblemSource,
    ProblemStatus,
    TrendCategory,
)
from riskbench.filters import FilterForm, FlagField
from traceability.models import SoftwareItem, TestRun

YES_NO_UNKNOWN = [("", "Not decided yet"), ("true", "Yes"), ("false", "No")]


def _tristate(value):
    return {"true": True, "false": False}.get(value)


class ProblemReportForm(VersionedForm):
    safety_related = forms.TypedChoiceField(
        label="Relevant to safety",
        choices=YES_NO_UNKNOWN,
        coerce=_tristate,
        required=False,
        empty_value=None,
    )

    class Meta:
        model = ProblemReport
        fields = [
            "title",
            "source",
            "description",
            "product_versions",
            "investigation",
            "safety_related",
            "safety_rationale",
            "trend_category",
            "anomaly_evaluation",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "investigation": forms.Textarea(attrs={"rows": 4}),
            "safety_rationale": forms.Textarea(attrs={"rows": 2}),
            "anomaly_evaluation": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.safety_related is not None:
            self.initial["safety_related"] = "true" if self.instance.safety_related else "false"


class ProblemStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(v, label) for v, label in ProblemStatus.choices if v != ProblemStatus.CLOSED]
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=100)


class CloseForm(forms.Form):
    """Closing is signed: both signature components (21 CFR 11.200(a)(1))."""

    username = forms.CharField(label="User ID", max_length=150)
    password = forms.CharField(strip=False, widget=forms.PasswordInput)
    reason = forms.CharField(label="Comment", required=False, max_length=2000)
    version = forms.IntegerField(widget=forms.HiddenInput)


class _ProductChoice(forms.Form):
    reason = forms.CharField(required=False, max_length=100)


class ReportHazardForm(_ProductChoice):
    hazard = forms.ModelChoiceField(queryset=Hazard.objects.none())

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hazard"].queryset = product.hazards.order_by("code")


class ReportItemForm(_ProductChoice):
    software_item = forms.ModelChoiceField(queryset=SoftwareItem.objects.none())

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["software_item"].queryset = product.software_items.order_by("code")


class ReportRunForm(_ProductChoice):
    test_run = forms.ModelChoiceField(queryset=TestRun.objects.none(), label="Test run")
    role = forms.ChoiceField(
        choices=[("verification", "Verifies the fix"), ("failure", "Revealed the problem")]
    )

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["test_run"].queryset = (
            TestRun.objects.filter(test_case__product=product)
            .select_related("test_case")
            .order_by("test_case__code", "-executed_at", "-id")
        )
        self.fields["test_run"].label_from_instance = lambda run: (
            f"{run.test_case.code} {run.get_result_display()} "
            f"{run.executed_at:%Y-%m-%d %H:%M} ({run.software_version or 'no version'})"
        )


class ReviewReasonForm(forms.Form):
    reason = forms.CharField(max_length=200, label="Why the estimate still holds")


class ChangeRequestForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ChangeStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ChangeStatus.choices)
    implemented_in = forms.CharField(required=False, max_length=100)
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=100)


class AssessForm(forms.Form):
    """A VEX-style assessment of one vulnerability."""

    analysis_state = forms.ChoiceField(label="State", choices=AnalysisState.choices)
    justification = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *Justification.choices],
        help_text="Required when not affected (CycloneDX justification).",
    )
    analysis_detail = forms.CharField(
        label="Detail", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    hazard = forms.ModelChoiceField(
        queryset=Hazard.objects.none(), required=False, label="Security hazard"
    )
    problem_report = forms.ModelChoiceField(queryset=ProblemReport.objects.none(), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hazard"].queryset = product.hazards.filter(
            category=Category.SECURITY
        ).order_by("code")
        self.fields["problem_report"].queryset = product.problem_reports.order_by("code")


class FeedUploadForm(forms.Form):
    feed = forms.FileField(
        label="OSV feed", help_text="One advisory (JSON), a JSON list, or an OSV ecosystem ZIP."
    )
    kev = forms.FileField(
        label="CISA KEV catalogue (JSON)",
        required=False,
        help_text="Optional: flags the vulnerabilities known to be exploited.",
    )


class FieldRecordForm(VersionedForm):
    class Meta:
        model = FieldRecord
        fields = ["kind", "title", "description", "received_on", "reference", "event_count"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "received_on": forms.DateInput(attrs={"type": "date"}),
        }


class FieldReviewForm(forms.Form):
    """ISO 14971 10.3 (relevance to safety) and 10.4 (the action)."""

    safety_relevant = forms.TypedChoiceField(
        label="Relevant to safety", choices=[("true", "Yes"), ("false", "No")], coerce=_tristate
    )
    decision = forms.ChoiceField(choices=FieldDecision.choices)
    review_notes = forms.CharField(
        label="Review", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    new_hazard_title = forms.CharField(
        required=False, max_length=200, help_text="For “new hazard”: its title (a draft)."
    )
    new_hazard_category = forms.ChoiceField(required=False, choices=Category.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=100)


def _level(required=False):
    return forms.TypedChoiceField(
        required=required,
        coerce=int,
        empty_value=None,
        choices=[("", "—")] + [(str(i), str(i)) for i in range(1, 11)],
    )


class ReestimateForm(forms.Form):
    """New estimate of a hazard linked to field information (ISO 14971 10.4). Only the fields
    given change."""

    severity = _level()
    p1 = _level()
    p2 = _level()
    probability = _level()
    residual_severity = _level()
    residual_p1 = _level()
    residual_p2 = _level()
    residual_probability = _level()
    note = forms.CharField(required=False, max_length=60)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def estimate(self) -> dict:
        data = self.cleaned_data
        names = (
            "severity",
            "p1",
            "p2",
            "probability",
            "residual_severity",
            "residual_p1",
            "residual_p2",
            "residual_probability",
        )
        return {n: data[n] for n in names if data.get(n) is not None}


class ExposureForm(forms.ModelForm):
    class Meta:
        model = FieldExposure
        fields = ["period_start", "period_end", "uses", "basis"]
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
            "basis": forms.Textarea(attrs={"rows": 2}),
        }


# --- List filters (riskbench.filters: a value that does not fit is ignored with a message) ---

_TEXT = {"required": False, "max_length": 200}


class ProblemReportListFilters(FilterForm):
    status = forms.ChoiceField(
        required=False, choices=[("open", "Not closed"), *ProblemStatus.choices]
    )
    source = forms.ChoiceField(required=False, choices=ProblemSource.choices)
    safety = forms.ChoiceField(
        required=False, choices=[("yes", "Yes"), ("no", "No"), ("unknown", "Not decided")]
    )
    trend = forms.ChoiceField(required=False, choices=TrendCategory.choices)
    q = forms.CharField(**_TEXT)


class VulnerabilityListFilters(FilterForm):
    state = forms.ChoiceField(
        required=False, choices=[("open", "To handle"), *AnalysisState.choices]
    )
    kev = FlagField(required=False)
    withdrawn = FlagField(required=False)
    item = forms.CharField(required=False, max_length=20)
    q = forms.CharField(**_TEXT)


class FieldRecordListFilters(FilterForm):
    kind = forms.ChoiceField(required=False, choices=FieldKind.choices)
    decision = forms.ChoiceField(
        required=False, choices=[("none", "Not reviewed"), *FieldDecision.choices]
    )
    q = forms.CharField(**_TEXT)
