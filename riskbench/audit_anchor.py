"""Anchors: the head of the whole audit state, recorded where a database rewrite cannot reach
it unnoticed (21 CFR 11.10(e)).

The chains are keyless: someone who can write the database could cut the newest entries of a
chain and set its head row back — the shortened chain still verifies. An *anchor* closes that
gap. It lists, for every chain (one per product, the global one, the access log), its length
and head hash at one moment, and its `head` is the SHA-256 of that list:

    {"head": "9f2c…", "chains": {"access-log": [812, "…"], "global": [3, "…"],
                                 "product:1": [2040, "…"]}}

`verify_audit` prints the current anchor (keep its head hash outside the database: in a release
record, a ticket, a signed e-mail); every baseline and every dossier export stores the anchor of
its moment (a model field named `audit_anchor` — found by name, so `riskbench` imports no app).
An anchor holds when each chain it lists is still at least that long and its entry at that
position still has that hash: the chains verify entry by entry, so the whole prefix the anchor
covers is then unchanged. A chain cut below an anchored position, or rewritten, is a finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS

from riskbench.canonical import canonical_sha256
from riskbench.models import ACCESS_LOG_CHAIN, AuditChainHead

ANCHOR_FIELD = "audit_anchor"


class AnchorError(ValueError):
    """An anchor document that cannot be read (exit 2: could not run)."""


def head_hash(chains: dict) -> str:
    """SHA-256 of the canonical {chain: [length, head hash]} of every non-empty chain."""
    return canonical_sha256(
        {name: [seq, row_hash] for name, (seq, row_hash) in chains.items() if seq}
    )


def make_anchor(chains: dict) -> dict:
    listed = {name: [seq, row_hash] for name, (seq, row_hash) in sorted(chains.items()) if seq}
    return {"head": head_hash(listed), "chains": listed}


def current_anchor(using: str = DEFAULT_DB_ALIAS) -> dict:
    """The anchor of the chain heads as they stand (one query). Called inside the transaction
    that stores it: on PostgreSQL it sees committed heads only, each a valid prefix."""
    heads = AuditChainHead.objects.using(using).values_list("chain", "seq", "row_hash")
    return make_anchor({chain: (seq, row_hash) for chain, seq, row_hash in heads})


def parse_anchor(document) -> dict:
    """An anchor from a JSON document: an anchor itself, or a `verify_audit --format json`
    report (its "anchor" key). Refuses a document whose head does not match its chains."""
    if isinstance(document, dict) and isinstance(document.get("anchor"), dict):
        document = document["anchor"]
    try:
        chains = {str(k): (int(v[0]), str(v[1])) for k, v in document["chains"].items()}
        head = str(document["head"])
    except (TypeError, KeyError, ValueError, IndexError, AttributeError) as exc:
        raise AnchorError('An anchor is {"head": …, "chains": {chain: [length, hash]}}.') from exc
    if head_hash(chains) != head:
        raise AnchorError("The anchor's head hash does not match the chains it lists.")
    return {"head": head, "chains": chains}


def read_anchor_file(path: str) -> dict:
    try:
        return parse_anchor(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise AnchorError(f"Cannot read anchor file {path}: {exc}") from exc


@dataclass(frozen=True)
class StoredAnchor:
    """An anchor stored with a record: where it is (to name it in a finding) and what it says."""

    source: str  # e.g. "baselines.baseline 12 (Release 2.1)"
    anchor: dict


def _anchor_models():
    """Models with an anchor field; history models (simple-history's copies, which carry an
    `instance_type`) are left out: their rows repeat the record's anchor."""
    return [
        model
        for model in apps.get_models()
        if not hasattr(model, "instance_type")
        and any(f.name == ANCHOR_FIELD for f in model._meta.concrete_fields)
    ]


def stored_anchors(using: str = DEFAULT_DB_ALIAS) -> list[StoredAnchor]:
    """Every anchor stored with a baseline, a dossier export… (one query per model).

    Baselines taken before whole-state anchors carry their product chain's head only
    (`audit_chain_seq` / `audit_chain_hash`): that is an anchor of one chain."""
    found = []
    for model in _anchor_models():
        names = {f.name for f in model._meta.concrete_fields}
        legacy = {"audit_chain_seq", "audit_chain_hash", "product"} <= names
        columns = ["pk", ANCHOR_FIELD] + (
            ["product_id", "audit_chain_seq", "audit_chain_hash"] if legacy else []
        )
        for values in model._base_manager.using(using).order_by("pk").values_list(*columns):
            pk, anchor = values[0], values[1]
            source = f"{model._meta.label_lower} {pk}"
            if anchor:
                try:
                    found.append(StoredAnchor(source, parse_anchor(anchor)))
                except AnchorError as exc:
                    found.append(StoredAnchor(source, {"error": str(exc)}))
            elif legacy and values[3]:
                chain = {f"product:{values[2]}": (values[3], values[4])}
                found.append(StoredAnchor(source, make_anchor(chain)))
    return found


def wanted_positions(anchors: list[dict]) -> tuple[set, set]:
    """(chain, seq) pairs of the audit chains and seqs of the access log the anchors name."""
    chains, access = set(), set()
    for anchor in anchors:
        for name, (seq, _hash) in anchor.get("chains", {}).items():
            if name == ACCESS_LOG_CHAIN:
                access.add(seq)
            else:
                chains.add((name, seq))
    return chains, access


def check_anchor(anchor: dict, lengths: dict, at_seq: dict) -> list[str]:
    """Why the current chains do not extend `anchor` (empty when they do).

    `lengths`: chain → current verified length; `at_seq`: (chain, seq) → current row hash."""
    if "error" in anchor:
        return [anchor["error"]]
    problems = []
    for name, (seq, row_hash) in sorted(anchor["chains"].items()):
        length = lengths.get(name, 0)
        if length < seq:
            problems.append(
                f"chain {name} was anchored at entry #{seq} but now ends at #{length}: "
                f"{seq - length} newest entr{'y was' if seq - length == 1 else 'ies were'} removed"
            )
        elif at_seq.get((name, seq)) != row_hash:
            problems.append(
                f"chain {name} entry #{seq} no longer has the anchored hash {row_hash[:16]}…: "
                "the chain was rewritten"
            )
    return problems
