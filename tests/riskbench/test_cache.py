"""Product-wide analyses are cached per product change counter and never shown stale."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from simple_history.utils import bulk_update_with_history

from hazards import services as hazard_services
from hazards.models import Hazard, HazardControl, Product
from riskbench import audit
from riskbench import cache as rb_cache
from riskbench.models import SignatureMeaning
from riskbench.signatures import signature_create
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_process_memo():
    rb_cache.forget_local()
    yield
    rb_cache.forget_local()


def populated(product):
    """One record of each core regulated model and one of each trace link."""
    hazard = factories.HazardFactory(product=product)
    control = factories.RiskControlFactory(product=product)
    factories.HazardControlFactory(hazard=hazard, control=control)
    item = factories.SoftwareItemFactory(product=product)
    requirement = factories.RequirementFactory(product=product, software_item=item)
    test = factories.TestCaseFactory(product=product)
    factories.TestRunFactory(test_case=test)
    factories.ControlRequirementFactory(control=control, requirement=requirement)
    factories.RequirementTestFactory(requirement=requirement, test_case=test)
    factories.ControlImplementationTestFactory(control=control, test_case=test)
    factories.ControlEffectivenessTestFactory(control=control, test_case=test)
    factories.SoftwareItemHazardFactory(software_item=item, hazard=hazard)
    return hazard, control


# Historied records of no product: their history rows go to the global chain, which is part of
# every product's counter (a change to one of them invalidates every product's analyses).
GLOBAL_MODELS = {"riskbench.UserProfile"}


def test_every_regulated_model_belongs_to_a_product_chain():
    """Every historied model reaches its product (directly or through a link end), so each of
    its history rows moves that product's counter; the few that belong to no product are
    listed above, so a new one is a decision, not an accident."""
    unreachable = {
        model._meta.label
        for model, _history in audit.history_models()
        if not (
            model is Product
            or audit._product_field(model) is not None
            or bool(audit._product_paths(model))
        )
    }
    assert unreachable == GLOBAL_MODELS


@pytest.mark.django_db
def test_a_change_to_a_record_of_no_product_moves_every_products_counter(product, editor):
    from riskbench.models import UserProfile

    other = factories.ProductFactory()
    before = rb_cache.change_counter(product.pk), rb_cache.change_counter(other.pk)
    profile = UserProfile(user=editor, role_title="Risk manager")
    profile._history_user = editor
    profile.save()
    after = rb_cache.change_counter(product.pk), rb_cache.change_counter(other.pk)
    assert after[0] != before[0] and after[1] != before[1]


@pytest.mark.django_db
def test_every_save_and_delete_of_a_regulated_record_moves_the_counter(product, editor):
    """Walk every regulated model: saving (the service helpers' last step) and deleting any
    record of the product moves the product's change counter; another product's does not."""
    populated(product)
    other = factories.ProductFactory()
    walked = set()
    for model, _history in audit.history_models():
        rows = list(model._base_manager.order_by("pk"))
        owners = audit.resolve_product_ids(model, rows)
        mine = [row for row, owner in zip(rows, owners, strict=True) if owner == product.pk]
        if not mine:
            continue
        record = mine[0]
        before, before_other = (
            rb_cache.change_counter(product.pk),
            rb_cache.change_counter(other.pk),
        )
        record._history_user = editor
        record._change_reason = "Walk"
        record.save()
        assert rb_cache.change_counter(product.pk) != before, model._meta.label
        assert rb_cache.change_counter(other.pk) == before_other, model._meta.label
        walked.add(model._meta.label)
    expected = {
        "hazards.Product",
        "hazards.Hazard",
        "hazards.RiskControl",
        "hazards.HazardControl",
        "hazards.RiskPolicy",
        "hazards.Membership",
        "traceability.SoftwareItem",
        "traceability.Requirement",
        "traceability.TestCase",
        "traceability.TestRun",
        "traceability.ControlRequirement",
        "traceability.RequirementTest",
        "traceability.ControlImplementationTest",
        "traceability.ControlEffectivenessTest",
        "traceability.SoftwareItemHazard",
    }
    assert expected <= walked, expected - walked
    link = HazardControl.objects.get(hazard__product=product)
    before = rb_cache.change_counter(product.pk)
    link._history_user = editor
    link.delete()
    assert rb_cache.change_counter(product.pk) != before


@pytest.mark.django_db
def test_bulk_paths_and_signatures_move_the_counter(product, editor):
    hazard, _control = populated(product)
    before = rb_cache.change_counter(product.pk)
    hazard.title = "Renamed in bulk"
    with transaction.atomic():
        bulk_update_with_history([hazard], Hazard, ["title"], default_user=editor)
        audit.chain_pending(models=[Hazard])
    after_bulk = rb_cache.change_counter(product.pk)
    assert after_bulk != before
    hazard.refresh_from_db()
    signature_create(record=hazard, by=editor, meaning=SignatureMeaning.AUTHORED, reason="Mine")
    assert rb_cache.change_counter(product.pk) != after_bulk


@pytest.mark.django_db
def test_a_rolled_back_write_never_reaches_a_later_key(product, editor):
    """An analysis computed inside a transaction that rolls back is stored under a key (head
    hash) that the next committed write does not produce."""
    populated(product)
    inside = {}

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        factories.HazardFactory(product=product, title="Never committed")
        inside["key"] = rb_cache.analysis_key("probe", product.pk)
        raise Rollback
    factories.HazardFactory(product=product, title="Committed")
    assert rb_cache.analysis_key("probe", product.pk) != inside["key"]


@pytest.mark.django_db
def test_value_is_computed_once_per_change(product, editor):
    populated(product)
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert rb_cache.cached_analysis("probe", product.pk, compute) == 1
    rb_cache.forget_local()  # a second app server: only the shared cache in common
    assert rb_cache.cached_analysis("probe", product.pk, compute) == 1
    factories.HazardFactory(product=product)
    assert rb_cache.cached_analysis("probe", product.pk, compute) == 2
    assert len(calls) == 2


def _new_hazard(product, editor, title):
    return hazard_services.hazard_create(
        product=product, by=editor, reason="New", title=title, category="safety"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["traceability:coverage", "hazards:dashboard"])
def test_after_a_committed_change_no_page_shows_a_stale_analysis(
    page, product, editor, editor_client
):
    """Two app servers share the database cache; each keeps its own in-process copy. Server A
    shows the page, a change is committed (through B), and A's next view already counts it."""
    populated(product)
    url = reverse(page, args=[product.slug])
    before = editor_client.get(url).content.decode()
    server_a_memo = dict(rb_cache._local)
    assert server_a_memo, "the page used the analysis cache"

    rb_cache.forget_local()  # server B
    hazard = _new_hazard(product, editor, "Cached coverage probe")

    rb_cache._local.update(server_a_memo)  # back on server A, with its old copies
    after = editor_client.get(url).content.decode()
    assert after != before
    if page == "traceability:coverage":
        assert hazard.code in after and hazard.code not in before
    # Linking a control to it closes the gap at once.
    control = factories.RiskControlFactory(product=product)
    hazard_services.hazard_control_link(hazard=hazard, control=control, by=editor, reason="Fix")
    fixed = editor_client.get(url).content.decode()
    if page == "traceability:coverage":
        sections = fixed.split('<h2 id="')[1:]  # one per check with gaps
        without_control = [s.split("<h2")[0] for s in sections if '">Hazards without' in s[:80]]
        assert all(f">{hazard.code}<" not in section for section in without_control)


@pytest.mark.django_db
def test_the_database_cache_table_exists_after_migrate():
    cache.set("probe", 42)
    assert cache.get("probe") == 42


@pytest.mark.django_db
def test_a_new_value_replaces_the_previous_one_in_the_shared_cache(product):
    populated(product)
    rb_cache.cached_analysis("probe", product.pk, lambda: "first")
    first_key = rb_cache.analysis_key("probe", product.pk)
    assert cache.get(first_key) is not None
    factories.HazardFactory(product=product)
    assert rb_cache.cached_analysis("probe", product.pk, lambda: "second") == "second"
    assert cache.get(first_key) is None  # nobody can ask for it again


def test_cache_url_selects_redis_else_the_database_cache():
    import os
    import subprocess
    import sys

    code = (
        "import django.conf, riskbench.settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "REDIS_URL")}
    plain = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert plain.stdout.split() == [
        "django.core.cache.backends.db.DatabaseCache",
        "riskbench_cache",
    ]
    env["REDIS_URL"] = "redis://127.0.0.1:6379/7"
    redis = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert redis.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6379/7",
    ]


@pytest.mark.django_db
def test_analyses_are_shared_through_redis_when_configured(product, settings):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/7", socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/7",
            "KEY_PREFIX": f"riskbench-test-{product.pk}-{id(product)}",
            "TIMEOUT": 60,  # a test's keys expire by themselves (clear() would flush the db)
        }
    }
    populated(product)
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert rb_cache.cached_analysis("probe", product.pk, compute) == 1
    rb_cache.forget_local()  # another app server
    assert rb_cache.cached_analysis("probe", product.pk, compute) == 1
    factories.HazardFactory(product=product)
    assert rb_cache.cached_analysis("probe", product.pk, compute) == 2


def test_a_summary_read_from_the_shared_cache_unpacks_only_the_gaps_a_page_asks_for(product):
    """The dashboard reads counts, the coverage overview the first gaps of each kind, a
    `?kind=` page one kind: a second app server never unpickles ~50,000 gaps to show a count.
    What it unpacks is the gate's answer, in the gate's order."""
    from traceability import gate, summary

    for _ in range(3):
        factories.HazardFactory(product=product)  # no control: gaps of several kinds
    expected = gate.product_gaps(product).gaps
    summary.product_summary(product)  # computed and shared
    rb_cache.forget_local()  # a second app server
    shared = summary.product_summary(product)
    assert shared.gap_count == len(expected)
    assert "_unpacked" not in shared.__dict__
    assert (
        shared.previews["hazard_without_control"]
        == [g for g in expected if g.kind == "hazard_without_control"][: summary.PREVIEW]
    )
    assert "_unpacked" not in shared.__dict__  # previews need no unpacking
    assert shared.gaps_of("hazard_without_control") == [
        g for g in expected if g.kind == "hazard_without_control"
    ]
    assert set(shared.__dict__["_unpacked"]) == {"hazard_without_control"}
    assert shared.gaps == expected
    assert shared.gaps_of("no_such_kind") == []
