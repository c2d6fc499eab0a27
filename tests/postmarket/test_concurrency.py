"""Two vulnerability checks of the same feed at once record each match once (the product row
lock serialises them; the second finds everything recorded). Run on PostgreSQL, where the two
transactions really interleave."""

import threading

import pytest
from django.db import connection

from postmarket import feeds, vulncheck
from postmarket.models import Vulnerability
from tests import factories
from tests.postmarket.conftest import OSV_DIR, SOUP


@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_record_each_match_once():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; row locks are exercised on PostgreSQL.")
    product = factories.ProductFactory()  # its own policy, from the (re-made) template
    user = factories.UserFactory()
    for code, name, purl, version in SOUP:
        factories.SoftwareItemFactory(
            product=product, code=code, name=name, purl=purl, soup_version=version, is_soup=True
        )
    errors, barrier = [], threading.Barrier(2)

    def check():
        try:
            index, _ = vulncheck.index_soup(product)
            result = vulncheck.scan(feeds.read_feed(OSV_DIR), index)
            barrier.wait()
            vulncheck.apply(product, result, by=user, kev=None, source="concurrent")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    records = Vulnerability.objects.filter(product=product)
    assert records.count() == 7
    assert sorted(records.values_list("code", flat=True)) == [f"VUL-{n:03d}" for n in range(1, 8)]
    assert Vulnerability.history.filter(product_id=product.pk).count() == 7
