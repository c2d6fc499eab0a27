"""Who may call which endpoint. The matrix is generated from the URL router (every operation
under /api/), so a new endpoint is tested the day it is added: anonymous → 401, member of
another product → 404, auditor → reads but every unsafe method is 403 with nothing written,
editor → reads, and writes reach validation (400 on an empty body rather than 401/403/404).

Creating a product is reserved to administrators (`riskbench.roles.is_administrator`): 403 for
everyone else."""

import pytest
from django.apps import apps

from tests import factories
from tests.api.conftest import api_endpoints, fill, history_counts, token_client

ENDPOINTS = api_endpoints()
SAFE = {"GET", "HEAD", "OPTIONS"}
PRODUCT_CREATE = ("/api/products/", "POST")
# Not under one product: the product list and the schema and its viewers.
UNSCOPED = {path for path, _ in ENDPOINTS if "{product_slug}" not in path and "{slug}" not in path}


def collection_of(path: str) -> str:
    """The resource an endpoint belongs to: `hazards`, `hazard-controls`… or its own path."""
    parts = path.strip("/").split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "{product_slug}" else path


# One test per resource (the fixture data is built once per test), each checking every
# operation of that resource for every role; a failure lists every wrong answer at once.
GROUPS: dict[str, list[tuple[str, str]]] = {}
for _endpoint in ENDPOINTS:
    GROUPS.setdefault(collection_of(_endpoint[0]), []).append(_endpoint)


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for label in ("hazards", "traceability", "authtoken")
        for model in apps.get_app_config(label).get_models()
    }


def call(client, method: str, url: str):
    """An empty request body, in the format the endpoint parses (JUnit upload: multipart)."""
    body_format = "multipart" if url.endswith("/junit/") else "json"
    return getattr(client, method.lower())(url, {}, format=body_format)


def expected_status(role: str, endpoint: tuple[str, str]) -> int:
    """The answer each caller must get from an endpoint, with an empty request body."""
    path, method = endpoint
    if role == "anonymous":
        return 401
    if endpoint == PRODUCT_CREATE:
        return 403  # administrators only
    if role == "outsider":
        return 200 if path in UNSCOPED else 404
    if method in SAFE:
        return 200
    if role == "auditor":
        return 403
    # The editor is authorised: an empty body is refused by validation (missing fields,
    # version, reason), never by the role check.
    return 400


def test_the_matrix_covers_every_kind_of_endpoint():
    paths = {path for path, _ in ENDPOINTS}
    assert len(ENDPOINTS) > 70
    for collection in ("hazards", "controls", "software-items", "requirements", "test-cases"):
        assert f"/api/products/{{product_slug}}/{collection}/{{code}}/" in paths
    assert ("/api/products/{product_slug}/junit/", "POST") in ENDPOINTS
    assert ("/api/products/{product_slug}/hazard-controls/{pk}/review/", "POST") in ENDPOINTS
    assert sum(len(group) for group in GROUPS.values()) == len(ENDPOINTS)


@pytest.mark.parametrize("collection", sorted(GROUPS))
def test_every_endpoint_answers_each_role_as_the_pages_do(
    collection, api_data, product, editor, auditor, outsider
):
    """anonymous → 401 (token challenge); outsider → 404; auditor → reads, 403 on every unsafe
    method with nothing written; editor → reads, and writes reach validation."""
    callers = {
        "anonymous": token_client(),
        "outsider": token_client(outsider),
        "auditor": token_client(auditor),
        "editor": token_client(editor),
    }
    wrong = []
    for endpoint in GROUPS[collection]:
        path, method = endpoint
        url = fill(path, product, api_data["product"])
        for role, client in callers.items():
            rows, history = row_counts(), history_counts()
            response = call(client, method, url)
            expected = expected_status(role, endpoint)
            where = f"{method} {url} as {role}"
            if response.status_code != expected:
                wrong.append(
                    f"{where}: {response.status_code}, expected {expected}: "
                    f"{response.content[:200]!r}"
                )
            if role != "editor" and (row_counts(), history_counts()) != (rows, history):
                wrong.append(f"{where}: the database changed")
            if role == "anonymous" and response.headers.get("WWW-Authenticate") != "Token":
                wrong.append(f"{where}: no `WWW-Authenticate: Token` challenge")
    assert not wrong, "\n".join(wrong)


def test_outsider_lists_only_their_own_products(api_data, outsider):
    response = token_client(outsider).get("/api/products/")
    assert [p["slug"] for p in response.json()["results"]] == ["infusion-pump"]


def test_records_of_another_product_are_not_reachable_through_yours(
    api_data, product, other_product, editor
):
    """An id or code of another product's record under your product's URL is 404, never that
    record: every queryset is scoped to the product in the URL."""
    client = token_client(editor)
    wrong = []
    before = history_counts()
    for path, method in ENDPOINTS:
        if "{pk}" not in path and "{code}" not in path:
            continue
        url = fill(path, other_product, api_data["other"]).replace(other_product.slug, product.slug)
        response = call(client, method, url)
        if response.status_code != 404:
            wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert history_counts() == before


def test_session_login_works_like_a_token(client, editor, product):
    client.force_login(editor)
    assert client.get(f"/api/products/{product.slug}/hazards/").status_code == 200


def test_only_an_administrator_creates_a_product(db):
    admin = factories.UserFactory(username="admin", is_superuser=True, is_staff=True)
    editor = factories.UserFactory(username="someone", role="Quality engineer")
    payload = {
        "slug": "bp-monitor",
        "name": "Bluetooth blood-pressure monitor",
        "policy_template": factories.default_policy().name,
        "members": ["someone"],
        "change_reason": "New product line",
    }
    assert token_client(editor).post("/api/products/", payload, format="json").status_code == 403
    response = token_client(admin).post("/api/products/", payload, format="json")
    assert response.status_code == 201, response.content
    product = apps.get_model("hazards", "Product").objects.get(slug="bp-monitor")
    assert product.history.get().history_user == admin
    assert product.risk_policy.template == factories.default_policy()  # its own copy
    assert response.json()["risk_policy"] == factories.default_policy().name
    # The new member now sees it.
    listed = token_client(editor).get("/api/products/").json()["results"]
    assert [p["slug"] for p in listed] == ["bp-monitor"]


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_schema_and_docs_need_a_login(url, anonymous_api, auditor_api):
    assert anonymous_api.get(url).status_code == 401
    assert auditor_api.get(url).status_code == 200
