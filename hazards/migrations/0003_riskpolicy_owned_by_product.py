"""Each product owns its risk policy (schema, step 1 of 3).

A risk policy gets the product it belongs to (empty for a template), the template it was copied
from, and the criteria approved by signature (`approved_criteria` at `approved_version`), the
only ones hazards are evaluated against. Names need to be unique among templates only, since
each product's copy starts with its template's name. `Product.risk_policy` becomes nullable
here so that step 3 (its removal) can be reversed; step 2 copies the policies.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hazards", "0002_default_policy_and_roles"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="riskpolicy",
            options={"ordering": ["name", "pk"], "verbose_name_plural": "risk policies"},
        ),
        migrations.AlterField(
            model_name="product",
            name="risk_policy",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="products",
                to="hazards.riskpolicy",
            ),
        ),
        migrations.AlterField(
            model_name="historicalriskpolicy",
            name="name",
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name="riskpolicy",
            name="name",
            field=models.CharField(max_length=200),
        ),
        migrations.AddField(
            model_name="historicalriskpolicy",
            name="approved_criteria",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="The criteria as approved by signature: the only ones hazards are "
                "evaluated against.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="historicalriskpolicy",
            name="approved_version",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="historicalriskpolicy",
            name="product",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The product whose risk management plan this is; empty for a template.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="hazards.product",
            ),
        ),
        migrations.AddField(
            model_name="historicalriskpolicy",
            name="template",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The template the criteria were last copied from.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="hazards.riskpolicy",
            ),
        ),
        migrations.AddField(
            model_name="historicalriskpolicy",
            name="template_version",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="riskpolicy",
            name="approved_criteria",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="The criteria as approved by signature: the only ones hazards are "
                "evaluated against.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="riskpolicy",
            name="approved_version",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="riskpolicy",
            name="product",
            # related_name "+" while Product.risk_policy still exists (step 3 renames it).
            field=models.OneToOneField(
                blank=True,
                help_text="The product whose risk management plan this is; empty for a template.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="hazards.product",
            ),
        ),
        migrations.AddField(
            model_name="riskpolicy",
            name="template",
            field=models.ForeignKey(
                blank=True,
                help_text="The template the criteria were last copied from.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="copies",
                to="hazards.riskpolicy",
            ),
        ),
        migrations.AddField(
            model_name="riskpolicy",
            name="template_version",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="riskpolicy",
            constraint=models.UniqueConstraint(
                condition=models.Q(("product__isnull", True)),
                fields=("name",),
                name="unique_policy_template_name",
            ),
        ),
    ]
