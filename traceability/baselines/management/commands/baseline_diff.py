"""`manage.py baseline_diff A B`: what changed between two baselines.

A and B are baseline ids, or `PRODUCT:NAME` (a baseline by product slug and name), or
`PRODUCT:now` (the product's current state). One line per changed field, added or removed
record; a summary line last.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from hazards.models import Product
from traceability.baselines import selectors
from traceability.baselines.models import Baseline


def _show(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return json.dumps(value, ensure_ascii=False)


class Command(BaseCommand):
    help = "Print the differences between two baselines (id, PRODUCT:NAME or PRODUCT:now)."

    def add_arguments(self, parser):
        parser.add_argument("a")
        parser.add_argument("b")

    def _resolve(self, ref: str) -> tuple[str, dict]:
        if ref.isdigit():
            baseline = Baseline.objects.filter(pk=int(ref)).first()
            if baseline is None:
                raise CommandError(f"No baseline with id {ref}.")
            return f"{baseline.name} ({baseline.content_sha256[:12]})", selectors.load(baseline)
        slug, sep, name = ref.partition(":")
        if not sep:
            raise CommandError(f"{ref!r}: give a baseline id, PRODUCT:NAME or PRODUCT:now.")
        product = Product.objects.filter(slug=slug).first()
        if product is None:
            raise CommandError(f"No product with slug {slug!r}.")
        if name == "now":
            return f"{slug} now", selectors.snapshot(product)
        baseline = Baseline.objects.filter(product=product, name=name).first()
        if baseline is None:
            raise CommandError(f"{slug} has no baseline {name!r}.")
        return f"{baseline.name} ({baseline.content_sha256[:12]})", selectors.load(baseline)

    def handle(self, *args, a, b, **options):
        label_a, data_a = self._resolve(a)
        label_b, data_b = self._resolve(b)
        changes = selectors.diff(data_a, data_b)
        self.stdout.write(f"--- {label_a}\n+++ {label_b}")
        for c in changes:
            where = f"{c.section} {c.key}"
            if c.kind == "changed":
                line = f"changed  {where} {c.field}: {_show(c.before)} → {_show(c.after)}"
            else:
                line = f"{c.kind:<8} {where}"
            self.stdout.write(line)
        added = sum(c.kind == "added" for c in changes)
        removed = sum(c.kind == "removed" for c in changes)
        changed = len({(c.section, c.key) for c in changes if c.kind == "changed"})
        self.stdout.write(
            f"{len(changes)} difference(s): {added} added, {removed} removed, "
            f"{changed} changed record(s)."
        )
