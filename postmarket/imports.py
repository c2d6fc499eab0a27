"""The vulnerability check from the upload page, run as a background task (django-tasks, as
dossier exports: DESIGN.md §6) with its progress polled by the page.

`import_request` stores the uploaded feed (size-checked, hashed) and records who asked;
`import_run` — the task — reads it as hostile input (`feeds`), matches and records
(`vulncheck`), exactly as `manage.py vulncheck` does.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from hazards.models import Product
from postmarket import feeds, vulncheck
from postmarket.models import ImportStatus, VulnerabilityImport

logger = logging.getLogger(__name__)


def _read(upload, field: str) -> bytes:
    limit = settings.RISKBENCH_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError({field: f"The file is larger than the {limit // 2**20} MB limit."})
    upload.seek(0)
    data = upload.read(limit + 1)
    if not data:
        raise ValidationError({field: "The file is empty."})
    if len(data) > limit:
        raise ValidationError({field: f"The file is larger than the {limit // 2**20} MB limit."})
    head = data[:4]
    if not (head in (b"PK\x03\x04", b"PK\x05\x06") or data.lstrip()[:1] in (b"{", b"[")):
        raise ValidationError({field: "Not a JSON document or a ZIP archive."})
    return data


def _save(record: VulnerabilityImport, *, by, reason: str) -> VulnerabilityImport:
    record._history_user = by
    record._change_reason = reason[:100]
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def import_request(*, product: Product, by, feed, kev=None) -> VulnerabilityImport:
    """Store the uploaded feed and record the request (queued)."""
    data = _read(feed, "feed")
    kev_data = _read(kev, "kev") if kev is not None else None
    if kev_data is not None:
        try:
            feeds.read_kev(kev_data)
        except feeds.FeedError as exc:
            raise ValidationError({"kev": str(exc)}) from exc
    name = get_valid_filename(feed.name.rsplit("/", 1)[-1])[:200] or "feed"
    record = VulnerabilityImport(
        product=product,
        created_by=by,
        feed_name=name,
        feed_sha256=hashlib.sha256(data).hexdigest(),
    )
    record.feed.save(name, ContentFile(data), save=False)
    if kev_data is not None:
        record.kev.save("kev.json", ContentFile(kev_data), save=False)
    return _save(record, by=by, reason=f"Vulnerability feed {name} uploaded")


class _Progress:
    """Progress on the row at most every 2 % (transient: no history row)."""

    def __init__(self, record: VulnerabilityImport, total: int):
        self.record = record
        self.total = max(total, 1)
        self.last = -1

    def __call__(self, done: int) -> None:
        percent = min(95, int(95 * done / self.total))
        if percent - self.last < 2:
            return
        self.last = percent
        self.record.progress = percent
        self.record.stage = f"Matching advisories: {done} of {self.total}"
        self.record.save_without_historical_record(update_fields=["progress", "stage"])


def _member_count(data: bytes) -> int:
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return sum(1 for n in archive.namelist() if n.lower().endswith(".json"))
        except zipfile.BadZipFile:
            return 1
    return 1


def import_run(import_id: int) -> VulnerabilityImport:
    """Run a requested check: read, match, record; the result summary goes on the row. A
    refused feed marks the run failed with the reason (nothing recorded)."""
    record = VulnerabilityImport.objects.select_related("product", "created_by").get(pk=import_id)
    by = record.created_by
    record.status = ImportStatus.RUNNING
    record.stage = "Reading the feed"
    _save(record, by=by, reason="Vulnerability check started")
    try:
        with record.feed.open("rb") as handle:
            data = handle.read()
        kev = None
        if record.kev:
            with record.kev.open("rb") as handle:
                kev = feeds.read_kev(handle.read())
        index, unmatchable = vulncheck.index_soup(record.product)
        result = vulncheck.scan(
            feeds.read_feed_bytes(data, record.feed_name),
            index,
            progress=_Progress(record, _member_count(data)),
        )
        record.stage = "Recording matches"
        record.save_without_historical_record(update_fields=["stage"])
        applied = vulncheck.apply(
            record.product, result, by=by, kev=kev, source=f"Upload {record.feed_name}"
        )
    except (feeds.FeedError, OSError) as exc:
        return _failed(record, by, str(exc), "Vulnerability feed refused")
    except Exception as exc:
        logger.exception("Vulnerability check %s failed", import_id)
        _failed(record, by, f"{type(exc).__name__}: {exc}", "Vulnerability check failed")
        raise
    record.status = ImportStatus.DONE
    record.progress = 100
    record.stage = "Done"
    record.finished_at = timezone.now()
    record.summary = {
        "advisories": result.advisories,
        "matched_by_package": result.parsed,
        "created": [v.code for v in applied.created],
        "updated": [v.code for v in applied.updated],
        "fixed": [v.code for v in applied.fixed],
        "withdrawn": [v.code for v in applied.withdrawn],
        "unchanged": applied.unchanged,
        "unreadable": [f"{w}: {e}" for w, e in result.unreadable[:20]],
        "unreadable_count": len(result.unreadable),
        "soup_without_purl": unmatchable,
    }
    return _save(record, by=by, reason=f"Vulnerability check done: {len(applied.created)} new")


def _failed(record: VulnerabilityImport, by, error: str, reason: str) -> VulnerabilityImport:
    record.status = ImportStatus.FAILED
    record.error = error[:2000]
    record.finished_at = timezone.now()
    record.stage = "Failed"
    return _save(record, by=by, reason=reason)
