"""`manage.py loaddemo`: the demo risk files load through the services, idempotently, fit the
risk policy, show real traceability gaps on two products and none on the pacemaker, and the
demo logins exist only when enabled.

The module loads the demo as `make run` does — with the demo logins, so the demo user approves
each product's own risk policy with a signature and its risks are evaluated. Without demo logins
nobody can sign: tests/traceability/test_loaddemo_unsigned.py covers that load.

Loading the demo writes ~1 200 history rows, so the read-only checks share one load per module
(inside a transaction rolled back at the end of the module); each test still runs in its own
savepoint, so nothing leaks into other tests.
"""

import datetime as dt
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from hazards import risk, services
from hazards.models import (
    Category,
    ControlIntroducedHazard,
    ControlOption,
    Hazard,
    HazardTransfer,
    HipaaIdentifier,
    Product,
)
from riskbench import roles
from riskbench.models import Signature, Status
from tests.cli import run_command
from traceability.demo import PRODUCTS, infusion_pump, insulin_pump, pacemaker
from traceability.demo.loader import DEMO_EPOCH
from traceability.management.commands.loaddemo import DEMO_LOGINS, SYSTEM_USERNAME

SLUGS = [m.PRODUCT["slug"] for m in PRODUCTS]


def load() -> str:
    out = StringIO()
    with override_settings(DEMO_LOGIN_ENABLED=True):
        call_command("loaddemo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    """Row count of every model, history models included."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo loaded once for this module, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = load()
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def products(demo, db):
    return {p.slug: p for p in Product.objects.filter(slug__in=SLUGS)}


def test_loads_three_connected_device_products_with_full_plan_fields(products, demo):
    assert set(products) == set(SLUGS)
    assert len(products) >= 3
    for slug in SLUGS:
        assert f"{slug}: created" in demo
    plan_fields = (
        "model_number",
        "manufacturer",
        "document_number",
        "description",
        "intended_use",
        "reasonably_foreseeable_misuse",
        "intended_users",
        "use_environment",
        "connectivity",
        "safety_characteristics",
        "verification_plan",
        "overall_residual_risk_method",
        "post_production_plan",
    )
    for product in products.values():
        empty = [name for name in plan_fields if not getattr(product, name).strip()]
        assert not empty, f"{product.slug}: empty {empty}"
        assert product.document_number.startswith("RMF-")
        assert product.software_safety_class == "C"


def test_each_product_has_15_hazards_in_all_three_categories_and_all_control_options(products):
    for product in products.values():
        hazards = list(product.hazards.all())
        assert len(hazards) >= 15, product.slug
        per_category = {c: sum(h.category == c for h in hazards) for c in Category.values}
        assert per_category[Category.SAFETY] >= 9, (product.slug, per_category)
        assert per_category[Category.SECURITY] >= 4, (product.slug, per_category)
        assert per_category[Category.PRIVACY] >= 3, (product.slug, per_category)
        options = set(product.controls.values_list("option", flat=True))
        assert options == set(ControlOption.values), product.slug
        assert product.controls.exclude(security_category="").exists()


def test_every_chain_is_written_out(products):
    for hazard in Hazard.objects.filter(product__in=products.values()):
        for name in ("hazard", "sequence_of_events", "hazardous_situation", "harm", "title"):
            assert len(getattr(hazard, name)) > 10, (hazard.product.slug, hazard.code, name)
        assert hazard.hazard_type, hazard.code


def test_every_estimate_fits_the_policy(products):
    """Re-deriving every estimate from its inputs under the product's policy changes nothing,
    and every row has an initial estimate (residuals only missing on unfinished drafts)."""
    for hazard in Hazard.objects.filter(product__in=products.values()).select_related(
        "product__risk_policy"
    ):
        derived = (
            "probability",
            "initial_risk_index",
            "initial_acceptability",
            "residual_probability",
            "residual_risk_index",
            "residual_acceptability",
            "cvss_base_score",
        )
        before = [getattr(hazard, name) for name in derived]
        assert hazard.product.risk_policy.is_approved
        services.apply_estimates(hazard, hazard.product.risk_policy.evaluation_data)
        assert [getattr(hazard, name) for name in derived] == before, hazard.code
        assert hazard.initial_acceptability, (hazard.product.slug, hazard.code)
        if hazard.status != Status.DRAFT:
            assert hazard.residual_acceptability, (hazard.product.slug, hazard.code)
        if hazard.residual_risk_index is not None:
            assert hazard.residual_risk_index <= hazard.initial_risk_index, hazard.code


def test_approved_rows_pass_the_approval_check_and_statuses_are_mixed(products):
    """The pumps keep rows in draft and in review; the releasable pacemaker has every row
    approved (a release needs it)."""
    for product in products.values():
        statuses = set(product.hazards.values_list("status", flat=True))
        if product.slug == pacemaker.PRODUCT["slug"]:
            assert statuses == {Status.APPROVED}
        else:
            assert statuses == {Status.DRAFT, Status.IN_REVIEW, Status.APPROVED}, product.slug
        for hazard in product.hazards.filter(status=Status.APPROVED):
            check = services.hazard_approval_check(hazard)
            assert check.ok, (product.slug, hazard.code, check.problems)
            if risk.requires_benefit_risk(hazard.residual_estimate):
                assert hazard.benefit_risk_justification.strip(), hazard.code


def test_security_rows_carry_scored_cvss_vectors_and_transfers_to_safety(products):
    for product in products.values():
        security = product.hazards.filter(category=Category.SECURITY)
        for hazard in security:
            assert hazard.cvss_vector.startswith("CVSS:3.1/"), hazard.code
            assert hazard.cvss_base_score is not None, hazard.code
            assert hazard.residual_cvss_vector.startswith("CVSS:3.1/"), hazard.code
            assert hazard.asset and hazard.threat and hazard.vulnerability, hazard.code
        transfers = HazardTransfer.objects.filter(security_hazard__product=product)
        assert transfers.count() >= 2, product.slug
        assert ControlIntroducedHazard.objects.filter(control__product=product).exists()


def test_privacy_rows_name_hipaa_identifiers_and_a_linddun_threat(products):
    known = set(HipaaIdentifier.values)
    for product in products.values():
        for hazard in product.hazards.filter(category=Category.PRIVACY):
            assert hazard.data_elements, hazard.code
            assert set(hazard.data_elements) <= known, hazard.code
            assert hazard.linddun_category, hazard.code
            # The personal data at stake (asset) is recorded apart from the hazard.
            assert hazard.asset and hazard.asset != hazard.hazard, hazard.code


def test_history_rows_name_the_author_and_a_reason(products):
    admin = User.objects.get(username=SYSTEM_USERNAME)
    assert not admin.has_usable_password() and not admin.is_active and admin.is_superuser
    author = User.objects.get(username="demo")
    for product in products.values():
        # Opened, and access given, by the demo's administrator; the policy approved by the
        # demo user's signature, which re-evaluated nothing (no hazard existed yet).
        rows = list(product.history.order_by("history_id"))
        assert rows[0].history_user == admin  # opened
        # Then the plan's responsibilities and reviews (4.4 b, c), written by the demo user.
        assert any(
            r.history_user == author and r.history_change_reason.startswith("Plan: responsib")
            for r in rows[1:]
        )
        assert {m.history.get().history_user for m in product.memberships.all()} == {admin}
        policy = product.risk_policy
        assert policy.is_approved and policy.template is not None
        reasons = list(
            policy.history.order_by("history_id").values_list("history_change_reason", flat=True)
        )
        assert reasons[0].startswith("Copied from template Default risk policy")
        assert reasons[-1] == "Approved with electronic signature of demo"
    for hazard in Hazard.objects.filter(product__in=products.values()):
        rows = list(hazard.history.order_by("history_id"))
        assert rows[0].history_type == "+"
        assert all(r.history_user_id == author.pk for r in rows), hazard.code
        assert all(r.history_change_reason for r in rows), hazard.code
        if hazard.status == Status.APPROVED:
            reasons = [r.history_change_reason for r in rows]
            assert any(reason.startswith("Approved") for reason in reasons), hazard.code


def test_test_runs_are_dated_from_the_fixed_demo_epoch(products):
    from traceability.models import TestRun

    runs = TestRun.objects.filter(test_case__product__in=products.values())
    assert runs.count() > 50
    dates = list(runs.values_list("executed_at", flat=True))
    assert max(dates) <= DEMO_EPOCH
    assert min(dates) >= DEMO_EPOCH - dt.timedelta(days=180)
    # Mostly passing, a few failing.
    results = list(runs.values_list("result", flat=True))
    assert results.count("fail") >= 3
    assert results.count("pass") > len(results) * 0.8


def test_every_product_has_soup_with_its_ntia_fields(products):
    for product in products.values():
        soup = product.software_items.filter(is_soup=True)
        assert soup.count() >= 3, product.slug
        for item in soup:
            assert item.manufacturer and item.soup_version and item.purl and item.licence
            assert item.soup_requirements, item.code
        assert product.software_items.filter(parent__isnull=False).exists()


def gaps_of(product):
    from traceability.graph import build_graph, find_gaps

    return find_gaps(build_graph(product))


def test_the_pacemaker_file_is_complete(products):
    gaps = gaps_of(products[pacemaker.PRODUCT["slug"]])
    assert gaps == [], [g.message for g in gaps]


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (
            insulin_pump,
            {
                ("hazard_without_control", "HAZ-018"),
                ("benefit_risk_missing", "HAZ-009"),
                ("control_without_requirement", "RC-013"),
                ("control_without_implementation_evidence", "RC-018"),
                ("control_without_implementation_evidence", "RC-013"),
                ("control_without_implementation_evidence", "RC-001"),
                ("requirement_without_test", "SRS-019"),
                ("control_without_effectiveness_evidence", "RC-013"),
                ("test_not_passing", "TC-001"),
            },
        ),
        (
            infusion_pump,
            {
                ("soup_anomalies_not_reviewed", "SW-007"),
                ("software_class_too_low", "SW-004"),
                ("suspect_link", "RC-001"),
                ("suspect_link", "SRS-004"),
                ("test_not_passing", "TC-011"),
                ("control_without_implementation_evidence", "RC-011"),
                ("control_without_effectiveness_evidence", "RC-022"),
            },
        ),
    ],
    ids=["insulin-pump", "infusion-pump"],
)
def test_the_documented_gaps_are_found(products, module, expected):
    """Each deliberate gap listed in the product module's docstring shows up, and nothing
    else does (a new, unplanned gap would mean the demo data drifted)."""
    gaps = {(g.kind, g.code) for g in gaps_of(products[module.PRODUCT["slug"]])}
    assert gaps == expected


