"""Page building blocks of the dossier: embedded fonts, colours, cell paragraphs, headings that
bookmark themselves, the contents page, page-number slots and the canvas that stamps late-known
page numbers on finished pages (see `renderer` for why the document is laid out in one pass).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Flowable, LongTable, Paragraph

FONT_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_ITALIC = "DejaVuSans-Oblique"
FONT_BOLD_ITALIC = "DejaVuSans-BoldOblique"
FONT_MONO = "DejaVuSansMono"

INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6878")
LINE = colors.HexColor("#b9c3cf")
BRAND = colors.HexColor("#0b4f8a")
HEAD_BG = colors.HexColor("#0b4f8a")
ZEBRA = colors.HexColor("#f3f6f9")
REGION_FILL = {
    "acceptable": colors.HexColor("#cfe8cf"),
    "investigate": colors.HexColor("#fbe7b0"),
    "unacceptable": colors.HexColor("#f5c2c0"),
    "": colors.HexColor("#eceff3"),
}
REGION_INK = {
    "acceptable": colors.HexColor("#1e5b24"),
    "investigate": colors.HexColor("#6b4e00"),
    "unacceptable": colors.HexColor("#8a1c17"),
    "": MUTED,
}
REGION_LETTER = {"acceptable": "A", "investigate": "I", "unacceptable": "U"}
RESULT_REGION = {"Pass": "acceptable", "Fail": "unacceptable", "Blocked": "investigate"}


def register_fonts() -> None:
    """Register the embedded TrueType fonts once per process (the PDF must not rely on the 14
    standard fonts: embedded fonts print the same everywhere)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name, filename in (
        (FONT, "DejaVuSans.ttf"),
        (FONT_BOLD, "DejaVuSans-Bold.ttf"),
        (FONT_ITALIC, "DejaVuSans-Oblique.ttf"),
        (FONT_BOLD_ITALIC, "DejaVuSans-BoldOblique.ttf"),
        (FONT_MONO, "DejaVuSansMono.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD_ITALIC
    )


def esc(text) -> str:
    """User text → reportlab paragraph markup: escape the mini-markup, keep line breaks."""
    if text is None:
        return ""
    return escape(str(text)).replace("\r\n", "\n").replace("\n", "<br/>")


def fmt_dt(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_date(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


def fmt_size(size: int | None) -> str:
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


# ---------------------------------------------------------------------------------------------
# Flowables and canvas
# ---------------------------------------------------------------------------------------------


class Cell(Paragraph):
    """A table cell. Tables wrap every cell up to three times with the same width (to size the
    row, to split the table, to draw); a paragraph's lines depend only on the width, so the
    result of the last wrap is reused."""

    _wrapped_width = None

    def wrap(self, availWidth, availHeight):  # noqa: N803 (reportlab's signature)
        if availWidth == self._wrapped_width and "blPara" in self.__dict__:
            return self.width, self.height
        result = Paragraph.wrap(self, availWidth, availHeight)
        self._wrapped_width = availWidth
        return result


def _clone(frag):
    """A copy of a paragraph fragment (`copy.copy` is several times slower); its list
    attributes (links, underlines) are copied too, never shared."""
    new = object.__new__(frag.__class__)
    new.__dict__.update(frag.__dict__)
    for name in ("link", "us_lines"):
        value = new.__dict__.get(name)
        if isinstance(value, list):
            new.__dict__[name] = list(value)
    return new


# Text styles of `CellFactory.runs`, as the markup the parser would read for them.
RUN_MARKUP = {
    "r": "{}",
    "b": "<b>{}</b>",
    "i": "<i>{}</i>",
    "m": "<font color='#5b6878'>{}</font>",
    "small": "<font size='6.3' color='#5b6878'>{}</font>",
    "ok": "<font color='#1e5b24'><b>{}</b></font>",
    "warn": "<font color='#6b4e00'><b>{}</b></font>",
    "bad": "<font color='#8a1c17'><b>{}</b></font>",
}


class CellFactory:
    """Makes cell paragraphs for one style. Plain text (no markup of ours) skips reportlab's
    markup parser: its one fragment is a copy of a template fragment with the text replaced —
    the same fragment the parser would have produced for escaped text without line breaks."""

    def __init__(self, style: ParagraphStyle):
        self.style = style
        self._frag = Paragraph("x", style).frags[0]
        self._parsed: dict[str, list] = {}
        self._runs = {k: Paragraph(m.format("x"), style).frags[0] for k, m in RUN_MARKUP.items()}
        self._br = Paragraph("x<br/>y", style).frags[1]

    def plain(self, text) -> Cell:
        text = "" if text is None else str(text)
        if not text or "\n" in text or "\r" in text:
            return Cell(esc(text), self.style)
        frag = _clone(self._frag)
        frag.text = " ".join(text.split())
        return Cell(text, self.style, frags=[frag])

    def runs(self, *lines) -> Cell:
        """A cell of `lines`, each a sequence of (style, text) with style a key of `RUN_MARKUP`
        and text plain (user) text. Builds the fragments the parser would build from the
        equivalent markup (`markup_of_runs`; a test compares both) without parsing anything:
        the hazard log alone has thousands of such cells."""
        frags = []
        for index, line in enumerate(lines):
            if index and frags:
                frags.append(_clone(self._br))
            for style, text in line:
                for n, piece in enumerate(str(text or "").replace("\r\n", "\n").split("\n")):
                    if n:
                        frags.append(_clone(self._br))
                    if piece:
                        frag = _clone(self._runs[style])
                        frag.text = piece
                        frags.append(frag)
        if not frags:
            return self.plain("")
        return Cell("".join(f.text for f in frags), self.style, frags=frags)

    def rich(self, markup: str) -> Cell:
        """A cell with our own markup. Short markup repeats (risk levels, results), so its
        parsed fragments are kept and copied."""
        if len(markup) > 120:
            return Cell(markup, self.style)
        frags = self._parsed.get(markup)
        if frags is None:
            cell = Cell(markup, self.style)
            self._parsed[markup] = cell.frags
            return cell
        return Cell(markup, self.style, frags=[_clone(f) for f in frags])


class RowTable(LongTable):
    """A long table whose rows move whole to the next page. Only a row that cannot fit on a
    page at all (pages of user text in one cell) is split inside itself — and only with most of
    a page free — so no content is ever cut off and no ordinary row is broken in two."""

    min_in_row = 400.0
    split_in_row = False  # set when the last split had to cut a row in two

    def split(self, availWidth, availHeight):  # noqa: N803
        self.splitInRow = 0
        self.split_in_row = False
        parts = super().split(availWidth, availHeight)
        if parts or availHeight < self.min_in_row:
            return parts
        self.splitInRow = 1
        try:
            parts = super().split(availWidth, availHeight)
            self.split_in_row = bool(parts)
            return parts
        finally:
            self.splitInRow = 0


class StreamTable(Flowable):
    """A long table laid out a page at a time, whatever its length (issue 13: bounded memory,
    linear time).

    reportlab splits a table of R rows by building a new table of the R - k rows left after
    each page (with every cell's style set again): R²/k work for a table of R rows, and every
    cell of every table of the document held in memory from the start. Here the rows stay data
    (`items`) until they are laid out: each page builds a table of the next rows only — a chunk
    a little larger than what fits, grown while it does not fill the space — splits it, keeps
    the part that fits and leaves the rest as a new `StreamTable` starting at the first row not
    placed. Rows already built for a page they did not fit on are handed on (`built`), not built
    again. Each page's table is a `RowTable` made by `make(rows)` (the header row added there),
    so a page looks exactly as with one long table: the same header on every page, rows whole.
    """

    def __init__(self, make, items, build_row, *, start=0, built=None, chunk=24):
        super().__init__()
        self.make = make  # list of rows -> RowTable with the header row
        self.items = items
        self.build_row = build_row  # item -> list of cells
        self.start = start
        self.built = built if built is not None else {}
        self.chunk = chunk
        self._table = None
        self._stop = None

    def _row(self, index: int) -> list:
        row = self.built.get(index)
        if row is None:
            row = self.built[index] = self.build_row(self.items[index])
        return row

    def _layout(self, avail_width: float, avail_height: float):
        """The table of this page's chunk and its size: the true size when the chunk holds
        every remaining row, otherwise a height above `avail_height` (so the frame splits)."""
        total = len(self.items)
        while True:
            stop = min(total, self.start + self.chunk)
            if self._table is None or self._stop != stop:
                self._table = self.make([self._row(i) for i in range(self.start, stop)])
                self._stop = stop
            width, height = self._table.wrap(avail_width, avail_height)
            if stop == total or height > avail_height:
                return width, height
            self.chunk *= 2

    def wrap(self, availWidth, availHeight):  # noqa: N803
        self.width, self.height = self._layout(availWidth, availHeight)
        return self.width, self.height

    def split(self, availWidth, availHeight):  # noqa: N803
        self._layout(availWidth, availHeight)
        table = self._table
        parts = table.split(availWidth, availHeight)
        if len(parts) < 2:
            return parts  # nothing fits here ([]), or the whole rest does ([table])
        first = parts[0]
        if table.split_in_row:
            # A row taller than a page was cut in two: its second half and the chunk's other
            # rows go on as the table reportlab made; the rows after the chunk follow.
            rest = [parts[1]]
            after = self._stop
        else:
            rest = []
            after = self.start + len(first._cellvalues) - 1  # minus the header row
        if after >= len(self.items):
            return [first, *rest]
        built = {i: row for i, row in self.built.items() if i >= after}
        follow = StreamTable(
            self.make, self.items, self.build_row, start=after, built=built, chunk=self.chunk
        )
        return [first, *rest, follow]

    def drawOn(self, canvas, x, y, _sW=0):  # noqa: N802 (reportlab's name)
        self._table.drawOn(canvas, x, y, _sW)

    def rows(self) -> list[list]:
        """Every row, built (for tools that want the whole table, e.g. the bench's bound)."""
        return [self._row(i) for i in range(self.start, len(self.items))]


class Pt(float):
    """A column width in points (other widths in `DossierRenderer.table` are weights)."""


class Heading(Paragraph):
    """A section heading: when drawn it records its page, a PDF bookmark and an outline entry."""

    def __init__(self, text: str, style, *, key: str, level: int, outline: str, renderer):
        super().__init__(text, style)
        self.key = key
        self.level = level
        self.outline = outline
        self.renderer = renderer

    def draw(self):
        super().draw()
        self.renderer.heading_drawn(self.canv, self)


class PageSlot(Flowable):
    """A fixed-size slot whose text (page numbers) is stamped after layout (see module doc)."""

    def __init__(self, keys: Sequence[str], width: float, height: float, *, align="right"):
        super().__init__()
        self.keys = tuple(keys)
        self.width = width
        self.height = height
        self.align = align

    def wrap(self, availWidth, availHeight):  # noqa: N803
        return min(self.width, availWidth), self.height

    def draw(self):
        x, y = self.canv.absolutePosition(self.width if self.align == "right" else 0, 2)
        self.canv.slots.append((self.canv.getPageNumber(), x, y, self.keys, self.align))


class Contents(Flowable):
    """The table of contents: one fixed-height line per heading, page numbers stamped later;
    each line is a link to its heading."""

    line_height = 15

    def __init__(self, entries: list[tuple[int, str, str]], renderer):
        super().__init__()
        self.entries = entries  # (level, text, key), filled while the story is built
        self.renderer = renderer

    def wrap(self, availWidth, availHeight):  # noqa: N803
        self.width = availWidth
        self.height = self.line_height * len(self.entries)
        return self.width, self.height

    def draw(self):
        canv = self.canv
        number_w = 36
        y = self.height
        for level, text, key in self.entries:
            y -= self.line_height
            size = 10 if level == 0 else 9
            font = FONT_BOLD if level == 0 else FONT
            indent = 0 if level == 0 else 22
            canv.setFont(font, size)
            canv.setFillColor(INK)
            canv.drawString(indent, y + 3, text)
            text_w = pdfmetrics.stringWidth(text, font, size)
            canv.setFont(FONT, 8)
            canv.setFillColor(LINE)
            dots_from = indent + text_w + 4
            dots_to = self.width - number_w
            unit = pdfmetrics.stringWidth(" .", FONT, 8)
            if dots_to > dots_from + unit:
                canv.drawRightString(dots_to, y + 3, " ." * int((dots_to - dots_from) / unit))
            x, yy = canv.absolutePosition(self.width, y + 3)
            canv.slots.append((canv.getPageNumber(), x, yy, (key,), "toc"))
            canv.linkRect(
                "", key, (0, y, self.width, y + self.line_height), relative=1, thickness=0
            )


class StampingCanvas(rl_canvas.Canvas):
    """A canvas that appends late-known text (page numbers, "Page X of Y") to finished pages."""

    def __init__(self, *args, renderer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.renderer = renderer
        self.pages_of: dict[str, int] = {}
        self.slots: list[tuple[int, float, float, tuple[str, ...], str]] = []
        if renderer is not None:
            stamp = renderer.pdf_date()
            self._doc.setDateFormatter(lambda *args: stamp)

    def _capture(self, draw: Callable[[StampingCanvas], None]) -> str:
        saved = self._code
        self._code = []
        self.saveState()
        draw(self)
        self.restoreState()
        code, self._code = self._code, saved
        return "\n".join(code) + "\n"

    def save(self):
        if self._code:
            self.showPage()
        pages = self._doc.Pages.pages
        total = len(pages)
        self.renderer.page_count = total
        by_page: dict[int, list] = {}
        for slot in self.slots:
            by_page.setdefault(slot[0], []).append(slot)
        for number, page in enumerate(pages, 1):
            slots = by_page.get(number, [])
            page.stream += self._capture(
                lambda c, n=number, p=page, s=slots: self.renderer.stamp_page(c, n, total, p, s)
            )
        super().save()


def markup_of_runs(*lines) -> str:
    """The markup `CellFactory.runs` stands for (used by the test that compares the two)."""
    return "<br/>".join(
        "".join(RUN_MARKUP[style].format(esc(text)) for style, text in line if text)
        for line in lines
        if any(text for _, text in line)
    )
