"""`manage.py baseline PRODUCT --name NAME --user USER [--sign] [--release]`: freeze a product's
risk file; the SHA-256 is the last line of the output (so a release script can capture it with
`tail -1`).

`--release` takes a release baseline: refused while the release gate finds any gap, with exit
status 1 and the list of what blocks it (each gap with its record and clause), like `riskcheck`.

`--user` is the author recorded with the baseline. With `--sign` the baseline is also signed
by that user, who types the password again (21 CFR 11.200) or gives it on stdin; without it the
baseline is taken unsigned and can be signed on its page.
"""

import getpass
import sys

from django.core.exceptions import ValidationError

from riskbench.commands import CannotRun, Findings, RiskBenchCommand
from riskbench.signatures import SignatureRefused
from traceability import gate
from traceability.baselines import selectors, services
from traceability.baselines.models import BaselineKind


class Command(RiskBenchCommand):
    help = "Take a baseline of a product's risk file and print its SHA-256 on the last line."
    takes_product = True
    writes = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--name", required=True, help='E.g. "Release 2.1 submission".')
        parser.add_argument("--note", default="")
        parser.add_argument(
            "--sign",
            action="store_true",
            help="Sign the baseline as --user (asks for the password; 21 CFR 11.200).",
        )
        parser.add_argument(
            "--release",
            action="store_true",
            help="A release baseline: only when the release gate passes (no gap, every record "
            "approved); otherwise exit 1 listing what blocks it.",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="With --sign: read the signing password from standard input, not a prompt.",
        )

    def handle(self, *args, product, user, name, note, sign, password_stdin, release, **options):
        kind = BaselineKind.RELEASE if release else BaselineKind.WORKING
        if release:
            self.refuse_unless_releasable(product)
        password = ""
        if sign:
            if password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            else:
                password = getpass.getpass(f"Password of {user.get_username()} (to sign): ")
        try:
            baseline = services.baseline_create(
                product=product,
                name=name,
                note=note,
                by=user,
                kind=kind,
                sign=sign,
                username=user.get_username() if sign else "",
                password=password,
            )
        except services.ReleaseRefused as exc:
            self.refuse_unless_releasable(product, exc.gaps)
        except (SignatureRefused, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CannotRun("No baseline taken: " + " ".join(messages)) from None
        counts = ", ".join(
            f"{n} {label.lower()}" for label, n in selectors.summary(selectors.load(baseline))
        )
        signed = f"signed by {user.get_username()}" if sign else "UNSIGNED"
        self.stdout.write(
            f"{baseline.get_kind_display()} “{baseline.name}” of {product} taken by "
            f"{user.get_username()} ({signed}): {counts}."
        )
        self.stdout.write(baseline.content_sha256)

    def refuse_unless_releasable(self, product, gaps=None) -> None:
        """Exit 1 with the gaps that block a release baseline (nothing is frozen)."""
        gaps = services.release_blockers(product) if gaps is None else gaps
        if not gaps:
            return
        self.stdout.write(f"No release baseline of {product}: {len(gaps)} gap(s) block it.")
        for gap in gaps:
            self.stdout.write(f"  - {gap.message} ({gate.clause(gap.kind)})")
        raise Findings(f"Release refused: {len(gaps)} gap(s) in the risk file of {product.slug}.")
