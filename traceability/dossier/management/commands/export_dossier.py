"""`manage.py export_dossier PRODUCT -o FILE.pdf` — write a product's dossier (PRODUCT: id or
slug). The export is recorded (DossierExport, stored copy, access log) like one made from the
web page, unless `--no-record` is given."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hazards.models import Product
from traceability.dossier import services


class Command(BaseCommand):
    help = "Write the PDF dossier (risk management file) of a product."

    def add_arguments(self, parser):
        parser.add_argument("product", help="Product id or slug.")
        parser.add_argument("-o", "--output", required=True, help="PDF file to write.")
        parser.add_argument(
            "--no-record",
            action="store_true",
            help="Only write the file: no DossierExport record, no stored copy.",
        )

    def handle(self, *args, product, output, no_record, **options):
        lookup = {"pk": int(product)} if product.isdigit() else {"slug": product}
        try:
            obj = Product.objects.get(**lookup)
        except Product.DoesNotExist as exc:
            raise CommandError(f"No product {product!r} (give its id or slug).") from exc
        path = Path(output)
        if no_record:
            rendered = services.render_dossier(obj)
            pdf, sha256, pages = rendered.pdf, rendered.sha256, rendered.page_count
        else:
            export = services.export_request(product=obj, by=None)
            export = services.export_generate(export.pk)
            with export.file.open("rb") as stored:
                pdf = stored.read()
            sha256, pages = export.sha256, export.page_count
        path.write_bytes(pdf)
        self.stdout.write(f"Wrote {path} ({pages} pages, {len(pdf)} bytes)")
        self.stdout.write(f"SHA-256 {sha256}")
