"""The dossier says exactly what it is (read back with pypdf): a file that is not a release
baseline carries "DRAFT — N open gaps (see §…)" on every page and never the word Released; a
release dossier names its release baseline on every page and in its status line."""

import io

import pypdf
import pytest

from tests import factories
from traceability import gate
from traceability.baselines.services import baseline_create
from traceability.dossier import services
from traceability.dossier.renderer import SECTION_NUMBERS

pytestmark = pytest.mark.django_db


def pages(product) -> list[str]:
    pdf = services.render_dossier(product).pdf
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def releasable(product):
    factories.complete_chain(product)
    factories.release_ready(product)
    return product


def test_a_draft_says_draft_with_its_gaps_on_every_page(product, editor):
    factories.complete_chain(product)  # records in draft, plan unsigned: gaps
    baseline_create(product=product, name="Design freeze", by=editor, sign=False)
    texts = pages(product)
    gaps = gate.product_gaps(product).gap_count
    assert gaps > 0
    banner = f"DRAFT — {gaps} open gaps (see §{SECTION_NUMBERS['coverage']})"
    assert all(banner in text for text in texts), [t[:200] for t in texts if banner not in t]
    assert not any("Released" in text for text in texts)
    assert "identical to working baseline “Design freeze”, which is not a release" in "".join(
        texts
    ).replace("\n", " ")


def test_a_file_identical_to_a_release_baseline_names_it(releasable, editor):
    baseline = baseline_create(
        product=releasable, name="Release 1.0", by=editor, kind="release", sign=False
    )
    texts = pages(releasable)
    assert all("Release baseline “Release 1.0”" in text for text in texts)
    assert not any("DRAFT" in text for text in texts)
    status = " ".join("".join(texts).split())
    assert "Released: identical to release baseline “Release 1.0” (SHA-256" in status
    assert baseline.content_sha256[:32] in status.replace(" ", "")


def test_a_release_edited_afterwards_is_a_draft_again(releasable, editor):
    baseline_create(product=releasable, name="Release 1.0", by=editor, kind="release", sign=False)
    hazard = releasable.hazards.get()
    hazard.harm = "Changed after the release"
    hazard.save()
    texts = pages(releasable)
    assert all("DRAFT — 0 open gaps" in text for text in texts)
    assert not any("Released" in text for text in texts)
