"""Bench: the PDF dossier of a synthetic product of N = 1,000 hazards (≈10k items).

Prints, one `name: value unit` line each:
- dossier_s_n1000 — gather the product from the database and render the whole dossier (what
  `manage.py export_dossier` and the background task do, less writing the file);
- dossier_lower_bound_s_n1000 — a plain reportlab script laying out the same tables (same rows,
  same columns, same column widths, plain grid, one paragraph style) from in-memory lists, with no
  database and no other section: the least work any dossier with these tables must do;
- dossier_pages_n1000, dossier_size_mb_n1000 — the dossier's page count and file size;
- dossier_peak_mb_n1000 — peak resident memory of a fresh process that makes the dossier
  (Django, the gathered data and the layout included).

Times are the best of three interleaved runs of each (the machine may be shared).

The product is generated once into a throw-away SQLite file (bench/out/bench_dossier.sqlite3);
the dossier and the lower bound then run in a child process so its peak memory is its own.
Run from the repository root: `.venv/bin/python bench/bench_dossier.py`.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

N = 1000
NAME = "bench_dossier"
RUNS = 3


def _plain_text(cell) -> str:
    """The text of one dossier cell, without its markup (what a plain script would print)."""
    frags = getattr(cell, "frags", None)
    if frags is None:
        return ""
    return " ".join(getattr(f, "text", "") for f in frags if getattr(f, "text", "")).strip()


def _tables(story):
    """Every table of the dossier's story (nested groups included), in order."""
    from reportlab.platypus import KeepTogether, Table

    for flowable in story:
        if isinstance(flowable, KeepTogether):
            yield from _tables(flowable._content)
        elif isinstance(flowable, Table) and any(
            hasattr(c, "frags") for row in flowable._cellvalues[:2] for c in row
        ):
            yield flowable


def lower_bound_lists(data) -> list[tuple[list[float], list[list[str]]]]:
    """(column widths, rows of plain strings) of every table the dossier lays out."""
    from traceability.dossier.renderer import DossierRenderer

    story = DossierRenderer(data).story()
    return [
        (list(t._colWidths), [[_plain_text(c) for c in row] for row in t._cellvalues])
        for t in _tables(story)
    ]


def lower_bound(tables) -> float:
    """Lay the tables out with plain reportlab: Paragraph cells of one style, a grid, the
    header row repeated; portrait or landscape pages as wide as the table needs."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        BaseDocTemplate,
        Frame,
        LongTable,
        NextPageTemplate,
        PageBreak,
        PageTemplate,
        Paragraph,
        TableStyle,
    )

    from traceability.dossier.layout import FONT, register_fonts

    register_fonts()
    start = time.perf_counter()
    style = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.2)
    grid = TableStyle(
        [("GRID", (0, 0), (-1, -1), 0.35, "grey"), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    )
    templates = []
    for name, size in (("portrait", A4), ("landscape", landscape(A4))):
        frame = Frame(16 * mm, 16 * mm, size[0] - 32 * mm, size[1] - 36 * mm, id=name)
        templates.append(PageTemplate(id=name, frames=[frame], pagesize=size))
    portrait_width = A4[0] - 32 * mm
    story = []
    for widths, rows in tables:
        orientation = "landscape" if sum(widths) > portrait_width + 1 else "portrait"
        story += [NextPageTemplate(orientation), PageBreak()]
        cells = [[Paragraph(escape(text), style) for text in row] for row in rows]
        table = LongTable(cells, colWidths=widths, repeatRows=1)
        table.setStyle(grid)
        story.append(table)
    doc = BaseDocTemplate(io.BytesIO(), pagesize=A4)
    doc.addPageTemplates(templates)
    doc.build(story)
    return time.perf_counter() - start


def child() -> None:
    """Runs in a fresh process against the generated database; prints JSON figures."""
    from synthetic import setup_django  # noqa: F401 (sets sys.path, settings)

    os.environ["DATABASE_URL"] = f"sqlite:///{HERE / 'out' / (NAME + '.sqlite3')}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskbench.settings")
    import django

    django.setup()
    from hazards.models import Product
    from traceability.dossier import services

    product = Product.objects.get(slug=f"synthetic-{N}-1")
    # Best of three runs of each, interleaved: the machine is shared, and a slower second run
    # is noise, not the cost of the work.
    seconds, bound, peak_mb, tables = [], [], None, None
    for _ in range(RUNS):
        start = time.perf_counter()
        rendered = services.render_dossier(product)
        seconds.append(time.perf_counter() - start)
        if peak_mb is None:  # the dossier's own peak, before the lower bound runs
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            (HERE / "out" / f"dossier_n{N}.pdf").write_bytes(rendered.pdf)
            tables = lower_bound_lists(rendered.data)  # not timed: the lists are the input
        bound.append(lower_bound(tables))
    seconds, bound = min(seconds), min(bound)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "bound": bound,
                "pages": rendered.page_count,
                "size": len(rendered.pdf),
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> None:
    from synthetic import generate_product, setup_django

    setup_django(NAME)
    generate_product(N)
    result = subprocess.run(
        [sys.executable, __file__, "--child"],
        check=False,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(result.returncode)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"dossier_s_n{N}: {figures['seconds']:.2f} s")
    print(f"dossier_lower_bound_s_n{N}: {figures['bound']:.2f} s")
    print(f"dossier_pages_n{N}: {figures['pages']} pages")
    print(f"dossier_size_mb_n{N}: {figures['size'] / 1e6:.1f} MB")
    print(f"dossier_peak_mb_n{N}: {figures['peak_mb']:.0f} MB")


if __name__ == "__main__":
    if "--child" in sys.argv:
        child()
    else:
        main()
