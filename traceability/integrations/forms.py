"""Upload and mapping forms of the import pages. They check, the modules parse, services write."""

from django import forms
from django.core.validators import validate_slug

from hazards.models import RiskPolicy
from traceability.integrations import hazard_table
from traceability.integrations.uploads import UploadError, read_upload


class UploadForm(forms.Form):
    """One file; its size is checked before a byte of it is read (hostile upload)."""

    file = forms.FileField(label="File")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            self.data_bytes = read_upload(upload)
        except UploadError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload


class HazardUploadForm(UploadForm):
    file = forms.FileField(label="Hazard log (.csv or .xlsx)")
    mapping = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Saved column mapping",
        empty_label="Suggest from headers",
    )

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].queryset = product.import_mappings.all()


class ReqifUploadForm(UploadForm):
    file = forms.FileField(label="ReqIF file (.reqif)")
    prefix = forms.RegexField(
        regex=r"^[A-Z]{1,10}$",
        initial="REQ",
        label="Code prefix for numeric ForeignIDs",
        help_text="DOORS exports number their objects; object 12 becomes PREFIX-012.",
    )


class ProductImportForm(UploadForm):
    file = forms.FileField(label="Product export (.json)")
    slug = forms.CharField(
        max_length=80, validators=[validate_slug], help_text="A new, unused slug for the copy."
    )
    name = forms.CharField(max_length=200, required=False, help_text="Leave empty to keep it.")
    template = forms.ModelChoiceField(
        queryset=RiskPolicy.objects.none(),
        required=False,
        label="Risk policy",
        empty_label="A new draft policy with the file's criteria",
        help_text="Or a copy of a template. Either way the new product's policy is its own, "
        "approved by its team with a signature before risks are evaluated.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = RiskPolicy.objects.filter(product__isnull=True).order_by(
            "name", "pk"
        )


class MappingForm(forms.Form):
    """One select per hazard field: which column of the file feeds it."""

    save_as = forms.CharField(
        max_length=100, required=False, label="Save this mapping as",
        help_text="Reuse it on the next import or with manage.py import_hazards --mapping NAME.",
    )  # fmt: skip

    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— not imported —")] + [(h, h) for h in headers]
        for column in hazard_table.COLUMNS:
            self.fields[f"col_{column.name}"] = forms.ChoiceField(
                choices=choices, required=False, label=column.label
            )

    def column_fields(self):
        return [self[f"col_{c.name}"] for c in hazard_table.COLUMNS]

    def mapping(self) -> dict[str, str]:
        return {
            column.name: self.cleaned_data[f"col_{column.name}"]
            for column in hazard_table.COLUMNS
            if self.cleaned_data.get(f"col_{column.name}")
        }

    @staticmethod
    def initial_for(mapping: dict[str, str]) -> dict[str, str]:
        return {f"col_{name}": header for name, header in mapping.items()}


class WorkbookUploadForm(UploadForm):
    file = forms.FileField(
        label="Risk file (.xlsx with sheets Hazards, Controls, Requirements, Tests, Runs; or a "
        ".zip of hazards.csv, controls.csv, requirements.csv, tests.csv)"
    )
    mapping = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Saved mapping",
        empty_label="Plain English headers (no mapping)",
        help_text="Column and value maps; upload one on the Mappings page.",
    )
    implied_controls = forms.BooleanField(
        required=False,
        label="Create the implied risk control of each hazard linked straight to requirements",
        help_text="One control per hazard, RC-<hazard id>, labelled as implied by the import "
        "(ISO 14971 7.1 links hazards to controls that requirements implement).",
    )

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].queryset = product.import_mappings.all()


class MappingUploadForm(UploadForm):
    file = forms.FileField(label="Mapping file (.json)")
    name = forms.CharField(max_length=100, help_text="Saving under an existing name replaces it.")
