from riskbench.commands import CannotRun
from traceability.integrations import hazard_table
from traceability.integrations.cli import IntegrationCommand


class Command(IntegrationCommand):
    help = "Export the hazard log (or, with --matrix, the traceability matrix) as .csv or .xlsx."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("-o", "--output", required=True, help="FILE.csv or FILE.xlsx")
        parser.add_argument(
            "--matrix", action="store_true", help="Export the traceability matrix instead."
        )

    def handle(self, *args, product, output, matrix, **options):
        fmt = output.rsplit(".", 1)[-1].lower() if "." in output else ""
        if fmt not in {"csv", "xlsx"}:
            raise CannotRun("The output file must end in .csv or .xlsx.")
        export = hazard_table.export_matrix if matrix else hazard_table.export_hazards
        self.write(output, export(product, fmt))
