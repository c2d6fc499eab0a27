from traceability.integrations.cli import IntegrationCommand
from traceability.integrations.reqif import import_reqif
from traceability.integrations.uploads import UploadError


class Command(IntegrationCommand):
    help = "Import requirements (hierarchy, trace links) from a ReqIF file; upsert by code."

    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file", help="ReqIF XML file.")
        parser.add_argument("--dry-run", action="store_true", help="Show the plan, write nothing.")
        parser.add_argument(
            "--prefix", default="REQ", help="Code prefix for numeric ReqIF.ForeignIDs (DOORS)."
        )

    def handle(self, *args, product, user, **options):
        path = options["file"]
        data = self.read(path)
        try:
            result = import_reqif(
                product=product, data=data, filename=path, by=user,
                dry_run=options["dry_run"], prefix=options["prefix"],
            )  # fmt: skip
        except UploadError as exc:
            self.fail(path, exc)
        for warning in result.warnings:
            self.stdout.write(f"warning: {warning}")
        prefix = "Dry run: " if options["dry_run"] else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{result.summary()}."))
