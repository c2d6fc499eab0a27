"""Bad input and small leaks at the API (issue 9 §4, §5): bodies the parser must refuse with a
message, and the 404 that must not tell a product that is not yours from one that does not
exist."""

import json

import pytest

from hazards.models import Hazard
from tests.api.conftest import api_endpoints, fill, history_counts, token_client

BASE = "/api/products/insulin-pump"
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/hazards/"), ("patch", "/hazards/HAZ-001/"), ("post", "/hazard-controls/")],
)
def test_a_100000_deep_json_body_is_a_400_not_a_recursion_error(
    api_data, product, editor, method, path
):
    client = token_client(editor)
    client.raise_request_exception = False
    code = api_data["product"]["hazards"].code
    before = history_counts()
    body = '{"title": "x", "change_reason": ' + DEEP + "}"
    response = getattr(client, method)(
        BASE + path.replace("HAZ-001", code), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested 100001 levels deep" in response.json()["detail"]
    assert history_counts() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"title": NaN}', "NaN is not a JSON number"),
        ('{"title": "a\\u0000b"}', "$.title contains a NUL character"),
        ('{"title": ', "not valid JSON"),
    ],
)
def test_bad_json_bodies_get_a_message_naming_the_problem(product, editor, body, message):
    response = token_client(editor).post(f"{BASE}/hazards/", body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Hazard.objects.exists()


def test_a_nul_in_a_filter_is_a_400_naming_it(product, editor):
    response = token_client(editor).get(f"{BASE}/hazards/", {"status": "draft\x00"})
    assert response.status_code == 400
    assert "'status'" in response.json()["detail"]


# --- The same 404, whether the product is someone else's or does not exist ----------------------

SCOPED = [(p, m) for p, m in api_endpoints() if "{product_slug}" in p or "{slug}" in p]
MISSING_SLUG = "no-such-pump"


def _answer(client, method: str, url: str):
    body_format = "multipart" if url.endswith("/junit/") else "json"
    response = getattr(client, method.lower())(url, {}, format=body_format)
    return response.status_code, response.content, sorted(response.headers.items())


def test_every_product_route_answers_the_same_404_for_not_yours_and_not_there(
    api_data, product, other_product, outsider, editor
):
    """Table-driven over the router's URLs: for each operation, the editor of `product` asks
    for `other_product` (exists, not theirs) and for a slug that exists nowhere, with the
    same record codes and ids. Status, body and every header must be identical."""
    assert len(SCOPED) > 40
    client = token_client(editor)
    wrong = []
    for path, method in SCOPED:
        not_yours = fill(path, other_product, api_data["other"])
        not_there = not_yours.replace(f"/{other_product.slug}/", f"/{MISSING_SLUG}/", 1)
        assert MISSING_SLUG in not_there, not_yours
        first, second = _answer(client, method, not_yours), _answer(client, method, not_there)
        if first[0] != 404 or first != second:
            wrong.append(f"{method} {path}: {first[0]} {first[1][:60]!r} vs {second[1][:60]!r}")
    assert not wrong, "\n".join(wrong)


def test_the_404_body_says_no_more_than_no_such_product(api_data, product, editor):
    response = token_client(editor).get(f"/api/products/{MISSING_SLUG}/hazards/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such product."}
    response = token_client(editor).get(f"/api/products/{MISSING_SLUG}/")
    assert json.loads(response.content) == {"detail": "No such product."}
