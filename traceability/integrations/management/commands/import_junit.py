from traceability.integrations.cli import IntegrationCommand
from traceability.integrations.junit import import_junit
from traceability.integrations.uploads import UploadError


class Command(IntegrationCommand):
    help = "Record a JUnit XML report as test runs of the matched test cases (with evidence)."

    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file", help="JUnit XML file.")

    def handle(self, *args, product, user, **options):
        path = options["file"]
        data = self.read(path)
        try:
            result = import_junit(product=product, data=data, filename=path, by=user)
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
