from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("api.urls")),
    path("", include("hazards.urls")),
    path("", include("riskbench.app_urls")),
    path("", include("traceability.baselines.urls")),
    path("", include("traceability.urls")),
    path("", include("traceability.dossier.urls")),
    path("", include("traceability.integrations.urls")),
    path("", include("postmarket.urls")),
]
