"""Bring a product's cached release-gate summary up to date by redoing only what changed.

After every committed change the product's summary (`traceability.summary`) is out of date. At
5,000 hazards recomputing it reads ≈50,000 records and takes seconds, and while an editor saves
every few seconds each page that shows the analysis would wait for it. Most changes touch a
handful of records, and every check of the gate reads a bounded neighbourhood of the record it
checks; so from the previous summary and the audit chain since it (`riskbench.audit`: every
committed change appends an entry naming the record) this module:

1. lists the records that changed (`changed_records`; a link or a test run names its ends);
2. takes everything whose checks can read them (`affected`: the records that link to a changed
   one, transitively — what a hazard's, a control's or a software item's checks follow goes
   from it outwards) and everything those checks read (`loaded`: from the affected records
   outwards), and loads just that part of the graph (`neighbourhood.load`);
3. runs the very same checks on that part and replaces, record by record, the results of the
   affected records in the previous summary; checks of the whole product (plan, policy, SOUP
   support, the registered checks) run again in full — a few queries.

Software safety classes follow the item tree, so a change of an item's own class reaches every
item: when an affected item's own class or reached hazards differ from the previous summary's,
when an item itself changed, or when the set of items with requirements changed, the summary is
recomputed in full. So is it after a change of the risk policy (it moves every hazard's
acceptability), of a model this module does not know, of the global chain, or of the date, or
when the change is large (`MAX_*`). `tests/traceability/test_incremental.py` checks, change by
change, that the result equals a full recomputation.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import replace

from django.apps import apps

from riskbench.audit import chain_name
from riskbench.models import AuditChainEntry, AuditSource
from traceability import gate, record_checks, verification
from traceability import graph as tg
from traceability import neighbourhood as nb

# Beyond these the full recomputation is about as fast and far simpler.
MAX_ENTRIES = 400  # audit entries since the previous summary
MAX_AFFECTED = 4000  # records whose results are redone
MAX_LOADED = 40000  # records loaded to redo them

NODE_MODELS = {
    "hazards.hazard": tg.HAZARD,
    "hazards.riskcontrol": tg.CONTROL,
    "traceability.requirement": tg.REQUIREMENT,
    "traceability.testcase": tg.TEST,
    "traceability.softwareitem": tg.SOFTWARE_ITEM,
}
TEST_RUN = "traceability.testrun"
# Records that no traceability or record-state check of a record reads: only the checks of the
# whole product (plan, policy approval of the plan's signatures, the registered post-market and
# report checks), which are redone in full every time.
PRODUCT_LEVEL = {
    "dossier.dossierexport",
    "hazards.membership",
    "hazards.product",
    "postmarket.changerequest",
    "postmarket.fieldexposure",
    "postmarket.fieldrecord",
    "postmarket.fieldrecordhazard",
    "postmarket.problemreport",
    "postmarket.problemreporthazard",
    "postmarket.problemreportitem",
    "postmarket.problemreportrun",
    "postmarket.vulnerability",
    "postmarket.vulnerabilityimport",
    "report.riskmanagementreport",
    "riskbench.userprofile",
}
# Checks of a software item that read the item tree or every requirement (kept from the
# previous summary; the fallbacks above guarantee they did not change).
ITEM_TREE_KINDS = {
    "software_item_without_requirements",
    "soup_anomalies_not_reviewed",
    "software_class_too_low",
}
SOUP_KINDS = {"soup_end_of_support", "soup_anomaly_review_outdated"}
PLAN_KINDS = {"plan_not_approved", "policy_not_approved"}


def _link_models() -> dict[str, tuple[str, str, str, str]]:
    """Link model label → (source field, target field, source kind, target kind)."""
    return {
        model._meta.label_lower: (src, tgt, src_kind, tgt_kind)
        for model, src, tgt, src_kind, tgt_kind in nb.link_tables()
    }


def changed_records(product_id: int, since: tuple[int, str], until: int) -> set[tg.Node] | None:
    """The graph records changed by the product chain's entries after `since` (the (seq, hash)
    of the head a summary describes) up to seq `until`: the records themselves, both ends of
    each link written, the test case of each run. None when `since` is not on the chain (a
    summary of writes rolled back), when something else changed that per-record results may
    read, or when too much changed."""
    entries = list(
        AuditChainEntry.objects.filter(
            chain=chain_name(product_id), seq__gte=since[0], seq__lte=until
        )
        .order_by("seq")
        .values_list("seq", "row_hash", "source", "model_label", "object_id", "row_id")[
            : MAX_ENTRIES + 2
        ]
    )
    if since[0] > 0:
        if not entries or entries[0][:2] != tuple(since):
            return None
        entries = entries[1:]
    if len(entries) > MAX_ENTRIES or len(entries) != until - since[0]:
        return None
    links = _link_models()
    changed: set[tg.Node] = set()
    rows: dict[str, list[int]] = defaultdict(list)  # model label → history ids
    for _seq, _hash, source, label, object_id, row_id in entries:
        if source != AuditSource.HISTORY or label in PRODUCT_LEVEL:
            continue  # signatures, baselines: read by the product-level checks only
        if label in NODE_MODELS:
            changed.add((NODE_MODELS[label], int(object_id)))
        elif label in links or label == TEST_RUN:
            rows[label].append(row_id)
        else:
            return None
    for label, ids in rows.items():
        history = apps.get_model(label).history.model
        if label == TEST_RUN:
            for test in history.objects.filter(history_id__in=ids).values_list(
                "test_case_id", flat=True
            ):
                changed.add((tg.TEST, test))
            continue
        src, tgt, src_kind, tgt_kind = links[label]
        for source, target in history.objects.filter(history_id__in=ids).values_list(
            f"{src}_id", f"{tgt}_id"
        ):
            changed |= {(src_kind, source), (tgt_kind, target)}
    return changed


def update(previous, product, head):
    """`previous` (a `summary.Summary`) brought to the product's state at `head`
    (`summary.current_head`, read before anything else), or None when only a full
    recomputation can say."""
    from traceability.summary import pack

    (seq, _), shared, day = head
    since, old_shared, old_day = previous.head
    if shared != old_shared or day != old_day or seq <= since[0]:
        return None
    changed = changed_records(product.pk, since, seq)
    if changed is None or any(node[0] == tg.SOFTWARE_ITEM for node in changed):
        return None
    affected = nb.reach(changed, outgoing=False, limit=MAX_AFFECTED)
    loaded = nb.reach(affected, outgoing=True, limit=MAX_LOADED) if affected is not None else None
    if loaded is None:
        return None

    graph = nb.load(product, loaded)
    an = tg.analyse(graph)
    items = {node for node in affected if node[0] == tg.SOFTWARE_ITEM}
    if any(an.own_classes.get(item) != previous.own_classes.get(item) for item in items):
        return None  # the item tree may carry the change to every item
    if (
        any(node[0] == tg.REQUIREMENT for node in changed)
        and items_with_requirements(product) != previous.items_with_requirements
    ):
        return None
    redo = affected - items

    def replaced(owner, kind) -> bool:
        """Is this result of `owner` redone (else kept from `previous`)?"""
        if kind in SOUP_KINDS or kind in PLAN_KINDS or owner in redo:
            return True
        return owner in items and kind not in ITEM_TREE_KINDS

    policy = record_checks.policy_of(product)
    fresh_kinds: dict[tg.Node, list[str]] = defaultdict(list)
    fresh_gaps: dict[str, list[tg.Gap]] = defaultdict(list)
    part = [
        *tg.checks(graph, an.index, an.controls, an.mismatches),
        *record_checks.records(product, an),
        *record_checks.hazards(product, an, record_checks.regions_of(policy), partial=True),
    ]
    whole = [*record_checks.plan_and_policy(product, policy), *record_checks.soup(product)]
    for kind, owner, gap in part + whole:
        if replaced(owner, kind):
            fresh_kinds[owner].append(kind)
            if gap is not None:
                fresh_gaps[kind].append(gap)

    # The checks applied, record by record: the previous ones not redone, and the fresh ones.
    checked = previous.checked()
    touched = redo | items | set(fresh_kinds)
    touched |= {owner for owner in checked if owner[0] in (tg.SOFTWARE_ITEM, "product")}
    for owner in touched:
        kept = tuple(kind for kind in checked.get(owner, ()) if not replaced(owner, kind))
        mine = kept + tuple(fresh_kinds.get(owner, ()))
        if mine:
            checked[owner] = mine
        else:
            checked.pop(owner, None)
    totals: dict[str, int] = defaultdict(int)
    for kinds in checked.values():
        for kind in kinds:
            totals[kind] += 1

    def merged(kind: str) -> list[tg.Gap]:
        return _merge(previous.gaps_of(kind), fresh_gaps.get(kind, []), kind, replaced)

    graph_gaps = {kind: merged(kind) for kind in tg.GAP_KINDS}
    record_gaps = {kind: merged(kind) for kind in gate.RECORD_KINDS}
    gaps, coverage = gate.assemble(
        tg.coverage_rows(totals, {kind: len(found) for kind, found in graph_gaps.items()}),
        [gap for found in graph_gaps.values() for gap in found],
        totals,
        record_gaps,
        gate.registered_gaps(product),
    )
    unchanged = {  # `_merge` gave back the previous list itself: keep its bytes
        kind: previous.packed_gaps[kind]
        for kind, found in (*graph_gaps.items(), *record_gaps.items())
        if found and kind in previous.packed_gaps and found is previous.gaps_of(kind)
    }

    # Verification of the affected hazards and controls.
    fresh_states = verification.states_from_analysis(an)
    packed = pack(gaps, checked, reuse=unchanged)
    updated = replace(
        previous,
        controls=_patched(previous.controls, an.controls, redo),
        hazards=_patched(previous.hazards, an.hazards, redo),
        states=verification.VerificationStates(
            _patched(previous.states.hazards, fresh_states.hazards, redo, tg.HAZARD),
            _patched(previous.states.controls, fresh_states.controls, redo, tg.CONTROL),
        ),
        coverage=coverage,
        head=head,
        **packed,
    )
    unpacked = {**graph_gaps, **record_gaps}
    for gap in gaps:  # the registered checks' gaps
        if gap.kind not in graph_gaps and gap.kind not in record_gaps:
            unpacked.setdefault(gap.kind, []).append(gap)
    updated.keep_unpacked(unpacked, checked)
    return updated


def _patched(old: dict, fresh: dict, redo: set, kind: str | None = None) -> dict:
    """`old` with the entries of the records in `redo` replaced by `fresh`'s (keyed by node,
    or by pk for `kind`'s records)."""
    node = (lambda key: (kind, key)) if kind else (lambda key: key)
    result = {key: value for key, value in old.items() if node(key) not in redo}
    result.update((key, value) for key, value in fresh.items() if node(key) in redo)
    return result


def _merge(old: list[tg.Gap], fresh: list[tg.Gap], kind: str, replaced) -> list[tg.Gap]:
    """One kind's gaps: the previous ones not redone and the fresh ones, in the gate's order
    (by record; each record's own gaps in the order its checks gave them). Returns `old`
    itself when nothing changed."""
    if kind in SOUP_KINDS or kind in PLAN_KINDS:
        return list(fresh)
    merged = [gap for gap in old if not replaced(gap.node, kind)]
    if not fresh and len(merged) == len(old):
        return old
    for gap in fresh:  # after any equal key: a record's gaps stay in their order
        bisect.insort_right(merged, gap, key=_gap_key)
    return merged


def _gap_key(gap: tg.Gap) -> tuple:
    """The gate's order of a record's results within a kind (as `tg.TraceIndex` sorts)."""
    return tg.record_key(gap.node, gap.code)


def items_with_requirements(product) -> frozenset:
    """The software items some requirement of the product is allocated to (one query)."""
    from traceability.models import Requirement

    return frozenset(
        (tg.SOFTWARE_ITEM, pk)
        for pk in Requirement.objects.filter(product=product, software_item__isnull=False)
        .order_by()
        .values_list("software_item_id", flat=True)
        .distinct()
    )
