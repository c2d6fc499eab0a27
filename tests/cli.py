"""Run a management command as a release script would see it: exit code, stdout, stderr."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.management import call_command
from django.core.management.base import CommandError


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_command(*args, **options) -> Result:
    """`call_command` with the exit-code rule of riskbench.commands: a CommandError's
    `returncode` is the exit status and its message goes to stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        err.write(str(exc))
        return Result(exc.returncode, out.getvalue(), err.getvalue())
    return Result(0, out.getvalue(), err.getvalue())
