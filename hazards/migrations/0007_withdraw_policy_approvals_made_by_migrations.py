"""Withdraw the risk policy approvals that a migration made, not a person (ISO 14971 4.4 d;
21 CFR 11.50: an approval is a person's signed act).

Two migrations used to approve criteria nobody signed:

* 0002 seeded the default template with the status "approved" (now it seeds a draft);
* 0004 carried that status over to each product's own copy ("Approval carried over from the
  shared policy …"), putting its criteria in force for the product's risk evaluation.

This migration undoes exactly those, and nothing a person did:

* a template goes back to draft when it is still as seeded — every history row written by no
  user, the first one "Seeded by migration", approved — and no "approved" signature is on it;
* a product's copy goes back to draft, with no criteria in force, when its approval is the
  carry-over row of 0004 (written by no user), the template it came from was approved only by
  the seed as above, and no "approved" signature is on the copy. Its hazards were evaluated
  under criteria nobody approved: their acceptability is cleared (each with a history row and a
  new version, as a re-evaluation does), so they show as estimated, not evaluated, until the
  product's team approves the policy with a signature — which re-evaluates them.

A copy carried over from a template that a person had approved (a history row with a user, or a
signature) keeps its approval. Rows written here have no user and say why; `post_migrate`
chains them into the audit trail. Not reversible: an approval is not restored by a migration.
"""

from django.db import migrations
from django.utils import timezone

SEEDED = "Seeded by migration"
CARRIED_OVER = "Approval carried over from the shared policy"
WITHDRAWN = "Approval by a migration withdrawn: approve with a signature"


def _history(History, Model, record, *, when, reason):
    History.objects.create(
        **{f.attname: getattr(record, f.attname) for f in Model._meta.concrete_fields},
        history_date=when,
        history_type="~",
        history_change_reason=reason[:100],
    )


def withdraw(apps, schema_editor):
    RiskPolicy = apps.get_model("hazards", "RiskPolicy")
    HistoricalRiskPolicy = apps.get_model("hazards", "HistoricalRiskPolicy")
    Hazard = apps.get_model("hazards", "Hazard")
    HistoricalHazard = apps.get_model("hazards", "HistoricalHazard")
    Signature = apps.get_model("riskbench", "Signature")
    ContentType = apps.get_model("contenttypes", "ContentType")
    policy_type = ContentType.objects.filter(app_label="hazards", model="riskpolicy").first()

    def signed_approval(policy) -> bool:
        return bool(policy_type) and Signature.objects.filter(
            content_type=policy_type, object_id=policy.pk, meaning="approved"
        ).exists()

    def approved_only_by_seed(policy) -> bool:
        rows = list(HistoricalRiskPolicy.objects.filter(id=policy.pk).order_by("history_date"))
        return (
            bool(rows)
            and rows[0].history_change_reason == SEEDED
            and all(row.history_user_id is None for row in rows)
            and all(row.status == "approved" for row in rows)
            and not signed_approval(policy)
        )

    now = timezone.now()
    seeded = {
        p.pk
        for p in RiskPolicy.objects.filter(product__isnull=True, status="approved")
        if approved_only_by_seed(p)
    }
    for policy in RiskPolicy.objects.filter(product__isnull=False, template_id__in=seeded):
        carried = HistoricalRiskPolicy.objects.filter(
            id=policy.pk,
            history_user__isnull=True,
            history_change_reason__startswith=CARRIED_OVER,
        ).exists()
        if not carried or policy.status != "approved" or signed_approval(policy):
            continue
        policy.status = "draft"
        policy.approved_criteria = None
        policy.approved_version = None
        policy.save(update_fields=["status", "approved_criteria", "approved_version"])
        _history(HistoricalRiskPolicy, RiskPolicy, policy, when=now, reason=WITHDRAWN)
        for hazard in Hazard.objects.filter(product_id=policy.product_id).order_by("pk"):
            if not (hazard.initial_acceptability or hazard.residual_acceptability):
                continue
            hazard.initial_acceptability = ""
            hazard.residual_acceptability = ""
            hazard.version += 1
            hazard.updated_at = now
            hazard.save(
                update_fields=[
                    "initial_acceptability",
                    "residual_acceptability",
                    "version",
                    "updated_at",
                ]
            )
            _history(
                HistoricalHazard,
                Hazard,
                hazard,
                when=now,
                reason="Not evaluated: the risk policy's approval by a migration was withdrawn",
            )
    for policy in RiskPolicy.objects.filter(pk__in=seeded):
        policy.status = "draft"
        policy.save(update_fields=["status"])
        _history(HistoricalRiskPolicy, RiskPolicy, policy, when=now, reason=WITHDRAWN)


class Migration(migrations.Migration):
    dependencies = [
        ("hazards", "0006_plan_responsibilities_and_review"),
        # After the gate's fields (benefit-risk regions, Annex C types): rows this migration
        # writes (policy and hazard history) must carry every column of the tables it writes.
        ("hazards", "0007_hazard_types_annex_c"),
        ("riskbench", "0003_user_profile_competence"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(withdraw, migrations.RunPython.noop)]
