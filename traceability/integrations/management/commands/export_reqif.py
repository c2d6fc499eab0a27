from traceability.integrations.cli import IntegrationCommand, find_product
from traceability.integrations.reqif import export_reqif


class Command(IntegrationCommand):
    help = "Export requirements with their hierarchy and trace links as ReqIF 1.2 XML."

    def add_arguments(self, parser):
        parser.add_argument("product", help="Product id or slug.")
        parser.add_argument("-o", "--output", required=True, help="FILE.reqif")

    def handle(self, *args, **options):
        product = find_product(options["product"])
        self.write(options["output"], export_reqif(product))
