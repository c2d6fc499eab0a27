"""Routes of the REST API, mounted at /api/ (see api/README.md).

Everything of a product's risk file is nested under its slug:
`/api/products/{product_slug}/<collection>/{code}/` for records, `…/<link-kind>/{id}/` for
trace links. The OpenAPI schema is at /api/schema/, Swagger UI at /api/docs/, Redoc at
/api/redoc/ — all served locally (drf-spectacular-sidecar), no CDN.
"""

from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import SimpleRouter

from api import views

app_name = "api"

PRODUCT = r"products/(?P<product_slug>[-a-zA-Z0-9_]+)"

# (collection, view set, basename): records are addressed by code, links by id.
RESOURCES = [
    ("hazards", views.HazardViewSet, "hazard"),
    ("controls", views.RiskControlViewSet, "control"),
    ("software-items", views.SoftwareItemViewSet, "software-item"),
    ("requirements", views.RequirementViewSet, "requirement"),
    ("test-cases", views.TestCaseViewSet, "test-case"),
    ("test-runs", views.TestRunViewSet, "test-run"),
    # Trace links, one collection per kind (DESIGN.md §2).
    ("hazard-controls", views.HazardControlViewSet, "hazard-control"),
    (
        "control-introduced-hazards",
        views.ControlIntroducedHazardViewSet,
        "control-introduced-hazard",
    ),
    ("hazard-transfers", views.HazardTransferViewSet, "hazard-transfer"),
    ("control-requirements", views.ControlRequirementViewSet, "control-requirement"),
    ("requirement-tests", views.RequirementTestViewSet, "requirement-test"),
    (
        "control-implementation-tests",
        views.ControlImplementationTestViewSet,
        "control-implementation-test",
    ),
    (
        "control-effectiveness-tests",
        views.ControlEffectivenessTestViewSet,
        "control-effectiveness-test",
    ),
    ("software-item-hazards", views.SoftwareItemHazardViewSet, "software-item-hazard"),
]

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
for collection, viewset, basename in RESOURCES:
    router.register(f"{PRODUCT}/{collection}", viewset, basename=basename)

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
# The HTML viewers answer GET only (OPTIONS on drf-spectacular's template views is a 500).
_viewer = {**_docs_access, "http_method_names": ["get", "head"]}

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
        "docs/",
        # Init script served from ?script (no inline script: the site's CSP holds as is).
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html", **_viewer
        ),
        name="docs",
    ),
    path(
        "redoc/",
        # Redoc's bundle injects its styles at run time (styled-components, no nonce support):
        # this page alone allows inline styles; scripts stay same-origin only.
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
            SpectacularRedocView.as_view(
                url_name="api:schema", template_name="api/redoc.html", **_viewer
            )
        ),
        name="redoc",
    ),
]