def test_riskcheck_exits_0_on_the_pacemaker_and_1_on_a_product_with_gaps(products):
    def exit_code(slug):
        return run_command("riskcheck", slug).code

    assert exit_code(pacemaker.PRODUCT["slug"]) == 0
    assert exit_code(insulin_pump.PRODUCT["slug"]) == 1
    assert exit_code(infusion_pump.PRODUCT["slug"]) == 1


def test_the_pacemaker_is_released_and_the_pumps_are_not(products):
    """One product fully releasable (every record approved with the demo user's signature, the
    plan signed, a signed release baseline); the others only have working baselines."""
    from hazards.selectors import plan_approval
    from traceability.baselines.models import BaselineKind
    from traceability.models import SoftwareItem, TestCase

    cadence = products[pacemaker.PRODUCT["slug"]]
    release = cadence.baselines.get(kind=BaselineKind.RELEASE)
    assert release.name == pacemaker.RELEASE_BASELINE
    # Approved by the head of quality, not by the demo author who wrote the records.
    release_signers = set(
        Signature.objects.filter(
            content_type__model="baseline", object_id=release.pk, meaning="approved"
        ).values_list("signer__username", flat=True)
    )
    assert release_signers == {"riley"}
    assert plan_approval(cadence) is not None
    for model in (TestCase, SoftwareItem):
        assert set(model.objects.filter(product=cadence).values_list("status", flat=True)) == {
            Status.APPROVED
        }
    approved_signatures = Signature.objects.filter(product=cadence, meaning="approved")
    assert approved_signatures.filter(signer__username=DEMO_LOGINS[0][0]).count() > 100
    for slug in (insulin_pump.PRODUCT["slug"], infusion_pump.PRODUCT["slug"]):
        kinds = set(products[slug].baselines.values_list("kind", flat=True))
        assert kinds == {BaselineKind.WORKING}, slug


