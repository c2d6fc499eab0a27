"""`manage.py baseline PRODUCT --name NAME`: freeze a product's risk file; the SHA-256 is the
last line of the output (so a release script can capture it with `tail -1`)."""

import getpass
import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hazards.models import Product
from riskbench.signatures import SignatureRefused
from traceability.baselines import selectors, services


class Command(BaseCommand):
    help = "Take a baseline of a product's risk file and print its SHA-256 on the last line."

    def add_arguments(self, parser):
        parser.add_argument("product", help="Product slug.")
        parser.add_argument("--name", required=True, help='E.g. "Release 2.1 submission".')
        parser.add_argument("--note", default="")
        parser.add_argument(
            "--user",
            help="Sign the baseline as this user (asks for the password; 21 CFR 11.200). "
            "Without it the baseline is taken unsigned and can be signed on its page.",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the signing password from standard input instead of prompting.",
        )

    def handle(self, *args, product, name, note, user, password_stdin, **options):
        try:
            product = Product.objects.get(slug=product)
        except Product.DoesNotExist:
            raise CommandError(f"No product with slug {product!r}.") from None
        signer, password = None, ""
        if user:
            User = get_user_model()
            try:
                signer = User.objects.get(**{User.USERNAME_FIELD: user})
            except User.DoesNotExist:
                raise CommandError(f"No user {user!r}.") from None
            if password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            else:
                password = getpass.getpass(f"Password of {user} (to sign): ")
        try:
            baseline = services.baseline_create(
                product=product,
                name=name,
                note=note,
                by=signer,
                sign=signer is not None,
                username=user or "",
                password=password,
            )
        except (SignatureRefused, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("No baseline taken: " + " ".join(messages)) from None
        counts = ", ".join(
            f"{n} {label.lower()}" for label, n in selectors.summary(selectors.load(baseline))
        )
        signed = f"signed by {signer.get_username()}" if signer else "UNSIGNED"
        self.stdout.write(f"Baseline “{baseline.name}” of {product} taken ({signed}): {counts}.")
        self.stdout.write(baseline.content_sha256)
