from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.urls import include, path

from riskbench.views import password_reset_gate

# Password reset routes answer 404 unless e-mail can deliver the link (riskbench.views).
PASSWORD_RESET_ROUTES = {
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
account_urls = [
    path(str(route.pattern), password_reset_gate(route.callback), name=route.name)
    if route.name in PASSWORD_RESET_ROUTES
    else route
    for route in auth_urls.urlpatterns
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls)),
    path("api/", include("api.urls")),
    path("", include("hazards.urls")),
    path("", include("riskbench.app_urls")),
    path("", include("traceability.baselines.urls")),
    path("", include("traceability.urls")),
    path("", include("traceability.dossier.urls")),
    path("", include("traceability.integrations.urls")),
    path("", include("traceability.report.urls")),
    path("", include("postmarket.urls")),
]

handler403 = "riskbench.views.permission_denied"
handler404 = "riskbench.views.page_not_found"
handler500 = "riskbench.views.server_error"
