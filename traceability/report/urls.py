from django.urls import path

from traceability.report import views

app_name = "report"
P = "p/<slug:slug>/report/"

urlpatterns = [
    path(P, views.report_list, name="list"),
    path(f"{P}new/", views.report_create, name="create"),
    path(f"{P}<int:pk>/", views.report_detail, name="detail"),
    path(f"{P}<int:pk>/edit/", views.report_edit, name="edit"),
    path(f"{P}<int:pk>/status/", views.report_status, name="status"),
    path(f"{P}<int:pk>/history/", views.report_history, name="history"),
]
