"""Every list endpoint costs the same number of queries for 10 rows as for 100.

Expected queries per list (token auth): 1 token + user, 1 product, 1 membership check,
1 count (pagination), 1 page of rows with their to-one relations joined, and at most one
prefetch per to-many relation shown (hazard → controls, control → hazards).

The rows are inserted with `bulk_create_with_history` (the test measures reads; 14 × 100 rows
through the services would make it slow without testing anything more).
"""

from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from hazards.models import (
    ControlIntroducedHazard,
    Hazard,
    HazardControl,
    HazardTransfer,
    RiskControl,
)
from tests import factories
from tests.api.conftest import api_endpoints, token_client
from traceability.models import (
    ControlEffectivenessTest,
    ControlImplementationTest,
    ControlRequirement,
    Requirement,
    RequirementTest,
    SoftwareItem,
    SoftwareItemHazard,
    TestCase,
    TestRun,
)

LIST_PATHS = sorted(
    path
    for path, method in api_endpoints()
    if method == "GET" and path.startswith("/api/products/{product_slug}/") and path.count("/") == 5
)


def grow(product, start: int, stop: int, owner) -> None:
    """Rows number start…stop-1 of every kind, each linked to its neighbours like a real file."""
    numbers = range(start, stop)

    def bulk(model, objs):
        return bulk_create_with_history(objs, model, default_user=owner)

    hazards = bulk(
        Hazard,
        [
            factories.HazardFactory.build(product=product, code=f"HAZ-{n:04d}", owner=owner)
            for n in numbers
        ],
    )
    security = bulk(
        Hazard,
        [
            factories.HazardFactory.build(
                product=product, code=f"SEC-{n:04d}", category="security", p1=None, p2=None
            )
            for n in numbers
        ],
    )
    controls = bulk(
        RiskControl,
        [factories.RiskControlFactory.build(product=product, code=f"RC-{n:04d}") for n in numbers],
    )
    parents = bulk(
        SoftwareItem,
        [
            factories.SoftwareItemFactory.build(product=product, code=f"SWP-{n:04d}")
            for n in numbers
        ],
    )
    items = bulk(
        SoftwareItem,
        [
            factories.SoftwareItemFactory.build(product=product, code=f"SW-{n:04d}", parent=p)
            for n, p in zip(numbers, parents, strict=True)
        ],
    )
    requirements = bulk(
        Requirement,
        [
            factories.RequirementFactory.build(
                product=product, code=f"SRS-{n:04d}", software_item=item
            )
            for n, item in zip(numbers, items, strict=True)
        ],
    )
    tests = bulk(
        TestCase,
        [factories.TestCaseFactory.build(product=product, code=f"TC-{n:04d}") for n in numbers],
    )
    bulk(
        TestRun,
        [
            TestRun(test_case=t, result="pass", executed_at=timezone.now(), executed_by=owner)
            for t in tests
        ],
    )
    rows = list(zip(hazards, security, controls, items, requirements, tests, strict=True))
    bulk(HazardControl, [HazardControl(hazard=h, control=c) for h, _, c, *_ in rows])
    bulk(
        ControlIntroducedHazard,
        [ControlIntroducedHazard(control=c, hazard=s) for _, s, c, *_ in rows],
    )
    bulk(
        HazardTransfer,
        [HazardTransfer(security_hazard=s, safety_hazard=h) for h, s, *_ in rows],
    )
    bulk(
        ControlRequirement,
        [ControlRequirement(control=c, requirement=r) for _, _, c, _, r, _ in rows],
    )
    bulk(RequirementTest, [RequirementTest(requirement=r, test_case=t) for *_, r, t in rows])
    bulk(
        ControlImplementationTest,
        [ControlImplementationTest(control=c, test_case=t) for _, _, c, _, _, t in rows],
    )
    bulk(
        ControlEffectivenessTest,
        [ControlEffectivenessTest(control=c, test_case=t) for _, _, c, _, _, t in rows],
    )
    bulk(
        SoftwareItemHazard,
        [
            SoftwareItemHazard(software_item=i, hazard=h, cause_type="defect")
            for h, _, _, i, *_ in rows
        ],
    )


def test_every_list_endpoint_is_measured():
    assert len(LIST_PATHS) == 14


def test_list_query_count_does_not_grow_with_the_data(product, editor, count_queries):
    small, large = 10, 100
    client = token_client(editor)
    urls = [path.replace("{product_slug}", product.slug) + "?limit=100" for path in LIST_PATHS]

    def measure() -> dict[str, tuple[int, int, str]]:
        counts = {}
        for url in urls:
            with count_queries() as q:
                response = client.get(url)
            assert response.status_code == 200, response.content
            counts[url] = (q.count, len(response.json()["results"]), q.dump())
        return counts

    grow(product, 0, small, editor)
    at_small = measure()
    grow(product, small, large, editor)
    at_large = measure()
    for url in urls:
        small_count, small_rows, _ = at_small[url]
        large_count, large_rows, sql = at_large[url]
        assert large_rows > small_rows, url
        assert large_count == small_count, f"{url}: {small_count} → {large_count}\n{sql}"
        assert large_count <= 7, f"{url}: {large_count}\n{sql}"
        print(f"{url}: {large_count} queries for {large_rows} rows")