def test_demo_runs_never_test_a_release_before_an_earlier_build(products):
    """Auditor's check: the release under test is not shown tested before an earlier build
    (e.g. 4.1.0 before its release candidate 4.1.0-rc1)."""
    from traceability.models import TestRun

    for module in PRODUCTS:
        runs = TestRun.objects.filter(test_case__product__slug=module.PRODUCT["slug"])
        current = [r.executed_at for r in runs if r.software_version == module.SOFTWARE_VERSION]
        earlier = [r.executed_at for r in runs if r.software_version != module.SOFTWARE_VERSION]
        if earlier:
            assert min(current) > max(earlier), module.PRODUCT["slug"]


def test_a_second_run_changes_nothing(products):
    before = snapshot()
    out = load()
    assert snapshot() == before
    for slug in SLUGS:
        assert f"{slug}: already loaded, nothing changed" in out


def test_demo_logins_when_enabled_are_printed_on_every_run(products, settings):
    settings.DEMO_LOGIN_ENABLED = True
    first = load()
    for username, password, group, *_, label in DEMO_LOGINS:
        line = f"{label}: user {username} / password {password}"
        assert line in first.splitlines()
        user = User.objects.get(username=username)
        assert user.check_password(password)
        validate_password(password, user)  # the project's validators accept it
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert set(user.memberships.values_list("product__slug", flat=True)) == set(SLUGS)
    assert roles.can_edit(User.objects.get(username="demo"), products[SLUGS[0]])
    assert not roles.can_edit(User.objects.get(username="auditor"), products[SLUGS[0]])

    before = snapshot()
    second = load()
    assert snapshot() == before
    assert [ln for ln in second.splitlines() if "login:" in ln] == [
        ln for ln in first.splitlines() if "login:" in ln
    ]


def test_demo_password_is_restored_but_a_foreign_account_is_left_alone(products, settings):
    settings.DEMO_LOGIN_ENABLED = True
    ours = User.objects.get(username="auditor")
    ours.username = "auditor-before"  # make room for someone else's "auditor"
    ours.save()
    foreign = User.objects.create_user("auditor", "someone@example.org", "their-own-secret-9")
    load()
    demo_user = User.objects.get(username="demo")
    demo_user.set_password("changed-by-someone-1")
    demo_user.save()

    out = load()
    demo_user.refresh_from_db()
    foreign.refresh_from_db()
    assert demo_user.check_password(DEMO_LOGINS[0][1])  # created by loaddemo: documented pw
    assert foreign.check_password("their-own-secret-9")
    assert "Auditor login: user auditor / password (unchanged" in out
