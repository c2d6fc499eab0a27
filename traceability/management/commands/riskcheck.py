"""`manage.py riskcheck PRODUCT [--format text|json]` — a release gate for any CI.

Prints every gap of the product's risk management file (DESIGN.md §3) and exits 1 when there is
any, 0 when the file is complete (ISO 14971 9: review before release), 2 when it could not run
(riskbench.commands: the exit-code rule of every RiskBench command).
"""

from hazards.models import Product
from riskbench.commands import Findings, RiskBenchCommand
from traceability import gate


def report(product: Product, result: gate.GateResult) -> dict:
    """The JSON document: stable keys, every check of the gate (DESIGN.md §8) in report order."""
    return {
        "product": {"id": product.pk, "slug": product.slug, "name": str(product)},
        "ok": result.ok,
        "gap_count": result.gap_count,
        "coverage": [
            {
                "kind": row.kind,
                "label": row.label,
                "clause": row.clause,
                "checked": row.checked,
                "gaps": row.gaps,
                "percent": row.percent,
            }
            for row in result.coverage
        ],
        "gaps": result.as_json(),
    }


class Command(RiskBenchCommand):
    help = (
        "Print the gaps of a product's risk management file; exit 1 when there are any, "
        "0 when none (usable as a release gate)."
    )
    takes_product = True
    reports = True
    # A read-only gate that CI runs on every build: Django's system checks (every URLconf and
    # view imported, ~2 s at start-up) belong to `manage.py check`, not to each gate run.
    requires_system_checks = []

    def handle(self, *args, product, **options):
        result = gate.product_gaps(product)
        if options["format"] == "json":
            self.json(report(product, result))
        else:
            self.write_text(product, result)
        if not result.ok:
            raise Findings(f"FAIL: {result.gap_count} gap(s) in the risk file of {product.slug}.")

    def write_text(self, product: Product, result: gate.GateResult) -> None:
        out = self.stdout
        out.write(f"Risk check of {product} ({product.slug})")
        by_kind: dict[str, list] = {}
        for gap in result.gaps:
            by_kind.setdefault(gap.kind, []).append(gap)
        for row in result.coverage:
            status = "ok" if not row.gaps else f"{row.gaps} gap{'s' if row.gaps != 1 else ''}"
            out.write(
                f"\n{row.label} ({row.clause}): {status}, "
                f"{row.checked} {row.scope} checked, {row.percent:g}% covered"
            )
            for gap in by_kind.get(row.kind, ()):
                out.write(f"  - {gap.message}")
        out.write("")
        if result.gap_count:
            out.write(self.style.ERROR(f"FAIL: {result.gap_count} gap(s) in the risk file."))
        else:
            out.write(self.style.SUCCESS("OK: no gaps, the risk management file is complete."))
