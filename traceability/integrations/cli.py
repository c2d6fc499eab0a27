"""What the integration management commands share beyond the common command base: read a file
through the same size checks as an upload, write one, and turn every refusal of a file into
"could not run" (exit 2, message on stderr)."""

from __future__ import annotations

from pathlib import Path

from riskbench.commands import CannotRun, RiskBenchCommand
from traceability.integrations.uploads import UploadError, read_path


class IntegrationCommand(RiskBenchCommand):
    """Base for the import/export commands: every one takes a PRODUCT (id or slug)."""

    takes_product = True
    # Django's system checks import every URLconf, view and the API schema (≈1 s of CPU) before
    # an import or export starts; a CI job runs `manage.py check` on its own. Profiled in
    # issue 13 §3: a third of a JUnit import's whole-command time.
    requires_system_checks = []

    def read(self, path: str) -> bytes:
        try:
            return read_path(path)
        except UploadError as exc:
            raise CannotRun(f"{path}: {exc}") from exc

    def write(self, path: str, data: bytes) -> None:
        try:
            Path(path).write_bytes(data)
        except OSError as exc:
            raise CannotRun(f"Cannot write {path}: {exc.strerror or exc}.") from exc
        self.stdout.write(f"Wrote {path} ({len(data)} bytes).")

    def fail(self, path: str, exc: Exception):
        raise CannotRun(f"{path}: {exc}") from exc
