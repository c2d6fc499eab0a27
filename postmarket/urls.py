from django.urls import path

from postmarket.views import field, problems, vulnerabilities

app_name = "postmarket"

P = "p/<slug:slug>/"
PR = f"{P}problems/<str:code>/"
VU = f"{P}vulnerabilities/<str:code>/"
FI = f"{P}field/<str:code>/"

urlpatterns = [
    # Problem reports and change requests (IEC 62304 §9)
    path(f"{P}problems/", problems.problem_report_list, name="problem_report_list"),
    path(f"{P}problems/new/", problems.problem_report_create, name="problem_report_create"),
    path(PR, problems.problem_report_detail, name="problem_report_detail"),
    path(f"{PR}edit/", problems.problem_report_edit, name="problem_report_edit"),
    path(f"{PR}status/", problems.problem_report_status, name="problem_report_status"),
    path(f"{PR}close/", problems.problem_report_close, name="problem_report_close"),
    path(f"{PR}link/<str:what>/", problems.problem_report_link, name="problem_report_link"),
    path(
        f"{PR}unlink/<str:kind>/<int:link_id>/",
        problems.problem_report_unlink,
        name="problem_report_unlink",
    ),
    path(
        f"{PR}hazards/<int:link_id>/reevaluated/",
        problems.problem_hazard_reevaluated,
        name="problem_hazard_reevaluated",
    ),
    path(f"{PR}changes/", problems.change_request_create, name="change_request_create"),
    path(
        f"{PR}changes/<str:change_code>/",
        problems.change_request_status,
        name="change_request_status",
    ),
    path(f"{PR}history/", problems.problem_report_history, name="problem_report_history"),
    path(
        f"{P}tests/<str:code>/runs/<int:run_id>/report-problem/",
        problems.problem_report_from_run,
        name="problem_report_from_run",
    ),
    # SOUP vulnerabilities
    path(f"{P}vulnerabilities/", vulnerabilities.vulnerability_list, name="vulnerability_list"),
    path(
        f"{P}vulnerabilities/import/",
        vulnerabilities.vulnerability_import,
        name="vulnerability_import",
    ),
    path(
        f"{P}vulnerabilities/import/<int:pk>/status/",
        vulnerabilities.vulnerability_import_status,
        name="vulnerability_import_status",
    ),
    path(f"{P}vulnerabilities/sbom.cdx.json", vulnerabilities.sbom_download, name="sbom_download"),
    path(VU, vulnerabilities.vulnerability_detail, name="vulnerability_detail"),
    path(f"{VU}assess/", vulnerabilities.vulnerability_assess, name="vulnerability_assess"),
    path(
        f"{VU}new-hazard/",
        vulnerabilities.vulnerability_new_hazard,
        name="vulnerability_new_hazard",
    ),
    path(f"{VU}history/", vulnerabilities.vulnerability_history, name="vulnerability_history"),
    # Production and post-production information (ISO 14971 §10)
    path(f"{P}field/", field.field_record_list, name="field_record_list"),
    path(f"{P}field/new/", field.field_record_create, name="field_record_create"),
    path(f"{P}field/trend/", field.field_trend, name="field_trend"),
    path(f"{P}field/exposure/", field.field_exposure_create, name="field_exposure_create"),
    path(FI, field.field_record_detail, name="field_record_detail"),
    path(f"{FI}edit/", field.field_record_edit, name="field_record_edit"),
    path(f"{FI}review/", field.field_record_review, name="field_record_review"),
    path(f"{FI}hazards/", field.field_record_link_hazard, name="field_record_link_hazard"),
    path(
        f"{FI}reestimate/<int:link_id>/",
        field.field_record_reestimate,
        name="field_record_reestimate",
    ),
    path(f"{FI}history/", field.field_record_history, name="field_record_history"),
]
