from django import forms

from riskbench.models import SignatureMeaning
from traceability.baselines.models import BaselineKind


class BaselineForm(forms.Form):
    """Name the baseline and sign it: user ID and password again (21 CFR 11.200(a)(1))."""

    name = forms.CharField(max_length=200, help_text="E.g. “Release 2.1 submission”.")
    kind = forms.ChoiceField(
        choices=BaselineKind.choices,
        initial=BaselineKind.WORKING,
        required=False,
        help_text="A release baseline is taken only when the release gate finds no gap and "
        "every record is approved.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    meaning = forms.ChoiceField(choices=SignatureMeaning.choices, initial=SignatureMeaning.APPROVED)
    username = forms.CharField(
        label="User ID", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class DiffForm(forms.Form):
    a = forms.ChoiceField(label="From")
    b = forms.ChoiceField(label="To")

    def __init__(self, *args, baselines=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(b.pk), f"{b.name} ({b.created_at:%Y-%m-%d})") for b in baselines]
        self.fields["a"].choices = choices
        self.fields["b"].choices = [("now", "Current state"), *choices]
