"""`manage.py export_sbom PRODUCT -o FILE.json` — the product's SOUP list as CycloneDX 1.6 JSON
with the VEX assessments of its vulnerabilities (`postmarket.sbom`), valid under
cyclonedx-python-lib's strict validator. Exit 0 written, 2 could not run."""

from __future__ import annotations

from pathlib import Path

from postmarket import sbom
from riskbench.commands import CannotRun, RiskBenchCommand


class Command(RiskBenchCommand):
    help = "Write the product's SOUP list (SBOM) with VEX assessments as CycloneDX 1.6 JSON."
    takes_product = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("-o", "--output", required=True, help="The JSON file to write.")

    def handle(self, *args, product, **options):
        text = sbom.export_sbom(product)
        count = product.software_items.filter(is_soup=True).count()
        path = Path(options["output"])
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CannotRun(f"Cannot write {path}: {exc.strerror or exc}.") from exc
        self.stdout.write(
            f"Wrote {path} (CycloneDX 1.6, {count} SOUP components with their vulnerabilities)."
        )
