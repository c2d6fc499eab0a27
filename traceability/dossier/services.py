"""Generating, storing and recording dossiers (ISO 14971 4.5; 21 CFR 11.10(e) and (b): accurate
and complete copies of records in human-readable form).

`export_request` records who asked for a dossier (a queued DossierExport) and writes the access
log; `export_generate` does the work — gather, render, hash, store through Django's storage API —
and is what the background task and the `export_dossier` command both run.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from hazards.models import Product
from riskbench.accesslog import record_access
from riskbench.audit_anchor import current_anchor
from riskbench.models import AccessAction
from traceability.dossier import selectors
from traceability.dossier.data import DossierData
from traceability.dossier.models import DossierExport, ExportStatus
from traceability.dossier.renderer import DossierRenderer

logger = logging.getLogger(__name__)


class Rendered:
    """The bytes of one dossier with what the export record keeps about them."""

    def __init__(self, data: DossierData, pdf: bytes, page_count: int):
        self.data = data
        self.pdf = pdf
        self.page_count = page_count
        self.sha256 = hashlib.sha256(pdf).hexdigest()

    @property
    def filename(self) -> str:
        p = self.data.product
        stamp = self.data.as_of.strftime("%Y%m%dT%H%M%SZ")
        revision = self.data.revision.split()[0]
        return get_valid_filename(f"{p.document_number}-rev{revision}-{stamp}.pdf")


def render_dossier(product: Product | int, *, progress=None) -> Rendered:
    """Gather and render one product's dossier (no database writes)."""
    with _few_collections():
        if progress:
            progress(0.01, "Gathering the risk file")
        data = selectors.gather(product)
        gc.collect()  # the gathering's reference cycles (the trace graph): freed before layout
        renderer = DossierRenderer(data, progress=progress)
        pdf = renderer.render()
    return Rendered(data, pdf, renderer.page_count)


@contextlib.contextmanager
def _few_collections(young: int = 100_000):
    """Python's cyclic garbage collector less often while a dossier is made.

    Gathering and layout allocate millions of short-lived objects (rows, cells, words, lines)
    that reference counting frees; at the default threshold (700 allocations) the collector
    runs thousands of times, and its full collections walk every object of the gathered data
    each time: a fifth of the CPU time of a 1,000-hazard dossier. The threshold counts
    allocations less deallocations, and a page's rows and cells live for a few thousand: at
    100,000 most are freed before a collection ever looks at them, so the layout of 5,000
    hazards collects 5 times instead of 280 (2.7 s → 0.35 s of CPU, the growth from 1,000 to
    5,000 hazards with it), and at most 100,000 objects in reference cycles wait for a
    collection (the peak memory, during gathering, is unchanged). The middle generation is
    collected after 100 young collections instead of 10: at 5,000 hazards the gathering's one
    such collection walked a million live objects (0.45 s) to find nothing the collection
    after gathering would not. The thresholds are the process's: they are restored
    afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(young, thresholds[0]), max(100, thresholds[1]), thresholds[2])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _save(export: DossierExport, *, by, reason: str) -> DossierExport:
    export._history_user = by
    export._change_reason = reason[:100]
    export.full_clean()
    export.save()
    return export


@transaction.atomic
def export_request(*, product: Product, by, request=None) -> DossierExport:
    """Record that `by` asked for the product's dossier; the caller then runs or enqueues
    `export_generate`. Members only — auditors included: reading the file is their job."""
    export = DossierExport(
        product=product,
        created_by=by,
        status=ExportStatus.QUEUED,
        audit_anchor=current_anchor(),  # the audit state this dossier was made from
    )
    _save(export, by=by, reason="Dossier requested")
    record_access(
        by,
        AccessAction.EXPORT,
        f"Requested the dossier of {product.slug} (export #{export.pk})",
        request,
        product=product,
        username="" if by else "manage.py export_dossier",
    )
    return export


class _Progress:
    """Writes progress to the export row at most every 2 % (a worker updates, the page polls).

    Progress is transient and excluded from the export's history, so it is written with
    `save_without_historical_record` and never creates a history row.
    """

    def __init__(self, export: DossierExport):
        self.export = export
        self.last = -1

    def __call__(self, fraction: float, stage: str) -> None:
        percent = max(0, min(99, int(fraction * 100)))
        if percent - self.last < 2 and percent != 99:
            return
        self.last = percent
        self.export.progress = percent
        self.export.stage = stage[:120]
        self.export.save_without_historical_record(update_fields=["progress", "stage"])


def export_generate(export_id: int) -> DossierExport:
    """Generate the PDF of a requested export, store it and record its SHA-256.

    Not one transaction: progress must be visible to the polling page while it runs. A failure
    marks the export failed with the error, so the page never shows "running" forever.
    """
    export = DossierExport.objects.select_related("product", "created_by").get(pk=export_id)
    by = export.created_by
    export.status = ExportStatus.RUNNING
    export.progress = 0
    export.stage = "Starting"
    _save(export, by=by, reason="Generation started")
    try:
        rendered = render_dossier(export.product, progress=_Progress(export))
        export.file.save(rendered.filename, ContentFile(rendered.pdf), save=False)
    except Exception as exc:
        logger.exception("Dossier export %s failed", export_id)
        export.status = ExportStatus.FAILED
        export.error = f"{type(exc).__name__}: {exc}"[:2000]
        export.finished_at = timezone.now()
        export.stage = "Failed"
        _save(export, by=by, reason="Generation failed")
        raise
    data = rendered.data
    export.status = ExportStatus.DONE
    export.progress = 100
    export.stage = "Done"
    export.sha256 = rendered.sha256
    export.size = len(rendered.pdf)
    export.page_count = rendered.page_count
    export.data_hash = data.data_hash
    export.revision = data.revision
    export.baseline_id = data.baselines[-1].pk if data.released else None
    export.data_as_of = data.as_of
    export.finished_at = timezone.now()
    return _save(export, by=by, reason=f"Generated, SHA-256 {rendered.sha256[:16]}")


def export_download_logged(*, export: DossierExport, by, request=None) -> None:
    """Downloads are exports too: write them to the access log (21 CFR 11.10(d))."""
    record_access(
        by,
        AccessAction.EXPORT,
        f"Downloaded dossier {export.filename} (export #{export.pk}, SHA-256 {export.sha256})",
        request,
        product=export.product,
    )
