"""Shapes of the API's requests and answers.

Serializers only validate and represent: they never save. The views hand `validated_data` to
the services (see `api.writes`). Related records of the same product are named by their code
(HAZ-001, RC-002…), users by their user name. Derived fields (codes, status, revision, risk
indices and acceptability, CVSS base score, versions, evidence hashes) are read-only.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.writes import REASON_MAX_LENGTH
from hazards.models import (
    ControlIntroducedHazard,
    Hazard,
    HazardControl,
    HazardTransfer,
    HipaaIdentifier,
    Product,
    RiskControl,
    RiskPolicy,
)
from riskbench.codes import CODE_RULE, code_problem
from traceability.models import (
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementTest,
    SoftwareItem,
    SoftwareItemHazard,
    TestCase,
    TestRun,
)

User = get_user_model()

RECORD_META_FIELDS = ("version", "created_at", "updated_at", "change_reason")
RECORD_READ_ONLY = ("created_at", "updated_at")


class NamedRecordField(serializers.SlugRelatedField):
    """A related record named by a string. A NUL character can name nothing, and PostgreSQL
    refuses it in a query (a server error), so it is answered as "does not exist" up front."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.STR)
class ProductCodeField(NamedRecordField):
    """A record of the request's product, named by its code. Records of other products do not
    exist as far as the caller is concerned ("Object with code=… does not exist")."""

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def get_queryset(self):
        product = self.context.get("product")
        if product is None:
            return self.model._default_manager.none()
        return self.model._default_manager.filter(product=product)


