"""Each product owns its risk policy (data, step 2 of 3).

Every product gets its own copy of the policy it used; the shared rows stay as they are and
become templates (rows without a product), keeping their history and signatures. The copy's
history starts "Copied from template X vN". A copy of an approved policy is approved too, with
its criteria as the approved snapshot ("Approval carried over…"), so every hazard evaluates
exactly as before: the migration writes no hazard. A copy of a policy that was not approved
starts as a draft, not approved, like any new product's policy.
"""

import datetime as dt

from django.db import migrations
from django.utils import timezone

CRITERIA = (
    "severity_levels",
    "probability_levels",
    "p1_levels",
    "p2_levels",
    "probability_mapping",
    "safety_matrix",
    "exploitability_levels",
    "security_matrix",
    "privacy_impact_levels",
    "privacy_likelihood_levels",
    "privacy_matrix",
)


def _history(HistoricalRiskPolicy, RiskPolicy, policy, *, when, kind: str, reason: str) -> None:
    HistoricalRiskPolicy.objects.create(
        **{f.attname: getattr(policy, f.attname) for f in RiskPolicy._meta.concrete_fields},
        history_date=when,
        history_type=kind,
        history_change_reason=reason[:100],
    )


def copy_policies(apps, schema_editor):
    Product = apps.get_model("hazards", "Product")
    RiskPolicy = apps.get_model("hazards", "RiskPolicy")
    HistoricalRiskPolicy = apps.get_model("hazards", "HistoricalRiskPolicy")
    now = timezone.now()
    for product in Product.objects.filter(risk_policy__isnull=False).order_by("pk"):
        source = RiskPolicy.objects.get(pk=product.risk_policy_id)
        criteria = {name: getattr(source, name) for name in CRITERIA}
        copy = RiskPolicy.objects.create(
            product_id=product.pk,
            name=source.name,
            description=source.description,
            status="draft",
            version=1,
            template_id=source.pk,
            template_version=source.version,
            **criteria,
        )
        _history(
            HistoricalRiskPolicy,
            RiskPolicy,
            copy,
            when=now,
            kind="+",
            reason=f"Copied from template {source.name} v{source.version}",
        )
        if source.status == "approved":
            copy.status = "approved"
            copy.approved_criteria = criteria
            copy.approved_version = copy.version
            copy.save()
            _history(
                HistoricalRiskPolicy,
                RiskPolicy,
                copy,
                when=now + dt.timedelta(microseconds=1),
                kind="~",
                reason=f"Approval carried over from the shared policy {source.name} "
                f"v{source.version}",
            )


def uncopy_policies(apps, schema_editor):
    """Back to shared policies (development only: the copies' history rows go too)."""
    Product = apps.get_model("hazards", "Product")
    RiskPolicy = apps.get_model("hazards", "RiskPolicy")
    HistoricalRiskPolicy = apps.get_model("hazards", "HistoricalRiskPolicy")
    copies = RiskPolicy.objects.filter(product__isnull=False)
    for copy in copies:
        product = Product.objects.get(pk=copy.product_id)
        product.risk_policy_id = (
            copy.template_id or RiskPolicy.objects.filter(product__isnull=True).first().pk
        )
        product.save(update_fields=["risk_policy"])
    HistoricalRiskPolicy.objects.filter(product__isnull=False).delete()
    copies.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("hazards", "0003_riskpolicy_owned_by_product"),
    ]

    operations = [migrations.RunPython(copy_policies, uncopy_policies)]
