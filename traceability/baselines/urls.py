from django.urls import path

from traceability.baselines import views

app_name = "baselines"

P = "p/<slug:slug>/baselines/"

urlpatterns = [
    path(P, views.baseline_list, name="list"),
    path(f"{P}diff/", views.baseline_diff, name="diff"),
    path(f"{P}<int:pk>/", views.baseline_detail, name="detail"),
    path(f"{P}<int:pk>/snapshot.json", views.baseline_json, name="json"),
]
