"""API endpoints. Thin: check the role, validate with a serializer, call a service.

Every resource except the product list lives under `/api/products/{product_slug}/…`, so the
product — and with it the caller's role — is resolved once, before any object is looked up
(`permissions.ProductRole`). Querysets are always those of that product, with the relations the
serializer shows fetched up front: a list costs the same number of queries for 10 rows as for
100.
"""

from __future__ import annotations

from functools import cached_property

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api import writes
from api.parsers import BoundedJSONParser
from api.permissions import ProductObjectRole, ProductRole
from hazards import services as hazard_services
from hazards.models import (
    ControlIntroducedHazard,
    Hazard,
    HazardControl,
    HazardTransfer,
    Product,
    RiskControl,
)
from riskbench import roles
from riskbench.filters import StrictFilterBackend, whole_number
from traceability import services as trace_services
from traceability.integrations import uploads
from traceability.integrations.junit import import_junit
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

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

PRODUCT_SLUG_PARAM = OpenApiParameter(
    "product_slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Slug of the product whose risk management file this is.",
)
REASON_PARAM = OpenApiParameter(
    writes.REASON_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Reason for the change, kept in the history (alternative to `change_reason`).",
)
IF_MATCH_PARAM = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='Version you loaded, as returned in the ETag header (e.g. "3"); alternative '
    "to the `version` field.",
)


class RiskBenchSchema(AutoSchema):
    """Documents what every write accepts and answers: the reason header, If-Match on updates,
    409 Conflict on a stale version."""

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if "product_slug" in self.path:
            params.append(PRODUCT_SLUG_PARAM)
        if self.method in WRITE_METHODS:
            params.append(REASON_PARAM)
        if self.method in ("PUT", "PATCH"):
            params.append(IF_MATCH_PARAM)
        return params

    def get_response_serializers(self):
        response = super().get_response_serializers()
        if self.method in ("PUT", "PATCH") and not isinstance(response, dict):
            return {
                200: response,
                409: OpenApiResponse(
                    writes.StaleWriteSerializer, description="Stale version: nothing was saved."
                ),
            }
        return response


class Pagination(LimitOffsetPagination):
    """`?limit=&offset=`, 100 rows by default and at most 1,000 (a larger limit is capped: an
    unbounded one would reach the database as a number it cannot hold). A limit or offset
    that is not a whole number is a 400 naming it."""

    max_limit = 1000

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return min(self._number(raw, self.limit_query_param, minimum=1), self.max_limit)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        return 0 if raw is None else self._number(raw, self.offset_query_param, minimum=0)

    @staticmethod
    def _number(raw: str, param: str, *, minimum: int) -> int:
        """DRF reads `?limit=abc` as the default page silently; here it is a 400 naming it."""
        try:
            return whole_number(raw, minimum=minimum, maximum=None)
        except ValueError as exc:
            raise exceptions.ValidationError({param: [str(exc)]}) from exc


NO_SUCH_PRODUCT = "No such product."


