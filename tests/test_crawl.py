"""Crawl the demo as a person would: every page reachable by links from the home page renders
for an editor and for an auditor without a server error."""

import re
from collections import deque

import pytest
from django.core.management import call_command

from hazards.models import Product
from riskbench import roles
from tests import factories

HREF = re.compile(r'href="(/[^"#]*)"')
NOT_CRAWLED = ("/admin/", "/accounts/logout", "/static/", "/media/")
MAX_PAGES = 5000  # a safety stop; the demo has about 1,800 distinct pages
QUERY_VARIANTS = 2


def crawl(client) -> dict[str, int]:
    """Breadth-first over same-site links. Each path is fetched with at most
    QUERY_VARIANTS different query strings (sort and filter links multiply pages without
    reaching new views; the filters have their own tests)."""
    seen: dict[str, int] = {}
    variants: dict[str, int] = {}
    queue = deque(["/"])
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        path = url.split("?", 1)[0]
        if "?" in url and variants.get(path, 0) >= QUERY_VARIANTS:
            continue
        variants[path] = variants.get(path, 0) + 1
        response = client.get(url)
        seen[url] = response.status_code
        content_type = response.get("Content-Type", "")
        if response.status_code == 200 and content_type.startswith("text/html"):
            for link in HREF.findall(response.content.decode()):
                link = link.replace("&amp;", "&")
                if link.startswith(NOT_CRAWLED) or link in seen:
                    continue
                queue.append(link)
    return seen


@pytest.fixture
def demo(db):
    call_command("loaddemo", verbosity=0)
    editor = factories.UserFactory(username="crawl-editor", role=roles.QUALITY_ENGINEER)
    auditor = factories.UserFactory(username="crawl-auditor", role=roles.AUDITOR)
    for product in Product.objects.all():
        factories.MembershipFactory(product=product, user=editor)
        factories.MembershipFactory(product=product, user=auditor)
    return editor, auditor


@pytest.mark.parametrize("who", ["editor", "auditor"])
def test_every_linked_page_renders(client, demo, who):
    editor, auditor = demo
    client.force_login(editor if who == "editor" else auditor)
    seen = crawl(client)
    errors = {url: status for url, status in seen.items() if status >= 400}
    assert len(seen) > 500, f"crawl found only {len(seen)} pages"
    assert len(seen) < MAX_PAGES, "the crawl stopped at its safety limit before the end"
    assert not errors, errors
