"""The summary brought up to date by `traceability.incremental` equals a full recomputation,
change after change, for every kind of change the services make (and falls back to the full
recomputation where it must)."""

import contextlib
import random
from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from hazards import services as hazard_services
from hazards.models import Hazard, HazardControl, RiskControl, RiskPolicy
from riskbench import cache as rb_cache
from riskbench.models import Status
from tests import factories
from traceability import graph as tg
from traceability import incremental, summary
from traceability import services as trace_services
from traceability.models import (
    CauseType,
    ControlEffectivenessTest,
    Requirement,
    SoftwareItem,
    SoftwareItemHazard,
    TestCase,
)


@pytest.fixture(autouse=True)
def _fresh_process_memo():
    rb_cache.forget_local()
    yield
    rb_cache.forget_local()


@pytest.fixture
def synthetic(db):
    from bench.synthetic import generate_product

    return generate_product(12, slug="incremental", seed=3)


@pytest.fixture
def author(synthetic):
    user = factories.UserFactory(username="author")
    factories.MembershipFactory(product=synthetic, user=user)
    return user


def assert_same(updated: summary.Summary, full: summary.Summary) -> None:
    assert [(g, g.link) for g in updated.gaps] == [(g, g.link) for g in full.gaps]
    assert list(updated.coverage) == list(full.coverage)
    assert updated.previews == full.previews
    assert updated.controls == full.controls
    assert updated.hazards == full.hazards
    assert updated.states == full.states
    assert updated.required_classes == full.required_classes
    assert updated.mismatches == full.mismatches
    assert updated.own_classes == full.own_classes
    assert updated.items_with_requirements == full.items_with_requirements
    assert updated.head == full.head
    mine = {owner: Counter(kinds) for owner, kinds in updated.checked().items()}
    theirs = {owner: Counter(kinds) for owner, kinds in full.checked().items()}
    assert mine == theirs


def _fresh(model, pk):
    return model.objects.get(pk=pk)


def edit_hazard_title(product, by, rng):
    hazard = rng.choice(list(Hazard.objects.filter(product=product)))
    hazard_services.hazard_update(
        hazard=hazard, by=by, reason="Edit", expected_version=hazard.version, title="Edited"
    )


def edit_hazard_estimate(product, by, rng):
    hazard = rng.choice(list(Hazard.objects.filter(product=product, category="safety")))
    severity = rng.randint(1, 5)
    hazard_services.hazard_update(
        hazard=hazard,
        by=by,
        reason="Re-estimate",
        expected_version=hazard.version,
        severity=severity,
        residual_severity=severity,
    )


def add_hazard(product, by, rng):
    hazard_services.hazard_create(product=product, by=by, category="safety", title="Added")


def link_hazard_to_control(product, by, rng):
    hazard = rng.choice(list(Hazard.objects.filter(product=product)))
    control = rng.choice(list(RiskControl.objects.filter(product=product)))
    with contextlib.suppress(ValidationError):
        hazard_services.hazard_control_link(hazard=hazard, control=control, by=by)


def unlink_hazard_control(product, by, rng):
    link = rng.choice(list(HazardControl.objects.filter(hazard__product=product)))
    hazard_services.link_delete(link=link, by=by, reason="Wrong control")


def record_run(product, by, rng):
    test = rng.choice(list(TestCase.objects.filter(product=product)))
    trace_services.test_run_record(test_case=test, by=by, result=rng.choice(["pass", "fail"]))


def approve_or_reopen(product, by, rng):
    model = rng.choice([Hazard, RiskControl, Requirement, TestCase])
    record = rng.choice(list(model.objects.filter(product=product)))
    status = Status.IN_REVIEW if record.status == Status.APPROVED else Status.APPROVED
    with contextlib.suppress(ValidationError):
        hazard_services.record_set_status(
            record=record, status=status, by=by, reason="Review", expected_version=record.version
        )


def add_requirement_for_a_control(product, by, rng):
    control = rng.choice(list(RiskControl.objects.filter(product=product)))
    requirement = trace_services.requirement_create(
        product=product, by=by, title="New requirement", text="Shall.", level="system"
    )
    trace_services.control_requirement_link(control=control, requirement=requirement, by=by)


