"""`manage.py verify_audit [--format text|json]`: recompute the audit chains (21 CFR 11.10(e)).

Exit 0 and one line per chain (its length and head hash, worth recording outside the database)
when every chain is intact; otherwise name the first broken entry of each broken chain and every
row that is missing from the chains, and exit 1 (findings: tamper). Exit 2 when it could not run.
"""

from dataclasses import asdict

from riskbench.audit import verify_chains
from riskbench.commands import Findings, RiskBenchCommand


class Command(RiskBenchCommand):
    help = "Verify the hash-chained audit trail; exit 1 naming the first broken row of each chain."
    reports = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        result = verify_chains(using=database)
        if options["format"] == "json":
            self.json(
                {
                    "ok": result.ok,
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
                }
            )
        else:
            for chain, (seq, head) in sorted(result.chains.items()):
                self.stdout.write(f"chain {chain}: {seq} entries, head {head}")
            for problem in result.problems:
                self.stdout.write(f"BROKEN {problem}")
            for source, label, pk in result.unchained:
                self.stdout.write(f"UNCHAINED {label} {source} row {pk}: not in any audit chain")
        if not result.ok:
            raise Findings(
                f"Audit trail verification FAILED: {len(result.problems)} broken chain(s) "
                f"({result.problem_count} bad entries), {len(result.unchained)} unchained row(s)."
            )
        if options["format"] == "text":
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit trail intact: {result.entries} entries in {len(result.chains)} "
                    "chain(s)."
                )
            )
