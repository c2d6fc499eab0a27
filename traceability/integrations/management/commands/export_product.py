from traceability.integrations.cli import IntegrationCommand, find_product
from traceability.integrations.product_json import export_product_json


class Command(IntegrationCommand):
    help = "Export a whole product (every record, link and evidence file) as one JSON file."

    def add_arguments(self, parser):
        parser.add_argument("product", help="Product id or slug.")
        parser.add_argument("-o", "--output", required=True, help="FILE.json")

    def handle(self, *args, **options):
        self.write(options["output"], export_product_json(find_product(options["product"])))
