from django.urls import path

from traceability.dossier import views

app_name = "dossier"

urlpatterns = [
    path("p/<slug:slug>/dossier/", views.dossier_list, name="list"),
    path("p/<slug:slug>/dossier/generate/", views.dossier_generate, name="generate"),
    path("p/<slug:slug>/dossier/<int:pk>/status/", views.dossier_status, name="status"),
    path("p/<slug:slug>/dossier/<int:pk>/download/", views.dossier_download, name="download"),
]