class ApiViewMixin:
    """Token first, so an anonymous caller is told 401 with `WWW-Authenticate: Token`."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    pagination_class = Pagination
    schema = RiskBenchSchema()


class ProductNestedMixin(ApiViewMixin):
    """Resolves `/api/products/{product_slug}/…` to a product the caller is a member of."""

    permission_classes = [IsAuthenticated, ProductRole]

    @cached_property
    def product(self) -> Product:
        """A product that does not exist and one the caller is not a member of answer the very
        same 404 (body and headers): its existence is not theirs to know."""
        product = (
            Product.objects.select_related("risk_policy")
            .filter(slug=self.kwargs["product_slug"])
            .first()
        )
        if product is None or not roles.is_member(self.request.user, product):
            raise exceptions.NotFound(NO_SUCH_PRODUCT)
        return product

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["product"] = self.product
        return context


class RecordViewSet(
    ProductNestedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """A product's regulated records, named by code. Writes go through the app's services:

    `create_service(product=, by=, reason=, **fields)`,
    `update_service(<instance_kwarg>=, by=, reason=, expected_version=, **fields)`,
    `delete_service(<instance_kwarg>=, by=, reason=)` (DELETE offered only when there is one).
    """

    lookup_field = "code"
    # Any code an importer may have given, but no control characters: they name nothing, and
    # PostgreSQL refuses NUL in a query.
    lookup_value_regex = r"[^/\x00-\x1f]+"
    filter_backends = [StrictFilterBackend]
    model = None
    instance_kwarg = ""

    @staticmethod
    def create_service(**kwargs):
        raise NotImplementedError

    @staticmethod
    def update_service(**kwargs):
        raise NotImplementedError

    def scoped(self, queryset):
        return queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.scoped(self.model.objects.filter(product=self.product))

    def record_response(self, record, status_code=status.HTTP_200_OK):
        record = self.get_queryset().get(pk=record.pk)  # re-read with what the serializer shows
        return Response(
            self.get_serializer(record).data,
            status=status_code,
            headers={"ETag": writes.etag(record)},
        )

    def retrieve(self, request, *args, **kwargs):
        return self.record_response(self.get_object())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop(writes.VERSION_FIELD, None)
        reason = writes.change_reason(request, data)
        record = writes.call_service(
            self.create_service,
            product=self.product,
            by=request.user,
            reason=reason,
            **data,
        )
        return self.record_response(record, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = writes.expected_version(request, data)
        reason = writes.change_reason(request, data)
        record = writes.call_service(
            self.update_service,
            **{self.instance_kwarg: instance},
            by=request.user,
            reason=reason,
            expected_version=version,
            **self.update_fields(data),
        )
        return self.record_response(record)

    def update_fields(self, data: dict) -> dict:
        """The changed fields as the update service takes them (keyword arguments)."""
        return data

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)


class DestroyWithReasonMixin:
    """DELETE needs a reason (X-Change-Reason header or `change_reason` in the body): the
    history keeps the deleted values, who deleted them and why (21 CFR 11.10(e))."""

    @staticmethod
    def delete_service(**kwargs):
        raise NotImplementedError

    # A record that can change names the version the client saw (`version` in the body or the
    # query string, or If-Match): nobody deletes what someone changed since. A test run is never
    # edited once recorded, so it has nothing to be stale about.
    delete_needs_version = True

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        version = {}
        if self.delete_needs_version:
            version["expected_version"] = writes.delete_version(request)
        writes.call_service(
            self.delete_service,
            **{self.instance_kwarg: instance},
            by=request.user,
            reason=writes.change_reason(request),
            **version,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Products ----------------------------------------------------------------------------------


class ProductViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Products the caller is a member of. Editors of a product change its risk management
    file header (ISO 14971 4.4, 5.2); only administrators (`riskbench.roles.is_administrator`)
    create products, since membership and the choice of risk policy are management decisions
    (ISO 14971 4.2). The product's risk policy is its own, read-only here."""

    serializer_class = s.ProductSerializer
    permission_classes = [IsAuthenticated, ProductObjectRole]
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        queryset = Product.objects.select_related("risk_policy")
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        if user.is_superuser:
            return queryset
        return queryset.filter(memberships__user=user)

    def get_object(self):
        """The same 404 whether the product does not exist or is not the caller's."""
        try:
            return super().get_object()
        except Http404 as exc:
            raise exceptions.NotFound(NO_SUCH_PRODUCT) from exc

    def options(self, request, *args, **kwargs):
        if self.lookup_field in kwargs:
            self.get_object()  # 404 for a product the caller is not a member of, as for GET
        return super().options(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        product = self.get_object()
        return Response(self.get_serializer(product).data, headers={"ETag": writes.etag(product)})

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop(writes.VERSION_FIELD, None)
        reason = writes.change_reason(request, data)
        product = writes.call_service(
            hazard_services.product_create,
            by=request.user,
            reason=reason,
            members=data.pop("members", []),
            template=data.pop("policy_template", None),
            **data,
        )
        return Response(
            self.get_serializer(product).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": writes.etag(product)},
        )

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        product = self.get_object()
        serializer = self.get_serializer(product, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = writes.expected_version(request, data)
        reason = writes.change_reason(request, data)
        product = writes.call_service(
            hazard_services.product_update,
            product=product,
            by=request.user,
            reason=reason,
            expected_version=version,
            **data,
        )
        return Response(self.get_serializer(product).data, headers={"ETag": writes.etag(product)})


# --- Risk register -----------------------------------------------------------------------------


class HazardViewSet(DestroyWithReasonMixin, RecordViewSet):
    """The hazard log (ISO 14971 5.4–7.4): one row per hazard → hazardous situation → harm.
    Risk indices and acceptability are derived by the service from the product's policy."""

    model = Hazard
    serializer_class = s.HazardSerializer
    filterset_fields = ["category", "status"]
    instance_kwarg = "hazard"
    create_service = staticmethod(hazard_services.hazard_create)
    update_service = staticmethod(hazard_services.hazard_update)
    delete_service = staticmethod(hazard_services.hazard_delete)

    def update_fields(self, data: dict) -> dict:
        # The model field `hazard` (the potential source of harm) would clash with the
        # service's `hazard` argument: hand the changes over as one dict.
        return {"fields": data}

    def scoped(self, queryset):
        return queryset.select_related("owner").prefetch_related(
            Prefetch("control_links", HazardControl.objects.select_related("control"))
        )


class RiskControlViewSet(RecordViewSet):
    """Risk control measures (ISO 14971 7.1), with the hazards each reduces."""

    model = RiskControl
    serializer_class = s.RiskControlSerializer
    filterset_fields = ["option", "implementation_status", "status"]
    instance_kwarg = "control"
    create_service = staticmethod(hazard_services.control_create)
    update_service = staticmethod(hazard_services.control_update)

    def scoped(self, queryset):
        return queryset.prefetch_related(
            Prefetch("hazard_links", HazardControl.objects.select_related("hazard"))
        )


# --- Software life cycle -----------------------------------------------------------------------


class SoftwareItemViewSet(DestroyWithReasonMixin, RecordViewSet):
    """Software items of the architecture and SOUP (IEC 62304 4.3, 5.3, 8.1.2)."""

    model = SoftwareItem
    serializer_class = s.SoftwareItemSerializer
    filterset_fields = ["is_soup", "safety_class", "support_status"]
    instance_kwarg = "item"
    create_service = staticmethod(trace_services.software_item_create)
    update_service = staticmethod(trace_services.software_item_update)
    delete_service = staticmethod(trace_services.software_item_delete)

    def scoped(self, queryset):
        return queryset.select_related("parent")


class RequirementViewSet(DestroyWithReasonMixin, RecordViewSet):
    """Requirements; risk controls implemented in software become software requirements
    (IEC 62304 7.2)."""

    model = Requirement
    serializer_class = s.RequirementSerializer
    filterset_fields = ["level", "status"]
    instance_kwarg = "requirement"
    create_service = staticmethod(trace_services.requirement_create)
    update_service = staticmethod(trace_services.requirement_update)
    delete_service = staticmethod(trace_services.requirement_delete)

    def scoped(self, queryset):
        return queryset.select_related("parent", "software_item")


class TestCaseViewSet(DestroyWithReasonMixin, RecordViewSet):
    """Verification activities (IEC 62304 5.5–5.7, 7.3.1), with the result of the latest run."""

    model = TestCase
    serializer_class = s.TestCaseSerializer
    filterset_fields = ["method", "level"]
    instance_kwarg = "test_case"
    create_service = staticmethod(trace_services.test_case_create)
    update_service = staticmethod(trace_services.test_case_update)
    delete_service = staticmethod(trace_services.test_case_delete)

    def scoped(self, queryset):
        latest = TestRun.objects.filter(test_case=OuterRef("pk")).order_by("-executed_at", "-id")
        return queryset.annotate(latest_result=Subquery(latest.values("result")[:1]))


class TestRunViewSet(
    DestroyWithReasonMixin,
    ProductNestedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Evidence of test executions (IEC 62304 5.7.5; ISO 14971 7.2). A run is recorded once and
    never edited; one recorded in error is deleted with a reason (history keeps it). POST as
    JSON, or as multipart with an `evidence` file whose SHA-256 is computed on upload."""

    serializer_class = s.TestRunSerializer
    filter_backends = [StrictFilterBackend]
    filterset_fields = {"test_case__code": ["exact"], "result": ["exact"]}
    parser_classes = [BoundedJSONParser, MultiPartParser, FormParser]
    lookup_value_regex = r"\d+"
    instance_kwarg = "run"
    delete_service = staticmethod(trace_services.test_run_delete)
    delete_needs_version = False

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TestRun.objects.none()
        return TestRun.objects.filter(test_case__product=self.product).select_related(
            "test_case", "executed_by"
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = writes.change_reason(request, data)
        run = writes.call_service(
            trace_services.test_run_record, by=request.user, reason=reason, **data
        )
        run = self.get_queryset().get(pk=run.pk)
        return Response(
            self.get_serializer(run).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": writes.etag(run)},
        )

    def retrieve(self, request, *args, **kwargs):
        run = self.get_object()
        return Response(self.get_serializer(run).data, headers={"ETag": writes.etag(run)})


# --- Trace links -------------------------------------------------------------------------------


class LinkViewSet(
    ProductNestedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Explicit trace links of a product. Create with the codes of both ends; DELETE with a
    reason; clear a suspect link with POST …/{id}/review/ and a reason (its history keeps who
    reviewed and why). Links are never edited in place."""

    lookup_value_regex = r"\d+"
    filter_backends = [StrictFilterBackend]
    model = None
    ends: tuple[str, ...] = ()
    product_path = ""

    @staticmethod
    def link_service(**kwargs):
        raise NotImplementedError

    @staticmethod
    def delete_service(**kwargs):
        return trace_services.trace_link_delete(**kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return (
            self.model.objects.filter(**{self.product_path: self.product})
            .select_related(*self.ends, "created_by", "reviewed_by")
            .order_by("pk")
        )

    @property
    def filterset_fields(self):
        return [f"{end}__code" for end in self.ends]

    def link_response(self, link, status_code=status.HTTP_200_OK):
        link = self.get_queryset().get(pk=link.pk)
        return Response(self.get_serializer(link).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = writes.change_reason(request, data)
        link = writes.call_service(self.link_service, by=request.user, reason=reason, **data)
        return self.link_response(link, status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        link = self.get_object()
        writes.call_service(
            self.delete_service, link=link, by=request.user, reason=writes.change_reason(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.LinkReviewSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, *args, **kwargs):
        """Record that the link still holds after an end changed (clears suspicion)."""
        link = self.get_object()
        serializer = s.LinkReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = writes.call_service(
            trace_services.trace_link_review,
            link=link,
            by=request.user,
            reason=serializer.validated_data["review_reason"],
        )
        return self.link_response(link)


class HazardControlViewSet(LinkViewSet):
    """A risk control reduces a hazard's risk (ISO 14971 7.1)."""

    model = HazardControl
    serializer_class = s.HazardControlSerializer
    ends = ("hazard", "control")
    product_path = "hazard__product"
    link_service = staticmethod(hazard_services.hazard_control_link)


class ControlIntroducedHazardViewSet(LinkViewSet):
    """A risk control introduces a new hazard (ISO 14971 7.5)."""

    model = ControlIntroducedHazard
    serializer_class = s.ControlIntroducedHazardSerializer
    ends = ("control", "hazard")
    product_path = "control__product"
    link_service = staticmethod(hazard_services.control_introduces_link)


class HazardTransferViewSet(LinkViewSet):
    """A security risk can lead to a safety hazard (AAMI TIR57 risk transfer)."""

    model = HazardTransfer
    serializer_class = s.HazardTransferSerializer
    ends = ("security_hazard", "safety_hazard")
    product_path = "security_hazard__product"
    link_service = staticmethod(hazard_services.hazard_transfer_link)


class ControlRequirementViewSet(LinkViewSet):
    """A risk control is implemented by a requirement (IEC 62304 7.2)."""

    model = ControlRequirement
    serializer_class = s.ControlRequirementSerializer
    ends = ("control", "requirement")
    product_path = "control__product"
    link_service = staticmethod(trace_services.control_requirement_link)


class RequirementTestViewSet(LinkViewSet):
    """A requirement is verified by a test case (IEC 62304 5.7, 7.3.1)."""

    model = RequirementTest
    serializer_class = s.RequirementTestSerializer
    ends = ("requirement", "test_case")
    product_path = "requirement__product"
    link_service = staticmethod(trace_services.requirement_test_link)


class ControlImplementationTestViewSet(LinkViewSet):
    """A test verifies that a risk control is implemented (ISO 14971 7.2, first part)."""

    model = ControlImplementationTest
    serializer_class = s.ControlImplementationTestSerializer
    ends = ("control", "test_case")
    product_path = "control__product"
    link_service = staticmethod(trace_services.control_implementation_test_link)


class ControlEffectivenessTestViewSet(LinkViewSet):
    """A test verifies that a risk control is effective (ISO 14971 7.2, second part)."""

    model = ControlEffectivenessTest
    serializer_class = s.ControlEffectivenessTestSerializer
    ends = ("control", "test_case")
    product_path = "control__product"
    link_service = staticmethod(trace_services.control_effectiveness_test_link)


class SoftwareItemHazardViewSet(LinkViewSet):
    """A software item can contribute to a hazardous situation, with its cause
    (IEC 62304 7.1.1, 7.1.2)."""

    model = SoftwareItemHazard
    serializer_class = s.SoftwareItemHazardSerializer
    ends = ("software_item", "hazard")
    product_path = "software_item__product"
    link_service = staticmethod(trace_services.software_item_hazard_link)


# --- CI evidence -------------------------------------------------------------------------------


class JUnitUploadView(ProductNestedMixin, APIView):
    """A CI job posts its JUnit XML report; each JUnit case that names a test case (TC-012 in
    its name or a `test_case` property) becomes a TestRun with the XML kept as evidence and its
    SHA-256 (IEC 62304 5.7.5, 7.3.1; ISO 14971 7.2). A bad file writes nothing."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": s.JUnitUploadSerializer},
        responses={
            201: s.JUnitResultSerializer,
            200: OpenApiResponse(s.JUnitResultSerializer, description="No case matched."),
        },
        operation_id="products_junit_create",
    )
    def post(self, request, product_slug):
        serializer = s.JUnitUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            data = uploads.read_upload(upload)  # size checked before a byte is read
            result = import_junit(
                product=self.product,
                data=data,
                filename=upload.name or "junit.xml",
                by=request.user,
            )
        except uploads.UploadError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        runs = s.TestRunSerializer(
            result.created_runs, many=True, context=self.get_serializer_context()
        ).data
        body = {
            "created_runs": runs,
            "unmatched": result.unmatched,
            "evidence_sha256": result.evidence_sha256,
        }
        code = status.HTTP_201_CREATED if result.created_runs else status.HTTP_200_OK
        return Response(body, status=code)

    def get_serializer_context(self):
        return {"request": self.request, "view": self, "product": self.product}


# --- Token page --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def token_page(request):
    """Lets a user create, replace or revoke their own API token (shown once, at creation).

    The token carries the user's own role on each product, nothing more; replacing it revokes
    the old one at once (21 CFR 11.300(b): identification codes are periodically revised and
    can be withdrawn). `manage.py drf_create_token USER` does the same for an administrator.
    """
    new_key = None
    if request.method == "POST":
        action_name = request.POST.get("action")
        Token.objects.filter(user=request.user).delete()
        if action_name == "create":
            new_key = Token.objects.create(user=request.user).key
            messages.success(request, "New API token created; copy it now.")
        else:
            messages.success(request, "Your API token was revoked.")
    token = Token.objects.filter(user=request.user).first()
    return render(
        request,
        "api/token.html",
        {
            "new_key": new_key,
            "has_token": token is not None,
            "token_created": token.created if token else None,
        },
    )
