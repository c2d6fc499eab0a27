"""Routes of the REST API, mounted at /api/ (see api/README.md).

Everything of a product's risk file is nested under its slug:
`/api/products/{product_slug}/<collection>/{code}/` for records, `…/<link-kind>/{id}/` for
trace links. The OpenAPI schema is at /api/schema/, Swagger UI at /api/docs/, Redoc at
/api/redoc/ — all served locally (drf-spectacular-sidecar), no CDN.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import SimpleRouter

from api import views

app_name = "api"

PRODUCT = r"products/(?P<product_slug>[-a-zA-Z0-9_]+)"

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register(f"{PRODUCT}/hazards", views.HazardViewSet, basename="hazard")
router.register(f"{PRODUCT}/controls", views.RiskControlViewSet, basename="control")
router.register(f"{PRODUCT}/hazard-controls", views.HazardControlViewSet, basename="hazard-control")
router.register(
    f"{PRODUCT}/control-introduced-hazards",
    views.ControlIntroducedHazardViewSet,
    basename="control-introduced-hazard",
)
router.register(
    f"{PRODUCT}/hazard-transfers", views.HazardTransferViewSet, basename="hazard-transfer"
)

SCHEMA_DESCRIPTION = """Risk management file of connected medical devices (ISO 14971, IEC 62304).

Authenticate with a token (`Authorization: Token <key>`, create yours at /api/token/) or a
browser session. You see only the products you are a member of (others answer 404); auditors
read, quality engineers who are members of a product write.

Writes: send `change_reason` (or the `X-Change-Reason` header) — required when editing an
approved record and when deleting. Updates (PUT/PATCH) must send the `version` you loaded (or
`If-Match: "<version>"`); a stale version answers 409 with what changed. Codes, status, risk
indices, acceptability and the CVSS base score are derived and read-only.
"""

_docs_access = {
    "authentication_classes": [TokenAuthentication, SessionAuthentication],
    "permission_classes": [IsAuthenticated],
}

urlpatterns = [
    *router.urls,
    path("products/<slug:product_slug>/junit/", views.JUnitUploadView.as_view(), name="junit"),
    path("token/", views.token_page, name="token"),
    path(
        "schema/",
        SpectacularAPIView.as_view(
            custom_settings={"DESCRIPTION": SCHEMA_DESCRIPTION}, **_docs_access
        ),
        name="schema",
    ),
    path(
        "docs/", SpectacularSwaggerView.as_view(url_name="api:schema", **_docs_access), name="docs"
    ),
    path(
        "redoc/", SpectacularRedocView.as_view(url_name="api:schema", **_docs_access), name="redoc"
    ),
]
