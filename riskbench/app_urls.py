"""URLs of signatures, the audit trail and the access log (namespace "core")."""

from django.urls import path

from riskbench import views

app_name = "core"

urlpatterns = [
    path("audit/", views.audit_trail, name="audit_trail"),
    path("audit/export.csv", views.audit_trail_csv, name="audit_trail_csv"),
    path("audit/access/", views.access_log, name="access_log"),
    path("audit/access/export.csv", views.access_log_csv, name="access_log_csv"),
    path("audit/open/<str:label>/<str:object_id>/", views.open_record, name="open_record"),
    path("signatures/<str:kind>/<int:pk>/", views.record_signatures, name="record_signatures"),
    path("signatures/<str:kind>/<int:pk>/sign/", views.sign, name="sign"),
]
