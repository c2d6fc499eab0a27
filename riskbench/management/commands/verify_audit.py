"""`manage.py verify_audit [--format text|json] [--expect HASH] [--anchor FILE] [--no-anchors]`:
prove the audit trail and the current state (21 CFR 11.10(e), 11.10(d)).

Checks, in one run:

* every audit chain (one per product, one global): hashes, sequence, links, heads, that every
  history row, signature and baseline is chained (`riskbench.audit.verify_chains`);
* the access log's chain (`riskbench.accesslog.verify_access_log`): an edited or removed entry
  is named by its id;
* the current state: every current regulated row equals its newest history row, has a history,
  and no history says a row exists that is gone; one version of a record names one content
  (`riskbench.audit_state`);
* anchors (`riskbench.audit_anchor`): the chains still extend every anchor stored with a
  baseline or a dossier export (unless `--no-anchors`), the anchor in `--anchor FILE`, and the
  head hash given with `--expect` — so cutting off the newest entries is detected.

Prints the head hash of the whole audit state: keep it outside the database and pass it back
with `--expect` later. Exit 0 when everything holds; 1 with every finding named (table, record,
field; chain and entry); 2 when it could not run.
"""

from dataclasses import asdict, dataclass

from django.apps import apps
from simple_history.utils import get_history_model_for_model

from riskbench.accesslog import verify_access_log
from riskbench.audit import verify_chains
from riskbench.audit_anchor import (
    AnchorError,
    check_anchor,
    make_anchor,
    read_anchor_file,
    stored_anchors,
    wanted_positions,
)
from riskbench.audit_state import check_current_state
from riskbench.commands import CannotRun, Findings, RiskBenchCommand
from riskbench.models import ACCESS_LOG_CHAIN, AccessLogEntry, AuditChainEntry


@dataclass(frozen=True)
class Finding:
    """One finding in the report, whatever check made it."""

    kind: str  # chain | unchained | access_log | mismatch | no_history | … | anchor
    table: str
    record_id: object
    code: str
    fields: list
    message: str


def _chained_table(model_label: str) -> str:
    """The table whose row a chain entry of `model_label` references (its history table for a
    model with a history)."""
    if not model_label:
        return AuditChainEntry._meta.db_table
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return model_label
    if "simple_history_manager_attribute" in vars(model._meta):
        return get_history_model_for_model(model)._meta.db_table
    return model._meta.db_table


def _findings(chains, access, state, anchor_problems) -> list[Finding]:
    found = []
    for problem in chains.problems:
        found.append(
            Finding(
                "chain",
                _chained_table(problem.model_label),
                problem.row_id,
                problem.object_repr,
                [],
                f"chain {problem.chain} entry #{problem.seq}: {problem.message}",
            )
        )
    for source, label, pk in chains.unchained:
        found.append(
            Finding(
                "unchained",
                _chained_table(label),
                pk,
                "",
                [],
                f"{label} {source} row is not in any audit chain",
            )
        )
    for entry_id, message in access.problems:
        found.append(
            Finding("access_log", AccessLogEntry._meta.db_table, entry_id, "", [], message)
        )
    for f in state:
        found.append(
            Finding(f.kind, f.table, f.record_id, f.code, [asdict(d) for d in f.fields], f.message)
        )
    for source, message in anchor_problems:
        found.append(Finding("anchor", source, None, "", [], message))
    return found


