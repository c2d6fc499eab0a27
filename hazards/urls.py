from django.urls import path

from hazards import views

app_name = "hazards"

urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("switch/", views.product_switch, name="product_switch"),
    path("products/new/", views.product_create, name="product_create"),
    path("policies/", views.policy_templates, name="policy_templates"),
    path("policies/new/", views.policy_template_create, name="policy_template_create"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("p/<slug:slug>/", views.dashboard, name="dashboard"),
    path("p/<slug:slug>/edit/", views.product_edit, name="product_edit"),
    path("p/<slug:slug>/history/", views.product_history, name="product_history"),
    path("p/<slug:slug>/search/", views.search, name="search"),
    path("p/<slug:slug>/policy/", views.product_policy, name="product_policy"),
    path("p/<slug:slug>/policy/edit/", views.product_policy_edit, name="product_policy_edit"),
    path("p/<slug:slug>/policy/status/", views.product_policy_status, name="product_policy_status"),
    path(
        "p/<slug:slug>/policy/template/",
        views.product_policy_template,
        name="product_policy_template",
    ),
    path("p/<slug:slug>/hazards/", views.hazard_list, name="hazard_list"),
    path("p/<slug:slug>/hazards/new/", views.hazard_create, name="hazard_create"),
    path("p/<slug:slug>/hazards/<str:code>/", views.hazard_detail, name="hazard_detail"),
    path("p/<slug:slug>/hazards/<str:code>/edit/", views.hazard_edit, name="hazard_edit"),
    path("p/<slug:slug>/hazards/<str:code>/status/", views.hazard_status, name="hazard_status"),
    path("p/<slug:slug>/hazards/<str:code>/delete/", views.hazard_delete, name="hazard_delete"),
    path("p/<slug:slug>/hazards/<str:code>/history/", views.hazard_history, name="hazard_history"),
    path(
        "p/<slug:slug>/hazards/<str:code>/controls/",
        views.hazard_link_control,
        name="hazard_link_control",
    ),
    path(
        "p/<slug:slug>/hazards/<str:code>/introduced-by/",
        views.hazard_link_introduced,
        name="hazard_link_introduced",
    ),
    path(
        "p/<slug:slug>/hazards/<str:code>/leads-to/",
        views.hazard_link_transfer,
        name="hazard_link_transfer",
    ),
    path(
        "p/<slug:slug>/hazards/<str:code>/links/<str:kind>/<int:link_id>/delete/",
        views.hazard_unlink,
        name="hazard_unlink",
    ),
    path("p/<slug:slug>/controls/", views.control_list, name="control_list"),
    path("p/<slug:slug>/controls/new/", views.control_create, name="control_create"),
    path("p/<slug:slug>/controls/<str:code>/", views.control_detail, name="control_detail"),
    path("p/<slug:slug>/controls/<str:code>/edit/", views.control_edit, name="control_edit"),
    path("p/<slug:slug>/controls/<str:code>/status/", views.control_status, name="control_status"),
    path(
        "p/<slug:slug>/controls/<str:code>/hazards/",
        views.control_link_hazard,
        name="control_link_hazard",
    ),
    path(
        "p/<slug:slug>/controls/<str:code>/history/",
        views.control_history,
        name="control_history",
    ),
]
