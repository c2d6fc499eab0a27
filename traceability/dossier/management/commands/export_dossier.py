"""`manage.py export_dossier PRODUCT -o FILE.pdf --user USER` — write a product's dossier.

The export is recorded (DossierExport with its author, stored copy, access log) like one made
from the web page, so it needs `--user`; `--no-record` only writes the file and needs no author.
"""

from pathlib import Path

from riskbench.commands import CannotRun, RiskBenchCommand
from traceability.dossier import services


class Command(RiskBenchCommand):
    help = "Write the PDF dossier (risk management file) of a product."
    takes_product = True
    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("-o", "--output", required=True, help="PDF file to write.")
        parser.add_argument(
            "--no-record",
            action="store_true",
            help="Only write the file: no DossierExport record, no stored copy (no --user needed).",
        )

    def needs_user(self, options) -> bool:
        return not options["no_record"]

    def handle(self, *args, product, user, output, no_record, **options):
        path = Path(output)
        if no_record:
            rendered = services.render_dossier(product)
            pdf, sha256, pages = rendered.pdf, rendered.sha256, rendered.page_count
        else:
            export = services.export_request(product=product, by=user)
            export = services.export_generate(export.pk)
            with export.file.open("rb") as stored:
                pdf = stored.read()
            sha256, pages = export.sha256, export.page_count
        try:
            path.write_bytes(pdf)
        except OSError as exc:
            raise CannotRun(f"Cannot write {path}: {exc.strerror or exc}.") from exc
        self.stdout.write(f"Wrote {path} ({pages} pages, {len(pdf)} bytes)")
        self.stdout.write(f"SHA-256 {sha256}")
