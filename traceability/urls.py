from django.urls import path

from traceability import views

app_name = "traceability"

P = "p/<slug:slug>/"

urlpatterns = [
    # Software items and SOUP
    path(f"{P}software/", views.software_item_list, name="software_item_list"),
    path(f"{P}software/new/", views.software_item_create, name="software_item_create"),
    path(f"{P}software/<str:code>/", views.software_item_detail, name="software_item_detail"),
    path(f"{P}software/<str:code>/edit/", views.software_item_edit, name="software_item_edit"),
    path(
        f"{P}software/<str:code>/delete/", views.software_item_delete, name="software_item_delete"
    ),
    path(
        f"{P}software/<str:code>/hazards/",
        views.software_item_link_hazard,
        name="software_item_link_hazard",
    ),
    path(
        f"{P}software/<str:code>/history/",
        views.software_item_history,
        name="software_item_history",
    ),
    # Requirements
    path(f"{P}requirements/", views.requirement_list, name="requirement_list"),
    path(f"{P}requirements/new/", views.requirement_create, name="requirement_create"),
    path(f"{P}requirements/<str:code>/", views.requirement_detail, name="requirement_detail"),
    path(f"{P}requirements/<str:code>/edit/", views.requirement_edit, name="requirement_edit"),
    path(
        f"{P}requirements/<str:code>/status/", views.requirement_status, name="requirement_status"
    ),
    path(
        f"{P}requirements/<str:code>/delete/", views.requirement_delete, name="requirement_delete"
    ),
    path(
        f"{P}requirements/<str:code>/controls/",
        views.requirement_link_control,
        name="requirement_link_control",
    ),
    path(
        f"{P}requirements/<str:code>/tests/",
        views.requirement_link_test,
        name="requirement_link_test",
    ),
    path(
        f"{P}requirements/<str:code>/history/",
        views.requirement_history,
        name="requirement_history",
    ),
    # Test cases and runs
    path(f"{P}tests/", views.test_case_list, name="test_case_list"),
    path(f"{P}tests/new/", views.test_case_create, name="test_case_create"),
    path(f"{P}tests/<str:code>/", views.test_case_detail, name="test_case_detail"),
    path(f"{P}tests/<str:code>/edit/", views.test_case_edit, name="test_case_edit"),
    path(f"{P}tests/<str:code>/delete/", views.test_case_delete, name="test_case_delete"),
    path(
        f"{P}tests/<str:code>/requirements/",
        views.test_case_link_requirement,
        name="test_case_link_requirement",
    ),
    path(
        f"{P}tests/<str:code>/controls/",
        views.test_case_link_control,
        name="test_case_link_control",
    ),
    path(f"{P}tests/<str:code>/runs/new/", views.test_run_create, name="test_run_create"),
    path(
        f"{P}tests/<str:code>/runs/<int:run_id>/evidence/",
        views.evidence_download,
        name="evidence_download",
    ),
    path(f"{P}tests/<str:code>/history/", views.test_case_history, name="test_case_history"),
    # Links made from a risk control's page (the page itself belongs to `hazards`)
    path(
        f"{P}trace/controls/<str:code>/requirements/",
        views.control_link_requirement,
        name="control_link_requirement",
    ),
    path(f"{P}trace/controls/<str:code>/tests/", views.control_link_test, name="control_link_test"),
    # Type-ahead link pickers (JSON)
    path(f"{P}pick/", views.picker, name="picker"),
    # Links
    path(f"{P}trace/links/<str:kind>/<int:link_id>/delete/", views.link_delete, name="link_delete"),
    path(f"{P}suspect-links/", views.suspect_link_list, name="suspect_links"),
    path(
        f"{P}suspect-links/<str:kind>/<int:link_id>/clear/",
        views.suspect_link_clear,
        name="suspect_link_clear",
    ),
    # Matrix, coverage, impact, trace picture
    path(f"{P}matrix/", views.matrix, name="matrix"),
    path(f"{P}matrix/export.csv", views.matrix_csv, name="matrix_csv"),
    path(f"{P}matrix/export.xlsx", views.matrix_xlsx, name="matrix_xlsx"),
    path(f"{P}coverage/", views.coverage, name="coverage"),
    path(f"{P}impact/", views.impact_start, name="impact_start"),
    path(f"{P}impact/<str:kind>/<str:code>/", views.impact, name="impact"),
    path(f"{P}hazards/<str:code>/trace.svg", views.hazard_trace_svg, name="hazard_trace_svg"),
]
