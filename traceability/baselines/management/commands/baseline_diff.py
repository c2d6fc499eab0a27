"""`manage.py baseline_diff A B [--format text|json]`: what changed between two baselines.

A and B are baseline ids, or `PRODUCT:NAME` (a baseline by product id or slug and name), or
`PRODUCT:now` (the product's current state). One line per changed field, added or removed
record; a summary line last. Differences are the answer, not findings: exit 0 (2 when a
reference cannot be resolved).
"""

import json

from riskbench.commands import CannotRun, RiskBenchCommand, resolve_product
from traceability.baselines import selectors
from traceability.baselines.models import Baseline


def _show(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return json.dumps(value, ensure_ascii=False)


class Command(RiskBenchCommand):
    help = "Print the differences between two baselines (id, PRODUCT:NAME or PRODUCT:now)."
    reports = True

    def add_arguments(self, parser):
        parser.add_argument("a", help="Baseline id, PRODUCT:NAME or PRODUCT:now.")
        parser.add_argument("b", help="Baseline id, PRODUCT:NAME or PRODUCT:now.")
        super().add_arguments(parser)

    def _resolve(self, ref: str) -> tuple[str, dict]:
        if ref.isascii() and ref.isdigit():
            baseline = Baseline.objects.filter(pk=int(ref)).first()
            if baseline is None:
                raise CannotRun(f"No baseline with id {ref}.")
            return f"{baseline.name} ({baseline.content_sha256[:12]})", selectors.load(baseline)
        product_ref, sep, name = ref.partition(":")
        if not sep:
            raise CannotRun(f"{ref!r}: give a baseline id, PRODUCT:NAME or PRODUCT:now.")
        product = resolve_product(product_ref)
        if name == "now":
            return f"{product.slug} now", selectors.snapshot(product)
        baseline = Baseline.objects.filter(product=product, name=name).first()
        if baseline is None:
            raise CannotRun(f"{product.slug} has no baseline {name!r}.")
        return f"{baseline.name} ({baseline.content_sha256[:12]})", selectors.load(baseline)

    def handle(self, *args, a, b, **options):
        label_a, data_a = self._resolve(a)
        label_b, data_b = self._resolve(b)
        changes = selectors.diff(data_a, data_b)
        added = sum(c.kind == "added" for c in changes)
        removed = sum(c.kind == "removed" for c in changes)
        changed = len({(c.section, c.key) for c in changes if c.kind == "changed"})
        if options["format"] == "json":
            self.json(
                {
                    "a": label_a,
                    "b": label_b,
                    "added": added,
                    "removed": removed,
                    "changed_records": changed,
                    "changes": [
                        {
                            "kind": c.kind,
                            "section": c.section,
                            "key": c.key,
                            "field": c.field,
                            "before": c.before,
                            "after": c.after,
                        }
                        for c in changes
                    ],
                }
            )
            return
        self.stdout.write(f"--- {label_a}\n+++ {label_b}")
        for c in changes:
            where = f"{c.section} {c.key}"
            if c.kind == "changed":
                line = f"changed  {where} {c.field}: {_show(c.before)} → {_show(c.after)}"
            else:
                line = f"{c.kind:<8} {where}"
            self.stdout.write(line)
        self.stdout.write(
            f"{len(changes)} difference(s): {added} added, {removed} removed, "
            f"{changed} changed record(s)."
        )
