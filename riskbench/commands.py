"""One base for every RiskBench management command (DESIGN.md §9).

Release scripts and CI jobs drive RiskBench from the command line, so its commands behave alike:

* ``PRODUCT`` is a product's id or its slug, resolved in one place with one message;
* a command that writes takes ``--user USERNAME`` (default ``$RISKBENCH_USER``) and refuses to
  run without an active user: every change has an author (21 CFR 11.10(e));
* a command that reports findings takes ``--format text|json``;
* exit status: **0** done / nothing found, **1** findings (gaps, tamper, vulnerabilities),
  **2** the command could not run (bad arguments, missing product or user, unreadable file) —
  with the message on stderr.

``riskbench`` is the ground layer: it knows the product model only by its label, never by import.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

PRODUCT_MODEL = "hazards.Product"

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_CANNOT_RUN = 2


class CannotRun(CommandError):
    """The command could not do its work: exit status 2."""

    def __init__(self, message: str):
        super().__init__(message, returncode=EXIT_CANNOT_RUN)


class Findings(CommandError):
    """The command ran and found something (gaps, tamper, vulnerabilities): exit status 1."""

    def __init__(self, message: str):
        super().__init__(message, returncode=EXIT_FINDINGS)


class _Parser(CommandParser):
    """A usage error is "could not run" (exit 2) from the shell and from `call_command` alike;
    Django's own parser raises a plain CommandError (exit 1) when called from code."""

    def error(self, message):
        if self.called_from_command_line:
            super().error(message)  # argparse prints the usage and exits 2
        raise CannotRun(f"Error: {message}")


def resolve_product(ref):
    """A product by slug, or by primary key when `ref` is a number and no slug matches."""
    Product = apps.get_model(PRODUCT_MODEL)
    ref = str(ref).strip()
    product = Product.objects.filter(slug=ref).first()
    if product is None and ref.isascii() and ref.isdigit():
        product = Product.objects.filter(pk=int(ref)).first()
    if product is None:
        raise CannotRun(f"No product with id or slug {ref!r}.")
    return product


def resolve_user(username: str | None):
    """The acting user: named, existing and active — or the command does not run."""
    if not username:
        raise CannotRun(
            "Say who makes this change: --user USERNAME (or set RISKBENCH_USER); the audit "
            "trail records an author for every change (21 CFR 11.10(e))."
        )
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    if user is None:
        raise CannotRun(f"No user {username!r}.")
    if not user.is_active:
        raise CannotRun(f"User {username!r} is inactive.")
    return user


class RiskBenchCommand(BaseCommand):
    """Subclasses set what they take and implement `handle(*args, **options)` as usual.

    * ``takes_product``: a positional PRODUCT; `handle` receives ``product`` as a Product.
    * ``writes``: ``--user``; `handle` receives ``user`` as an active User. Override
      `needs_user(options)` when only some runs write (e.g. ``--no-record``).
    * ``reports``: ``--format text|json``; use `self.json(...)` for the JSON document and raise
      `Findings` (exit 1) after writing the report when something was found.
    """

    takes_product = False
    writes = False
    reports = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = _Parser
        return parser

    def add_arguments(self, parser):
        if self.takes_product:
            parser.add_argument("product", help="The product's id or slug.")
        if self.writes:
            parser.add_argument(
                "--user",
                default=os.environ.get("RISKBENCH_USER"),
                help="The user recorded as the author of the change (default: $RISKBENCH_USER). "
                "Required: every change has an author (21 CFR 11.10(e)).",
            )
        if self.reports:
            parser.add_argument(
                "--format",
                choices=("text", "json"),
                default="text",
                help="Report as readable text (default) or as one JSON document.",
            )

    def needs_user(self, options) -> bool:
        return self.writes

    def execute(self, *args, **options):
        if self.takes_product:
            options["product"] = resolve_product(options["product"])
        if self.writes:
            username = options.get("user")
            wanted = self.needs_user(options) or username
            options["user"] = resolve_user(username) if wanted else None
        return super().execute(*args, **options)

    def json(self, document) -> None:
        """Write one JSON document on stdout (stable key order, UTF-8 kept readable)."""
        self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))

    def run_from_argv(self, argv):
        """As Django's, but the message alone on stderr (no class name), and an unexpected
        failure is "could not run" (2), never confused with findings (1)."""
        self._called_from_command_line = True
        parser = self.create_parser(argv[0], argv[1])
        options = parser.parse_args(argv[2:])
        cmd_options = vars(options)
        args = cmd_options.pop("args", ())
        try:
            self.execute(*args, **cmd_options)
        except CommandError as exc:
            if options.traceback:
                raise
            self.stderr.write(str(exc))
            sys.exit(exc.returncode)
        except Exception as exc:
            if options.traceback:
                raise
            self.stderr.write("".join(traceback.format_exception(exc)))
            self.stderr.write(f"Could not run: {exc}")
            sys.exit(EXIT_CANNOT_RUN)
        finally:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: S110 — as Django: closing must not mask the real error
                pass
