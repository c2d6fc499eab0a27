"""Sections registered by apps above traceability are gathered by the selector, hashed with the
data and printed generically (read back with pypdf)."""

import io

import pytest
from pypdf import PdfReader

from traceability.dossier import extensions, selectors
from traceability.dossier.data import ExtraSection
from traceability.dossier.renderer import DossierRenderer


def provider(product):
    return ExtraSection(
        title="Registered test section",
        clause="ISO 14971 10",
        note="Rows come from a provider.",
        header=("Code", "Text"),
        rows=(("X-001", f"About {product.slug}"), ("X-002", "")),
    )


@pytest.fixture
def registered():
    extensions.register(provider)
    extensions.register(provider)  # twice: no effect
    yield
    extensions.unregister(provider)


def test_a_registered_section_is_gathered_hashed_and_printed(product, registered):
    data = selectors.gather(product)
    mine = [s for s in data.extensions if s.title == "Registered test section"]
    assert len(mine) == 1 and mine[0].rows[0] == ("X-001", f"About {product.slug}")
    pdf = DossierRenderer(data).render()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Registered test section (ISO 14971 10)" in text and "X-002" in text
    extensions.unregister(provider)
    assert selectors.gather(product).data_hash != data.data_hash


def test_a_section_without_rows_prints_its_empty_text(product, registered):
    extensions.unregister(provider)

    def empty(product):
        return ExtraSection("Nothing here", "IEC 62304 9", "", ("A",), (), "No rows at all.")

    extensions.register(empty)
    try:
        pdf = DossierRenderer(selectors.gather(product)).render()
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "No rows at all." in text
    finally:
        extensions.unregister(empty)
