from django.core.management.base import CommandError

from traceability.integrations import hazard_table
from traceability.integrations.cli import IntegrationCommand, find_product


class Command(IntegrationCommand):
    help = "Export the hazard log (or, with --matrix, the traceability matrix) as .csv or .xlsx."

    def add_arguments(self, parser):
        parser.add_argument("product", help="Product id or slug.")
        parser.add_argument("-o", "--output", required=True, help="FILE.csv or FILE.xlsx")
        parser.add_argument(
            "--matrix", action="store_true", help="Export the traceability matrix instead."
        )

    def handle(self, *args, **options):
        product = find_product(options["product"])
        path = options["output"]
        fmt = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if fmt not in {"csv", "xlsx"}:
            raise CommandError("The output file must end in .csv or .xlsx.")
        export = hazard_table.export_matrix if options["matrix"] else hazard_table.export_hazards
        self.write(path, export(product, fmt))
