from riskbench.commands import CannotRun, Findings
from traceability.integrations import hazard_table
from traceability.integrations.cli import IntegrationCommand
from traceability.integrations.models import ImportMapping
from traceability.integrations.uploads import UploadError


class Command(IntegrationCommand):
    help = (
        "Import a hazard log from CSV or XLSX: upsert by code, all rows or none. Columns are "
        "mapped from their headers (or a saved mapping); --dry-run prints the plan only."
    )

    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file", help="CSV or XLSX file.")
        parser.add_argument("--mapping", help="Name of a saved column mapping of this product.")
        parser.add_argument("--dry-run", action="store_true", help="Show the plan, write nothing.")

    def handle(self, *args, product, user, **options):
        path = options["file"]
        data = self.read(path)
        try:
            table = hazard_table.read_table(data)
            if options["mapping"]:
                saved = ImportMapping.objects.filter(
                    product=product, name=options["mapping"]
                ).first()
                if saved is None:
                    raise CannotRun(f"No saved mapping {options['mapping']!r} for {product.slug}.")
                mapping = saved.columns
            else:
                mapping = hazard_table.suggest_mapping(table.headers)
            for field_name, header in mapping.items():
                label = (
                    hazard_table.COLUMNS_BY_NAME[field_name].label
                    if (field_name in hazard_table.COLUMNS_BY_NAME)
                    else field_name
                )
                self.stdout.write(f"  {header!r} → {label}")
            plan = hazard_table.import_hazards(
                product=product,
                table=table,
                mapping=mapping,
                by=user,
                reason=f"Imported from {path.rsplit('/', 1)[-1]}",
                dry_run=options["dry_run"],
            )
        except hazard_table.ImportRefused as exc:
            for row, column, reason in exc.plan.rejections:
                self.stderr.write(f"row {row}, column {column!r}: {reason}")
            raise CannotRun(f"{path}: {exc.plan.summary()}. Nothing was imported.") from exc
        except UploadError as exc:
            self.fail(path, exc)
        for row, column, why in plan.ignored:
            self.stdout.write(f"row {row}: ignored — column {column!r}: {why}")
        for row in plan.rows:
            if row.action == hazard_table.REJECT:
                for column, reason in row.errors:
                    self.stdout.write(f"row {row.row}: reject — column {column!r}: {reason}")
            elif row.action != hazard_table.UNCHANGED:
                detail = f" ({', '.join(row.changes)})" if row.changes else ""
                self.stdout.write(f"row {row.row}: {row.action} {row.code or '(new code)'}{detail}")
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {plan.summary()}. Nothing was written.")
            if not plan.ok:
                raise Findings("Rows would be rejected; fix them before importing.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported: {plan.summary()}."))
