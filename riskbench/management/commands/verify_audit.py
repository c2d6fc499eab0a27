"""`manage.py verify_audit [--format text|json]`: prove the audit trail and the current state
(21 CFR 11.10(e)).

Checks, in one run:

* every audit chain (one per product, one global): hashes, sequence, links, heads, that every
  history row, signature and baseline is chained (`riskbench.audit.verify_chains`);
* the current state: every current regulated row equals its newest history row, has a history,
  and no history says a row exists that is gone; one version of a record names one content
  (`riskbench.audit_state`).

Exit 0 when everything holds; 1 with every finding named (table, record, field); 2 when it could
not run.
"""

from dataclasses import asdict

from riskbench.audit import verify_chains
from riskbench.audit_state import check_current_state
from riskbench.commands import Findings, RiskBenchCommand


def _state_json(finding) -> dict:
    document = asdict(finding)
    document["fields"] = [asdict(d) for d in finding.fields]
    return document


class Command(RiskBenchCommand):
    help = (
        "Verify the hash-chained audit trail and that every current regulated row equals its "
        "newest history row; exit 1 naming each finding."
    )
    reports = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        result = verify_chains(using=database)
        state = check_current_state(using=database)
        ok = result.ok and not state
        if options["format"] == "json":
            self.json(
                {
                    "ok": ok,
                    "entries": result.entries,
                    "chains": [
                        {"chain": chain, "seq": seq, "head": head}
                        for chain, (seq, head) in sorted(result.chains.items())
                    ],
                    "problems": [asdict(problem) for problem in result.problems],
                    "problem_count": result.problem_count,
                    "unchained": [
                        {"source": source, "model": label, "row_id": pk}
                        for source, label, pk in result.unchained
                    ],
                    "state": [_state_json(finding) for finding in state],
                }
            )
        else:
            for chain, (seq, head) in sorted(result.chains.items()):
                self.stdout.write(f"chain {chain}: {seq} entries, head {head}")
            for problem in result.problems:
                self.stdout.write(f"BROKEN {problem}")
            for source, label, pk in result.unchained:
                self.stdout.write(f"UNCHAINED {label} {source} row {pk}: not in any audit chain")
            for finding in state:
                self.stdout.write(f"STATE {finding}")
        if not ok:
            raise Findings(
                f"Audit trail verification FAILED: {len(result.problems)} broken chain(s) "
                f"({result.problem_count} bad entries), {len(result.unchained)} unchained row(s), "
                f"{len(state)} current-state finding(s)."
            )
        if options["format"] == "text":
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit trail intact: {result.entries} entries in {len(result.chains)} "
                    "chain(s); every current row equals its newest history row."
                )
            )