def edit_requirement(product, by, rng):
    requirement = rng.choice(list(Requirement.objects.filter(product=product)))
    trace_services.requirement_update(
        requirement=requirement, by=by, reason="Clarify", expected_version=requirement.version,
        title="Clarified",
    )  # fmt: skip


def delete_test_link(product, by, rng):
    link = rng.choice(list(ControlEffectivenessTest.objects.filter(control__product=product)))
    trace_services.trace_link_delete(link=link, by=by, reason="Not an effectiveness test")


def review_suspect_link(product, by, rng):
    links = [
        link for link in HazardControl.objects.filter(hazard__product=product) if link.is_suspect
    ]
    if links:
        trace_services.trace_link_review(link=rng.choice(links), by=by, reason="Still holds")


def delete_hazard(product, by, rng):
    hazard = rng.choice(list(Hazard.objects.filter(product=product).exclude(status="approved")))
    hazard_services.hazard_delete(
        hazard=hazard, by=by, reason="Duplicate", expected_version=hazard.version
    )


def reallocate_requirement(product, by, rng):
    requirement = rng.choice(list(Requirement.objects.filter(product=product)))
    item = rng.choice(list(SoftwareItem.objects.filter(product=product)))
    trace_services.requirement_update(
        requirement=requirement, by=by, reason="Move", expected_version=requirement.version,
        software_item=item,
    )  # fmt: skip


def link_item_to_hazard(product, by, rng):
    item = rng.choice(list(SoftwareItem.objects.filter(product=product)))
    hazard = rng.choice(list(Hazard.objects.filter(product=product)))
    if not SoftwareItemHazard.objects.filter(software_item=item, hazard=hazard).exists():
        trace_services.software_item_hazard_link(
            software_item=item, hazard=hazard, by=by, cause_type=CauseType.values[0]
        )


def transfer_security_to_safety(product, by, rng):
    security = rng.choice(list(Hazard.objects.filter(product=product, category="security")))
    safety = rng.choice(list(Hazard.objects.filter(product=product, category="safety")))
    with contextlib.suppress(ValidationError):
        hazard_services.hazard_transfer_link(security_hazard=security, safety_hazard=safety, by=by)


def control_introduces_hazard(product, by, rng):
    control = rng.choice(list(RiskControl.objects.filter(product=product)))
    hazard = rng.choice(list(Hazard.objects.filter(product=product)))
    with contextlib.suppress(ValidationError):
        hazard_services.control_introduces_link(control=control, hazard=hazard, by=by)


def edit_control(product, by, rng):
    control = rng.choice(list(RiskControl.objects.filter(product=product)))
    hazard_services.control_update(
        control=control, by=by, reason="Reword", expected_version=control.version, title="New"
    )


def add_member(product, by, rng):
    factories.MembershipFactory(product=product, user=factories.UserFactory())


CHANGES = [
    edit_hazard_title,
    edit_hazard_estimate,
    add_hazard,
    link_hazard_to_control,
    unlink_hazard_control,
    record_run,
    approve_or_reopen,
    add_requirement_for_a_control,
    edit_requirement,
    delete_test_link,
    review_suspect_link,
    delete_hazard,
    reallocate_requirement,
    link_item_to_hazard,
    transfer_security_to_safety,
    control_introduces_hazard,
    edit_control,
    add_member,
]


def test_every_kind_of_change_updates_to_what_a_full_recomputation_gives(synthetic, author):
    rng = random.Random(7)
    previous = summary.full_summary(synthetic)
    updated_count = 0
    for step in range(80):
        change = CHANGES[step % len(CHANGES)] if step < len(CHANGES) else rng.choice(CHANGES)
        change(synthetic, author, rng)
        synthetic.refresh_from_db()
        updated = summary.updated_summary(previous, synthetic)
        full = summary.full_summary(synthetic)
        if updated is not None:
            updated_count += 1
            assert_same(updated, full), change.__name__
            previous = updated  # chain the updates: an error would compound
        else:
            previous = full
    # Most changes are redone in part (item-tree and allocation changes fall back).
    assert updated_count >= 50


