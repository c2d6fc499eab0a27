from traceability.integrations.cli import IntegrationCommand
from traceability.integrations.product_json import export_product_json


class Command(IntegrationCommand):
    help = "Export a whole product (every record, link and evidence file) as one JSON file."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("-o", "--output", required=True, help="FILE.json")

    def handle(self, *args, product, output, **options):
        self.write(output, export_product_json(product))
