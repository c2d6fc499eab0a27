"""Signatures and baselines in the dossier: approvals on the cover, revision history, record
signatures (21 CFR 11.50), changes since the previous baseline (IEC 62304 7.4)."""

import io
import re

import pypdf
import pytest

from hazards import services as hazard_services
from riskbench.signatures import signature_create
from traceability.baselines.services import baseline_create
from traceability.dossier import selectors, services


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def released(risk_file, editor):
    baseline_create(
        product=risk_file, name="Release 1", by=editor, username="editor",
        password="correct-horse-battery",
    )  # fmt: skip
    return risk_file


def test_a_released_revision_shows_its_approvals_and_no_previous_baseline(released, editor):
    data = selectors.gather(released)
    assert data.released and data.revision == "1"
    assert data.previous_baseline is None and data.changes is None
    text = _text(services.render_dossier(released).pdf)
    cover = text.split("Page 1 of")[0]
    assert "Approved" in cover and editor.get_full_name() in cover
    assert "No electronic signature approves this content yet" not in cover
    assert "Release 1" in text and "No previous baseline" in text
    assert re.search(r"Rev\. 1\b", text) and "Rev. 1 (draft)" not in text


def test_a_change_after_the_baseline_makes_a_draft_and_is_listed(released, editor):
    hazard = released.hazards.get(code="HAZ-001")
    hazard_services.hazard_update(
        hazard=hazard, by=editor, reason="New data", harm="Coma", expected_version=hazard.version
    )
    data = selectors.gather(released)
    assert not data.released and data.revision == "2 (draft)"
    assert data.previous_baseline.name == "Release 1"
    changed = [c for c in data.changes if c.record == "Hazards HAZ-001" and c.field == "harm"]
    assert changed and changed[0].before == "Severe hypoglycaemia & seizure"
    assert changed[0].after == "Coma"
    # The audit extract starts at the baseline: only what happened since.
    assert data.audit_since == data.previous_baseline.created_at
    assert all(a.when > data.audit_since for a in data.audit)
    text = _text(services.render_dossier(released).pdf)
    assert "Changes between baseline “Release 1”" in text
    assert "No electronic signature approves this content yet" in text
    assert "Rev. 2 (draft)" in text


def test_record_signatures_are_printed_and_superseded_after_an_edit(risk_file, editor):
    hazard = risk_file.hazards.get(code="HAZ-001")
    signature_create(record=hazard, by=editor, meaning="reviewed")
    (sig,) = selectors.gather(risk_file).record_signatures
    assert sig.meaning == "Reviewed" and sig.current and sig.printed_name == editor.get_full_name()
    hazard_services.hazard_update(
        hazard=hazard, by=editor, reason="Edit", harm="Coma", expected_version=hazard.version
    )
    (sig,) = selectors.gather(risk_file).record_signatures
    assert not sig.current
    text = _text(services.render_dossier(risk_file).pdf)
    assert "Superseded" in text and sig.sha256[:20] in text.replace("\n", "")


def test_an_export_of_a_released_revision_records_its_baseline(released, editor):
    export = services.export_generate(services.export_request(product=released, by=editor).pk)
    assert export.baseline.name == "Release 1" and export.revision == "1"
    hazard = released.hazards.get(code="HAZ-001")
    hazard_services.hazard_update(
        hazard=hazard, by=editor, reason="New data", harm="Coma", expected_version=hazard.version
    )
    draft = services.export_generate(services.export_request(product=released, by=editor).pk)
    assert draft.baseline is None and draft.revision == "2 (draft)"