def test_a_title_edit_and_a_new_hazard_are_redone_in_part(synthetic, author):
    previous = summary.full_summary(synthetic)
    edit_hazard_title(synthetic, author, random.Random(1))
    add_hazard(synthetic, author, random.Random(1))
    updated = summary.updated_summary(previous, synthetic)
    assert updated is not None
    new = Hazard.objects.filter(product=synthetic).order_by("-pk").first()
    assert any(g.node == (tg.HAZARD, new.pk) for g in updated.gaps_of("hazard_without_control"))
    assert_same(updated, summary.full_summary(synthetic))


@pytest.mark.parametrize(
    "change", [reallocate_requirement, link_item_to_hazard], ids=lambda c: c.__name__
)
def test_changes_the_item_tree_may_carry_everywhere_are_recomputed_in_full(
    synthetic, author, change
):
    previous = summary.full_summary(synthetic)
    for seed in range(5):
        change(synthetic, author, random.Random(seed))
    assert summary.updated_summary(previous, synthetic) is None


def test_a_risk_policy_change_is_recomputed_in_full(synthetic, author):
    """A policy moves every hazard's acceptability: no per-record update can follow it."""
    previous = summary.full_summary(synthetic)
    assert summary.updated_summary(previous, synthetic) is None  # nothing changed since
    policy = RiskPolicy.objects.get(product=synthetic)
    policy.name = "Renamed policy"
    policy._change_reason = "Rename"
    policy.save()
    assert summary.updated_summary(previous, synthetic) is None


def test_a_summary_of_writes_rolled_back_is_never_updated(synthetic, author):
    """A summary computed inside a transaction that rolled back describes a state that never
    existed; later real writes reach its sequence number with other hashes."""
    from django.db import transaction

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            add_hazard(synthetic, author, random.Random(1))
            phantom = summary.full_summary(synthetic)
            raise Rollback
    except Rollback:
        pass
    edit_hazard_title(synthetic, author, random.Random(2))
    edit_hazard_title(synthetic, author, random.Random(3))
    assert summary.updated_summary(phantom, synthetic) is None


def test_the_page_after_a_change_shows_the_update(synthetic, author, client):
    """Through the cache: the coverage overview after an edit shows the new hazard's gap, and
    the update (not a full run) produced it."""
    first = summary.product_summary(synthetic)
    add_hazard(synthetic, author, random.Random(2))
    calls = []
    real = incremental.update

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(result is not None)
        return result

    incremental.update = spy
    try:
        second = summary.product_summary(synthetic)
    finally:
        incremental.update = real
    assert calls == [True]
    assert second.head != first.head
    assert second.coverage["hazard_without_control"].gaps == (
        first.coverage["hazard_without_control"].gaps + 1
    )


def test_the_update_of_an_edit_reads_a_neighbourhood_not_the_product(db, count_queries):
    """The same edit on products of 50 and 100 hazards: the same queries (how many depends on
    the shape of the neighbourhood, which the synthetic generator keeps; their rows on its
    size)."""
    from bench.synthetic import generate_product

    counts = []
    for n in (50, 100):
        product = generate_product(n, slug=f"update-{n}")
        user = factories.UserFactory(username=f"author-{n}")
        previous = summary.full_summary(product)
        hazard = Hazard.objects.filter(product=product).order_by("code")[2]
        hazard_services.hazard_update(
            hazard=hazard, by=user, reason="Edit", expected_version=hazard.version, title="New"
        )
        with count_queries() as queries:
            updated = summary.updated_summary(previous, product)
        assert updated is not None
        counts.append(queries.count)
    assert counts[0] == counts[1], counts


def test_the_shared_cache_gets_the_fields_not_the_unpacked_copies(synthetic, author):
    """An updated summary keeps its gaps and checks unpacked for this process's next update;
    what is pickled for the other app servers is the packed fields only."""
    import pickle

    previous = summary.full_summary(synthetic)
    edit_hazard_title(synthetic, author, random.Random(4))
    updated = summary.updated_summary(previous, synthetic)
    assert {"_unpacked", "_checked"} <= set(updated.__dict__)
    shipped = pickle.loads(pickle.dumps(updated))  # noqa: S301 - our own bytes
    assert not [name for name in shipped.__dict__ if name.startswith("_")]
    assert_same(shipped, summary.full_summary(synthetic))
