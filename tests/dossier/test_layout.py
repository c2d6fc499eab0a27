"""The cell builders that skip reportlab's markup parser must build what the parser builds."""

import pytest
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from traceability.dossier.layout import FONT, CellFactory, markup_of_runs, register_fonts


@pytest.fixture
def factory():
    register_fonts()
    return CellFactory(ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.2))


def _frags(paragraph):
    """The fragments, adjacent ones of the same style merged: the parser cuts text at every
    entity (&amp;, &lt;) into fragments of one style, which lay out exactly like one."""
    merged = []
    for frag in paragraph.frags:
        attrs = dict(frag.__dict__)
        if merged and not attrs.get("lineBreak") and not merged[-1].get("lineBreak"):
            last = dict(merged[-1])
            if {k: v for k, v in last.items() if k != "text"} == {
                k: v for k, v in attrs.items() if k != "text"
            }:
                merged[-1]["text"] += attrs["text"]
                continue
        merged.append(attrs)
    return merged


@pytest.mark.parametrize(
    "lines",
    [
        ([("b", "HAZ-001")], [("r", "Over-delivery <b>bolus</b> & more")], [("m", "Draft")]),
        ([("b", "Hazard:"), ("r", " Excess insulin")], [("b", "Harm:"), ("r", " Coma")]),
        (
            [("r", "TC-001 "), ("ok", "Pass"), ("r", " 2025-03-14")],
            [("r", "TC-2 "), ("bad", "Fail")],
        ),
        ([("b", "4")], [("small", "Critical")]),
        ([("i", "No chain recorded.")],),
    ],
)
def test_runs_build_the_fragments_the_parser_builds(factory, lines):
    assert _frags(factory.runs(*lines)) == _frags(Paragraph(markup_of_runs(*lines), factory.style))


def test_plain_builds_the_fragment_the_parser_builds(factory):
    text = "Glucose <history> & 'alarms'"
    from traceability.dossier.layout import esc

    assert _frags(factory.plain(text)) == _frags(Paragraph(esc(text), factory.style))


def test_user_line_breaks_become_line_breaks(factory):
    cell = factory.runs([("b", "Cause:"), ("r", " first\nsecond")])
    assert [getattr(f, "lineBreak", False) for f in cell.frags] == [False, False, True, False]


@pytest.mark.parametrize("width", [60, 75, 120, 150, 180, 200, 260, 400])
def test_text_cells_break_lines_where_the_paragraph_would(factory, width):
    """`Text` lays words out itself; it must take as many lines as reportlab's paragraph of the
    same fragments, so a table row is as tall either way (and no word is lost)."""
    lines = (
        [("b", "Hazard:"), ("r", " Software fault during a bolus of insulin")],
        [("b", "Harm:"), ("r", " Severe hypoglycaemia, seizure & coma <b>x</b>")],
        [("m", "Draft · rev. 2")],
    )
    text = factory.runs(*lines)
    paragraph = Paragraph(markup_of_runs(*lines), factory.style)
    assert text.wrap(width, 1000)[1] == paragraph.wrap(width, 1000)[1]


def test_one_line_cells_fall_back_to_wrapping_when_too_wide(factory):
    cell = factory.plain("SRS-001 is verified by TC-002: an end changed since the last review")
    assert cell.wrap(1000, 100)[1] == factory.style.leading  # one line
    assert cell.wrap(60, 100)[1] > 3 * factory.style.leading  # wrapped, nothing cut off


def test_text_runs_write_what_text_out_writes():
    """`TextCodes` encodes runs itself (printable ASCII as it is, the rest through the font's
    subsets); the operators must be those reportlab's `textOut` writes, font selections
    included, whatever the text and in whatever order fonts are first used."""
    import io

    from reportlab.pdfgen.canvas import Canvas

    from traceability.dossier.layout import FONT_BOLD, _text_out

    register_fonts()
    canv = Canvas(io.BytesIO())
    strings = [
        "Dose ≥ 5 µL — “quoted” (non-ASCII first)",
        "Plain ASCII: (1) \\ [2] 100 %",
        "",
        "tab\tand ü",
        "x" * 300,
    ]
    for font in (FONT, FONT_BOLD, FONT):
        for string in strings:
            ours, theirs = canv.beginText(), canv.beginText()
            for text in (ours, theirs):
                text.setFont(font, 7.5, 9.2)
            _text_out(ours, string)
            _text_out(ours, string)
            theirs.textOut(string)
            theirs.textOut(string)
            assert ours.getCode() == theirs.getCode()


