"""The PDF read back with pypdf: what an auditor would check by hand."""

import datetime as dt
import io
import re

import pypdf
import pytest

from hazards.models import Hazard
from tests import factories
from traceability.dossier import renderer, selectors, services
from traceability.dossier.renderer import SECTIONS


def _reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def _outline(reader) -> list[tuple[str, int]]:
    """(title, 1-based page) of every outline entry, depth first."""
    result = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                result.append((item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline)
    return result


@pytest.fixture
def rendered(risk_file):
    return services.render_dossier(risk_file)


@pytest.fixture
def reader(rendered):
    return _reader(rendered.pdf)


def _section_pages(reader) -> dict[str, int]:
    return {title: page for title, page in _outline(reader)}


def test_every_section_heading_is_present_in_order(reader):
    pages = _section_pages(reader)
    previous = 0
    for number, (_, title) in enumerate(SECTIONS, 1):
        heading = f"{number}  {title}"
        assert heading in pages, f"no outline entry for {heading}"
        page = pages[heading]
        assert page >= previous, f"{heading} comes before the section it should follow"
        text = reader.pages[page - 1].extract_text()
        assert re.search(rf"{number}\s+{re.escape(title)}", text), f"{heading} not on page {page}"
        previous = page
    assert pages["Cover"] == 1
    # The contents come before the signature manifest (document control), right after the cover.
    assert pages["Contents"] < pages["1  Document control"] < pages["2  Standards cross-reference"]


def test_page_count_is_plausible_and_recorded(rendered, reader):
    assert len(reader.pages) == rendered.page_count
    # 15 sections, most on their own page, for a three-hazard file.
    assert 16 <= len(reader.pages) <= 40


def test_outline_has_sections_and_subsections(reader):
    titles = [t for t, _ in _outline(reader)]
    assert titles[:3] == ["Cover", "Contents", "1  Document control"]
    assert {"6.1  Safety hazards", "6.2  Security hazards", "6.3  Privacy hazards"} <= set(titles)
    assert "Contents" in titles


def test_every_page_says_page_x_of_y_with_the_right_total(reader):
    total = len(reader.pages)
    for number in (1, total // 2, total):
        text = reader.pages[number - 1].extract_text()
        assert f"Page {number} of {total}" in text
        assert "RMF-" in text and "Rev. 1 (draft)" in text  # header: document number, revision


def test_contents_and_cross_reference_give_the_real_pages(reader):
    pages = _section_pages(reader)
    toc = reader.pages[pages["Contents"] - 1].extract_text(extraction_mode="layout")
    for number, (_, title) in enumerate(SECTIONS, 1):
        line = re.search(rf"^\s*{number}\s+{re.escape(title)}[ .]*?(\d+)\s*$", toc, re.M)
        assert line, f"contents line of {title} missing"
        assert int(line.group(1)) == pages[f"{number}  {title}"]
    xref = reader.pages[pages["2  Standards cross-reference"] - 1].extract_text(
        extraction_mode="layout"
    )
    soup_page = pages["11  SOUP list"]
    assert re.search(rf"8\.1\.2\s+Identify SOUP.*11 SOUP list\s+{soup_page}\s*$", xref, re.M)


def test_a_known_hazard_chain_appears_with_its_controls_requirements_and_tests(reader):
    pages = _section_pages(reader)
    trace = reader.pages[pages["9  Traceability matrix"] - 1].extract_text(extraction_mode="layout")
    assert re.search(r"HAZ-001\s+RC-001\s+SRS-001\s+TC-001\s+Pass", trace)
    assert re.search(r"HAZ-002\s+RC-002\s+SRS-002\s+TC-002\s+Fail", trace)
    assert re.search(r"HAZ-003\s+None\s+None\s+None", trace)  # a gap, shown as such
    analysis = " ".join(reader.pages[pages["6.1  Safety hazards"] - 1].extract_text().split())
    for words in ("HAZ-001", "Severe hypoglycaemia & seizure", "RC-001", "Integer overflow"):
        assert words in analysis
    controls = " ".join(reader.pages[pages["8  Risk controls"] - 1].extract_text().split())
    assert "TC-001 Pass" in controls and "TC-003 Pass" in controls  # implementation, effectiveness


def test_user_text_is_printed_literally_not_as_markup(reader):
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert "<b>bolus</b>" in text
    assert "Acme Medical <R&D>" in text


def test_sections_say_explicitly_when_there_is_nothing(reader, risk_file):
    text = "".join(page.extract_text() for page in reader.pages)
    assert "No previous baseline" in text
    # The open-gaps section lists every gap of the release gate (what riskcheck reports).
    from traceability import gate

    assert f"{gate.product_gaps(risk_file).gap_count} open gap(s)" in text


def test_coverage_says_none_when_the_file_is_complete(product):
    factories.HazardFactory(
        product=product, severity=1, probability=1, p1=1, p2=1, initial_risk_index=1,
        initial_acceptability="acceptable", status="approved",
    )  # fmt: skip
    factories.sign_plan(product)
    factories.signed_report(product)
    text = "".join(p.extract_text() for p in _reader(services.render_dossier(product).pdf).pages)
    assert "None. Every check passes" in text


def test_long_tables_split_with_the_header_row_repeated(product):
    control = factories.RiskControlFactory(product=product)
    for i in range(90):
        hazard = factories.HazardFactory(product=product, code=f"HAZ-{i + 1:03d}")
        factories.HazardControlFactory(hazard=hazard, control=control)
    reader = _reader(services.render_dossier(product).pdf)
    pages = _section_pages(reader)
    first = pages["9  Traceability matrix"]
    after = pages["9.1  Requirements and their texts (IEC 62304 5.2, 7.2)"]
    assert after - first >= 2, "90 chains should need more than one page"
    for page in range(first, after):
        assert "Latest result" in reader.pages[page - 1].extract_text()
    assert Hazard.objects.filter(product=product).count() == 90


def test_two_exports_of_the_same_data_are_byte_identical(risk_file):
    first = services.render_dossier(risk_file)
    second = services.render_dossier(risk_file)
    assert first.pdf == second.pdf
    assert first.sha256 == second.sha256


def test_the_creation_date_and_hash_come_from_the_data(risk_file):
    data = selectors.gather(risk_file)
    pdf = renderer.render(data)
    reader = _reader(pdf)
    assert reader.metadata.creation_date == data.as_of.replace(microsecond=0)
    assert data.data_hash in reader.pages[0].extract_text().replace("\n", "")
    assert data.as_of.tzinfo is not None and data.as_of.utcoffset() == dt.timedelta(0)


def test_fonts_are_embedded_truetype_never_the_standard_fourteen(reader):
    seen = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            seen.add(font["/BaseFont"])
            descendant = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            assert "/FontDescriptor" in descendant, f"{font['/BaseFont']} is not embedded"
            assert "/FontFile2" in descendant["/FontDescriptor"]
    assert seen and all("DejaVu" in str(name) for name in seen)


def test_matrices_and_heat_maps_are_vector_graphics_not_images(reader):
    pages = _section_pages(reader)
    for title in ("4.4  Acceptability matrices", "7  Risk evaluation"):
        page = reader.pages[pages[title] - 1]
        xobjects = page["/Resources"].get("/XObject", {})
        assert not any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
        content = page.get_contents().get_data()
        assert b" re" in content  # rectangles drawn with path operators
    text = reader.pages[pages["7  Risk evaluation"] - 1].extract_text()
    assert "Initial safety risk" in text and "Residual safety risk" in text
