"""Each product owns its risk policy (schema, step 3 of 3).

The product no longer points at a (shared) policy: its policy points at it, one to one
(`product.risk_policy` is now the reverse accessor). The column stays in the products' history
(see `hazards.models._ProductHistoryBase`): the audit chain hashed it in earlier rows.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hazards", "0004_copy_policy_per_product"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="product",
            name="risk_policy",
        ),
        migrations.AlterField(
            model_name="riskpolicy",
            name="product",
            field=models.OneToOneField(
                blank=True,
                help_text="The product whose risk management plan this is; empty for a template.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="risk_policy",
                to="hazards.product",
            ),
        ),
    ]
