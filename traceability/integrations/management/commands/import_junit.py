from traceability.integrations.cli import IntegrationCommand, find_product
from traceability.integrations.junit import import_junit
from traceability.integrations.uploads import UploadError


class Command(IntegrationCommand):
    help = "Record a JUnit XML report as test runs of the matched test cases (with evidence)."

    def add_arguments(self, parser):
        parser.add_argument("product", help="Product id or slug.")
        parser.add_argument("file", help="JUnit XML file.")
        self.add_user_argument(parser)

    def handle(self, *args, **options):
        product = find_product(options["product"])
        path = options["file"]
        data = self.read(path)
        try:
            result = import_junit(
                product=product, data=data, filename=path, by=self.acting_user(options)
            )
        except UploadError as exc:
            self.fail(path, exc)
        for run in result.created_runs:
            self.stdout.write(f"{run.test_case.code}: {run.get_result_display()}")
        for name in result.unmatched:
            self.stdout.write(f"unmatched: {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.created_runs)} run(s) recorded, {len(result.unmatched)} unmatched "
                f"case(s); evidence SHA-256 {result.evidence_sha256}."
            )
        )
