"""Seed the default ISO/TR 24971-style 5 × 5 risk policy (a draft template) and the two role
groups."""

from django.db import migrations

from hazards import risk

# Roles (riskbench.roles): quality engineers change the risk files of their products; auditors
# only read. The Django admin is for superusers.
ROLE_GROUPS = ("Quality engineer", "Auditor")


def seed(apps, schema_editor):
    RiskPolicy = apps.get_model("hazards", "RiskPolicy")
    HistoricalRiskPolicy = apps.get_model("hazards", "HistoricalRiskPolicy")
    if not RiskPolicy.objects.filter(name=DEFAULT_POLICY_NAME).exists():
        data = risk.PolicyData.default()
        fields = {name: getattr(data, name) for name in risk.PolicyData.POLICY_FIELDS}
        policy = RiskPolicy.objects.create(
            name=DEFAULT_POLICY_NAME,
            description=(
                "Default acceptability criteria in the style of ISO/TR 24971: five severity "
                "and five probability levels (P = P1 × P2 on decade scales), a three-region "
                "matrix; exploitability from the CVSS v3.1 exploitability sub-score for "
                "security; CNIL-style impact × likelihood for privacy."
            ),
            # A draft: criteria are approved by a person's signature, never by a migration
            # (hazards 0007 withdraws the approval this migration used to give).
            status="draft",
            **fields,
        )
        history_fields = {
            f.attname: getattr(policy, f.attname) for f in RiskPolicy._meta.concrete_fields
        }
        HistoricalRiskPolicy.objects.create(
            **history_fields,
            history_date=policy.created_at,
            history_type="+",
            history_change_reason="Seeded by migration",
        )

    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


DEFAULT_POLICY_NAME = "Default risk policy (ISO/TR 24971 5 × 5)"


class Migration(migrations.Migration):
    dependencies = [
        ("hazards", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
