"""hazards 0007: approvals that a migration made (the seeded default template, and its
approval carried over to products' copies by 0004) are withdrawn; approvals a person made stay.
Run for real with Django's MigrationExecutor: back to 0006, data as such a database had it,
then forward."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hazards import risk
from hazards.models import Hazard, RiskPolicy

BEFORE = [
    ("hazards", "0006_plan_responsibilities_and_review"),
    ("hazards", "0007_hazard_types_annex_c"),
]
CRITERIA = risk.PolicyData.default().criteria()
COPY_ROWS = [
    ("Copied from template", None),
    ("Approval carried over from the shared policy", None),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_fresh_database_seeds_a_draft_template(db):
    template = RiskPolicy.objects.get(product__isnull=True, name__startswith="Default risk policy")
    assert template.status == "draft" and not template.is_approved


@pytest.mark.django_db(transaction=True)
def test_only_approvals_made_by_migrations_are_withdrawn():
    old = migrate(BEFORE)
    Policy = old.get_model("hazards", "RiskPolicy")
    History = old.get_model("hazards", "HistoricalRiskPolicy")
    Product = old.get_model("hazards", "Product")
    OldHazard = old.get_model("hazards", "Hazard")
    User = old.get_model("auth", "User")
    person = User.objects.create(username="qa-lead")

    def policy(name, *, product=None, template=None, approved=True, rows=()):
        p = Policy.objects.create(
            name=name,
            product=product,
            template=template,
            status="approved" if approved else "draft",
            approved_criteria=CRITERIA if approved and product else None,
            approved_version=1 if approved and product else None,
            **CRITERIA,
        )
        for reason, user in rows:
            History.objects.create(
                **{f.attname: getattr(p, f.attname) for f in Policy._meta.concrete_fields},
                history_date=p.created_at,
                history_type="+",
                history_change_reason=reason,
                history_user=user,
            )
        return p

    Policy.objects.filter(product__isnull=True).delete()  # the freshly seeded draft
    seeded = policy("Seeded", rows=[("Seeded by migration", None)])
    by_person = policy("Approved by a person", rows=[("Created", person)])
    a = Product.objects.create(name="A", slug="a")
    b = Product.objects.create(name="B", slug="b")
    carried = policy(
        "Seeded",
        product=a,
        template=seeded,
        rows=[
            ("Copied from template", None),
            ("Approval carried over from the shared policy", None),
        ],
    )
    kept = policy(
        "Approved by a person",
        product=b,
        template=by_person,
        rows=[
            ("Copied from template", None),
            ("Approval carried over from the shared policy", None),
        ],
    )
    hazards = {
        slug: OldHazard.objects.create(
            product=product, code="HAZ-001", category="safety", title="Over-delivery",
            severity=4, p1=3, p2=3, probability=3, initial_risk_index=12,
            initial_acceptability="unacceptable", version=2,
        )
        for slug, product in (("a", a), ("b", b))
    }  # fmt: skip

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert RiskPolicy.objects.get(pk=seeded.pk).status == "draft"
    assert RiskPolicy.objects.get(pk=by_person.pk).status == "approved"
    withdrawn = RiskPolicy.objects.get(pk=carried.pk)
    assert (withdrawn.status, withdrawn.is_approved) == ("draft", False)
    assert withdrawn.history.first().history_change_reason.startswith("Approval by a migration")
    assert RiskPolicy.objects.get(pk=kept.pk).is_approved
    hazard_a = Hazard.objects.get(pk=hazards["a"].pk)
    assert (hazard_a.initial_acceptability, hazard_a.version) == ("", 3)
    assert hazard_a.history.first().history_change_reason.startswith("Not evaluated")
    assert Hazard.objects.get(pk=hazards["b"].pk).initial_acceptability == "unacceptable"