class Command(RiskBenchCommand):
    help = (
        "Verify the hash-chained audit trail, the access log, that every current regulated row "
        "equals its newest history row, and the stored anchors; print the audit head hash; "
        "exit 1 naming each finding."
    )
    reports = True
    # Read-only: Django's system checks (every URLconf and view imported) belong to
    # `manage.py check`, not to each verification run.
    requires_system_checks = []

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--expect",
            metavar="HASH",
            help="Head hash printed by an earlier run (or stored with a baseline or dossier): "
            "fail unless the current chains match or extend it.",
        )
        parser.add_argument(
            "--anchor",
            metavar="FILE",
            help="JSON anchor (the 'anchor' of `verify_audit --format json`): fail unless the "
            "current chains extend it.",
        )
        parser.add_argument(
            "--anchors",
            action="store_true",
            default=True,
            help="Check the anchors stored with every baseline and dossier export (default).",
        )
        parser.add_argument(
            "--no-anchors",
            dest="anchors",
            action="store_false",
            help="Do not check the stored anchors.",
        )

    def handle(self, *args, database, expect, anchor, anchors, **options):
        external = []
        try:
            if anchor:
                external.append((f"anchor file {anchor}", read_anchor_file(anchor)))
        except AnchorError as exc:
            raise CannotRun(str(exc)) from exc
        stored = stored_anchors(database) if anchors or expect else []
        checked = [(s.source, s.anchor) for s in stored] if anchors else []
        if expect:
            expect = expect.strip().lower()
            known = [s for s in stored if s.anchor.get("head") == expect]
            checked += [(f"expected head {expect[:16]}… ({s.source})", s.anchor) for s in known]
        checked += external
        chain_wanted, access_wanted = wanted_positions([a for _, a in checked])

        chains = verify_chains(using=database, positions=chain_wanted)
        access = verify_access_log(using=database, wanted=access_wanted)
        state = check_current_state(using=database)

        lengths = {name: seq for name, (seq, _h) in chains.chains.items()}
        lengths[ACCESS_LOG_CHAIN] = access.seq
        at_seq = dict(chains.at_seq)
        at_seq.update({(ACCESS_LOG_CHAIN, seq): h for seq, h in access.at_seq.items()})
        heads = dict(chains.chains)
        heads[ACCESS_LOG_CHAIN] = (access.seq, access.head)
        current = make_anchor(heads)

        anchor_problems = []
        for source, document in checked:
            anchor_problems += [(source, p) for p in check_anchor(document, lengths, at_seq)]
        if (
            expect
            and expect != current["head"]
            and not any(s.anchor.get("head") == expect for s in stored)
        ):
            anchor_problems.append(
                (
                    "expected head",
                    f"the current head is {current['head']}, not {expect}, and no stored anchor "
                    "has that head: the chains cannot be shown to extend it (pass the anchor "
                    "document with --anchor)",
                )
            )
        findings = _findings(chains, access, state, anchor_problems)

        if options["format"] == "json":
            self.json(
                {
                    "ok": not findings,
                    "head": current["head"],
                    "anchor": current,
                    "entries": chains.entries,
                    "access_log_entries": access.entries,
                    "chains": [
                        {"chain": chain, "seq": seq, "head": head}
                        for chain, (seq, head) in sorted(heads.items())
                    ],
                    "anchors_checked": len(checked),
                    "findings": [asdict(f) for f in findings],
                    "problems": [asdict(problem) for problem in chains.problems],
                    "problem_count": chains.problem_count,
                    "unchained": [
                        {"source": source, "model": label, "row_id": pk}
                        for source, label, pk in chains.unchained
                    ],
                    "state": [
                        {**asdict(f), "fields": [asdict(d) for d in f.fields]} for f in state
                    ],
                }
            )
        else:
            for chain, (seq, head) in sorted(heads.items()):
                self.stdout.write(f"chain {chain}: {seq} entries, head {head}")
            for problem in chains.problems:
                self.stdout.write(f"BROKEN {problem}")
            for source, label, pk in chains.unchained:
                self.stdout.write(f"UNCHAINED {label} {source} row {pk}: not in any audit chain")
            for entry_id, message in access.problems:
                self.stdout.write(f"ACCESS-LOG entry {entry_id}: {message}")
            for finding in state:
                self.stdout.write(f"STATE {finding}")
            for source, message in anchor_problems:
                self.stdout.write(f"ANCHOR {source}: {message}")
            self.stdout.write(f"audit head: {current['head']}")
        if findings:
            raise Findings(
                f"Audit trail verification FAILED: {len(findings)} finding(s) — "
                f"{len(chains.problems)} broken chain(s), {len(chains.unchained)} unchained "
                f"row(s), {len(access.problems)} access-log break(s), {len(state)} "
                f"current-state finding(s), {len(anchor_problems)} anchor finding(s)."
            )
        if options["format"] == "text":
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit trail intact: {chains.entries} entries in {len(chains.chains)} "
                    f"chain(s), {access.entries} access-log entries; every current row equals "
                    f"its newest history row; {len(checked)} anchor(s) hold."
                )
            )
