"""Bench: the PDF dossier and the release gate at full size (issue 13 §3).

Synthetic products of N = 1,000 and 5,000 hazards (bench/synthetic.py: per hazard 2 controls,
3 requirements with their texts, 4 test cases with procedure and acceptance criteria, ≈1.3 runs
per test case with tester, version, CI reference and evidence file metadata). Prints, one
`name: value unit` line each:

- dossier_s_n1000, dossier_s_n5000 — gather the product from the database and render the whole
  dossier (what `manage.py export_dossier` and the background task do, less writing the file),
  wall time in a fresh process (best of 3 processes at each size: the growth compares the same
  statistic of both);
- dossier_cpu_s_n1000, dossier_cpu_s_n5000 — the CPU time (user + sys) of that same work, the
  figure to compare when the machine is shared;
- dossier_growth_n5000 — dossier_s_n5000 / dossier_s_n1000 (linear: ≤ 5.5 for ×5 data);
- dossier_pages_*, dossier_size_mb_* — page count and file size;
- dossier_peak_mb_n1000, dossier_peak_mb_n5000 — the whole process's peak resident memory
  (ru_maxrss of the child, from os.wait4: Django, the gathered data and the layout included;
  the children are started from a small parent, which never loads the data, since a forked
  child's ru_maxrss starts at its parent's resident size);
- dossier_lower_bound_s_n1000 — a plain reportlab script laying out the same tables (same rows,
  same columns, same column widths, plain grid, one paragraph style, in tables of 100 rows with
  the header repeated) from in-memory lists, with no database and no other section: the least
  work any dossier with these tables must do;
- riskcheck_s_n5000, riskcheck_cpu_s_n5000 — `manage.py riskcheck` of the 5,000-hazard product
  as a whole process (interpreter start, Django set-up, the gate, the report), wall and CPU.

The products are generated once into a throw-away SQLite file (bench/out/bench_dossier.sqlite3);
every measurement then runs in its own child process, whose resource usage `os.wait4` reports.
Run from the repository root: `.venv/bin/python bench/bench_dossier.py`
(BENCH_DOSSIER_SIZES=1000 to skip the 5,000-hazard product).
"""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

NAME = "bench_dossier"
SIZES = [int(n) for n in os.environ.get("BENCH_DOSSIER_SIZES", "1000,5000").split(",")]
RUNS = {1000: 3, 5000: 3}  # processes per size (best wall time); 1 for the others
BOUND_CHUNK = 100  # rows per table of the lower bound (see `lower_bound`)


def _plain_text(cell) -> str:
    """The text of one dossier cell, without its markup (what a plain script would print)."""
    frags = getattr(cell, "frags", None)
    if frags is None:
        return ""
    return " ".join(getattr(f, "text", "") for f in frags if getattr(f, "text", "")).strip()


def _tables(story):
    """(column widths, rows of cells) of every table of the dossier's story, in order."""
    from reportlab.platypus import KeepTogether, Table

    from traceability.dossier.layout import StreamTable

    for flowable in story:
        if isinstance(flowable, KeepTogether):
            yield from _tables(flowable._content)
        elif isinstance(flowable, StreamTable):
            table = flowable.make(flowable.rows())
            yield table.col_widths, table.rows
        elif isinstance(flowable, Table) and any(
            hasattr(c, "frags") for row in flowable._cellvalues[:2] for c in row
        ):
            yield list(flowable._colWidths), flowable._cellvalues


def lower_bound_lists(data) -> list[tuple[list[float], list[list[str]]]]:
    """(column widths, rows of plain strings) of every table the dossier lays out."""
    from traceability.dossier.renderer import DossierRenderer

    story = DossierRenderer(data).story()
    return [
        (list(widths), [[_plain_text(c) for c in row] for row in rows])
        for widths, rows in _tables(story)
    ]


def lower_bound(tables) -> float:
    """Lay the tables out with plain reportlab: plain text cells in one font (no wrapping, no
    markup: less work than any readable dossier), a grid, the header row repeated; portrait or
    landscape pages as wide as the table needs. (Paragraph cells, which wrap, took ~45 s here:
    reportlab's own paragraph layout is slower than the dossier's.)"""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        BaseDocTemplate,
        Frame,
        LongTable,
        NextPageTemplate,
        PageBreak,
        PageTemplate,
        TableStyle,
    )

    from traceability.dossier.layout import FONT, register_fonts

    register_fonts()
    start = time.perf_counter()
    grid = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), FONT, 7.5, 9.2),
            ("GRID", (0, 0), (-1, -1), 0.35, "grey"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
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
        cells = [list(row) for row in rows]
        # In runs of BOUND_CHUNK rows, each with the header: one table of thousands of rows
        # is split page by page from its whole remainder (quadratic), which no dossier must do.
        header, body = cells[:1], cells[1:]
        for at in range(0, max(len(body), 1), BOUND_CHUNK):
            table = LongTable(header + body[at : at + BOUND_CHUNK], colWidths=widths, repeatRows=1)
            table.setStyle(grid)
            story.append(table)
    doc = BaseDocTemplate(io.BytesIO(), pagesize=A4)
    doc.addPageTemplates(templates)
    # The cyclic collector off, as the dossier has it while it renders (its passes over the
    # cells are no work a PDF needs).
    gc.disable()
    try:
        doc.build(story)
    finally:
        gc.enable()
    return time.perf_counter() - start


def _django():
    os.environ["DATABASE_URL"] = f"sqlite:///{HERE / 'out' / (NAME + '.sqlite3')}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskbench.settings")
    import django

    django.setup()


