"""`manage.py riskcheck PRODUCT [--format text|json]` — a release gate for any CI.

Prints every gap of the product's risk management file (DESIGN.md §3) and exits 1 when there is
any, 0 when the file is complete (ISO 14971 9: review before release), 2 when it could not run
(riskbench.commands: the exit-code rule of every RiskBench command).
"""

from hazards.models import Product
from riskbench.commands import Findings, RiskBenchCommand
from traceability import gate
from traceability import graph as tg


def report(product: Product, analysis: tg.Analysis, extra: list[tg.Gap] = ()) -> dict:
    """The JSON document: stable keys, gaps in report order (registered checks last)."""
    return {
        "product": {"id": product.pk, "slug": product.slug, "name": str(product)},
        "ok": not analysis.gaps and not extra,
        "gap_count": len(analysis.gaps) + len(extra),
        "coverage": [
            {
                "kind": row.kind,
                "label": row.label,
                "clause": row.clause,
                "checked": row.checked,
                "gaps": row.gaps,
                "percent": row.percent,
            }
            for row in analysis.coverage
        ],
        "gaps": [
            {
                "kind": gap.kind,
                "label": gap.label,
                "clause": gap.clause,
                "node": {"kind": gap.node[0], "id": gap.node[1]},
                "code": gap.code,
                "message": gap.message,
            }
            for gap in analysis.gaps
        ]
        + [
            {
                "kind": gap.kind,
                "label": gate.label(gap.kind),
                "clause": gate.clause(gap.kind),
                "node": {"kind": gap.node[0], "id": gap.node[1]},
                "code": gap.code,
                "message": gap.message,
            }
            for gap in extra
        ],
    }


class Command(RiskBenchCommand):
    help = (
        "Print the gaps of a product's risk management file; exit 1 when there are any, "
        "0 when none (usable as a release gate)."
    )
    takes_product = True
    reports = True

    def handle(self, *args, product, **options):
        analysis = tg.analyse(tg.build_graph(product))
        extra = gate.registered_gaps(product)
        if options["format"] == "json":
            self.json(report(product, analysis, extra))
        else:
            self.write_text(product, analysis, extra)
        total = len(analysis.gaps) + len(extra)
        if total:
            raise Findings(f"FAIL: {total} gap(s) in the risk file of {product.slug}.")

    def write_text(self, product: Product, analysis: tg.Analysis, extra=()) -> None:
        out = self.stdout
        out.write(f"Risk check of {product} ({product.slug})")
        by_kind: dict[str, list[tg.Gap]] = {}
        for gap in analysis.gaps:
            by_kind.setdefault(gap.kind, []).append(gap)
        for row in analysis.coverage:
            status = "ok" if not row.gaps else f"{row.gaps} gap{'s' if row.gaps != 1 else ''}"
            out.write(
                f"\n{row.label} ({row.clause}): {status}, "
                f"{row.checked} {row.scope} checked, {row.percent:g}% covered"
            )
            for gap in by_kind.get(row.kind, ()):
                out.write(f"  - {gap.message}")
        registered: dict[str, list[tg.Gap]] = {}
        for gap in extra:
            registered.setdefault(gap.kind, []).append(gap)
        for kind, gaps in registered.items():
            out.write(f"\n{gate.label(kind)} ({gate.clause(kind)}): {len(gaps)} gap(s)")
            for gap in gaps:
                out.write(f"  - {gap.message}")
        out.write("")
        total = len(analysis.gaps) + len(extra)
        if total:
            out.write(self.style.ERROR(f"FAIL: {total} gap(s) in the risk file."))
        else:
            out.write(self.style.SUCCESS("OK: no gaps, the risk management file is complete."))
