from traceability.integrations import workbook
from traceability.integrations.cli import IntegrationCommand


class Command(IntegrationCommand):
    help = (
        "Export the product's risk file in the workbook shape import_workbook reads: PATH.xlsx "
        "(sheets Hazards, Controls, Requirements, Tests, Runs), PATH.zip of CSV files, or a "
        "folder PATH of CSV files."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("path", help="Target .xlsx, .zip, or folder.")

    def handle(self, *args, product, **options):
        try:
            written = workbook.export_to(product, options["path"])
        except OSError as exc:
            self.fail(options["path"], exc)
        for path in written:
            self.stdout.write(f"Wrote {path} ({path.stat().st_size} bytes).")
