"""Shared fixtures: one product with three users who matter for every view — an editor
(quality engineer, member), an auditor (member, read-only) and an outsider (quality engineer
on another product) — in the manner of healthchecks' BaseTestCase."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from riskbench import cache as rb_cache
from riskbench import roles
from tests import factories


@pytest.fixture(autouse=True)
def _no_analysis_from_an_earlier_test():
    """Each test starts as a fresh app server would: no analysis kept in this process from an
    earlier test's database (`riskbench.cache`)."""
    rb_cache.forget_local()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests run last. Playwright's sync API keeps an event loop running on the main
    thread until the session ends, and Django refuses database work in a thread with a running
    loop (SynchronousOnlyOperation): every database test must come before the browser tests,
    whatever order pytest-django gave them."""
    browser = [item for item in items if "tests/browser/" in str(item.fspath)]
    if browser:
        others = [item for item in items if "tests/browser/" not in str(item.fspath)]
        items[:] = others + browser


@pytest.fixture
def product(db):
    return factories.ProductFactory(name="Insulin pump", slug="insulin-pump")


@pytest.fixture
def other_product(db):
    return factories.ProductFactory(name="Infusion pump", slug="infusion-pump")


@pytest.fixture
def editor(product):
    user = factories.UserFactory(username="editor", role=roles.QUALITY_ENGINEER)
    factories.MembershipFactory(product=product, user=user)
    return user


@pytest.fixture
def auditor(product):
    user = factories.UserFactory(username="auditor", role=roles.AUDITOR)
    factories.MembershipFactory(product=product, user=user)
    return user


@pytest.fixture
def outsider(other_product):
    user = factories.UserFactory(username="outsider", role=roles.QUALITY_ENGINEER)
    factories.MembershipFactory(product=other_product, user=user)
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


class QueryCounter(CaptureQueriesContext):
    """Like assertNumQueries, but prints the SQL when the count is wrong (Zulip's habit)."""

    def __init__(self):
        super().__init__(connection)

    @property
    def count(self) -> int:
        return len(self.captured_queries)

    def dump(self) -> str:
        return "\n".join(f"{i}. {q['sql']}" for i, q in enumerate(self.captured_queries, 1))


@pytest.fixture
def count_queries():
    return QueryCounter
