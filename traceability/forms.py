"""Forms of the traceability pages. They check input shape; the services check meaning (same
product, no cycles, upload size) and their errors are put back on the named field."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from hazards.forms import (
    CodePickerField,
    ReasonForm,  # noqa: F401 - one reason form for both apps
    VersionedForm,
)
from hazards.models import Category, Hazard, Product, RiskControl
from riskbench.filters import FilterForm, FlagField
from riskbench.models import Status
from traceability.graph import HAZARD_STATES
from traceability.models import (
    CauseType,
    Requirement,
    RequirementLevel,
    SoftwareItem,
    TestCase,
    TestLevel,
    TestMethod,
    TestResult,
)


class SoftwareItemForm(VersionedForm):
    class Meta:
        model = SoftwareItem
        fields = [
            "name",
            "description",
            "parent",
            "safety_class",
            "safety_class_rationale",
            "segregation_note",
            "is_soup",
            "manufacturer",
            "soup_version",
            "purl",
            "licence",
            "soup_requirements",
            "soup_hardware_software",
            "anomalies_reviewed_at",
            "anomalies_reviewed_version",
            "anomalies_notes",
            "support_status",
            "end_of_support",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "safety_class_rationale": forms.Textarea(attrs={"rows": 2}),
            "segregation_note": forms.Textarea(attrs={"rows": 2}),
            "soup_requirements": forms.Textarea(attrs={"rows": 3}),
            "soup_hardware_software": forms.Textarea(attrs={"rows": 2}),
            "anomalies_notes": forms.Textarea(attrs={"rows": 3}),
            "anomalies_reviewed_at": forms.DateInput(attrs={"type": "date"}),
            "end_of_support": forms.DateInput(attrs={"type": "date"}),
        }

    SOUP_FIELDS = (
        "manufacturer",
        "soup_version",
        "purl",
        "licence",
        "soup_requirements",
        "soup_hardware_software",
        "anomalies_reviewed_at",
        "anomalies_reviewed_version",
        "anomalies_notes",
        "support_status",
        "end_of_support",
    )

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        parents = product.software_items.order_by("code")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents


class RequirementForm(VersionedForm):
    class Meta:
        model = Requirement
        fields = ["level", "title", "text", "rationale", "parent", "software_item"]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4}),
            "rationale": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        parents = product.requirements.order_by("code")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["software_item"].queryset = product.software_items.order_by("code")


class TestCaseForm(VersionedForm):
    __test__ = False

    class Meta:
        model = TestCase
        fields = ["title", "method", "level", "procedure", "acceptance_criteria"]
        widgets = {
            "procedure": forms.Textarea(attrs={"rows": 6}),
            "acceptance_criteria": forms.Textarea(attrs={"rows": 3}),
        }


class TestRunForm(forms.Form):
    """Record one execution. The evidence file is optional; the service size-checks and hashes
    it."""

    __test__ = False

    result = forms.ChoiceField(choices=TestResult.choices)
    executed_at = forms.DateTimeField(
        label="Executed at (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    software_version = forms.CharField(label="Software version tested", max_length=100)
    external_reference = forms.CharField(
        max_length=300, required=False, help_text="CI job URL, JUnit case id, report number…"
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    evidence = forms.FileField(required=False, help_text="Report, log or screenshot (optional).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["executed_at"].initial = timezone.now().replace(second=0, microsecond=0)


class _ProductChoiceForm(forms.Form):
    reason = forms.CharField(required=False, max_length=100, label="Reason")


class LinkRequirementForm(_ProductChoiceForm):
    requirement = CodePickerField(
        queryset=Requirement.objects.none(), label="Requirement", kind="requirement"
    )

    def __init__(self, *args, product: Product, exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requirement"].queryset = product.requirements.exclude(pk__in=exclude).order_by(
            "code"
        )
        self.fields["requirement"].for_product(product)


class LinkTestForm(_ProductChoiceForm):
    test_case = CodePickerField(queryset=TestCase.objects.none(), label="Test case", kind="test")

    def __init__(self, *args, product: Product, exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["test_case"].queryset = product.test_cases.exclude(pk__in=exclude).order_by(
            "code"
        )
        self.fields["test_case"].for_product(product)


class LinkControlForm(_ProductChoiceForm):
    control = CodePickerField(
        queryset=RiskControl.objects.none(), label="Risk control", kind="control"
    )

    def __init__(self, *args, product: Product, exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["control"].queryset = product.controls.exclude(pk__in=exclude).order_by("code")
        self.fields["control"].for_product(product)


# What a control ↔ test link verifies (ISO 14971 7.2: two separate pieces of evidence).
VERIFICATION_ASPECTS = [
    ("implementation", "its implementation"),
    ("effectiveness", "its effectiveness"),
]


class ControlTestLinkForm(LinkControlForm):
    """On a test page: this test verifies a control's implementation or effectiveness."""

    aspect = forms.ChoiceField(choices=VERIFICATION_ASPECTS, label="Verifies")


class TestControlLinkForm(LinkTestForm):
    """On a control page: a test verifies this control's implementation or effectiveness."""

    __test__ = False

    aspect = forms.ChoiceField(choices=VERIFICATION_ASPECTS, label="Verifies")


class ItemHazardForm(_ProductChoiceForm):
    hazard = CodePickerField(queryset=Hazard.objects.none(), label="Hazard", kind="hazard")
    cause_type = forms.ChoiceField(choices=CauseType.choices, label="Cause (IEC 62304 7.1.2)")
    cause = forms.CharField(required=False, max_length=500, label="Cause in words")

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hazard"].queryset = product.hazards.order_by("code")
        self.fields["hazard"].for_product(product)


class ReviewForm(forms.Form):
    """Clearing a suspect link needs a reason (kept in the link's history)."""

    reason = forms.CharField(max_length=500, label="Why the link still holds")


# --- List filters (query parameters; see riskbench.filters) ------------------------------------

_SEARCH_TEXT = {"required": False, "max_length": 200}
NEVER_RUN = "none"


class RequirementListFilters(FilterForm):
    level = forms.ChoiceField(required=False, choices=RequirementLevel.choices)
    status = forms.ChoiceField(required=False, choices=Status.choices)
    q = forms.CharField(**_SEARCH_TEXT)


class TestCaseListFilters(FilterForm):
    level = forms.ChoiceField(required=False, choices=TestLevel.choices)
    method = forms.ChoiceField(required=False, choices=TestMethod.choices)
    result = forms.ChoiceField(
        required=False, choices=[*TestResult.choices, (NEVER_RUN, "Never run")]
    )
    q = forms.CharField(**_SEARCH_TEXT)


class MatrixFilters(FilterForm):
    """category, the hazard's workflow status and verification status, gaps=1 (only rows with
    a gap or a suspect link), q (hazard code or title)."""

    category = forms.ChoiceField(required=False, choices=Category.choices)
    status = forms.ChoiceField(required=False, choices=Status.choices)
    verification = forms.ChoiceField(
        required=False, choices=[(state, state) for state in HAZARD_STATES]
    )
    gaps = FlagField(required=False)
    q = forms.CharField(**_SEARCH_TEXT)
