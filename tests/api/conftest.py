"""API fixtures: token clients for the four callers that matter (anonymous, auditor, editor,
outsider) and a product with one record of every kind and one link of every kind, so every
endpoint the router exposes has something to address."""

import pytest
from django.apps import apps
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories


def token_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        key = Token.objects.get_or_create(user=user)[0].key
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def anonymous_api():
    return token_client()


@pytest.fixture
def editor_api(editor):
    return token_client(editor)


@pytest.fixture
def auditor_api(auditor):
    return token_client(auditor)


@pytest.fixture
def outsider_api(outsider):
    return token_client(outsider)


def api_endpoints() -> list[tuple[str, str]]:
    """(path template, method) of every operation the URL router exposes under /api/."""
    return sorted(
        {
            (path, method)
            for path, _regex, method, _callback in EndpointEnumerator().get_api_endpoints()
            if path.startswith("/api/")
        }
    )


def populate(product) -> dict[str, object]:
    """One record of each kind and one link of each kind in `product`, keyed by the URL
    collection that addresses it. Factories bypass the services (fast fixtures)."""
    hazard = factories.HazardFactory(product=product)
    security = factories.HazardFactory(
        product=product, category="security", p1=None, p2=None, title="Spoofed bolus command"
    )
    control = factories.RiskControlFactory(product=product)
    item = factories.SoftwareItemFactory(product=product)
    requirement = factories.RequirementFactory(product=product, software_item=item)
    test_case = factories.TestCaseFactory(product=product)
    run = factories.TestRunFactory(test_case=test_case)
    hazard_models = apps.get_app_config("hazards")
    return {
        "hazards": hazard,
        "controls": control,
        "software-items": item,
        "requirements": requirement,
        "test-cases": test_case,
        "test-runs": run,
        "hazard-controls": factories.HazardControlFactory(hazard=hazard, control=control),
        "control-introduced-hazards": hazard_models.get_model(
            "ControlIntroducedHazard"
        ).objects.create(control=control, hazard=hazard),
        "hazard-transfers": hazard_models.get_model("HazardTransfer").objects.create(
            security_hazard=security, safety_hazard=hazard
        ),
        "control-requirements": factories.ControlRequirementFactory(
            control=control, requirement=requirement
        ),
        "requirement-tests": factories.RequirementTestFactory(
            requirement=requirement, test_case=test_case
        ),
        "control-implementation-tests": factories.ControlImplementationTestFactory(
            control=control, test_case=test_case
        ),
        "control-effectiveness-tests": factories.ControlEffectivenessTestFactory(
            control=control, test_case=test_case
        ),
        "software-item-hazards": factories.SoftwareItemHazardFactory(
            software_item=item, hazard=hazard
        ),
    }


@pytest.fixture
def api_data(product, other_product):
    return {"product": populate(product), "other": populate(other_product)}


def fill(path: str, product, records: dict) -> str:
    """A concrete URL for a path template, addressing `records` of `product`."""
    collection = path.split("/")[4] if path.count("/") > 4 else ""
    record = records.get(collection)
    url = path.replace("{product_slug}", product.slug).replace("{slug}", product.slug)
    if "{code}" in url:
        url = url.replace("{code}", record.code)
    for placeholder in ("{pk}", "{id}"):
        if placeholder in url:
            url = url.replace(placeholder, str(record.pk))
    return url


def history_counts() -> int:
    """Rows in every history table: an unchanged total proves nothing was written."""
    return sum(
        model._default_manager.count()
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
    )
