"""The data migration that gives every product its own copy of the policy it used (hazards
0003 → 0005), run for real with Django's MigrationExecutor: back to the state before it, data
as products had it (shared policies), then forward."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hazards import risk, services
from hazards.models import Hazard, Product, RiskPolicy

BEFORE = [("hazards", "0003_riskpolicy_owned_by_product")]
CRITERIA = risk.PolicyData.default().criteria()


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_each_product_gets_its_own_copy_and_every_evaluation_stays_as_it_was():
    old = migrate(BEFORE)
    OldPolicy = old.get_model("hazards", "RiskPolicy")
    OldProduct = old.get_model("hazards", "Product")
    OldHazard = old.get_model("hazards", "Hazard")
    shared = OldPolicy.objects.create(name="Shared plan", status="approved", version=3, **CRITERIA)
    lenient_matrix = [["acceptable"] * 5 for _ in range(5)]
    unapproved = OldPolicy.objects.create(
        name="Unsigned lenient plan",
        status="draft",
        **{**CRITERIA, "safety_matrix": lenient_matrix},
    )
    products = {
        slug: OldProduct.objects.create(name=slug, slug=slug, risk_policy=policy)
        for slug, policy in (("a", shared), ("b", shared), ("c", unapproved))
    }
    evaluations = {}
    for slug, product in products.items():
        # As the services evaluated them under the shared policy: Critical × P(3,3)=3.
        hazard = OldHazard.objects.create(
            product=product, code="HAZ-001", category="safety", title="Over-delivery",
            severity=4, p1=3, p2=3, probability=3, initial_risk_index=12,
            initial_acceptability="acceptable" if slug == "c" else "unacceptable", version=2,
        )  # fmt: skip
        evaluations[slug] = (hazard.pk, hazard.initial_acceptability, hazard.initial_risk_index)

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    policies = {p.product.slug: p for p in RiskPolicy.objects.filter(product__isnull=False)}
    assert set(policies) == {"a", "b", "c"}
    assert len({p.pk for p in policies.values()}) == 3  # one copy each, nothing shared
    for slug in ("a", "b"):
        policy = policies[slug]
        assert policy.pk != shared.pk and policy.template_id == shared.pk
        assert (policy.template_version, policy.version, policy.status) == (3, 1, "approved")
        assert policy.criteria() == CRITERIA and policy.approved_criteria == CRITERIA
        assert policy.approved_version == 1
        reasons = list(
            policy.history.order_by("history_id").values_list("history_change_reason", flat=True)
        )
        assert reasons == [
            "Copied from template Shared plan v3",
            "Approval carried over from the shared policy Shared plan v3",
        ]
        assert policy.history.order_by("history_id").last().status == "approved"
    lenient = policies["c"]
    assert (lenient.status, lenient.approved_criteria) == ("draft", None)
    assert lenient.history.get().history_change_reason == (
        "Copied from template Unsigned lenient plan v1"
    )
    # The shared rows stay, as templates, unchanged.
    templates = RiskPolicy.objects.filter(product__isnull=True)
    assert {shared.pk, unapproved.pk} <= set(templates.values_list("pk", flat=True))
    assert RiskPolicy.objects.get(pk=shared.pk).criteria() == CRITERIA
    # No hazard was written: evaluations, versions and history as they were.
    for pk, acceptability, index in evaluations.values():
        hazard = Hazard.objects.get(pk=pk)
        assert (hazard.initial_acceptability, hazard.initial_risk_index) == (acceptability, index)
        assert hazard.version == 2
    # Re-evaluating a product whose shared policy was approved gives the same result.
    product_a = Product.objects.get(slug="a")
    hazard = Hazard.objects.get(product=product_a)
    services.apply_estimates(hazard, product_a.risk_policy.evaluation_data)
    assert (hazard.initial_acceptability, hazard.initial_risk_index) == ("unacceptable", 12)
    # The unsigned lenient plan never evaluates: re-estimated, not evaluated.
    hazard = Hazard.objects.get(product__slug="c")
    services.apply_estimates(hazard, Product.objects.get(slug="c").risk_policy.evaluation_data)
    assert (hazard.initial_acceptability, hazard.initial_risk_index) == ("", 12)
