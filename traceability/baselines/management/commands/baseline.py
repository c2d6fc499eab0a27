"""`manage.py baseline PRODUCT --name NAME --user USER [--sign]`: freeze a product's risk file;
the SHA-256 is the last line of the output (so a release script can capture it with `tail -1`).

`--user` is the author recorded with the baseline. With `--sign` the baseline is also signed
by that user, who types the password again (21 CFR 11.200) or gives it on stdin; without it the
baseline is taken unsigned and can be signed on its page.
"""

import getpass
import sys

from django.core.exceptions import ValidationError

from riskbench.commands import CannotRun, RiskBenchCommand
from riskbench.signatures import SignatureRefused
from traceability.baselines import selectors, services


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
            "--password-stdin",
            action="store_true",
            help="With --sign: read the signing password from standard input, not a prompt.",
        )

    def handle(self, *args, product, user, name, note, sign, password_stdin, **options):
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
                sign=sign,
                username=user.get_username() if sign else "",
                password=password,
            )
        except (SignatureRefused, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CannotRun("No baseline taken: " + " ".join(messages)) from None
        counts = ", ".join(
            f"{n} {label.lower()}" for label, n in selectors.summary(selectors.load(baseline))
        )
        signed = f"signed by {user.get_username()}" if sign else "UNSIGNED"
        self.stdout.write(
            f"Baseline “{baseline.name}” of {product} taken by {user.get_username()} "
            f"({signed}): {counts}."
        )
        self.stdout.write(baseline.content_sha256)
