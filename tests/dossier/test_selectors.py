"""The selector: the only step of the dossier that reads the database."""

import pytest

from bench.synthetic import generate_product
from hazards import services as hazard_services
from riskbench.signatures import signature_create
from traceability.baselines.services import baseline_create
from traceability.dossier import selectors


@pytest.mark.parametrize("with_baseline", [False, True])
def test_query_count_does_not_grow_with_the_product(db, count_queries, editor, with_baseline):
    small = generate_product(10, slug="small")
    large = generate_product(200, slug="large")
    for product in (small, large):
        if with_baseline:
            baseline_create(product=product, name="R1", by=editor, sign=False)
            hazard = product.hazards.get(code="HAZ-001")
            hazard_services.hazard_update(
                hazard=hazard, by=editor, reason="x", harm="Coma", expected_version=hazard.version
            )
            signature_create(
                record=product.hazards.get(code="HAZ-002"), by=editor, meaning="reviewed"
            )
    selectors.gather(small)  # warm caches (content types) so both counts are like for like
    with count_queries() as q_small:
        data_small = selectors.gather(small)
    with count_queries() as q_large:
        data_large = selectors.gather(large)
    # 1 product + policy, +1 the signatures on the plan (who approved it, ISO 14971 4.4);
    # 13 graph (5 node tables, 8 link tables); software causes, hazards, controls,
    # requirements, software items, test case texts, test runs with their evidence (7); record
    # signatures, baselines (2); membership names (1); one history query per historied table
    # for the audit extract (17).
    # With a baseline: its signatures (1), the current snapshot (15: baselines.selectors, + 1
    # for the user names of the testers, whom the synthetic runs record), the stored snapshot it
    # is compared with (1).
    # Registered sections (traceability.dossier.extensions): postmarket's known anomalies (2),
    # vulnerabilities (1) and field information (2); the risk management report (1: none here).
    # With the record signature: its signer's role and qualification at signing (1).
    # The open-gaps section runs the release gate (traceability.gate): record checks (4: policy,
    # plan signature, hazards, SOUP; the records' states come with the graph) and the
    # registered checks (6 post-market, 1 report).
    expected = 41 + 1 + 5 + 1 + 10 + 1 + (18 + 1 if with_baseline else 0)
    assert q_small.count == q_large.count == expected, q_large.dump()
    assert (data_large.changes is not None) is with_baseline
    assert len(data_small.hazards) == 10 and len(data_large.hazards) == 200
    assert len(data_large.trace_rows) >= 3 * 200


def test_gathering_twice_gives_the_same_data_and_hash(risk_file):
    first, second = selectors.gather(risk_file), selectors.gather(risk_file.pk)
    assert first == second
    assert first.data_hash == second.data_hash
    assert [h.code for h in first.hazards] == ["HAZ-001", "HAZ-002", "HAZ-003"]


def test_the_hash_is_that_of_the_canonical_json_read_in_batches(db):
    """`canonical_chunks` encodes records a batch at a time (tables longer than a batch here):
    joined, the chunks are the canonical JSON the hash is defined on."""
    import hashlib

    from traceability.dossier.data import HASH_BATCH

    data = selectors.gather(generate_product(120, slug="batched"))
    assert len(data.trace_rows) > HASH_BATCH
    whole = data.canonical_json()
    assert "".join(data.canonical_chunks()).encode("utf-8") == whole
    assert data.data_hash == hashlib.sha256(whole).hexdigest()


def test_a_change_in_the_data_changes_the_hash_and_the_date(risk_file, editor):
    before = selectors.gather(risk_file)
    hazard = risk_file.hazards.get(code="HAZ-001")
    hazard_services.hazard_update(
        hazard=hazard, by=editor, reason="Clarify", harm="Coma", expected_version=hazard.version
    )
    after = selectors.gather(risk_file)
    assert after.data_hash != before.data_hash
    assert after.as_of > before.as_of
    changed = [a for a in after.audit if a.action == "Changed" and "HAZ-001" in a.record]
    assert changed and changed[-1].why == "Clarify" and "harm" in changed[-1].what
    assert changed[-1].who == editor.get_full_name()


def test_the_chain_and_its_verification_come_from_the_graph(risk_file):
    data = selectors.gather(risk_file)
    haz = {h.code: h for h in data.hazards}
    assert haz["HAZ-001"].controls == ("RC-001",)
    assert haz["HAZ-001"].caused_by_security == ("HAZ-002",)
    assert haz["HAZ-003"].introduced_by == ("RC-002",)
    assert haz["HAZ-001"].software_causes[0].cause == "Integer overflow"
    ctl = {c.code: c for c in data.controls}
    assert [t.code for t in ctl["RC-001"].implementation_tests] == ["TC-001"]
    assert [t.code for t in ctl["RC-001"].effectiveness_tests] == ["TC-003"]
    assert ctl["RC-002"].verification == "implementation failed, effectiveness no test"
    items = {i.code: i for i in data.software_items}
    assert items["SW-002"].required_class == "C"  # recorded B, contributes to a severity-4 hazard
    assert items["SW-001"].required_class == ""
    assert [e.name for e in data.evidence] == ["report <1>.txt"]
    kinds = {g.kind for g in data.gaps}
    assert "hazard_without_control" in kinds and "software_class_too_low" in kinds


@pytest.mark.django_db
def test_bulk_creations_are_one_line_of_the_audit_extract():
    product = generate_product(30, slug="audit")
    data = selectors.gather(product)
    hazards = [a for a in data.audit if a.record.startswith("30 × hazard")]
    assert hazards and hazards[0].record == "30 × hazard: HAZ-001 … HAZ-030"
    assert hazards[0].action == "Created" and hazards[0].why.startswith("Synthetic data")
    assert len(data.audit) < 40
