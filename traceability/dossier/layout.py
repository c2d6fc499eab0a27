"""Page building blocks of the dossier: embedded fonts, colours, cell paragraphs, headings that
bookmark themselves, the contents page, page-number slots and the canvas that stamps late-known
page numbers on finished pages (see `renderer` for why the document is laid out in one pass).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFName, PDFStream
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


class Line(Flowable):
    """A table cell of plain text that usually fits on one line (codes, dates, results,
    hashes): laid out and drawn with one `stringWidth` and one `drawString` — the same text,
    font, colour, position and background a `Paragraph` of it would draw — instead of the
    paragraph machinery that most cells of the long tables do not need. When the text does not
    fit the column it is handed to `paragraph`, a `Text` of it, which wraps it (a chip's
    background is drawn here either way, as a `Paragraph` of the chip's style draws it)."""

    # What `Flowable.__init__` sets, as class attributes: tables make hundreds of thousands
    # of cells, and most keep these values.
    width = height = wrapped = 0
    hAlign, vAlign = "LEFT", "BOTTOM"  # noqa: N815 (reportlab's names)
    _traceInfo = _showBoundary = encoding = None  # noqa: N815

    def __init__(
        self,
        text: str,
        style: ParagraphStyle,
        make_paragraph: Callable[[], Paragraph],
        look: tuple | None = None,
    ):
        self.text = text
        self.style = style
        self._make_paragraph = make_paragraph
        self._paragraph = None
        self._text_width = None
        self._single = True
        self._wrapped_for = None
        # (font name, size, colour) of the text; a factory passes one tuple for all its cells
        self.look = look or (style.fontName, style.fontSize, style.textColor)

    @property
    def paragraph(self) -> Paragraph:
        if self._paragraph is None:
            self._paragraph = self._make_paragraph()
        return self._paragraph

    @property
    def frags(self):
        return self.paragraph.frags

    def wrap(self, availWidth, availHeight):  # noqa: N803
        if availWidth == self._wrapped_for:  # a table wraps a cell to measure it and to draw it
            return self.width, self.height
        style = self.style
        if self._text_width is None:
            self._text_width = string_width(self.text, style.fontName, style.fontSize)
        room = availWidth - style.leftIndent - style.rightIndent
        self._single = self._text_width <= room
        if not self._single:
            paragraph = self.paragraph
            # a `Text`'s lines depend on the width only; a paragraph's height may not
            self._wrapped_for = availWidth if paragraph.__class__ is Text else None
            self.width, self.height = paragraph.wrap(availWidth, availHeight)
            return self.width, self.height
        self._wrapped_for = availWidth
        self.width, self.height = availWidth, style.leading
        return self.width, self.height

    def split(self, availWidth, availHeight):  # noqa: N803
        if self._single:
            return []
        return self.paragraph.split(availWidth, availHeight)

    def draw(self):
        if not self.into_text:
            self.paragraph.drawOn(self.canv, 0, 0)
            return
        text = begin_text(self.canv)
        self.draw_into(text, 0.0, 0.0)
        self.canv.drawText(text)

    @property
    def into_text(self) -> bool:
        """Whether `draw_into` can draw it (all but a wrapped paragraph)."""
        return self._single or isinstance(self.paragraph, Text)

    def draw_into(self, text, x0: float, y0: float) -> None:
        """Add the line to `text` (see `Text.draw_into`); a background is drawn on the canvas
        first, so it lies under the text."""
        style = self.style
        if style.backColor:  # as `Paragraph.drawPara` draws it
            top, right, bottom, left = _trbl(style.borderPadding)
            canv = text._canvas
            text._rb_codes.fill(canv, style.backColor)
            canv.rect(
                x0 + style.leftIndent - left,
                y0 - bottom,
                self.width - (style.leftIndent + style.rightIndent) + left + right,
                self.height + top + bottom,
                fill=1,
                stroke=0,
            )
        if not self._single:
            self.paragraph.draw_into(text, x0, y0)
            return
        x = x0 + style.leftIndent
        alignment = style.alignment
        if alignment:
            room = self.width - style.leftIndent - style.rightIndent
            if alignment == TA_CENTER:
                x += (room - self._text_width) / 2
            elif alignment == TA_RIGHT:
                x += room - self._text_width
        text._rb_codes.line(
            text, x, y0 + self.height - style.fontSize, self.look, style.leading, self.text
        )


class Text(Flowable):
    """A table cell of lines of styled runs (bold code, plain title, muted status…), laid out
    by greedy word wrap with `stringWidth` and drawn as one text object — what a `Paragraph`
    of the same fragments draws (words, fonts, colours, line breaks, leading, alignment), at
    a fraction of its cost: the hazard log, the requirement and test texts are made of these.
    Lines break where a paragraph's do (the same space shrinkage); a word longer than the
    column starts a line and is cut at the column's edge.
    `paragraph` is the equivalent `Cell` (its fragments are tested against the parser's); it
    also splits a cell taller than a page, which only a table row taller than a page needs.
    """

    width = height = wrapped = 0  # what `Flowable.__init__` sets (see `Line`)
    hAlign, vAlign = "LEFT", "BOTTOM"  # noqa: N815
    _traceInfo = _showBoundary = encoding = None  # noqa: N815

    def __init__(self, lines, style: ParagraphStyle, looks: dict, make_paragraph, measures=None):
        self.lines = lines  # [[(look key, text without line breaks), ...], ...], none empty
        self.style = style
        self.looks = looks  # look key -> (font name, size, colour)
        self.measures = Measures() if measures is None else measures  # shared by a factory
        self._make_paragraph = make_paragraph
        self._paragraph = None
        self._laid_out_for = None
        self._laid_out = []

    @property
    def paragraph(self) -> Paragraph:
        if self._paragraph is None:
            self._paragraph = self._make_paragraph()
        return self._paragraph

    @property
    def frags(self):
        return self.paragraph.frags

    def _words(self, line):
        """The words of a line of several looks, as (width of the space before it, width,
        [(look, text)]); a word may run over several looks ("TC-001 " then "Pass" are two
        words, "Pass:" one)."""
        widths = self.measures.widths
        words, segments, word_width, space_before, pending_space = [], [], 0.0, 0.0, False
        for key, text in line:
            font, size, _ = self.looks[key]
            parts = text.split(" ")
            for index, part in enumerate(parts):
                if index:  # a space: the word so far ends
                    if segments:
                        words.append((space_before, word_width, segments))
                        segments, word_width = [], 0.0
                    pending_space = True
                if not part:
                    continue
                if not segments:
                    space_before = (
                        _width(widths, " ", font, size) if pending_space and words else 0.0
                    )
                    pending_space = False
                segments.append((key, part))
                word_width += _width(widths, part, font, size)
        if segments:
            words.append((space_before, word_width, segments))
        return words

    def _run_lines(self, key: str, text: str, room: float) -> list:
        """The laid-out lines of a line of one look (nine lines in ten). The same texts recur
        in a table (statuses, test steps, the requirement of several rows), so the lines of
        the latest ones are kept (`Measures.lines`)."""
        measures = self.measures
        lines = measures.lines.get((key, text, room))
        if lines is not None:
            return lines
        font, size, _ = self.looks[key]
        parts = [part for part in text.split(" ") if part]
        measured = _widths_of(measures.widths, font, size)
        sizes = [measured.get(part) for part in parts]
        if None in sizes:
            sizes = [_width(measures.widths, part, font, size) for part in parts]
        lines = []
        if sizes and max(sizes) <= room:
            self._wrap_run(key, parts, sizes, room, lines)
        else:
            space = _width(measures.widths, " ", font, size)
            words = [
                (space if index else 0.0, width, [(key, part)])
                for index, (part, width) in enumerate(zip(parts, sizes, strict=True))
            ]
            self._break(words, room, lines)
        measures.keep((key, text, room), lines)
        return lines

    def _wrap_run(self, key, parts, sizes, room: float, laid_out: list) -> None:
        """Lay out a line of one look whose words all fit the column: the same breaks and
        line widths as `_break` (same sums in the same order), without a tuple per word;
        each line is one run of text."""
        font, size, _ = self.looks[key]
        space = _width(self.measures.widths, " ", font, size)
        shrink = self.style.spaceShrinkage
        first, used, spaces = 0, 0.0, 0.0
        for index, width in enumerate(sizes):
            if index == first:
                used = width
                continue
            if used + space + width > room + shrink * (spaces + space):
                laid_out.append((used, [(0.0, [(key, " ".join(parts[first:index]))])]))
                first, used, spaces = index, width, 0.0
                continue
            spaces += space
            used += space + width
        laid_out.append((used, [(0.0, [(key, " ".join(parts[first:]))])]))

    def _break(self, words, room: float, laid_out: list) -> None:
        """Greedy word wrap of one line's words into `laid_out`."""
        style = self.style
        line, used, spaces = [], 0.0, 0.0
        for space, width, segments in words:
            # reportlab lets the spaces of a line shrink by `spaceShrinkage` (5 %) to fit one
            # more word: the same rule, so lines break where a paragraph's do.
            limit = room + style.spaceShrinkage * (spaces + space)
            if line and used + space + width > limit:
                laid_out.append((used, line))
                line, used, space, spaces = [], 0.0, 0.0, 0.0
            if not line:
                space = 0.0
            spaces += space
            if width > room:  # a word longer than the column
                for piece_width, piece in self._cut(segments, room):
                    if line:
                        laid_out.append((used, line))
                    line, used = [(0.0, piece)], piece_width
                continue
            line.append((space, segments))
            used += space + width
        laid_out.append((used, line))

    def _cut(self, segments, room: float):
        """A word wider than the column, cut into pieces that fit (character by character)."""
        pieces, piece, used = [], [], 0.0
        for key, text in segments:
            font, size, _ = self.looks[key]
            measured = _widths_of(self.measures.widths, font, size)
            run = ""
            for char in text:
                w = measured.get(char)
                if w is None:
                    w = measured[char] = string_width(char, font, size)
                if used + w > room and (piece or run):
                    if run:
                        piece.append((key, run))
                    pieces.append((used, piece))
                    piece, run, used = [], "", 0.0
                run += char
                used += w
            if run:
                piece.append((key, run))
        if piece:
            pieces.append((used, piece))
        return pieces

    def wrap(self, availWidth, availHeight):  # noqa: N803
        if self._laid_out_for != availWidth:
            style = self.style
            room = availWidth - style.leftIndent - style.rightIndent
            laid_out = []  # (line width, [(space before, [(look, text)])])
            for line in self.lines:
                if len(line) == 1:
                    laid_out.extend(self._run_lines(*line[0], room))
                else:
                    self._break(self._words(line), room, laid_out)
            self._laid_out = laid_out
            self._laid_out_for = availWidth
        self.width = availWidth
        self.height = self.style.leading * len(self._laid_out)
        return self.width, self.height

    def split(self, availWidth, availHeight):  # noqa: N803
        return self.paragraph.split(availWidth, availHeight)

    def draw(self):
        text = begin_text(self.canv)
        self.draw_into(text, 0.0, 0.0)
        self.canv.drawText(text)

    def draw_into(self, text, x0: float, y0: float) -> None:
        """Add the lines to `text` (made by `begin_text`), a text object that may hold other
        cells too (a table draws all its `Line` and `Text` cells as one), with (x0, y0) the
        cell's origin. Runs of one look on a line are one string: one font and colour change
        per run, not per word."""
        style, looks, codes = self.style, self.looks, text._rb_codes
        leading, alignment = style.leading, style.alignment
        room = self.width - style.leftIndent - style.rightIndent
        y = y0 + self.height - style.fontSize  # the first baseline of a paragraph
        for line_width, words in self._laid_out:
            x = x0 + style.leftIndent
            if alignment == TA_CENTER:
                x += (room - line_width) / 2
            elif alignment == TA_RIGHT:
                x += room - line_width
            if len(words) == 1 and len(words[0][1]) == 1 and not words[0][0]:
                # One run (nine lines in ten): origin and run at once.
                key, chunk = words[0][1][0]
                codes.line(text, x, y, looks[key], leading, chunk)
                y -= leading
                continue
            codes.origin(text, x, y)
            key, buffer = None, []
            for space, segments in words:
                for index, (look, chunk) in enumerate(segments):
                    if look != key:
                        if buffer:
                            codes.run(text, looks[key], leading, "".join(buffer))
                        key, buffer = look, []
                    buffer.append(" " + chunk if space and not index else chunk)
            if buffer:
                codes.run(text, looks[key], leading, "".join(buffer))
            y -= leading


class Measures:
    """What the `Text` cells of one factory measure once and share: word widths per font and
    size (`widths`: (font, size) -> {word: width}), and the lines of recent texts of one look
    laid out ((look, text, room) -> lines; forgotten all at once every `keep_lines` texts, so
    memory stays bounded however long the document: texts recur close to each other)."""

    keep_lines = 4096

    def __init__(self):
        self.widths: dict = {}
        self.lines: dict = {}

    def keep(self, key, lines: list) -> None:
        if len(self.lines) >= self.keep_lines:
            self.lines.clear()
        self.lines[key] = lines


_WIDTH_OF: dict[str, Callable] = {}  # font name -> its `stringWidth`


def string_width(text: str, font_name: str, size: float) -> float:
    """`pdfmetrics.stringWidth(text, font_name, size)`, without looking the font up each time."""
    width_of = _WIDTH_OF.get(font_name)
    if width_of is None:
        width_of = _WIDTH_OF[font_name] = pdfmetrics.getFont(font_name).stringWidth
    return width_of(text, size)


def _widths_of(widths: dict, font: str, size: float) -> dict:
    """The word widths measured so far in one font and size (`widths`: (font, size) -> them)."""
    measured = widths.get((font, size))
    if measured is None:
        measured = widths[(font, size)] = {}
    return measured


def _width(widths: dict, word: str, font: str, size: float) -> float:
    """The width of a word, measured once per document and font (words repeat: codes, terms,
    the vocabulary of the texts)."""
    measured = _widths_of(widths, font, size)
    width = measured.get(word)
    if width is None:
        width = measured[word] = string_width(word, font, size)
    return width


def begin_text(canv):
    """A text object of `canv` for `Line` and `Text` cells to draw into (`TextCodes`)."""
    text = canv.beginText()
    codes = canv.__dict__.get("_rb_text_codes")
    if codes is None:
        codes = canv._rb_text_codes = TextCodes(canv)
    text._rb_codes = codes
    text._rb_look = None  # the look set last (font, size, colour), as set by `TextCodes`
    text._rb_font = None
    text._rb_colour = None
    return text


def _text_out(text, string: str) -> None:
    """What `text.textOut(string)` writes (see `TextCodes`)."""
    canv = text._canvas
    codes = canv.__dict__.get("_rb_text_codes")
    if codes is None:
        codes = canv._rb_text_codes = TextCodes(canv)
    codes.out(text, string)


class TextCodes:
    """Writes runs of text into text objects of one canvas as `textOut` writes them, for the
    dossier's embedded TrueType fonts, at a fraction of its cost (it was the largest cost of
    drawing a page of table).

    reportlab writes a run of a subset font as the subset's selection (name, size, leading)
    when the subset changes, then the characters' codes in that subset, which it looks up
    character by character (`TTFont.splitString`). Printable ASCII — most of the dossier's
    text — always has its own codes in subset 0 (reportlab's default `ttfAsciiReadable`
    reserves them when the font's state for the document is made, by its first
    `splitString`), so such a run is encoded as it is; the selections are made once per
    document. Other text goes through `splitString` as before: the operators written are the
    same either way. Unlike `textOut`, the text cursor's x is not moved on (that costs a
    `stringWidth`): the dossier's cells set the origin of every line.

    The text origin, font and fill colour of a run are written as `setTextOrigin`, `setFont`
    and `setFillColor` write them, without their calls: a colour's operator is made once per
    colour (an opaque RGB colour, while no fill transparency is in force; any other goes
    through `setFillColor`), and nothing is written when a run has the look of the last."""

    def __init__(self, canv):
        self.doc = canv._doc
        self.canv = canv
        # `canv._escape` is `escapePDF` unless a canvas class says otherwise
        overridden = type(canv)._escape is not rl_canvas.Canvas._escape
        self.escape = canv._escape if overridden else escapePDF
        self.dynamic: dict[str, bool] = {}  # font name -> a subset (TrueType) font
        self.bottomup = canv.bottomup
        self.ascii: dict[str, bool] = {}  # font name -> printable ASCII is its own codes
        self.selects: dict[tuple, str] = {}  # (font name, subset, size, leading) -> operators
        self.fills: dict[int, tuple] = {}  # id(colour) -> (colour, its operator)

    def origin(self, text, x: float, y: float) -> None:
        """`text.setTextOrigin(x, y)`."""
        if not self.bottomup:
            text.setTextOrigin(x, y)
            return
        text._code.append(f"1 0 0 1 {fp_str(x, y)} Tm")
        text._x0 = text._x = x
        text._y0 = text._y = y

    def line(self, text, x: float, y: float, look: tuple, leading: float, string: str) -> None:
        """A line of one run: its origin, then the run."""
        if not self.bottomup:
            text.setTextOrigin(x, y)
        else:
            text._code.append(f"1 0 0 1 {fp_str(x, y)} Tm")
            text._x0 = text._x = x
            text._y0 = text._y = y
        if look is not text._rb_look:
            self.look(text, look, leading)
        # `out`'s printable ASCII case, inline (the most common call of a dossier)
        name = text._fontname
        if string and self.ascii.get(name) and string.isascii() and string.isprintable():
            if text._curSubset != 0:
                text._code.append(self._select(text, name, 0))
                text._curSubset = 0
            text._code.append(f"({self.escape(string.encode('ascii'))}) Tj")
            return
        self.out(text, string)

    def run(self, text, look: tuple, leading: float, string: str) -> None:
        """One run of text in one look (font name, size, colour), setting font and colour
        only when they change."""
        if look is not text._rb_look:
            self.look(text, look, leading)
        self.out(text, string)

    def look(self, text, look: tuple, leading: float) -> None:
        font, size, colour = look
        if text._rb_font != (font, size):
            dynamic = self.dynamic.get(font)
            if dynamic is None:
                dynamic = self.dynamic[font] = bool(pdfmetrics.getFont(font)._dynamicFont)
            if dynamic:  # what `setFont` does for it: the subset is selected with the text
                text._fontname, text._fontsize, text._leading = font, size, leading
                text._curSubset = -1
            else:
                text.setFont(font, size, leading)
            text._rb_font = (font, size)
        last = text._rb_colour
        # Two colours made one by `_canonical` differ when they are not the same object.
        if colour is not last and (
            (id(colour) in _CANONICAL and id(last) in _CANONICAL) or colour != last
        ):
            self.fill(text, colour)
            text._rb_colour = colour
        text._rb_look = look

    def fill(self, text, colour) -> None:
        """`text.setFillColor(colour)`, `text` a text object or the canvas."""
        known = self.fills.get(id(colour))
        extgstate = self.canv._extgstate
        if (
            known is not None
            and known[0] is colour
            and extgstate._d.get("ca", extgstate.defaults["ca"]) == 1
        ):
            text._code.append(known[1])
            text._fillColorObj = colour
            return
        text.setFillColor(colour)
        if type(colour) is colors.Color and colour.alpha == 1 and text._enforceColorSpace is None:
            # What `setFillColor` writes for it (its alpha of 1 writes nothing more while no
            # fill transparency is in force; the PDF version it asks for is now set).
            rgb = (colour.red, colour.green, colour.blue)
            self.fills[id(colour)] = (colour, f"{fp_str(rgb)} rg")

    def _ascii(self, name: str) -> bool:
        font = pdfmetrics.getFont(name)
        if not getattr(font, "_dynamicFont", False):
            self.ascii[name] = False
            return False
        state = font.state.get(self.doc)
        if state is None:  # no text of this font yet: `splitString` makes the state
            return False
        assignments = state.assignments
        readable = self.ascii[name] = all(assignments.get(c) == c for c in range(32, 127))
        return readable

    def _select(self, text, name: str, subset: int) -> str:
        key = (name, subset, text._fontsize, text._leading)
        select = self.selects.get(key)
        if select is None:
            font_name = pdfmetrics.getFont(name).getSubsetInternalName(subset, self.doc)
            select = self.selects[key] = (
                f"{font_name} {fp_str(text._fontsize)} Tf {fp_str(text._leading)} TL"
            )
        return select

    def out(self, text, string: str) -> None:
        name = text._fontname
        fast = self.ascii.get(name)
        if fast is None:
            fast = self._ascii(name)
        if fast and string and string.isascii() and string.isprintable():
            code = text._code
            if text._curSubset != 0:
                code.append(self._select(text, name, 0))
                text._curSubset = 0
            code.append(f"({self.escape(string.encode('ascii'))}) Tj")
            return
        font = pdfmetrics.getFont(name)
        if not getattr(font, "_dynamicFont", False):
            text.textOut(string)
            return
        chunks = font.splitString(string, self.doc)
        code = []
        for subset, chunk in chunks:
            if subset != text._curSubset:
                code.append(self._select(text, name, subset))
                text._curSubset = subset
            code.append(f"({self.escape(chunk)}) Tj")
        text._code.append(" ".join(code))


_COLOURS: list = []  # colours of cell looks, one object per value (see `_canonical`)
_CANONICAL: set[int] = set()  # their ids (they are kept alive in `_COLOURS`)


def _canonical(colour):
    """One object for equal colours of cells' looks: a run whose colour is the last one's (the
    same object) changes nothing, found without comparing colours (reportlab's parser makes a
    new colour object for each `<font color>` of each cell style)."""
    for known in _COLOURS:
        if type(known) is type(colour) and known == colour:
            return known
    if type(colour) is colors.Color:
        _COLOURS.append(colour)
        _CANONICAL.add(id(colour))
    return colour


def _trbl(padding) -> tuple[float, float, float, float]:
    """reportlab's border padding (one value, or 2 to 4 like CSS) as top, right, bottom, left."""
    if not isinstance(padding, list | tuple):
        return (padding,) * 4
    values = list(padding)
    if len(values) == 2:
        values = values * 2
    elif len(values) == 3:
        values.append(values[1])
    return tuple(values)


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
        # (font, size, colour) of each run style, as the parser reads them from the markup.
        self._looks = {
            k: (f.fontName, f.fontSize, _canonical(f.textColor)) for k, f in self._runs.items()
        }
        self._br = Paragraph("x<br/>y", style).frags[1]
        self._measures = Measures()  # shared by this factory's `Text` cells
        # of its `Line`s
        self._line_look = (style.fontName, style.fontSize, _canonical(style.textColor))

    def plain(self, text) -> Flowable:
        text = "" if text is None else str(text)
        if not text:
            return Cell("", self.style)
        if "\n" in text or "\r" in text:
            return self.runs([("r", text)])
        text = " ".join(text.split())
        if not text:
            return Cell("", self.style)
        return Line(
            text,
            self.style,
            lambda: Text(
                [[("r", text)]],
                self.style,
                self._looks,
                lambda: self.paragraph(text),
                self._measures,
            ),
            self._line_look,
        )

    def paragraph(self, text: str) -> Cell:
        """The paragraph of one line of plain text (whitespace already collapsed)."""
        frag = _clone(self._frag)
        frag.text = text
        return Cell(text, self.style, frags=[frag])

    def runs(self, *lines) -> Flowable:
        """A cell of `lines`, each a sequence of (style, text) with style a key of `RUN_MARKUP`
        and text plain (user) text: a `Text`, which lays the words out itself. Its `paragraph`
        is the equivalent `Cell`, built from the fragments the parser would build from the
        equivalent markup (`markup_of_runs`; a test compares both) without parsing anything."""
        split = []
        for line in lines:
            pieces: list[list[tuple[str, str]]] = [[]]
            for style, text in line:
                for n, piece in enumerate(str(text or "").replace("\r\n", "\n").split("\n")):
                    if n:
                        pieces.append([])
                    if piece:
                        pieces[-1].append((style, piece))
            split.extend(p for p in pieces if p)
        if not split:
            return self.plain("")
        return Text(
            split, self.style, self._looks, lambda: self._runs_paragraph(lines), self._measures
        )

    def _runs_paragraph(self, lines) -> Cell:
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


class GridTable(Flowable):
    """One page of a long table: a header row and rows of cell flowables in fixed-width columns,
    top-aligned and padded, on alternating backgrounds in a grid — what `RowTable` in the
    dossier's table style draws, measured and drawn directly. reportlab's `Table` spends most of
    its time on what these tables never use (spans, per-cell styles and commands, string cells,
    column sizing), and that was the largest single cost of a dossier of 1,000 hazards.

    `heights` (header first) may be given when known; otherwise rows are measured in order until
    they overflow the height offered (`_rowHeights` holds None for rows not measured), as a long
    table does. A page on which not even one row fits is left to `fallback()` — the same rows
    as a `RowTable`, whose split cuts a row taller than a page in two.
    """

    def __init__(self, rows, col_widths, look, *, heights=None, fallback=None):
        super().__init__()
        self.rows = rows  # header row first
        self.col_widths = list(col_widths)
        self.look = look  # GridLook
        self._inner = [width - look.pad_x * 2 for width in self.col_widths]  # cells' widths
        self._rowHeights = list(heights) if heights else [None] * len(rows)
        self.fallback = fallback
        self.hAlign = "LEFT"

    def _measure(self, index: int) -> float:
        look, tallest = self.look, 0.0
        for cell, inner in zip(self.rows[index], self._inner, strict=True):
            if cell.__class__ is Line and cell._wrapped_for == inner:
                height = cell.height  # one line, laid out for this width already
            elif cell is None or cell == "":
                continue
            else:
                _, height = cell.wrap(inner, 1e9)
            if height > tallest:
                tallest = height
        return tallest + look.pad_top + look.pad_bottom

    def wrap(self, availWidth, availHeight):  # noqa: N803
        heights, total = self._rowHeights, 0.0
        for index, height in enumerate(heights):
            if height is None:
                height = heights[index] = self._measure(index)
            total += height
            if total > availHeight and None in heights:
                break  # overflows already: the rest is measured on the next page
        self.width, self.height = sum(self.col_widths), total
        return self.width, self.height

    def split(self, availWidth, availHeight):  # noqa: N803
        """Called only when not even one row fits: the row moves to the next page, unless the
        space is most of a page (a row taller than a page), which the fallback cuts in two."""
        if self.fallback is None or availHeight < self.look.min_in_row:
            return []
        return self.fallback().split(availWidth, availHeight)

    def draw(self):
        canv, look = self.canv, self.look
        heights = self._rowHeights
        width = sum(self.col_widths)
        total = sum(heights)
        lefts, x = [], 0.0
        for col_width in self.col_widths:
            lefts.append(x)
            x += col_width
        top = total
        # The text of every `Line` and `Text` cell goes into one text object, drawn after the
        # backgrounds (rows, chips), so it lies on top of them; other cells draw themselves.
        text = begin_text(canv)
        for index, (row, height) in enumerate(zip(self.rows, heights, strict=True)):
            fill = look.head_fill if index == 0 else look.zebra[(index - 1) % len(look.zebra)]
            if fill is not None:
                text._rb_codes.fill(canv, fill)  # canv.setFillColor(fill)
                canv.rect(0, top - height, width, height, fill=1, stroke=0)
            for cell, left, inner in zip(row, lefts, self._inner, strict=True):
                if cell.__class__ is Line and cell._wrapped_for == inner:
                    # one line, laid out for this width when the row was measured
                    cell.draw_into(text, left + look.pad_x, top - look.pad_top - cell.height)
                    continue
                if cell is None or cell == "":
                    continue
                _, cell_height = cell.wrap(inner, 1e9)
                x, y = left + look.pad_x, top - look.pad_top - cell_height
                if isinstance(cell, Text) or (isinstance(cell, Line) and cell.into_text):
                    cell.draw_into(text, x, y)
                else:
                    cell.drawOn(canv, x, y)
            top -= height
        canv.drawText(text)
        canv.setStrokeColor(look.line)
        canv.setLineWidth(look.line_width)
        y = total
        path = canv.beginPath()
        for height in [0.0, *heights]:
            y -= height
            path.moveTo(0, y)
            path.lineTo(width, y)
        for x in [*lefts, width]:
            path.moveTo(x, 0)
            path.lineTo(x, total)
        canv.drawPath(path, stroke=1, fill=0)


class GridLook:
    """The table style a `GridTable` draws (the dossier's `table_style`, as plain values)."""

    def __init__(
        self, *, line, line_width, head_fill, zebra, pad_x, pad_top, pad_bottom, min_in_row
    ):
        self.min_in_row = min_in_row  # see `RowTable.min_in_row`
        self.line = line
        self.line_width = line_width
        self.head_fill = head_fill
        self.zebra = zebra  # fills of data rows in turn; None: no fill
        self.pad_x = pad_x
        self.pad_top = pad_top
        self.pad_bottom = pad_bottom


class StreamTable(Flowable):
    """A long table laid out a page at a time, whatever its length (issue 13: bounded memory,
    linear time).

    reportlab splits a table of R rows by building a new table of the R - k rows left after
    each page (with every cell's style set again): R²/k work for a table of R rows, and every
    cell of every table of the document held in memory from the start. Here the rows stay data
    (`items`) until they are laid out: each page builds a table of the next rows only — a chunk
    a little larger than what fits, grown while it does not fill the space — measures it, makes
    the page's table of the rows that fit (with the heights just measured) and leaves the rest
    as a new `StreamTable` starting at the first row not placed. Rows already built for a page
    they did not fit on are handed on (`built`), not built again. Each page's table is a
    `RowTable` made by `make(rows, heights=None)` (the header row added there), so a page looks
    as with one long table: the same header on every page, rows whole.
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
        self._size = None

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
                self._size = None
            key = (avail_width, avail_height)
            if self._size is None or self._size[0] != key:
                self._size = (key, self._table.wrap(avail_width, avail_height))
            width, height = self._size[1]
            if stop == total or height > avail_height:
                return width, height
            self.chunk *= 2

    def wrap(self, availWidth, availHeight):  # noqa: N803
        self.width, self.height = self._layout(availWidth, availHeight)
        return self.width, self.height

    def _follow(self, after: int) -> list:
        if after >= len(self.items):
            return []
        built = {i: row for i, row in self.built.items() if i >= after}
        return [
            StreamTable(
                self.make, self.items, self.build_row, start=after, built=built, chunk=self.chunk
            )
        ]

    def split(self, availWidth, availHeight):  # noqa: N803
        self._layout(availWidth, availHeight)
        table = self._table
        # The rows that fit, from the heights the layout has just measured (header included):
        # this page's table is made of them with those heights, so nothing is measured twice.
        heights, used, fit = table._rowHeights, 0.0, 0
        for height in heights:
            if height is None or used + height > availHeight:
                break
            used += height
            fit += 1
        if fit == len(heights) and self._stop == len(self.items):
            return [table]
        if fit > 1:
            after = self.start + fit - 1  # minus the header row
            rows = [self._row(i) for i in range(self.start, after)]
            return [self.make(rows, heights[:fit]), *self._follow(after)]
        # Not one row fits: a row taller than the space. `RowTable.split` moves it to the next
        # page ([]) or, with most of a page free, cuts it in two; its second half and the
        # chunk's other rows go on as the table reportlab made, the rows after the chunk follow.
        parts = table.split(availWidth, availHeight)
        if len(parts) < 2:
            return parts
        return [*parts, *self._follow(self._stop)]

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
        self.furniture: dict[tuple, list[str]] = {}  # page size -> its header and footer
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

    def showPage(self):  # noqa: N802 (reportlab's name)
        """Finish the page and compress its content at once: a finished page is kept as
        compressed bytes (a few KB) rather than as its text until the document is saved, so a
        dossier of thousands of pages does not hold them all in memory uncompressed."""
        super().showPage()
        page = self._doc.Pages.pages[-1]
        page.body = _flate(page.stream)
        page.stream = ""

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
            stamp = self._capture(
                lambda c, n=number, p=page, s=slots: self.renderer.stamp_page(c, n, total, p, s)
            )
            # The page's content is its body followed by the stamp (PDF 7.8.2: an array of
            # content streams is read as their concatenation).
            page.Contents = PDFArray([page.body, _flate(stamp)])
        super().save()


def _flate(content: str) -> PDFStream:
    """A content stream compressed now (what reportlab's page compression does when saving)."""
    stream = PDFStream(content=zlib.compress(content.encode("utf-8")))
    stream.dictionary["Filter"] = PDFArray([PDFName("FlateDecode")])
    return stream


def markup_of_runs(*lines) -> str:
    """The markup `CellFactory.runs` stands for (used by the test that compares the two)."""
    return "<br/>".join(
        "".join(RUN_MARKUP[style].format(esc(text)) for style, text in line if text)
        for line in lines
        if any(text for _, text in line)
    )
