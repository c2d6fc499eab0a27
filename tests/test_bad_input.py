"""Walk EVERY URL pattern with hostile input (issue 9 §4), as an editor, who reaches every view:

* a NUL in each path segment, in a query parameter and in a form field → 400 naming where,
  before any view or query runs (PostgreSQL cannot even receive a NUL in a query);
* values that do not fit a filter (`?severity=abc`, `?page=x`, `?p1=1.5`, a number too big
  for the database, a `next` that is no URL) → never a server error.

Run it on PostgreSQL too (`DATABASE_URL=postgresql://…`): that is where a NUL used to fail.
"""

from urllib.parse import quote

import pytest

from tests import test_all_urls

world = test_all_urls.world  # the same records as the access walk

# Every query parameter some view or filterset reads, each given the same bad value.
PARAMETERS = [
    "q", "page", "severity", "p1", "p2", "status", "category", "initial", "residual", "owner",
    "sort", "level", "method", "result", "verification", "gaps", "option", "code", "hazard",
    "control", "requirement", "upload", "mapping", "prefix", "format", "next", "product",
    "model", "action", "user", "date_from", "date_to", "object", "limit", "offset", "is_soup",
    "safety_class", "support_status", "implementation_status", "test_case__code",
    "hazard__code", "control__code",
]  # fmt: skip
BAD_VALUES = ["abc", "1.5", "-1", "99999999999999999999", "\u00b2", "//evil.example"]


def _nul_variants(url: str) -> list[tuple[str, str]]:
    """(url, what it should name): a NUL appended to each path segment in turn."""
    segments = url.strip("/").split("/")
    variants = []
    for index, segment in enumerate(segments):
        hostile = list(segments)
        hostile[index] = segment + "%00x"
        variants.append(("/" + "/".join(hostile) + "/", segment))
    return variants


@pytest.fixture
def editor_walk(editor_client, world):
    editor_client.raise_request_exception = False  # a 500 is counted, not raised
    urls, missing = test_all_urls.page_urls(world)
    assert urls and not missing
    return editor_client, urls


def test_a_nul_in_any_path_segment_is_a_400_naming_the_segment(editor_walk):
    client, urls = editor_walk
    wrong = []
    for name, url in urls:
        for hostile, segment in _nul_variants(url):
            for method in ("get", "post"):
                response = getattr(client, method)(hostile)
                body = response.content.decode()
                if response.status_code != 400 or "NUL" not in body or segment not in body:
                    wrong.append(f"{method.upper()} {name} {hostile}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_a_nul_in_a_query_parameter_or_form_field_is_a_400_naming_it(editor_walk):
    client, urls = editor_walk
    wrong = []
    for name, url in urls:
        for method, response in (
            ("GET", client.get(f"{url}?q=a%00b")),
            ("POST", client.post(f"{url}?q=a%00b")),
            ("POST form", client.post(url, {"reason": "x", "title": "a\x00b"})),
        ):
            body = response.content.decode()
            named = "'q'" in body or "'title'" in body
            if response.status_code != 400 or "NUL" not in body or not named:
                wrong.append(f"{method} {name}: {response.status_code} {body[:80]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("value", BAD_VALUES)
def test_values_that_fit_no_filter_never_cause_a_server_error(editor_walk, value):
    client, urls = editor_walk
    query = "&".join(f"{name}={quote(value)}" for name in PARAMETERS)
    wrong = []
    for name, url in urls:
        for method, response in (
            ("GET", client.get(f"{url}?{query}")),
            ("POST", client.post(f"{url}?{query}", dict.fromkeys(PARAMETERS, value))),
        ):
            if response.status_code >= 500:
                wrong.append(f"{method} {name}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
