"""Forms of the signature, audit trail and access log pages."""

from __future__ import annotations

from django import forms

from riskbench.filters import FilterForm
from riskbench.models import AccessAction, SignatureMeaning

ACTIONS = [("", "Any action"), ("+", "Created"), ("~", "Changed"), ("-", "Deleted")]


class SignForm(forms.Form):
    """Both components of a non-biometric signature, every time (21 CFR 11.200(a)(1))."""

    meaning = forms.ChoiceField(choices=SignatureMeaning.choices)
    username = forms.CharField(
        label="User ID",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    reason = forms.CharField(
        label="Comment",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why you sign, what you checked.",
    )
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class AuditFilterForm(FilterForm):
    """Filters of the audit trail; they stay in the URL so a view can be shared."""

    product = forms.ChoiceField(required=False)
    model = forms.ChoiceField(required=False, label="Record type")
    action = forms.ChoiceField(required=False, choices=ACTIONS)
    user = forms.CharField(required=False, max_length=150, label="User")
    date_from = forms.DateField(
        required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(required=False, max_length=200, label="Text")
    object = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, products=(), models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "All my products")] + [
            (p.slug, p.name) for p in products
        ]
        self.fields["model"].choices = [("", "Any record type")] + list(models)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


class AccessFilterForm(FilterForm):
    product = forms.ChoiceField(required=False)
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *AccessAction.choices])
    user = forms.CharField(required=False, max_length=150, label="User")
    date_from = forms.DateField(
        required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "All")] + [(p.slug, p.name) for p in products]
