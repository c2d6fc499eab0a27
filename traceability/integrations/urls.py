from django.urls import path

from traceability.integrations import views, workbook_views

app_name = "integrations"
P = "p/<slug:slug>/io/"

urlpatterns = [
    path(P, views.index, name="index"),
    path(f"{P}hazards/import/", views.hazards_import, name="hazards_import"),
    path(f"{P}hazards/preview/", views.hazards_preview, name="hazards_preview"),
    path(f"{P}hazards/export/", views.hazards_export, name="hazards_export"),
    path(f"{P}matrix/export/", views.matrix_export, name="matrix_export"),
    path(f"{P}junit/", views.junit_import, name="junit_import"),
    path(f"{P}sbom/import/", views.sbom_import, name="sbom_import"),
    path(f"{P}sbom/preview/", views.sbom_preview, name="sbom_preview"),
    path(f"{P}reqif/export/", views.reqif_export, name="reqif_export"),
    path(f"{P}reqif/import/", views.reqif_import, name="reqif_import"),
    path(f"{P}reqif/preview/", views.reqif_preview, name="reqif_preview"),
    path(f"{P}product/export/", views.product_export, name="product_export"),
    path(f"{P}product/import/", views.product_import, name="product_import"),
    path(f"{P}workbook/import/", workbook_views.workbook_import, name="workbook_import"),
    path(f"{P}workbook/preview/", workbook_views.workbook_preview, name="workbook_preview"),
    path(f"{P}workbook/export/", workbook_views.workbook_export, name="workbook_export"),
    path(f"{P}mappings/", workbook_views.mapping_list, name="mapping_list"),
    path(f"{P}mappings/<int:pk>/", workbook_views.mapping_download, name="mapping_download"),
]
