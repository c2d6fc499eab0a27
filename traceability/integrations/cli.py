"""What the integration management commands share: find the product and the acting user, read
a file through the same size checks as an upload, and turn every refusal into a CommandError
(a clear message and a non-zero exit status)."""

from __future__ import annotations

import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from hazards.models import Product
from traceability.integrations.uploads import UploadError, read_path


def find_product(value: str) -> Product:
    """PRODUCT is an id or a slug."""
    product = Product.objects.select_related("risk_policy").filter(slug=value).first()
    if product is None and value.isdigit():
        product = Product.objects.select_related("risk_policy").filter(pk=int(value)).first()
    if product is None:
        raise CommandError(f"No product with id or slug {value!r}.")
    return product


class IntegrationCommand(BaseCommand):
    """Base for the import/export commands."""

    def add_user_argument(self, parser) -> None:
        parser.add_argument(
            "--user",
            default=os.environ.get("RISKBENCH_USER"),
            help="User name recorded as the author of the change in the audit trail "
            "(default: $RISKBENCH_USER). Required: every change has an author (21 CFR 11.10(e)).",
        )

    def acting_user(self, options):
        name = options.get("user")
        if not name:
            raise CommandError(
                "Say who makes this change: --user USERNAME (or set RISKBENCH_USER); the audit "
                "trail records an author for every change (21 CFR 11.10(e))."
            )
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {name!r}.")
        return user

    def read(self, path: str) -> bytes:
        try:
            return read_path(path)
        except UploadError as exc:
            raise CommandError(f"{path}: {exc}") from exc

    def write(self, path: str, data: bytes) -> None:
        try:
            Path(path).write_bytes(data)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
        self.stdout.write(f"Wrote {path} ({len(data)} bytes).")

    def fail(self, path: str, exc: UploadError):
        raise CommandError(f"{path}: {exc}") from exc
