import json

from riskbench.commands import CannotRun, Findings
from traceability.integrations import mappings, workbook
from traceability.integrations.cli import IntegrationCommand
from traceability.integrations.uploads import UploadError


class Command(IntegrationCommand):
    help = (
        "Import a whole risk file: an .xlsx with sheets Hazards, Controls, Requirements, Tests "
        "(Runs optional), or a folder or .zip of hazards.csv, controls.csv, requirements.csv, "
        "tests.csv. Upsert by code, all sheets or nothing; --dry-run prints the plan only."
    )

    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("path", help=".xlsx workbook, .zip of CSV files, or a folder of them.")
        parser.add_argument(
            "--mapping",
            help="Mapping file (JSON: columns and value maps per sheet) or the name of a saved "
            "mapping of this product (see `manage.py mappings`).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Show the plan, write nothing.")
        parser.add_argument(
            "--implied-controls",
            action="store_true",
            help="When hazards link straight to requirements (no Controls sheet), create one "
            "risk control per hazard, RC-<hazard id>, labelled as implied by the import.",
        )
        parser.add_argument(
            "--implied-control-type",
            default="protective_measure",
            choices=[c for c, _ in workbook.ControlOption.choices],
            help="Option (ISO 14971 7.1) of the implied controls (default protective_measure).",
        )

    def needs_user(self, options) -> bool:
        return not options.get("dry_run")

    def handle(self, *args, product, user, **options):
        path = options["path"]
        try:
            mapping = mappings.load(product, options["mapping"]) if options["mapping"] else None
            source = workbook.read_source(path)
            plan = workbook.import_workbook(
                product=product,
                source=source,
                mapping=mapping,
                by=user,
                dry_run=options["dry_run"],
                implied_controls=options["implied_controls"],
                implied_control_type=options["implied_control_type"],
            )
        except workbook.WorkbookRefused as exc:
            self.report(exc.plan)
            raise CannotRun(f"{path}: {exc.plan.summary()}. Nothing was imported.") from exc
        except (UploadError, mappings.MappingError, json.JSONDecodeError) as exc:
            self.fail(path, exc)
        self.report(plan)
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {plan.summary()}. Nothing was written.")
            if not plan.ok:
                raise Findings("Rows would be rejected; fix them before importing.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported: {plan.summary()}."))

    def report(self, plan) -> None:
        for note in plan.notes:
            self.stdout.write(f"note: {note}")
        for sheet, row, column, why in plan.ignored():
            self.stdout.write(f"{sheet} row {row}: ignored — column {column!r}: {why}")
        for code, hazard in plan.implied_controls:
            self.stdout.write(f"Controls: create {code} (implied risk control of {hazard})")
        for sheet, row, column, why in plan.rejections():
            self.stderr.write(f"{sheet} row {row}: reject — column {column!r}: {why}")