@extend_schema_field(OpenApiTypes.STR)
class ProductMemberField(NamedRecordField):
    """A member of the request's product, named by user name (e.g. a hazard's owner)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        super().__init__(**kwargs)

    def get_queryset(self):
        product = self.context.get("product")
        if product is None:
            return User._default_manager.none()
        return User._default_manager.filter(memberships__product=product, is_active=True)


class RecordSerializer(serializers.ModelSerializer):
    """Common fields of a regulated record.

    `version` is read on GET and must be sent back on PUT/PATCH (or as If-Match) for optimistic
    locking; `change_reason` (or the X-Change-Reason header) goes into the history row.
    """

    version = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text="Version you loaded; required on PUT/PATCH unless an If-Match header is sent.",
    )
    change_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        help_text="Why you make this change (kept in the history; required when editing an "
        "approved record). Alternatively the X-Change-Reason header.",
    )


class CodedRecordSerializer(RecordSerializer):
    """A record with a product-scoped code. On create the client may send its own code (kept
    exactly when it follows the one code rule of `riskbench.codes` and is unused in the
    product, else 400); without one the next free code is drawn. A code never changes after.
    The API never replaces a code the client sent (issue 13 §2)."""

    code = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=200,  # the code rule gives the precise message below
        help_text=f"The record's code. On create: optional; yours is kept when valid and "
        f"unused ({CODE_RULE}), else 400; without one the next free code is drawn. Read-only "
        f"afterwards.",
    )

    def validate_code(self, value: str) -> str:
        if self.instance is not None:
            if value != self.instance.code:
                raise serializers.ValidationError("A code cannot be changed.")
            return value
        problem = code_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        model = self.Meta.model
        product = getattr(self.context.get("view"), "product", None)
        if product is not None:
            if model.objects.filter(product=product, code=value).exists():
                raise serializers.ValidationError(f"{value} is already used in this product.")
            if model.history.filter(product_id=product.pk, code=value).exists():
                raise serializers.ValidationError(
                    f"{value} was used by a deleted or renamed record; the audit trail keeps "
                    f"it bound to that record (21 CFR 11.10(e))."
                )
        return value

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None:
            attrs.pop("code", None)  # unchanged (validate_code refused a change)
        return attrs


# --- Risk register (hazards app) ---------------------------------------------------------------


class ProductSerializer(RecordSerializer):
    risk_policy = serializers.CharField(
        source="risk_policy.name",
        read_only=True,
        help_text="Name of the product's own risk policy (edited and approved on its page).",
    )
    policy_template = NamedRecordField(
        slug_field="name",
        queryset=RiskPolicy.objects.filter(product__isnull=True),
        required=False,
        write_only=True,
        help_text="When creating: name of the template the product's own risk policy is copied "
        "from (default: the default template).",
    )
    members = NamedRecordField(
        slug_field="username",
        queryset=User._default_manager.filter(is_active=True),
        many=True,
        required=False,
        write_only=True,
        help_text="User names to make members when creating the product.",
    )

    class Meta:
        model = Product
        fields = (
            "slug",
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
            "risk_policy",
            "policy_template",
            "responsibilities_and_authorities",
            "review_requirements",
            "verification_plan",
            "overall_residual_risk_method",
            "post_production_plan",
            "review_conclusion",
            "members",
            *RECORD_META_FIELDS,
        )
        read_only_fields = RECORD_READ_ONLY
        # Uniqueness is checked by the service's full_clean (one place, one message).
        extra_kwargs = {"slug": {"validators": []}}

    def validate(self, attrs):
        # A request naming a risk policy would be silently ignored (the field is read-only):
        # refuse it, so nobody believes they switched the product's criteria.
        if isinstance(self.initial_data, dict) and "risk_policy" in self.initial_data:
            raise serializers.ValidationError(
                {
                    "risk_policy": "The product's risk policy is its own: change its criteria "
                    "on its policy page, where a new version takes effect once approved with "
                    "a signature."
                }
            )
        return super().validate(attrs)

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            # The slug is part of every URL of the product: fixed once created.
            fields["slug"].read_only = True
            fields.pop("members")
            fields.pop("policy_template")
        return fields


class HazardSerializer(CodedRecordSerializer):
    owner = ProductMemberField(required=False, allow_null=True)
    data_elements = serializers.ListField(
        child=serializers.ChoiceField(choices=HipaaIdentifier.choices),
        required=False,
        max_length=len(HipaaIdentifier.choices),
        help_text="HIPAA identifiers processed (privacy rows).",
    )
    controls = serializers.SerializerMethodField(
        help_text="Codes of the risk controls that reduce this hazard."
    )

    class Meta:
        model = Hazard
        fields = (
            "code",
            "category",
            "title",
            "status",
            "revision",
            "hazard_type",
            "hazard",
            "sequence_of_events",
            "hazardous_situation",
            "harm",
            "owner",
            "severity",
            "p1",
            "p2",
            "probability",
            "initial_risk_index",
            "initial_acceptability",
            "residual_severity",
            "residual_p1",
            "residual_p2",
            "residual_probability",
            "residual_risk_index",
            "residual_acceptability",
            "severity_reduction_rationale",
            "benefit_risk_region",
            "further_control_not_practicable",
            "benefit_risk_benefits",
            "benefit_risk_justification",
            "asset",
            "threat",
            "vulnerability",
            "cvss_vector",
            "cvss_base_score",
            "residual_cvss_vector",
            "residual_cvss_rationale",
            "data_elements",
            "linddun_category",
            "controls",
            *RECORD_META_FIELDS,
        )
        read_only_fields = (
            "status",
            "revision",
            "initial_risk_index",
            "initial_acceptability",
            "residual_risk_index",
            "residual_acceptability",
            "cvss_base_score",
            *RECORD_READ_ONLY,
        )
        extra_kwargs = {
            "probability": {
                "help_text": "Likelihood level. Derived from P1 × P2 (safety) or from the CVSS "
                "vector (security) when those are given; otherwise the level you enter."
            },
            "residual_probability": {
                "help_text": "Residual likelihood level; derived like `probability`."
            },
        }

    def get_controls(self, hazard) -> list[str]:
        return sorted(link.control.code for link in hazard.control_links.all())


class RiskControlSerializer(CodedRecordSerializer):
    hazards = serializers.SerializerMethodField(
        help_text="Codes of the hazards whose risk this control reduces."
    )

    class Meta:
        model = RiskControl
        fields = (
            "code",
            "title",
            "description",
            "option",
            "security_category",
            "implementation_status",
            "status",
            "hazards",
            *RECORD_META_FIELDS,
        )
        read_only_fields = ("status", *RECORD_READ_ONLY)

    def get_hazards(self, control) -> list[str]:
        return sorted(link.hazard.code for link in control.hazard_links.all())


# --- Software life cycle (traceability app) ----------------------------------------------------


class SoftwareItemSerializer(CodedRecordSerializer):
    parent = ProductCodeField(SoftwareItem, required=False, allow_null=True)

    class Meta:
        model = SoftwareItem
        fields = (
            "code",
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
            "anomalies_notes",
            "support_status",
            "end_of_support",
            *RECORD_META_FIELDS,
        )
        read_only_fields = RECORD_READ_ONLY


class RequirementSerializer(CodedRecordSerializer):
    parent = ProductCodeField(Requirement, required=False, allow_null=True)
    software_item = ProductCodeField(SoftwareItem, required=False, allow_null=True)

    class Meta:
        model = Requirement
        fields = (
            "code",
            "level",
            "title",
            "text",
            "rationale",
            "parent",
            "software_item",
            "status",
            *RECORD_META_FIELDS,
        )
        read_only_fields = ("status", *RECORD_READ_ONLY)


class TestCaseSerializer(CodedRecordSerializer):
    latest_result = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Result of the latest run (by execution time), null when never run.",
    )

    class Meta:
        model = TestCase
        fields = (
            "code",
            "title",
            "method",
            "level",
            "procedure",
            "acceptance_criteria",
            "latest_result",
            *RECORD_META_FIELDS,
        )
        read_only_fields = RECORD_READ_ONLY


class TestRunSerializer(serializers.ModelSerializer):
    """Evidence of one execution. Recorded once, never edited (a new execution is a new run)."""

    test_case = ProductCodeField(TestCase)
    executed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    evidence = serializers.FileField(
        required=False,
        allow_null=True,
        use_url=False,
        help_text="Optional evidence file (multipart upload); its SHA-256 is computed on upload.",
    )
    change_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=REASON_MAX_LENGTH
    )

    class Meta:
        model = TestRun
        fields = (
            "id",
            "test_case",
            "result",
            "executed_at",
            "executed_by",
            "software_version",
            "notes",
            "evidence",
            "evidence_name",
            "evidence_sha256",
            "evidence_size",
            "external_reference",
            "version",
            "created_at",
            "change_reason",
        )
        extra_kwargs = {
            "executed_at": {"required": False, "help_text": "Defaults to now."},
        }
        read_only_fields = (
            "id",
            "executed_by",
            "evidence_name",
            "evidence_sha256",
            "evidence_size",
            "version",
            "created_at",
        )


# --- Trace links -------------------------------------------------------------------------------


class LinkSerializer(serializers.ModelSerializer):
    """Common fields of a trace link. Suspect = an end changed since the link was made or last
    reviewed (derived from versions); review one with POST …/{id}/review/ and a reason."""

    is_suspect = serializers.BooleanField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    change_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=REASON_MAX_LENGTH
    )

    LINK_META_FIELDS = (
        "id",
        "is_suspect",
        "source_version",
        "target_version",
        "created_by",
        "created_at",
        "reviewed_by",
        "reviewed_at",
        "review_reason",
        "change_reason",
    )
    LINK_READ_ONLY = (
        "id",
        "source_version",
        "target_version",
        "created_at",
        "reviewed_at",
        "review_reason",
    )


def _link_serializer(model, ends: dict[str, type], extra: tuple[str, ...] = ()):
    """A serializer for one link model whose ends are named by code."""
    attrs = {name: ProductCodeField(end_model) for name, end_model in ends.items()}
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": (*ends, *extra, *LinkSerializer.LINK_META_FIELDS),
            "read_only_fields": LinkSerializer.LINK_READ_ONLY,
            # Duplicates are refused by the service with a clear message.
            "validators": [],
        },
    )
    attrs["Meta"] = meta
    return type(f"{model.__name__}Serializer", (LinkSerializer,), attrs)


HazardControlSerializer = _link_serializer(
    HazardControl, {"hazard": Hazard, "control": RiskControl}
)
ControlIntroducedHazardSerializer = _link_serializer(
    ControlIntroducedHazard, {"control": RiskControl, "hazard": Hazard}
)
HazardTransferSerializer = _link_serializer(
    HazardTransfer, {"security_hazard": Hazard, "safety_hazard": Hazard}
)
ControlRequirementSerializer = _link_serializer(
    ControlRequirement, {"control": RiskControl, "requirement": Requirement}
)
RequirementTestSerializer = _link_serializer(
    RequirementTest, {"requirement": Requirement, "test_case": TestCase}
)
ControlImplementationTestSerializer = _link_serializer(
    ControlImplementationTest, {"control": RiskControl, "test_case": TestCase}
)
ControlEffectivenessTestSerializer = _link_serializer(
    ControlEffectivenessTest, {"control": RiskControl, "test_case": TestCase}
)
SoftwareItemHazardSerializer = _link_serializer(
    SoftwareItemHazard,
    {"software_item": SoftwareItem, "hazard": Hazard},
    extra=("cause_type", "cause"),
)


class LinkReviewSerializer(serializers.Serializer):
    review_reason = serializers.CharField(
        max_length=2000, help_text="Why the link still holds after its ends changed."
    )


class JUnitUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JUnit XML report (multipart field `file`).")


class JUnitResultSerializer(serializers.Serializer):
    created_runs = TestRunSerializer(
        many=True, help_text="Test runs recorded, one per matched test case."
    )
    unmatched = serializers.ListField(
        child=serializers.CharField(), help_text="JUnit cases that name no known test case."
    )
    evidence_sha256 = serializers.CharField()
