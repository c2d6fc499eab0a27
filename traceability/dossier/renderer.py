"""Render `data.DossierData` as the risk management file in PDF (reportlab platypus).

A renderer class in the manner of pretix: page geometry, fonts and the stylesheet are attributes;
one method per section turns plain data into flowables; `render()` returns the bytes. Nothing
here touches the database.

How the document is laid out in *one* pass. The contents page, the standards cross-reference and
every footer print page numbers that are only known once the whole document has been laid out
("Page 3 of 412"). reportlab's usual answer, `multiBuild`, lays the document out again until the
numbers settle — twice or more over tables of thousands of rows. Here every such number is
*stamped* instead: the contents and cross-reference reserve a fixed slot for each number while
the document is laid out once, headings record the page they land on, and when the canvas is
saved the numbers are appended to the finished page streams (`_StampingCanvas`). The layout never
depends on the numbers (they sit in fixed-width right-aligned slots), so one pass is exact.

Deterministic output: reportlab's `invariant` mode (no random document id, no clock), the PDF
creation date set from the data (`DossierData.as_of`), fonts embedded from files shipped with
the project, and every collection already sorted by the selector.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence

from reportlab.graphics.shapes import Drawing, Group, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from hazards import risk
from traceability.dossier import clauses
from traceability.dossier import data as d
from traceability.dossier.layout import (
    BRAND,
    FONT,
    FONT_BOLD,
    FONT_ITALIC,
    FONT_MONO,
    HEAD_BG,
    INK,
    LINE,
    MUTED,
    REGION_FILL,
    REGION_INK,
    REGION_LETTER,
    RESULT_REGION,
    ZEBRA,
    Cell,
    CellFactory,
    Contents,
    GridLook,
    GridTable,
    Heading,
    PageSlot,
    Pt,
    RowTable,
    StampingCanvas,
    StreamTable,
    esc,
    fmt_date,
    fmt_dt,
    fmt_size,
    register_fonts,
)

# (key, title) in the order of the issue; the contents page is not numbered.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("document_control", "Document control"),
    ("crossref", "Standards cross-reference"),
    ("scope", "Scope and intended use"),
    ("plan", "Risk management plan"),
    ("safety_class", "Software safety classification"),
    ("hazards", "Hazard analysis"),
    ("evaluation", "Risk evaluation"),
    ("controls", "Risk controls"),
    ("trace", "Traceability matrix"),
    ("coverage", "Coverage and open gaps"),
    ("soup", "SOUP list"),
    ("extensions", "Post-release records"),
    ("residual", "Residual risk, benefit-risk and review conclusions"),
    ("report", "Risk management report"),
    ("changes", "Changes since the previous baseline"),
    ("evidence", "Evidence manifest"),
    ("audit", "Audit-trail extract"),
)
SECTION_NUMBERS = {key: i for i, (key, _) in enumerate(SECTIONS, 1)}
DRAFT_RED = REGION_INK["unacceptable"]  # the DRAFT line on every page of a draft
SECTION_TITLES = dict(SECTIONS)
CATEGORIES = (("safety", "Safety"), ("security", "Security"), ("privacy", "Privacy"))
NOT_RECORDED = "Not recorded."


class Rows:
    """The rows of a table as data and a function that builds one row's cells: `table()` lays a
    long table of them out page by page (`StreamTable`) instead of building every cell first."""

    def __init__(self, items: Iterable, build: Callable[[object], list]):
        self.items = tuple(items)
        self.build = build

    def __len__(self) -> int:
        return len(self.items)

    def built(self) -> list[list]:
        return [self.build(item) for item in self.items]


# ---------------------------------------------------------------------------------------------
# The renderer
# ---------------------------------------------------------------------------------------------


class DossierRenderer:
    """Turns one `DossierData` into the PDF bytes of the risk management file."""

    portrait = A4
    landscape = landscape(A4)
    margin_x = 16 * mm
    margin_top = 20 * mm
    margin_bottom = 16 * mm
    header_y = 12 * mm  # from the top edge
    footer_y = 9 * mm  # from the bottom edge
    # A table row is cut in two only when it does not fit on a page at all, and then only with
    # this much of the page free (`layout.RowTable`).
    min_in_row = 0.8 * (landscape[1] - margin_top - margin_bottom)

    def __init__(
        self, data: d.DossierData, *, progress: Callable[[float, str], None] | None = None
    ):
        register_fonts()
        self.data = data
        self.progress = progress
        self.data_hash = data.data_hash
        self.contents: list[tuple[int, str, str]] = []
        self.page_count = 0
        self._weights: dict[str, float] = {}
        self._build_styles()

    # -- styles ---------------------------------------------------------------------------

    def _build_styles(self) -> None:
        base = ParagraphStyle(
            "body", fontName=FONT, fontSize=9, leading=12, textColor=INK, spaceAfter=4
        )
        self.body = base
        self.note = ParagraphStyle(
            "note", base, fontName=FONT_ITALIC, textColor=MUTED, fontSize=8.5
        )
        self.h1 = ParagraphStyle(
            "h1", base, fontName=FONT_BOLD, fontSize=15, leading=19, textColor=BRAND,
            spaceBefore=0, spaceAfter=8,
        )  # fmt: skip
        self.h2 = ParagraphStyle(
            "h2", base, fontName=FONT_BOLD, fontSize=11.5, leading=15, textColor=INK,
            spaceBefore=10, spaceAfter=5,
        )  # fmt: skip
        self.h3 = ParagraphStyle(
            "h3", base, fontName=FONT_BOLD, fontSize=9.5, leading=12, spaceBefore=6, spaceAfter=3
        )
        self.title = ParagraphStyle(
            "title", base, fontName=FONT_BOLD, fontSize=24, leading=30, textColor=BRAND
        )
        self.subtitle = ParagraphStyle("subtitle", base, fontSize=13, leading=17, textColor=INK)
        self.kicker = ParagraphStyle(
            "kicker", base, fontName=FONT_BOLD, fontSize=10, leading=13, textColor=MUTED
        )
        cell = ParagraphStyle("cell", base, fontSize=7.5, leading=9.2, spaceAfter=0)
        self.cell_style = cell
        self.cell = CellFactory(cell)
        self.cell_bold = CellFactory(ParagraphStyle("cell_bold", cell, fontName=FONT_BOLD))
        self.cell_center = CellFactory(ParagraphStyle("cell_center", cell, alignment=TA_CENTER))
        self.cell_right = CellFactory(ParagraphStyle("cell_right", cell, alignment=TA_RIGHT))
        self.cell_muted = CellFactory(
            ParagraphStyle("cell_muted", cell, fontName=FONT_ITALIC, textColor=MUTED)
        )
        self.cell_mono = CellFactory(
            ParagraphStyle("cell_mono", cell, fontName=FONT_MONO, fontSize=6.5, leading=8)
        )
        self.head = CellFactory(
            ParagraphStyle("head", cell, fontName=FONT_BOLD, textColor=colors.white)
        )
        self.chips = {
            region: CellFactory(
                ParagraphStyle(
                    f"chip_{region or 'none'}", cell, fontName=FONT_BOLD, fontSize=7, leading=8.6,
                    textColor=REGION_INK[region], backColor=REGION_FILL[region],
                    borderPadding=(1, 2, 1, 2), alignment=TA_CENTER,
                )
            )
            for region in REGION_FILL
        }  # fmt: skip
        cell_commands = [
            ("FONT", (0, 0), (-1, -1), FONT, 7.5),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
        line_commands = [
            ("GRID", (0, 0), (-1, -1), 0.35, LINE),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA]),
        ]
        self.table_style = TableStyle(cell_commands + line_commands)
        self.grid_look = GridLook(
            line=LINE,
            line_width=0.35,
            head_fill=HEAD_BG,
            zebra=(None, ZEBRA),
            pad_x=3,
            pad_top=2.5,
            pad_bottom=2.5,
            min_in_row=self.min_in_row,
        )
        self.table_lines = TableStyle(line_commands)
        # The cell style every cell of `table_style` gets, made once (see `_long_table`).
        probe = Table([[""]])
        probe.setStyle(TableStyle(cell_commands))
        self._cell_style = probe._cellStyles[0][0]
        self.kv_style = TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 7.5),
                ("GRID", (0, 0), (-1, -1), 0.35, LINE),
                ("BACKGROUND", (0, 0), (0, -1), ZEBRA),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )

    # -- page furniture -------------------------------------------------------------------

    def frame_width(self, orientation: str = "portrait") -> float:
        size = self.portrait if orientation == "portrait" else self.landscape
        return size[0] - 2 * self.margin_x

    def _templates(self) -> list[PageTemplate]:
        templates = []
        for name, size in (("portrait", self.portrait), ("landscape", self.landscape)):
            frame = Frame(
                self.margin_x,
                self.margin_bottom,
                size[0] - 2 * self.margin_x,
                size[1] - self.margin_top - self.margin_bottom,
                leftPadding=0,
                rightPadding=0,
                topPadding=0,
                bottomPadding=0,
                id=name,
            )
            templates.append(
                PageTemplate(id=name, frames=[frame], pagesize=size, onPage=self.draw_furniture)
            )
        return templates

    @property
    def doc_id(self) -> str:
        p = self.data.product
        return f"{p.document_number} · Rev. {self.data.revision}"

    def draw_furniture(self, canv, doc) -> None:
        """Header (product, document number, revision) and footer of every page; the page
        number itself is stamped after layout (`stamp_page`). They are the same operators on
        every page of a size (the canvas starts each page in the same state, and they save
        and restore it), so they are drawn on the first page of each size and copied onto
        the others (`StampingCanvas.furniture`): drawing their strings again on each of
        thousands of pages was a noticeable cost."""
        size = tuple(canv._pagesize)
        code = canv.furniture.get(size)
        if code is None:
            start = len(canv._code)
            self._draw_furniture(canv)
            canv.furniture[size] = canv._code[start:]
        else:
            canv._code.extend(code)

    def _draw_furniture(self, canv) -> None:
        width, height = canv._pagesize
        p = self.data.product
        canv.saveState()
        canv.setStrokeColor(LINE)
        canv.setLineWidth(0.5)
        top = height - self.header_y
        canv.setFont(FONT_BOLD, 8)
        canv.setFillColor(INK)
        room = width - 2 * self.margin_x - pdfmetrics.stringWidth(self.doc_id, FONT, 8) - 12
        title = f"{p.name} {p.model_number}".strip()
        while len(title) > 8 and pdfmetrics.stringWidth(title, FONT_BOLD, 8) > room:
            title = title[:-2].rstrip() + "…"
        canv.drawString(self.margin_x, top, title)
        canv.setFont(FONT, 8)
        canv.drawRightString(width - self.margin_x, top, self.doc_id)
        canv.line(self.margin_x, top - 3, width - self.margin_x, top - 3)
        bottom = self.footer_y
        canv.line(self.margin_x, bottom + 9, width - self.margin_x, bottom + 9)
        canv.setFont(FONT, 7)
        canv.setFillColor(MUTED)
        # Left of the page number (stamped later, right-aligned): drop trailing parts that
        # would run into it.
        room = (
            width
            - 2 * self.margin_x
            - pdfmetrics.stringWidth("Page 99999 of 99999  ", FONT_BOLD, 7.5)
        )
        parts = [
            f"Risk management file {p.document_number}",
            f"Revision {self.data.revision}",
            f"data as of {fmt_dt(self.data.as_of)}",
            f"data SHA-256 {self.data_hash[:12]}…",
        ]
        while len(parts) > 1 and pdfmetrics.stringWidth(" · ".join(parts), FONT, 7) > room:
            parts.pop()
        canv.drawString(self.margin_x, bottom, " · ".join(parts))
        self.draw_release_state(canv, width, height)
        canv.restoreState()

    def draw_release_state(self, canv, width, height) -> None:
        """What this document is, on every page, under the header: the release baseline it
        reproduces, or DRAFT with the number of open gaps of the release gate (DESIGN.md §8) —
        a draft never says Released."""
        release = self.data.release_baseline
        y = height - self.header_y - 5.5 * mm
        if release is None:
            gaps = len(self.data.gaps)
            text = (
                f"DRAFT — {gaps} open gap{'s' if gaps != 1 else ''} "
                f"(see §{SECTION_NUMBERS['coverage']}) · not a release baseline"
            )
            canv.setFont(FONT_BOLD, 8)
            canv.setFillColor(DRAFT_RED)
        else:
            text = f"Release baseline “{release.name}” · SHA-256 {release.sha256[:16]}…"
            canv.setFont(FONT_BOLD, 7.5)
            canv.setFillColor(INK)
        canv.drawString(self.margin_x, y, text)

    def stamp_page(self, canv, number: int, total: int, page, slots) -> None:
        """Late text of one page: "Page X of Y" and the page numbers in its slots."""
        width = page.pagewidth
        canv.setFont(FONT_BOLD, 7.5)
        canv.setFillColor(INK)
        canv.drawRightString(width - self.margin_x, self.footer_y, f"Page {number} of {total}")
        for _, x, y, keys, align in slots:
            pages = sorted({canv.pages_of[k] for k in keys if k in canv.pages_of})
            text = ", ".join(str(n) for n in pages) or "—"
            if align == "toc":
                canv.setFont(FONT_BOLD, 9)
                canv.setFillColor(INK)
                canv.drawRightString(x, y, text)
            else:
                canv.setFont(FONT, 7.5)
                canv.setFillColor(INK)
                if align == "right":
                    canv.drawRightString(x, y, text)
                else:
                    canv.drawString(x, y, text)

    def pdf_date(self) -> str:
        return self.data.as_of.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%S+00'00'")

    def heading_drawn(self, canv, heading: Heading) -> None:
        if heading.key in canv.pages_of:
            return
        canv.pages_of[heading.key] = canv.getPageNumber()
        canv.bookmarkHorizontal(heading.key, 0, heading.height + 6)
        canv.addOutlineEntry(heading.outline, heading.key, level=heading.level, closed=False)
        if self.progress and heading.key in self._weights:
            self.progress(self._weights[heading.key], f"Laying out: {heading.outline}")

    # -- building blocks ------------------------------------------------------------------

    def heading(self, key: str, title: str, level: int = 0, *, numbered: str = "") -> Heading:
        text = f"{numbered}  {title}" if numbered else title
        style = {0: self.h1, 1: self.h2}.get(level, self.h3)
        if level <= 1:
            self.contents.append((level, text, key))
        return Heading(esc(text), style, key=key, level=level, outline=text, renderer=self)

    def section(self, key: str) -> list[Flowable]:
        number = SECTION_NUMBERS[key]
        return [self.heading(key, SECTION_TITLES[key], 0, numbered=str(number))]

    def sub(self, key: str, index: int, title: str) -> list[Flowable]:
        number = f"{SECTION_NUMBERS[key]}.{index}"
        return [CondPageBreak(150), self.heading(f"{key}.{index}", title, 1, numbered=number)]

    def para(self, markup: str, style=None) -> Paragraph:
        return Paragraph(markup, style or self.body)

    def text(self, value: str, empty: str = NOT_RECORDED) -> Paragraph:
        if not value:
            return Paragraph(esc(empty), self.note)
        return Paragraph(esc(value), self.body)

    def _col_widths(self, weights: Sequence[float], orientation: str) -> list[float]:
        """Column widths: `Pt` weights are points, the others share the rest of the width."""
        width = self.frame_width(orientation)
        fixed = sum(w for w in weights if isinstance(w, Pt))
        total = float(sum(w for w in weights if not isinstance(w, Pt))) or 1.0
        return [float(w) if isinstance(w, Pt) else (width - fixed) * w / total for w in weights]

    def _long_table(
        self, header: list, col_widths: list[float], rows: list[list], heights=None
    ) -> RowTable:
        """A long table in `table_style`. Its cells share one `CellStyle` (font, padding,
        alignment: the same for every cell) instead of one made and styled per cell; only the
        lines and backgrounds are set as commands. `heights`: the rows' heights when known."""
        n_cols = len(col_widths)
        table = RowTable(
            [header, *rows],
            colWidths=col_widths,
            rowHeights=heights,
            repeatRows=1,
            splitByRow=1,
            hAlign="LEFT",
            cellStyles=[[self._cell_style] * n_cols for _ in range(len(rows) + 1)],
        )
        table.min_in_row = self.min_in_row
        table.setStyle(self.table_lines)
        return table

    def table(
        self,
        header: Sequence[str],
        rows: list[list] | Rows,
        weights: Sequence[float],
        *,
        orientation: str = "portrait",
        long: bool = True,
    ) -> Flowable:
        """A table with a repeated header row whose columns share the frame width by weight;
        `Rows` of a long table are streamed (`stream`)."""
        if isinstance(rows, Rows):
            if long:
                return self.stream(header, rows.items, rows.build, weights, orientation=orientation)
            rows = rows.built()
        col_widths = self._col_widths(weights, orientation)
        head = [self.head.plain(h) for h in header]
        if long:
            return self._long_table(head, col_widths, rows)
        table = Table([head, *rows], colWidths=col_widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(self.table_style)
        return table

    def stream(
        self,
        header: Sequence[str],
        items: Sequence,
        row: Callable[[object], list],
        weights: Sequence[float],
        *,
        orientation: str = "portrait",
    ) -> StreamTable:
        """A long table of one row per item, built page by page as it is laid out (see
        `layout.StreamTable`): what every table that grows with the risk file uses."""
        col_widths = self._col_widths(weights, orientation)
        head = [self.head.plain(h) for h in header]

        def make(rows: list[list], heights=None) -> GridTable:
            return GridTable(
                [head, *rows],
                col_widths,
                self.grid_look,
                heights=heights,
                fallback=lambda: self._long_table(head, col_widths, rows),
            )

        return StreamTable(make, tuple(items), row)

    def layout(self, rows: list[list]) -> Table:
        """A borderless table that places drawings side by side."""
        table = Table(rows, hAlign="LEFT")
        table.setStyle(
            TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8), ("VALIGN", (0, 0), (-1, -1), "TOP")])
        )
        return table

    def kv_table(self, rows: list[tuple[str, object]], orientation="portrait", label_w=0.27):
        width = self.frame_width(orientation)
        data = []
        for label, value in rows:
            if isinstance(value, Flowable):
                cell = value
            elif value in (None, ""):
                cell = Paragraph(esc(NOT_RECORDED), self.note)
            else:
                cell = Paragraph(esc(value), self.body)
            data.append([Paragraph(esc(label), self.h3), cell])
        table = Table(
            data, colWidths=[width * label_w, width * (1 - label_w)], hAlign="LEFT", splitByRow=1
        )
        table.setStyle(self.kv_style)
        return table

    def fit(self, header: str, values: Iterable[str] = (), size: float = 7.5, font=FONT) -> Pt:
        """A column width that cuts no word of its header or of `values` (plus padding)."""
        widest = max((pdfmetrics.stringWidth(w, FONT_BOLD, 7.5) for w in header.split()), default=0)
        for value in values:
            for word in str(value).split():
                widest = max(widest, pdfmetrics.stringWidth(word, font, size))
        return Pt(widest + 7)

    def level_cell(self, levels: tuple[d.Level, ...], value: int | None) -> Cell:
        """A level as its number (bold) over its name (small), e.g. 4 / Critical."""
        if value is None:
            return self.cell_center.plain("—")
        name = next((lvl.name for lvl in levels if lvl.value == value), "")
        return self.cell_center.runs([("b", str(value))], [("small", name)])

    def level_fit(self, header: str, levels: tuple[d.Level, ...]) -> Pt:
        return self.fit(header, [lvl.name for lvl in levels], size=6.3)

    def chip(self, region: str, label: str) -> Cell:
        return self.chips.get(region, self.chips[""]).plain(label)

    def region_label(self, category: str, region: str) -> str:
        if not region:
            return "Not estimated"
        labels = risk.ACCEPTABILITY_LABELS[risk.Category(category)]
        return labels.get(risk.Acceptability(region), region)

    def level_text(self, levels: tuple[d.Level, ...], value: int | None) -> str:
        if value is None:
            return "—"
        for level in levels:
            if level.value == value:
                return f"{value} {level.name}"
        return str(value)

    def matrix(self, category: str) -> d.Matrix:
        return next(m for m in self.data.policy.matrices if m.category == category)

    def codes(self, codes: Iterable[str], empty: str = "—") -> str:
        return ", ".join(codes) or empty

    # -- the document ---------------------------------------------------------------------

    def story(self) -> list[Flowable]:
        sections = [
            ("cover", self.cover),
            ("contents", self.contents_page),
            ("document_control", self.document_control),
            ("crossref", self.crossref),
            ("scope", self.scope),
            ("plan", self.plan),
            ("safety_class", self.safety_class),
            ("hazards", self.hazard_analysis),
            ("evaluation", self.evaluation),
            ("controls", self.risk_controls),
            ("trace", self.traceability),
            ("coverage", self.coverage),
            ("soup", self.soup),
            ("extensions", self.extensions),
            ("residual", self.residual),
            ("report", self.report),
            ("changes", self.changes),
            ("evidence", self.evidence),
            ("audit", self.audit),
        ]
        landscape_sections = {"hazards", "controls", "soup", "extensions", "audit"}
        weights = self._section_weights()
        done = 0.0
        total = sum(weights.values()) or 1.0
        story: list[Flowable] = []
        orientation = "portrait"
        for index, (key, method) in enumerate(sections):
            wanted = "landscape" if key in landscape_sections else "portrait"
            if index:
                if wanted != orientation:
                    story.append(NextPageTemplate(wanted))
                    orientation = wanted
                story.append(PageBreak())
            # Progress: building the story is ~40 % of the work, laying it out the rest.
            self._weights[key] = 0.45 + 0.5 * done / total
            if self.progress:
                self.progress(0.05 + 0.4 * done / total, f"Preparing: {key.replace('_', ' ')}")
            story.extend(method())
            done += weights.get(key, 1)
        return story

    def _section_weights(self) -> dict[str, float]:
        data = self.data
        return {
            "hazards": 12 * len(data.hazards),
            "controls": 8 * len(data.controls),
            "trace": 5 * len(data.trace_rows)
            + 6 * len(data.requirements)
            + 8 * len(data.test_cases)
            + 4 * sum(len(t.runs) for t in data.test_cases),
            "safety_class": 6 * len(data.software_items),
            "evidence": 7 * len(data.evidence),
            "audit": 6 * len(data.audit),
            "coverage": 3 * len(data.gaps),
        }

    def render(self) -> bytes:
        """The PDF bytes (one layout pass; see the module docstring)."""
        buffer = io.BytesIO()
        p = self.data.product
        doc = BaseDocTemplate(
            buffer,
            pagesize=self.portrait,
            title=f"Risk management file — {p.name} {p.model_number}".strip(),
            author=p.manufacturer or "RiskBench",
            subject=f"{p.document_number} revision {self.data.revision}; data SHA-256 "
            f"{self.data_hash}",
            creator="RiskBench",
            keywords="ISO 14971, IEC 62304, risk management file",
            invariant=1,
            pageCompression=1,
            initialFontName=FONT,
            lang="en",
            leftMargin=self.margin_x,
            rightMargin=self.margin_x,
            topMargin=self.margin_top,
            bottomMargin=self.margin_bottom,
        )
        doc.addPageTemplates(self._templates())
        story = self.story()

        def make_canvas(*args, **kwargs):
            canv = StampingCanvas(*args, renderer=self, **kwargs)
            canv.showOutline()
            return canv

        doc.build(story, canvasmaker=make_canvas)
        if self.progress:
            self.progress(0.97, "Finishing")
        return buffer.getvalue()

    # -- sections -------------------------------------------------------------------------

    def cover(self) -> list[Flowable]:
        data, p = self.data, self.data.product
        counts = (
            f"{len(data.hazards)} hazards, {len(data.controls)} risk controls, "
            f"{len(data.requirements)} requirements, {len(data.tests)} test cases, "
            f"{len(data.software_items)} software items ({len(data.soup)} SOUP)"
        )
        ident = self.kv_table(
            [
                ("Document number", p.document_number),
                ("Revision", data.revision),
                ("Date (data as of)", fmt_dt(data.as_of)),
                ("Manufacturer", p.manufacturer),
                ("Risk policy", f"{data.policy.name}, version {data.policy.version}"),
                (
                    "System software safety class",
                    f"Class {p.software_safety_class} (IEC 62304 4.3)",
                ),
                ("Content", counts),
                ("Data SHA-256", Paragraph(self.data_hash, self.cell_mono.style)),
            ],
            label_w=0.3,
        )
        story: list[Flowable] = [
            Heading(
                "RISK MANAGEMENT FILE",
                self.kicker,
                key="cover",
                level=0,
                outline="Cover",
                renderer=self,
            ),  # fmt: skip
            Spacer(1, 4),
            Paragraph(esc(p.name), self.title),
            Paragraph(esc(p.model_number or ""), self.subtitle),
            Spacer(1, 2),
            Paragraph(
                "Risk management file according to ISO 14971:2019, with the software risk "
                "management of IEC 62304:2006+A1:2015",
                self.note,
            ),
            Spacer(1, 10),
            ident,
            Spacer(1, 14),
            Paragraph("Approvals", self.h2),
        ]
        story.extend(self.approvals())
        story.append(Spacer(1, 8))
        story.append(
            Paragraph(
                "This document was generated by RiskBench from the risk management file as it "
                f"stood on {esc(fmt_dt(data.as_of))}. {esc(self.hash_explanation())} "
                "Electronic signatures show the signer's printed name, the date and time (UTC) "
                "and the meaning of the signature (21 CFR 11.50).",
                self.note,
            )
        )
        return story

    def hash_explanation(self) -> str:
        """What the one hash that identifies this content covers, and what the other hashes
        printed in this document (signatures, baselines) cover instead."""
        evidence = SECTION_NUMBERS["evidence"]
        return (
            "The data SHA-256 is the identity of this content: the SHA-256 of every value this "
            "document prints (the records, their links, the analyses computed from them, the "
            "signatures and the audit-trail extract, as canonical JSON without database ids), "
            "so the same data always gives the same hash and the same PDF, byte for byte. A "
            "baseline's content SHA-256 covers a snapshot of the records only (product, risk "
            "policy, hazards, risk controls, software items, requirements, test cases, test "
            "runs with the SHA-256 of their evidence files, trace links), without the audit "
            "trail, the signatures and the analyses. A signature on a baseline signs that "
            "baseline, content SHA-256 included; a signature on a record (section 1.2) signs "
            "the SHA-256 of that one record as it was when signed. Evidence files are "
            f"identified by their own SHA-256 (section {evidence})."
        )

    def approvals(self) -> list[Flowable]:
        """The approvals block: signatures on the baseline this document reproduces, or empty
        lines to sign when the content has not been released as a signed baseline yet."""
        header = [
            "Meaning",
            "Printed name",
            "Signature (user)",
            "Date and time (UTC)",
            "Signed content SHA-256",
        ]
        weights = [1.1, 1.6, 1.3, 1.4, 2.6]
        signed = ()
        if self.data.released:
            signed = self.data.baselines[-1].signatures
        if signed:
            rows = Rows(
                signed,
                lambda s: [
                    self.cell.plain(s.meaning),
                    self.signer_cell(s),
                    self.cell.plain(s.username),
                    self.cell.plain(fmt_dt(s.signed_at)),
                    self.cell_mono.plain(s.sha256),
                ],
            )
            table = self.table(header, rows, weights, long=False)
            return [table]
        rows = [
            [self.cell_bold.plain(m), "", "", "", ""] for m in ("Authored", "Reviewed", "Approved")
        ]
        table = self.table(header, rows, weights, long=False)
        table.setStyle(TableStyle([("BOTTOMPADDING", (0, 1), (-1, -1), 16)]))
        return [
            table,
            Paragraph(
                "No electronic signature approves this content yet: it is not a signed "
                "baseline. Sign above, or record and sign a baseline in RiskBench.",
                self.note,
            ),
        ]

    def document_control(self) -> list[Flowable]:
        data, p = self.data, self.data.product
        latest = data.baselines[-1] if data.baselines else None
        release = data.release_baseline
        gaps = len(data.gaps)
        if release is not None:
            state = (
                f"Released: identical to release baseline “{release.name}” "
                f"(SHA-256 {release.sha256}), taken when the release gate found no gap."
            )
        elif latest and data.released:
            state = (
                f"DRAFT — {gaps} open gap(s): identical to working baseline “{latest.name}”, "
                "which is not a release baseline."
            )
        elif latest:
            state = f"DRAFT — {gaps} open gap(s): the data changed since baseline “{latest.name}”."
        else:
            state = (
                f"DRAFT — {gaps} open gap(s): no baseline of this risk management file has been "
                "recorded yet."
            )
        story = self.section("document_control")
        story.append(
            self.kv_table(
                [
                    ("Document", f"Risk management file of {p.name} {p.model_number}".strip()),
                    ("Document number", p.document_number),
                    ("Revision", data.revision),
                    ("Status", state),
                    ("Data as of", fmt_dt(data.as_of)),
                    ("Data SHA-256", Paragraph(self.data_hash, self.cell_mono.style)),
                    ("What the hashes cover", self.hash_explanation()),
                    (
                        "How this document is made",
                        "Generated by RiskBench from its database: every table is the data as "
                        "recorded, in a fixed order; nothing is edited by hand. The audit trail "
                        "of every record is kept in RiskBench (21 CFR 11.10(e)).",
                    ),
                ]
            )
        )
        story += self.sub("document_control", 1, "Revision history")
        if data.baselines:
            rows = [
                [
                    self.cell_center.plain(str(i)),
                    self.cell.plain(b.name),
                    self.cell.plain(fmt_dt(b.created_at)),
                    self.cell.plain(b.created_by),
                    self.cell_mono.plain(b.sha256),
                    self.cell.plain(
                        "; ".join(f"{s.meaning} by {s.printed_name}" for s in b.signatures)
                        or "Not signed"
                    ),
                ]
                for i, b in enumerate(data.baselines, 1)
            ]
            story.append(
                self.table(
                    ["Rev.", "Baseline", "Recorded", "By", "Content SHA-256", "Signatures"],
                    rows,
                    [0.5, 1.6, 1.2, 1.1, 2.4, 1.6],
                )
            )
        else:
            story.append(
                self.text("", "No baseline has been recorded: this is the first revision (draft).")
            )
        story += self.sub("document_control", 2, "Electronic signatures on records")
        if data.record_signatures:
            rows = Rows(
                data.record_signatures,
                lambda s: [
                    self.cell.plain(s.record),
                    self.cell.plain(s.meaning),
                    self.signer_cell(s),
                    self.cell.plain(fmt_dt(s.signed_at)),
                    self.cell_mono.plain(s.sha256),
                    self.chip(
                        "acceptable" if s.current else "investigate",
                        "Current" if s.current else "Superseded",
                    ),
                ],
            )
            story.append(
                self.table(
                    ["Record", "Meaning", "Printed name", "Date and time", "SHA-256", "State"],
                    rows,
                    [1.2, 0.9, 1.3, 1.2, 2.6, 0.9],
                )
            )
        else:
            story.append(
                self.text(
                    "", "No electronic signature has been recorded on the records of this file."
                )
            )
        return story

    def signer_cell(self, s: d.Signature) -> Cell:
        """The printed name (21 CFR 11.50) with the role and qualification the signer held at
        signing (ISO 14971 4.3)."""
        if not s.competence:
            return self.cell.plain(s.printed_name)
        return self.cell.rich(
            f"{esc(s.printed_name)}<br/><font color='#555555'>{esc(s.competence)}</font>"
        )

    def contents_page(self) -> list[Flowable]:
        return [
            Heading(
                "Contents", self.h1, key="contents", level=0, outline="Contents", renderer=self
            ),
            Contents(self.contents, self),
        ]

    def crossref(self) -> list[Flowable]:
        story = self.section("crossref")
        story.append(
            self.para(
                "Where this document addresses each clause of ISO 14971:2019 (4.4 to 10) and of "
                "IEC 62304 that concerns risk management. Page numbers are those of the "
                "sections' first pages.",
                self.note,
            )
        )
        width = self.frame_width()
        weights = [1.5, 0.6, 3.0, 2.6, 0.9]
        page_w = width * weights[-1] / sum(weights) - 6
        rows = []
        for clause in clauses.CLAUSES:
            rows.append(
                [
                    self.cell.plain(clause.standard),
                    self.cell_bold.plain(clause.number),
                    self.cell.plain(clause.title),
                    self.cell.plain(
                        "; ".join(
                            f"{SECTION_NUMBERS[k]} {SECTION_TITLES[k]}" for k in clause.sections
                        )
                    ),
                    PageSlot(clause.sections, page_w, 9.2),
                ]
            )
        story.append(
            self.table(["Standard", "Clause", "Requirement", "Section", "Page"], rows, weights)
        )
        return story

    def scope(self) -> list[Flowable]:
        p = self.data.product
        story = self.section("scope")
        story.append(
            self.kv_table(
                [
                    ("Product", p.name),
                    ("Model / version under review", p.model_number),
                    ("Manufacturer", p.manufacturer),
                    ("Description", p.description),
                    ("Intended use (ISO 14971 5.2)", p.intended_use),
                    ("Reasonably foreseeable misuse (5.2)", p.reasonably_foreseeable_misuse),
                    ("Users", p.intended_users),
                    ("Use environment", p.use_environment),
                    ("Connectivity", p.connectivity),
                    ("Characteristics related to safety (5.3)", p.safety_characteristics),
                    ("Software safety class of the system (IEC 62304 4.3)",
                     f"Class {p.software_safety_class}"),
                ]
            )
        )  # fmt: skip
        return story

    def plan(self) -> list[Flowable]:
        data, p, policy = self.data, self.data.product, self.data.policy
        story = self.section("plan")
        story += self.sub("plan", 1, "Plan and acceptability criteria")
        story.append(
            self.kv_table(
                [
                    ("Risk policy",
                     f"{policy.name} (version {policy.version}, {policy.status.lower()})"),
                    ("Policy description", policy.description),
                    (
                        "Criteria when probability cannot be estimated (4.4)",
                        "The risk is evaluated on severity alone, at the worst likelihood of the "
                        "scale.",
                    ),
                    ("Approval of the plan", p.plan_approval),
                    ("Responsibilities and authorities (4.4 b)",
                     p.responsibilities_and_authorities),
                    ("Requirements for review of risk management activities (4.4 c)",
                     p.review_requirements),
                    ("Verification of risk controls (4.4 e)", p.verification_plan),
                    ("Overall residual risk: method and criteria (4.4 f)",
                     p.overall_residual_risk_method),
                    ("Production and post-production activities (4.4 g, 10)",
                     p.post_production_plan),
                ]
            )
        )  # fmt: skip
        story += self.sub("plan", 2, "Scales")
        for scale in policy.scales:
            rows = Rows(
                scale.levels,
                lambda level: [
                    self.cell_center.plain(str(level.value)),
                    self.cell_bold.plain(level.name),
                    self.cell.plain(level.description),
                ],
            )
            table = self.table(["Level", "Name", "Description"], rows, [0.6, 1.6, 5], long=False)
            story.append(KeepTogether([Paragraph(esc(scale.title), self.h3), table, Spacer(1, 4)]))
        story += self.sub("plan", 3, "Probability of harm from P1 and P2 (ISO 14971 Annex C)")
        p1 = next(s for s in policy.scales if s.key == "p1")
        p2 = next(s for s in policy.scales if s.key == "p2")
        prob = next(s for s in policy.scales if s.key == "probability")
        rows = []
        for i, level in enumerate(p1.levels):
            row = [self.cell_bold.plain(f"P1 {level.value} {level.name}")]
            for j in range(len(p2.levels)):
                value = (
                    policy.probability_mapping[i][j]
                    if i < len(policy.probability_mapping)
                    else None
                )
                row.append(self.cell_center.plain(self.level_text(prob.levels, value)))
            rows.append(row)
        story.append(
            self.table(
                ["P1 \\ P2", *[f"P2 {lvl.value} {lvl.name}" for lvl in p2.levels]],
                rows,
                [1.6] + [1] * len(p2.levels),
                long=False,
            )
        )
        story += self.sub("plan", 4, "Acceptability matrices")
        story.append(
            self.para(
                "Each cell shows the region of the plan's criteria: "
                "<b>A</b> acceptable, <b>I</b> investigate further risk control, <b>U</b> "
                "unacceptable; a benefit-risk analysis (7.4) may accept only the regions the plan "
                "names. Security risk is controlled / controlled pending review / uncontrolled "
                "risk (the regions of FDA's post-market cybersecurity guidance). P and P1 are "
                "probabilities per use.",
                self.note,
            )
        )
        drawings = [self.matrix_drawing(m) for m in policy.matrices]
        grid = self.layout([drawings[:2], [drawings[2], ""]])
        story.append(grid)
        del data
        return story

    def matrix_drawing(self, matrix: d.Matrix, counts=None, title: str | None = None) -> Drawing:
        """An acceptability matrix (or, with `counts`, a heat map) as vector graphics: rows are
        severity (highest on top), columns likelihood; every cell carries its region letter so
        the colour is never the only cue."""
        n_s, n_l = len(matrix.severity_levels), len(matrix.likelihood_levels)
        cell_w, cell_h = 36, 20
        label_w, label_h, title_h, axis_w = 66, 30, 16, 12
        width = axis_w + label_w + n_l * cell_w + 4
        height = title_h + n_s * cell_h + label_h
        drawing = Drawing(width, height, initialFontName=FONT, initialFontSize=8)
        drawing.add(
            String(
                0, height - 11, title or matrix.title, fontName=FONT_BOLD, fontSize=8, fillColor=INK
            )
        )
        x0 = axis_w + label_w
        y_top = height - title_h
        for s_index, level in enumerate(reversed(matrix.severity_levels)):
            s_value = level.value
            y = y_top - (s_index + 1) * cell_h
            drawing.add(
                String(
                    x0 - 3, y + cell_h / 2 - 2.5, f"{level.value} {level.name}"[:16],
                    fontName=FONT, fontSize=6, textAnchor="end", fillColor=INK,
                )
            )  # fmt: skip
            for l_index, like in enumerate(matrix.likelihood_levels):
                region = ""
                if s_value - 1 < len(matrix.cells) and like.value - 1 < len(matrix.cells[0]):
                    region = matrix.cells[s_value - 1][like.value - 1]
                x = x0 + l_index * cell_w
                drawing.add(
                    Rect(
                        x, y, cell_w, cell_h, fillColor=REGION_FILL.get(region, REGION_FILL[""]),
                        strokeColor=colors.white, strokeWidth=1,
                    )
                )  # fmt: skip
                letter = REGION_LETTER.get(region, "")
                if counts is None:
                    drawing.add(
                        String(
                            x + cell_w / 2, y + cell_h / 2 - 3, letter, fontName=FONT_BOLD,
                            fontSize=8, textAnchor="middle", fillColor=REGION_INK.get(region, INK),
                        )
                    )  # fmt: skip
                else:
                    count = counts[s_index][l_index]
                    drawing.add(
                        String(
                            x + 2, y + cell_h - 6.5, letter, fontName=FONT, fontSize=5,
                            fillColor=REGION_INK.get(region, INK),
                        )
                    )  # fmt: skip
                    if count:
                        drawing.add(
                            String(
                                x + cell_w / 2, y + cell_h / 2 - 3.5, str(count),
                                fontName=FONT_BOLD, fontSize=9, textAnchor="middle", fillColor=INK,
                            )
                        )  # fmt: skip
        for l_index, like in enumerate(matrix.likelihood_levels):
            x = x0 + l_index * cell_w + cell_w / 2
            y = y_top - n_s * cell_h - 8
            drawing.add(
                String(x, y, str(like.value), fontName=FONT_BOLD, fontSize=6, textAnchor="middle",
                       fillColor=INK)
            )  # fmt: skip
            drawing.add(
                String(x, y - 7, like.name[:12], fontName=FONT, fontSize=5.2, textAnchor="middle",
                       fillColor=INK)
            )  # fmt: skip
        drawing.add(
            String(
                x0 + n_l * cell_w / 2, 1, matrix.likelihood_axis, fontName=FONT_ITALIC,
                fontSize=6.5, textAnchor="middle", fillColor=MUTED,
            )
        )  # fmt: skip
        axis = Group(
            String(0, 0, matrix.severity_axis, fontName=FONT_ITALIC, fontSize=6.5,
                   textAnchor="middle", fillColor=MUTED)
        )  # fmt: skip
        axis.rotate(90)
        axis.translate(y_top - n_s * cell_h / 2, -7)
        drawing.add(axis)
        return drawing

    # -- hazard analysis ------------------------------------------------------------------

    def _id_cell(self, h: d.Hazard) -> Cell:
        meta = " · ".join(x for x in (h.hazard_type, h.status) if x)
        if h.revision > 1:
            meta += f" · rev. {h.revision}"
        return self.cell.runs([("b", h.code)], [("r", h.title)], [("m", meta)])

    def _chain_cell(self, h: d.Hazard, extra: list[tuple[str, str]] = ()) -> Cell:
        lines = []
        for label, value in (
            *extra,
            ("Hazard", h.hazard),
            ("Sequence of events", h.sequence_of_events),
            ("Hazardous situation", h.hazardous_situation),
            ("Harm", h.harm),
        ):
            if value:
                lines.append([("b", f"{label}:"), ("r", f" {value}")])
        for cause in h.software_causes:
            detail = f" {cause.item_code} {cause.item_name} — {cause.cause_type}"
            lines.append(
                [
                    ("b", "Software cause:"),
                    ("r", detail + (f": {cause.cause}" if cause.cause else "")),
                ]
            )
        if h.introduced_by:
            lines.append(
                [("b", "Introduced by control:"), ("r", f" {', '.join(h.introduced_by)} (7.5)")]
            )
        if h.caused_by_security:
            lines.append(
                [
                    ("b", "Can be caused by security hazard:"),
                    ("r", f" {', '.join(h.caused_by_security)}"),
                ]
            )
        return self.cell.runs(*(lines or [[("i", "No chain recorded.")]]))

    def _risk_chip(self, category: str, region: str, index: int | None) -> Cell:
        label = self.region_label(category, region)
        if region and index:
            label = f"{label} ({index})"
        return self.chip(region, label)

    def hazard_analysis(self) -> list[Flowable]:
        story = self.section("hazards")
        story.append(
            self.para(
                "One row per hazard: the chain hazard → sequence of events → hazardous situation "
                "→ harm (ISO 14971 5.4, Annex C), the estimated risk before and after risk "
                "control (5.5, 6, 7.3) on the scales of section "
                f"{SECTION_NUMBERS['plan']}, and the risk controls that reduce it. Risk levels "
                "show the region and, in brackets, the risk index (severity × likelihood).",
                self.note,
            )
        )
        builders = {
            "safety": self._safety_table,
            "security": self._security_table,
            "privacy": self._privacy_table,
        }
        for i, (category, title) in enumerate(CATEGORIES, 1):
            story += self.sub("hazards", i, f"{title} hazards")
            hazards = self.data.hazards_in(category)
            if not hazards:
                story.append(self.text("", f"No {category} hazards are recorded."))
                continue
            story.append(builders[category](hazards))
        return story

    def _risk_fit(self, category: str, header: str) -> Pt:
        labels = [
            f"{label} (25)" for label in risk.ACCEPTABILITY_LABELS[risk.Category(category)].values()
        ]
        return Pt(max(self.fit(header, labels, size=7, font=FONT_BOLD), 62))

    def _safety_table(self, hazards) -> Flowable:
        m = self.matrix("safety")
        sev, prob = m.severity_levels, m.likelihood_levels
        p1 = next(s for s in self.data.policy.scales if s.key == "p1").levels
        p2 = next(s for s in self.data.policy.scales if s.key == "p2").levels
        c, lv = self.cell, self.level_cell

        def row(h: d.Hazard) -> list:
            return [
                self._id_cell(h),
                self._chain_cell(h),
                lv(sev, h.severity),
                lv(p1, h.p1),
                lv(p2, h.p2),
                lv(prob, h.probability),
                self._risk_chip("safety", h.initial_acceptability, h.initial_index),
                c.plain(self.codes(h.controls)),
                lv(sev, h.residual_severity),
                lv(prob, h.residual_probability),
                self._risk_chip("safety", h.residual_acceptability, h.residual_index),
                c.plain(h.verification),
            ]

        risk_w = self._risk_fit("safety", "Residual risk")
        return self.stream(
            ["Hazard", "Hazard chain", "Severity", "P1", "P2", "P", "Initial risk",
             "Risk controls", "Residual severity", "Residual P", "Residual risk", "Verification"],
            hazards,
            row,
            [0.9, 3.0, self.level_fit("Severity", sev), self.level_fit("P1", p1),
             self.level_fit("P2", p2), self.level_fit("P", prob), risk_w, 0.75,
             self.level_fit("Residual severity", sev), self.level_fit("Residual P", prob), risk_w,
             self.fit("Verification", ["partially verified"])],
            orientation="landscape",
        )  # fmt: skip

    def _security_table(self, hazards) -> Flowable:
        m = self.matrix("security")
        sev, exp = m.severity_levels, m.likelihood_levels
        c, lv = self.cell, self.level_cell

        def row(h: d.Hazard) -> list:
            extra = [
                ("Asset", h.asset),
                ("Threat (STRIDE)", h.threat),
                ("Vulnerability", h.vulnerability),
            ]
            cvss = (
                f"{esc(h.cvss_vector)}<br/><b>Base score {esc(h.cvss_base_score)}</b>"
                if h.cvss_vector
                else "<i>No CVSS vector</i>"
            )
            if h.residual_cvss_vector:
                cvss += f"<br/>Residual: {esc(h.residual_cvss_vector)}"
            return [
                self._id_cell(h),
                self._chain_cell(h, extra),
                self.cell_mono.rich(cvss),
                lv(sev, h.severity),
                lv(exp, h.probability),
                self._risk_chip("security", h.initial_acceptability, h.initial_index),
                c.plain(self.codes(h.controls)),
                lv(sev, h.residual_severity),
                lv(exp, h.residual_probability),
                self._risk_chip("security", h.residual_acceptability, h.residual_index),
                c.plain(self.codes(h.leads_to)),
            ]

        risk_w = self._risk_fit("security", "Residual risk")
        return self.stream(
            ["Hazard", "Threat and hazard chain", "CVSS v3.1", "Severity", "Exploitability",
             "Initial risk", "Risk controls", "Residual severity", "Residual exploitability",
             "Residual risk", "Can lead to (safety)"],
            hazards,
            row,
            [0.9, 2.8, Pt(96), self.level_fit("Severity", sev),
             self.level_fit("Exploitability", exp), risk_w, 0.75,
             self.level_fit("Residual severity", sev),
             self.level_fit("Residual exploitability", exp), risk_w, 0.7],
            orientation="landscape",
        )  # fmt: skip

    def _privacy_table(self, hazards) -> Flowable:
        m = self.matrix("privacy")
        imp, like = m.severity_levels, m.likelihood_levels
        c, lv = self.cell, self.level_cell

        def row(h: d.Hazard) -> list:
            return [
                self._id_cell(h),
                self._chain_cell(h),
                c.plain(", ".join(h.data_elements) or "—"),
                c.plain(h.linddun_category or "—"),
                lv(imp, h.severity),
                lv(like, h.probability),
                self._risk_chip("privacy", h.initial_acceptability, h.initial_index),
                c.plain(self.codes(h.controls)),
                lv(imp, h.residual_severity),
                lv(like, h.residual_probability),
                self._risk_chip("privacy", h.residual_acceptability, h.residual_index),
            ]

        risk_w = self._risk_fit("privacy", "Residual risk")
        return self.stream(
            ["Hazard", "Hazard chain", "Data elements (HIPAA identifiers)", "LINDDUN threat",
             "Impact", "Likelihood", "Initial risk", "Risk controls", "Residual impact",
             "Residual likelihood", "Residual risk"],
            hazards,
            row,
            [0.9, 2.7, 1.0, self.fit("LINDDUN threat", ["Non-repudiation"]),
             self.level_fit("Impact", imp), self.level_fit("Likelihood", like), risk_w, 0.75,
             self.level_fit("Residual impact", imp), self.level_fit("Residual likelihood", like),
             risk_w],
            orientation="landscape",
        )  # fmt: skip

    # -- evaluation -----------------------------------------------------------------------

    def evaluation(self) -> list[Flowable]:
        story = self.section("evaluation")
        story.append(
            self.para(
                "Number of hazards in each cell of the acceptability matrix, before risk control "
                "(initial) and after (residual) — ISO 14971 6 and 7.3. Letters give the region: "
                "A acceptable, I investigate further, U unacceptable.",
                self.note,
            )
        )
        for i, (category, title) in enumerate(CATEGORIES, 1):
            story += self.sub("evaluation", i, f"{title} risk before and after control")
            m = self.matrix(category)
            hazards = self.data.hazards_in(category)
            n_s, n_l = len(m.severity_levels), len(m.likelihood_levels)
            initial = risk.heat_map([(h.severity, h.probability) for h in hazards], n_s, n_l)
            residual = risk.heat_map(
                [(h.residual_severity, h.residual_probability) for h in hazards], n_s, n_l
            )
            pair = self.layout(
                [
                    [
                        self.matrix_drawing(m, initial, f"Initial {title.lower()} risk"),
                        self.matrix_drawing(m, residual, f"Residual {title.lower()} risk"),
                    ]
                ]
            )
            story.append(pair)
            rows = []
            for region in ("acceptable", "investigate", "unacceptable", ""):
                rows.append(
                    [
                        self.chip(region, self.region_label(category, region)),
                        self.cell_right.plain(
                            str(sum(1 for h in hazards if h.initial_acceptability == region))
                        ),
                        self.cell_right.plain(
                            str(sum(1 for h in hazards if h.residual_acceptability == region))
                        ),
                    ]
                )
            story.append(Spacer(1, 4))
            story.append(
                self.table(["Region", "Initial", "Residual"], rows, [2.2, 1, 1, 3.8], long=False)
            )
            unplaced = sum(1 for h in hazards if h.severity and not h.probability)
            if unplaced:
                story.append(
                    self.para(
                        f"{unplaced} hazard(s) evaluated on severity alone (no probability "
                        "estimated) are counted in the table but not placed in the matrix.",
                        self.note,
                    )
                )
        return story

    # -- risk controls --------------------------------------------------------------------

    def _tests_cell(self, tests: tuple[d.TestRef, ...]) -> Cell:
        if not tests:
            return self.cell.runs([("bad", "No test")])
        styles = {"acceptable": "ok", "unacceptable": "bad", "investigate": "warn"}
        lines = []
        for t in tests:
            style = styles[RESULT_REGION.get(t.result, "investigate")]
            when = f" {t.executed_at:%Y-%m-%d}" if t.executed_at else ""
            lines.append([("r", f"{t.code} "), (style, t.result), ("r", when)])
        return self.cell.runs(*lines)

    def risk_controls(self) -> list[Flowable]:
        data = self.data
        story = self.section("controls")
        story.append(
            self.para(
                "Risk control measures with their option in the priority order of ISO 14971 7.1 "
                "(inherent safety by design, protective measure, information for safety), the "
                "hazards each reduces and introduces (7.5), the requirements implementing it "
                "(IEC 62304 7.2) and the separate verification of its implementation and of its "
                "effectiveness with the latest result of each test (7.2).",
                self.note,
            )
        )
        counts = {}
        for control in data.controls:
            counts[control.option_label] = counts.get(control.option_label, 0) + 1
        summary = [
            [self.cell.plain(label), self.cell_right.plain(str(n))] for label, n in counts.items()
        ]
        if summary:
            story.append(
                self.table(
                    ["Option (7.1)", "Controls"],
                    summary,
                    [3, 1, 6],
                    orientation="landscape",
                    long=False,
                )
            )
            story.append(Spacer(1, 6))
        if not data.controls:
            story.append(self.text("", "No risk controls are recorded."))
            return story

        def row(ctl: d.Control) -> list:
            title = self.cell.runs([("b", ctl.code)], [("r", ctl.title)], [("m", ctl.description)])
            option = self.cell.runs([("r", ctl.option_label)], [("m", ctl.security_category)])
            state = _verification_region(ctl.verification)
            return [
                title,
                option,
                self.cell.plain(self.codes(ctl.reduces)),
                self.cell.plain(self.codes(ctl.introduces)),
                self.cell.plain(self.codes(ctl.requirements)),
                self._tests_cell(ctl.implementation_tests),
                self._tests_cell(ctl.effectiveness_tests),
                self.chip(state, ctl.verification.capitalize()),
                self.cell.plain(f"{ctl.implementation_status}; {ctl.status}"),
            ]

        story.append(
            self.stream(
                ["Risk control", "Option (7.1)", "Reduces", "Introduces (7.5)", "Implemented by",
                 "Implementation verified by", "Effectiveness verified by", "Verification",
                 "Status"],
                data.controls,
                row,
                [3.0, 1.3, 0.9, 0.9, 1.2, 1.5, 1.5, 1.3, 1.1],
                orientation="landscape",
            )
        )  # fmt: skip
        return story

    # -- traceability ---------------------------------------------------------------------

    def traceability(self) -> list[Flowable]:
        story = self.section("trace")
        story.append(
            self.para(
                "Every chain hazard → risk control → requirement → test → latest result "
                "(ISO 14971 4.5; IEC 62304 7.3.3), in hazard order. “None” marks a missing "
                f"link; section {SECTION_NUMBERS['coverage']} lists every gap.",
                self.note,
            )
        )
        if not self.data.trace_rows:
            story.append(self.text("", "No hazards are recorded."))
            return story
        c = self.cell
        none = self.cell_muted.plain("None")

        def row(r: d.TraceRow) -> list:
            result = (
                self.chip(RESULT_REGION.get(r.result, "investigate"), r.result) if r.test else none
            )
            return [
                c.plain(r.hazard),
                c.plain(r.control) if r.control else none,
                c.plain(r.requirement) if r.requirement else none,
                c.plain(r.test) if r.test else none,
                result,
            ]

        story.append(
            self.stream(
                ["Hazard", "Risk control", "Requirement", "Test", "Latest result"],
                self.data.trace_rows,
                row,
                [1, 1, 1, 1, 1],
            )
        )
        story += self.requirements()
        story += self.test_cases()
        story += self.test_runs()
        return story

    def requirements(self) -> list[Flowable]:
        """Every requirement with its text (IEC 62304 5.2; risk control measures implemented
        as software requirements, 7.2)."""
        story = self.sub("trace", 1, "Requirements and their texts (IEC 62304 5.2, 7.2)")
        if not self.data.requirements:
            story.append(self.text("", "No requirements are recorded."))
            return story

        def row(r: d.Requirement) -> list:
            return [
                self.cell.runs(
                    [("b", r.code)],
                    [("r", r.title)],
                    [("m", " · ".join(filter(None, (r.level, r.status))))],
                ),
                self.cell.plain(r.text) if r.text else self.cell_muted.plain("No text recorded."),
                self.cell.plain(r.software_item or "—"),
                self.cell.plain(self.codes(r.tests, "None")),
            ]

        story.append(
            self.stream(
                ["Requirement", "Text", "Software item", "Verified by"],
                self.data.requirements,
                row,
                [1.7, 4.3, 0.9, 1.1],
            )
        )
        return story

    def test_cases(self) -> list[Flowable]:
        """Every test case with its procedure and acceptance criteria (IEC 62304 5.7.1)."""
        story = self.sub(
            "trace", 2, "Test cases, procedures and acceptance criteria (IEC 62304 5.7)"
        )
        if not self.data.test_cases:
            story.append(self.text("", "No test cases are recorded."))
            return story
        muted = self.cell_muted

        def row(t: d.TestCase) -> list:
            return [
                self.cell.runs(
                    [("b", t.code)],
                    [("r", t.title)],
                    [("m", " · ".join(filter(None, (t.method, t.level))))],
                ),
                self.cell.plain(t.procedure)
                if t.procedure
                else muted.plain("No procedure recorded."),
                self.cell.plain(t.acceptance_criteria)
                if t.acceptance_criteria
                else muted.plain("No acceptance criteria recorded."),
                self.cell.plain(self.codes(t.verifies, "None")),
                self.cell.plain(str(len(t.runs))),
            ]

        story.append(
            self.stream(
                ["Test case", "Procedure", "Acceptance criteria", "Verifies", "Runs"],
                self.data.test_cases,
                row,
                [1.5, 3.0, 2.4, 0.9, Pt(30)],
            )
        )
        return story

    def test_runs(self) -> list[Flowable]:
        """Every recorded run, newest first per test case: the version tested, the tester, the
        result, the CI job or report and the evidence file (IEC 62304 5.7.5, 9.8)."""
        story = self.sub("trace", 3, "Test runs: version tested, tester, result and reference")
        runs = [(t.code, run) for t in self.data.test_cases for run in t.runs]
        if not runs:
            story.append(self.text("", "No test run is recorded."))
            return story
        story.append(
            self.para(
                "Newest run first for each test case; the first is the result that counts. "
                "Evidence files are listed with their size and SHA-256 in section "
                f"{SECTION_NUMBERS['evidence']}.",
                self.note,
            )
        )

        def row(item) -> list:
            code, run = item
            return [
                self.cell_bold.plain(code),
                self.cell.plain(fmt_dt(run.executed_at)),
                self.chip(RESULT_REGION.get(run.result, "investigate"), run.result),
                self.cell.plain(run.software_version or "—"),
                self.cell.plain(run.tester or "—"),
                self.cell.runs([("r", run.external_reference or "—")], [("m", run.notes)])
                if run.notes
                else self.cell.plain(run.external_reference or "—"),
                self.cell.plain(run.evidence_name or "—"),
            ]

        story.append(
            self.stream(
                ["Test", "Executed", "Result", "Version tested", "Tester", "CI job / reference",
                 "Evidence file"],
                runs,
                row,
                [0.8, 1.2, 0.7, 0.8, 1.1, 1.6, 1.6],
            )
        )  # fmt: skip
        return story

    def coverage(self) -> list[Flowable]:
        data = self.data
        story = self.section("coverage")
        story.append(
            self.para(
                "The same checks as RiskBench's coverage report and the release gate "
                "<i>manage.py riskcheck</i>, computed from the traceability graph.",
                self.note,
            )
        )
        rows = Rows(
            data.coverage,
            lambda line: [
                self.cell.plain(line.label),
                self.cell.plain(line.clause),
                self.cell_right.plain(str(line.checked)),
                self.cell_right.plain(str(line.gaps)),
                self.chip(
                    "acceptable" if not line.gaps else "unacceptable", f"{line.percent:.1f} %"
                ),
            ],
        )
        story.append(
            self.table(
                ["Check", "Clause", "Checked", "Gaps", "Covered"], rows, [3.6, 1.5, 0.7, 0.6, 0.8]
            )
        )
        story += self.sub("coverage", 1, "Open gaps")
        if not data.gaps:
            story.append(
                self.para("<b>None.</b> Every check passes: no open gap remains in this file.")
            )
            return story
        story.append(self.para(f"{len(data.gaps)} open gap(s).", self.body))
        rows = Rows(
            data.gaps,
            lambda g: [
                self.cell.plain(g.kind_label),
                self.cell_bold.plain(g.code),
                self.cell.plain(g.message),
            ],
        )
        story.append(self.table(["Check", "Item", "Finding"], rows, [2.2, 0.8, 4.2]))
        return story

    # -- software -------------------------------------------------------------------------

    def safety_class(self) -> list[Flowable]:
        data = self.data
        story = self.section("safety_class")
        story.append(
            self.para(
                "IEC 62304 4.3: A — no injury or damage to health possible; B — non-serious "
                "injury possible; C — death or serious injury possible. “Required” is the class "
                "the hazards an item contributes to call for (from their initial severity), "
                "shown only where it is higher than the class recorded.",
                self.note,
            )
        )
        story += self.sub("safety_class", 1, "Software items and their safety class")
        if not data.software_items:
            story.append(self.text("", "No software items are recorded."))
        else:

            def row(item: d.SoftwareItem) -> list:
                rationale = esc(item.safety_class_rationale) or "<i>No rationale recorded.</i>"
                if item.segregation_note:
                    rationale += f"<br/><b>Segregation:</b> {esc(item.segregation_note)}"
                return [
                    self.cell.rich(
                        f"<b>{esc(item.code)}</b> {esc(item.name)}"
                        + (" <font color='#5b6878'>(SOUP)</font>" if item.is_soup else "")
                    ),
                    self.cell.plain(item.parent or "—"),
                    self.cell_center.plain(item.safety_class),
                    self.cell.rich(rationale),
                    self.chip("unacceptable", f"Class {item.required_class}")
                    if item.required_class
                    else self.cell_muted.plain("Agrees"),
                ]

            rows = Rows(data.software_items, row)
            story.append(
                self.table(
                    ["Software item", "Parent", "Class", "Rationale", "Required"],
                    rows,
                    [2.2, 0.8, 0.6, 3.6, 1.0],
                )
            )
        story += self.sub(
            "safety_class", 2, "Software contributing to hazardous situations (IEC 62304 7.1)"
        )
        causes = [c for h in data.hazards for c in h.software_causes]
        if not causes:
            story.append(self.text("", "No software item is recorded as contributing to a hazard."))
        else:
            causes.sort(key=lambda c: (_natural(c.item_code), _natural(c.hazard_code)))
            rows = Rows(
                causes,
                lambda c: [
                    self.cell.plain(f"{c.item_code} {c.item_name}"),
                    self.cell.plain(c.hazard_code),
                    self.cell.plain(c.cause_type),
                    self.cell.plain(c.cause or "—"),
                ],
            )
            story.append(
                self.table(
                    ["Software item", "Hazard", "Cause (7.1.2)", "Specific cause"],
                    rows,
                    [2, 0.9, 2.4, 2.9],
                )
            )
        return story

    def soup(self) -> list[Flowable]:
        story = self.section("soup")
        story.append(
            self.para(
                "Software of unknown provenance: title, manufacturer and unique version "
                "(IEC 62304 8.1.2), functional and performance requirements (5.3.3), required "
                "hardware and software (5.3.4), and the evaluation of its published known "
                "anomalies (7.1.3).",
                self.note,
            )
        )
        items = self.data.soup
        if not items:
            story.append(self.text("", "No SOUP items are recorded."))
            return story
        rows = []
        for item in items:
            review = (
                f"<b>Reviewed {esc(fmt_date(item.anomalies_reviewed_at))}</b>"
                f"{'<br/>' + esc(item.anomalies_notes) if item.anomalies_notes else ''}"
                if item.anomalies_reviewed_at
                else "<font color='#8a1c17'><b>Not reviewed</b></font>"
                + (f"<br/>{esc(item.anomalies_notes)}" if item.anomalies_notes else "")
            )
            reqs = esc(item.soup_requirements) or "<i>None recorded</i>"
            if item.soup_hardware_software:
                reqs += f"<br/><b>Needs:</b> {esc(item.soup_hardware_software)}"
            rows.append(
                [
                    self.cell.rich(f"<b>{esc(item.code)}</b><br/>{esc(item.name)}"),
                    self.cell.plain(item.manufacturer or "—"),
                    self.cell.plain(item.soup_version or "—"),
                    self.cell.rich(
                        f"{esc(item.licence or '—')}<br/>"
                        f"<font color='#5b6878'>{esc(item.purl)}</font>"
                    ),
                    self.cell.plain(
                        item.support_status
                        + (
                            f", until {fmt_date(item.end_of_support)}"
                            if item.end_of_support
                            else ""
                        )
                    ),
                    self.cell_center.plain(item.safety_class),
                    self.cell.rich(reqs),
                    self.cell.rich(review),
                ]
            )
        story.append(
            self.table(
                ["SOUP item", "Manufacturer", "Version", "Licence / package URL", "Support",
                 "Class", "Requirements (5.3.3, 5.3.4)", "Known anomalies (7.1.3)"],
                rows,
                [1.6, 1.3, 0.8, 1.9, 1.1, 0.5, 2.4, 2.4],
                orientation="landscape",
            )
        )  # fmt: skip
        return story

    def extensions(self) -> list[Flowable]:
        """Sections registered by apps above traceability (`extensions`), printed alike."""
        story = self.section("extensions")
        extras = [e for e in self.data.extensions if e.section == "extensions"]
        if not extras:
            story.append(self.text("", "No post-release records are kept in this file."))
        for index, extra in enumerate(extras, 1):
            story += self.sub("extensions", index, f"{extra.title} ({extra.clause})")
            story += self.extra_body(extra, "landscape")
        return story

    def extra_body(self, extra: d.ExtraSection, orientation: str) -> list[Flowable]:
        """A registered section's note, statements (`fields`) and rows."""
        story: list[Flowable] = []
        if extra.note:
            story.append(self.para(esc(extra.note), self.note))
        if extra.fields:
            story.append(self.kv_table(list(extra.fields), orientation))
            story.append(Spacer(1, 4))
        if not extra.rows:
            if not extra.fields:
                story.append(self.text("", extra.empty))
            return story
        rows = [[self.cell.plain(value or "—") for value in row] for row in extra.rows]
        weights = list(extra.weights) or [1.0] * len(extra.header)
        story.append(self.table(list(extra.header), rows, weights, orientation=orientation))
        return story

    def report(self) -> list[Flowable]:
        """The risk management report (ISO 14971 8, 9), registered by `traceability.report`."""
        story = self.section("report")
        extras = [e for e in self.data.extensions if e.section == "report"]
        if not extras:
            story.append(self.text("", "No risk management report is kept in this file."))
        for index, extra in enumerate(extras, 1):
            if len(extras) > 1:
                story += self.sub("report", index, f"{extra.title} ({extra.clause})")
            story += self.extra_body(extra, "portrait")
        return story

    # -- residual risk, changes, evidence, audit ------------------------------------------

    def residual(self) -> list[Flowable]:
        data, p = self.data, self.data.product
        story = self.section("residual")
        story += self.sub("residual", 1, "Benefit-risk analysis of residual risks (ISO 14971 7.4)")
        needing = [h for h in data.hazards if h.residual_acceptability not in ("", "acceptable")]
        if not needing:
            story.append(
                self.para(
                    "Every estimated residual risk is acceptable: no benefit-risk analysis is "
                    "required."
                )
            )
        else:
            rows = Rows(
                needing,
                lambda h: [
                    self.cell.rich(f"<b>{esc(h.code)}</b> {esc(h.title)}"),
                    self.cell.plain(h.category.capitalize()),
                    self._risk_chip(h.category, h.residual_acceptability, h.residual_index),
                    self.cell.plain(h.benefit_risk_justification)
                    if h.benefit_risk_justification
                    else self.cell.rich(
                        "<font color='#8a1c17'><b>Missing</b> — required by ISO 14971 7.4</font>"
                    ),
                ],
            )
            story.append(
                self.table(
                    ["Hazard", "Category", "Residual risk", "Benefit-risk justification"],
                    rows,
                    [2.2, 0.8, 1.3, 3.9],
                )
            )
        story += self.sub("residual", 2, "Overall residual risk (ISO 14971 8)")
        story.append(
            self.kv_table([("Method and criteria (4.4 f)", p.overall_residual_risk_method)])
        )
        story.append(Spacer(1, 4))
        rows = []
        for category, title in CATEGORIES:
            hazards = data.hazards_in(category)
            rows.append(
                [
                    self.cell_bold.plain(title),
                    self.cell_right.plain(str(len(hazards))),
                    *[
                        self.cell_right.plain(
                            str(sum(1 for h in hazards if h.residual_acceptability == region))
                        )
                        for region in ("acceptable", "investigate", "unacceptable", "")
                    ],
                ]
            )
        story.append(
            self.table(
                ["Category", "Hazards", "Residual acceptable", "Investigate further",
                 "Unacceptable", "Not estimated"],
                rows,
                [1.4, 0.9, 1.2, 1.2, 1.2, 1.2],
                long=False,
            )
        )  # fmt: skip
        story += self.sub("residual", 3, "Risk management review (ISO 14971 9)")
        story.append(self.kv_table([("Review conclusion", p.review_conclusion)]))
        return story

    def changes(self) -> list[Flowable]:
        data = self.data
        story = self.section("changes")
        if data.changes is None:
            story.append(
                self.para(
                    "<b>No previous baseline.</b> This is the first release of the risk "
                    "management file, so there are no changes to report (IEC 62304 7.4)."
                )
            )
            return story
        base = data.previous_baseline
        story.append(
            self.para(
                f"Changes between baseline “{esc(base.name)}” of {esc(fmt_dt(base.created_at))} "
                f"(SHA-256 {esc(base.sha256[:16])}…) and the data of this document "
                "(IEC 62304 7.4; ISO 14971 10).",
                self.note,
            )
        )
        if not data.changes:
            story.append(self.para("<b>None.</b> The data is identical to that baseline."))
            return story
        rows = Rows(
            data.changes,
            lambda ch: [
                self.cell.plain(ch.action.capitalize()),
                self.cell.plain(ch.record),
                self.cell.plain(ch.field or "—"),
                self.cell.plain(ch.before or "—"),
                self.cell.plain(ch.after or "—"),
            ],
        )
        story.append(
            self.table(
                ["Change", "Record", "Field", "Before", "After"], rows, [0.8, 1.5, 1.2, 2.2, 2.2]
            )
        )
        return story

    def evidence(self) -> list[Flowable]:
        story = self.section("evidence")
        story.append(
            self.para(
                "Every evidence file attached to a test run, with the SHA-256 computed when it "
                "was uploaded: a reader can check any copy of a file against this list.",
                self.note,
            )
        )
        if not self.data.evidence:
            story.append(self.text("", "No evidence files are attached to test runs."))
            return story
        rows = Rows(
            self.data.evidence,
            lambda e: [
                self.cell_bold.plain(e.test_code),
                self.cell.plain(fmt_dt(e.executed_at)),
                self.chip(RESULT_REGION.get(e.result, "investigate"), e.result),
                self.cell.plain(e.software_version or "—"),
                self.cell.plain(e.name),
                self.cell_right.plain(fmt_size(e.size)),
                self.cell_mono.plain(e.sha256 or "—"),
            ],
        )
        story.append(
            self.table(
                ["Test", "Executed", "Result", "Version", "File", "Size", "SHA-256"],
                rows,
                [0.8, 1.2, 0.7, 0.7, 1.7, 0.7, 2.6],
            )
        )
        return story

    def audit(self) -> list[Flowable]:
        data = self.data
        story = self.section("audit")
        period = (
            f"from baseline “{esc(data.previous_baseline.name)}” ({esc(fmt_dt(data.audit_since))})"
            if data.audit_since
            else "from the creation of the file"
        )
        story.append(
            self.para(
                f"Changes to the records of this file {period} to {esc(fmt_dt(data.as_of))}: who, "
                "when, what and why (21 CFR 11.10(e)). Records created together by the same "
                "person for the same reason on the same day are shown as one line. The complete "
                "audit trail, with every earlier value, is kept in RiskBench.",
                self.note,
            )
        )
        if not data.audit:
            story.append(self.text("", "No change was recorded in the period."))
            return story
        rows = Rows(
            data.audit,
            lambda a: [
                self.cell.plain(fmt_dt(a.when)),
                self.cell.plain(a.who),
                self.cell.plain(a.record),
                self.cell.plain(a.action),
                self.cell.plain(a.what or "—"),
                self.cell.plain(a.why or "—"),
            ],
        )
        story.append(
            self.table(
                ["When", "Who", "Record", "Action", "What changed", "Why"],
                rows,
                [1.35, 1.1, 2.4, 0.7, 3.3, 2.0],
                orientation="landscape",
            )
        )
        return story


def _verification_region(text: str) -> str:
    if text == "implementation verified, effectiveness verified":
        return "acceptable"
    if "failed" in text or "no test" in text:
        return "unacceptable"
    return "investigate"


def _natural(code: str):
    from traceability.graph import code_key

    return code_key(code)


def render(data: d.DossierData, *, progress=None) -> bytes:
    return DossierRenderer(data, progress=progress).render()