def child(n: int, bound: bool) -> None:
    """Runs in a fresh process against the generated database; prints JSON figures: the
    dossier's, or with `bound` the lower bound's (in a process of its own, so that the cells it
    builds never count in the dossier's peak memory)."""
    _django()
    from hazards.models import Product
    from traceability.dossier import selectors, services

    product = Product.objects.get(slug=f"synthetic-{n}-1")
    if bound:
        print(json.dumps({"bound": lower_bound(lower_bound_lists(selectors.gather(product)))}))
        return
    start, cpu = time.perf_counter(), time.process_time()
    rendered = services.render_dossier(product)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    (HERE / "out" / f"dossier_n{n}.pdf").write_bytes(rendered.pdf)
    figures = {
        "seconds": seconds,
        "cpu": cpu,
        "pages": rendered.page_count,
        "size": len(rendered.pdf),
    }
    print(json.dumps(figures))


def _measure(args: list[str]) -> dict:
    """Run one child and return its output with its own resource usage (os.wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(args, stdout=out, stderr=err, env=os.environ.copy())
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        out, err = out.read(), err.read()
    return {
        "out": out.decode(),
        "err": err.decode(),
        "code": process.returncode,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
    }


def _child(n: int, *flags: str) -> dict:
    measured = _measure([sys.executable, __file__, "--child", str(n), *flags])
    if measured["code"]:
        sys.stderr.write(measured["err"])
        raise SystemExit(measured["code"])
    figures = json.loads(measured["out"].strip().splitlines()[-1])
    figures["peak_mb"] = measured["peak_mb"]
    return figures


def generate() -> None:
    """Runs in a child process: generate the products (this process grows large doing so)."""
    from synthetic import generate_product, setup_django

    setup_django(NAME)
    for n in SIZES:
        generate_product(n)


def main() -> None:
    # The products are generated in a child process, and nothing large is ever loaded here: a
    # child forked from a large process starts with that process's resident pages, and
    # ru_maxrss would count them as the child's peak.
    subprocess.run([sys.executable, __file__, "--generate"], check=True)
    # As a deployed install has it: the project's bytecode compiled once (with
    # PYTHONDONTWRITEBYTECODE set, every child would otherwise compile ~140 modules again).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-x", r"[/\\]\.venv", str(ROOT)], check=True
    )
    os.environ["DATABASE_URL"] = f"sqlite:///{HERE / 'out' / (NAME + '.sqlite3')}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskbench.settings")
    results = {}
    for n in SIZES:
        best = None
        for _ in range(RUNS.get(n, 1)):
            figures = _child(n)
            if best is None:
                best = figures
            else:  # the best time (the machine may be shared); the largest peak
                best["peak_mb"] = max(best["peak_mb"], figures["peak_mb"])
                if figures["seconds"] < best["seconds"]:
                    best.update(seconds=figures["seconds"], cpu=figures["cpu"])
        if n == 1000:
            best["bound"] = _child(n, "--bound")["bound"]
        results[n] = best
        print(f"dossier_s_n{n}: {best['seconds']:.2f} s")
        print(f"dossier_cpu_s_n{n}: {best['cpu']:.2f} s")
        print(f"dossier_pages_n{n}: {best['pages']} pages")
        print(f"dossier_size_mb_n{n}: {best['size'] / 1e6:.1f} MB")
        print(f"dossier_peak_mb_n{n}: {best['peak_mb']:.0f} MB")
        if "bound" in best:
            print(f"dossier_lower_bound_s_n{n}: {best['bound']:.2f} s")
    if 1000 in results and 5000 in results:
        growth = results[5000]["seconds"] / results[1000]["seconds"]
        print(f"dossier_growth_n5000: {growth:.2f} x")
    if 5000 in SIZES:
        riskcheck = _measure(
            [sys.executable, str(ROOT / "manage.py"), "riskcheck", "synthetic-5000-1"]
        )
        if riskcheck["code"] not in (0, 1):  # 1: the synthetic file has gaps, as intended
            sys.stderr.write(riskcheck["err"])
            raise SystemExit(riskcheck["code"])
        print(f"riskcheck_s_n5000: {riskcheck['wall']:.2f} s")
        print(f"riskcheck_cpu_s_n5000: {riskcheck['cpu']:.2f} s")


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(int(sys.argv[sys.argv.index("--child") + 1]), "--bound" in sys.argv)
    elif "--generate" in sys.argv:
        generate()
    else:
        main()
