from traceability.integrations.cli import IntegrationCommand
from traceability.integrations.reqif import export_reqif


class Command(IntegrationCommand):
    help = "Export requirements with their hierarchy and trace links as ReqIF 1.2 XML."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("-o", "--output", required=True, help="FILE.reqif")

    def handle(self, *args, product, output, **options):
        self.write(output, export_reqif(product))
