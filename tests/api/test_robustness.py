"""Inputs that once reached the database as something it cannot hold (server errors found by
fuzzing or by review), now answered as 400 / 404."""

from tests import factories
from tests.api.conftest import api_endpoints, fill, token_client

BASE = "/api/products/insulin-pump"


def test_nul_characters_name_nothing(product, editor):
    """PostgreSQL refuses NUL in a query: such codes are answered (400, by the control
    character middleware) before reaching it."""
    client = token_client(editor)
    response = client.get(f"{BASE}/hazards/HAZ%00001/")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"] and "HAZ" in response.json()["detail"]
    response = client.post(
        f"{BASE}/hazards/",
        {"category": "safety", "title": "x", "owner": "ed\x00itor"},
        format="json",
    )
    # Refused by the JSON parser, naming the member, before any serializer or query runs.
    assert response.status_code == 400 and "$.owner" in response.json()["detail"]
    response = client.get(f"{BASE}/test-runs/", {"test_case__code": "TC\x00"})
    assert response.status_code == 400 and "test_case__code" in response.json()["detail"]


def test_a_huge_page_size_is_capped(product, editor):
    factories.HazardFactory(product=product)
    response = token_client(editor).get(f"{BASE}/hazards/", {"limit": 10**20, "offset": 0})
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_options_on_every_endpoint_answers_without_a_server_error(
    api_data, product, editor, auditor, outsider
):
    """OPTIONS is not in the router's operation list (nor the schema) but is a safe method
    anyone can send: it must follow the same roles and never fail."""
    paths = sorted({path for path, _ in api_endpoints()})
    wrong = []
    for role, user in {"editor": editor, "auditor": auditor, "outsider": outsider}.items():
        client = token_client(user)
        for path in paths:
            response = client.options(fill(path, product, api_data["product"]))
            scoped = "{product_slug}" in path or "{slug}" in path
            if response.status_code >= 500 or (
                role == "outsider" and scoped and response.status_code != 404
            ):
                wrong.append(f"OPTIONS {path} as {role}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_a_reason_longer_than_the_history_keeps_is_refused_not_cut(product, editor):
    client = token_client(editor)
    for extra in ({"change_reason": "x" * 101}, {}):
        headers = {} if extra else {"HTTP_X_CHANGE_REASON": "y" * 101}
        response = client.post(
            f"{BASE}/controls/",
            {"title": "Dose limit", "option": "inherent_safety", **extra},
            format="json",
            **headers,
        )
        assert response.status_code == 400
        assert "change_reason" in response.json()