def test_lines_and_runs_write_what_reportlab_writes():
    """`TextCodes.line` and `run` write origin, font, colour and text themselves: the operators
    must be those of `setTextOrigin`, `setFont`, `setFillColor` and `textOut`, for repeated
    and changing looks, colours given in any form (CMYK, translucent: through reportlab)."""
    import io

    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas

    from traceability.dossier.layout import FONT_BOLD, INK, MUTED, begin_text

    register_fonts()
    translucent = colors.Color(0.2, 0.4, 0.6, alpha=0.5)
    looks = [
        (FONT, 7.5, INK),
        (FONT, 7.5, INK),
        (FONT_BOLD, 7.5, INK),
        (FONT_BOLD, 7.5, colors.white),
        (FONT, 6.3, MUTED),
        (FONT, 6.3, colors.CMYKColor(0.1, 0.2, 0.3, 0.4)),
        (FONT, 7.5, translucent),
        (FONT, 7.5, INK),
        (FONT, 7.5, translucent),
        (FONT, 7.5, colors.HexColor("#8a1c17")),
    ]
    strings = ["TC-001 (a) \\ b", "Dose ≥ 5 µL", "", "Pass"]
    # two canvases: the fill transparency in force is the canvas's
    ours, theirs = begin_text(Canvas(io.BytesIO())), Canvas(io.BytesIO()).beginText()
    last = None
    for n, look in enumerate(looks * 2):
        string = strings[n % len(strings)]
        x, y = 12.5 + n, 700 - 9.2 * n
        if n % 3:
            ours._rb_codes.line(ours, x, y, look, 9.2, string)
        else:
            ours._rb_codes.origin(ours, x, y)
            ours._rb_codes.run(ours, look, 9.2, string)
        theirs.setTextOrigin(x, y)
        if last is None or last[:2] != look[:2]:
            theirs.setFont(look[0], look[1], 9.2)
        if last is None or last[2] != look[2]:
            theirs.setFillColor(look[2])
        theirs.textOut(string)
        last = look
    assert ours.getCode() == theirs.getCode()


def test_fills_on_the_canvas_write_what_set_fill_color_writes():
    """Table rows and chips fill their backgrounds through `TextCodes.fill` on the canvas."""
    import io

    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas

    from traceability.dossier.layout import INK, ZEBRA, begin_text

    ours, theirs = Canvas(io.BytesIO()), Canvas(io.BytesIO())
    codes = begin_text(ours)._rb_codes
    for colour in (ZEBRA, INK, ZEBRA, colors.Color(0.1, 0.2, 0.3, alpha=0.4), ZEBRA, INK):
        codes.fill(ours, colour)
        theirs.setFillColor(colour)
        ours.rect(0, 0, 10, 10, fill=1, stroke=0)
        theirs.rect(0, 0, 10, 10, fill=1, stroke=0)
    assert ours._code == theirs._code
    assert ours._fillColorObj is theirs._fillColorObj


def test_cells_laid_out_again_at_another_width_are_as_new_ones(factory):
    """Line cells keep their layout per width: wrapping at another width and back gives
    what a fresh cell gives at each width."""
    text = "SRS-001 is verified by TC-002: an end changed since the last review"
    cell = factory.plain(text)
    for width in (1000, 60, 1000, 60, 120, 60):
        assert cell.wrap(width, 100) == factory.plain(text).wrap(width, 100)


def test_equal_colours_of_cell_looks_are_one_object(factory):
    from reportlab.lib.styles import ParagraphStyle

    from traceability.dossier.layout import MUTED

    other = CellFactory(ParagraphStyle("other", factory.style, fontName="DejaVuSans-Bold"))
    assert factory._looks["m"][2] is other._looks["m"][2] is factory._looks["small"][2]
    assert factory._looks["m"][2] == MUTED
    assert factory._looks["ok"][2] is not factory._looks["bad"][2]


def test_a_chip_that_wraps_keeps_its_background(factory):
    """A chip wider than its column wraps (as a `Text`) and its background covers every line."""
    chip = CellFactory(
        ParagraphStyle(
            "chip", factory.style, backColor="#fbe7b0", borderPadding=(1, 2, 1, 2), alignment=1
        )
    ).plain("Investigate further risk control (9)")
    _, height = chip.wrap(50, 1000)
    assert height == 3 * factory.style.leading
    assert chip.into_text
