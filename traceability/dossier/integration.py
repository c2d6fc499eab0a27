"""The dossier's view of electronic signatures and baselines (21 CFR 11.50; ISO 14971 4.5;
IEC 62304 7.4 and 8.1.3), read from `riskbench.models.Signature` and
`traceability.baselines` in a fixed number of queries:

* record signatures — 1 query, +1 for the signers' competence (ISO 14971 4.3) when there are
  signatures, +1 per signed model outside the trace graph (the risk management report);
* baselines with their signatures — 2 queries, +1 for the signers' competence when signed;
* when a baseline exists: the current snapshot (`baselines.selectors.snapshot`, fixed) and the
  stored snapshot of the baseline compared with — 1 query.

Revision rule: the document's revision is the number of baselines when the data is exactly the
latest baseline (a released revision, whose signatures are the approvals on the cover), and one
more, marked "(draft)", when the data has changed since. "Changes since the previous baseline"
compares a released revision with the baseline before it, and a draft with the latest baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

from riskbench.competence import competence_at
from riskbench.models import Signature
from traceability.baselines import selectors as baseline_selectors
from traceability.baselines.models import Baseline
from traceability.dossier import data as d

# Signed models (content type `model`) → node kind of the trace graph, for their versions.
SIGNED_KINDS = {"hazard": "hazard", "riskcontrol": "control", "requirement": "requirement"}
TRUNCATE = 90


def _person(first: str | None, last: str | None, username: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or username or ""


def _short(value) -> str:
    if value in (None, "", [], {}):
        return ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= TRUNCATE else text[: TRUNCATE - 1] + "…"


def record_signatures(product, versions: dict[tuple[str, int], int]) -> tuple[d.Signature, ...]:
    """Signatures on the product's records and on its risk policy (baselines excluded: they are
    the document's own approvals). `versions` maps (graph kind, pk) to the current version, so
    a signature whose record has since been edited shows as superseded."""
    from django.db.models import Q

    rows = (
        Signature.objects.filter(
            Q(product_id=product.pk)
            | Q(
                content_type__app_label="hazards",
                content_type__model="riskpolicy",
                object_id=product.risk_policy.pk,
            )
        )
        .exclude(content_type__app_label="baselines")
        .order_by("signed_at", "id")
        .values(
            "record_label",
            "record_version",
            "printed_name",
            "signer__username",
            "signed_at",
            "meaning",
            "content_sha256",
            "content_type__model",
            "content_type__app_label",
            "object_id",
            "signer_id",
        )
    )
    meanings = dict(Signature._meta.get_field("meaning").choices)
    competence = competence_at((r["signer_id"], r["signed_at"]) for r in rows)
    other_versions = _versions_of_other_records(rows, versions)
    result = []
    for row in rows:
        model = row["content_type__model"]
        if model == "riskpolicy":
            current_version = product.risk_policy.version
        elif model == "product":  # the scope and risk management plan
            current_version = product.version
        elif (SIGNED_KINDS.get(model, model), row["object_id"]) in versions:
            current_version = versions[(SIGNED_KINDS.get(model, model), row["object_id"])]
        else:
            current_version = other_versions.get((model, row["object_id"]))
        current = current_version is None or current_version <= row["record_version"]
        result.append(
            d.Signature(
                record=row["record_label"],
                printed_name=row["printed_name"],
                username=row["signer__username"],
                signed_at=row["signed_at"],
                meaning=str(meanings.get(row["meaning"], row["meaning"])),
                sha256=row["content_sha256"],
                current=current,
                competence=str(competence.get((row["signer_id"], row["signed_at"]), "")),
            )
        )
    return tuple(result)


def _versions_of_other_records(rows, versions) -> dict[tuple[str, int], int]:
    """Current versions of signed records that are not in the trace graph (e.g. the risk
    management report), one query per such model, so their signatures show as superseded once
    the record moved on."""
    from django.apps import apps

    wanted: dict[tuple[str, str], set[int]] = {}
    for row in rows:
        model = row["content_type__model"]
        if model in ("riskpolicy", "product"):
            continue
        if (SIGNED_KINDS.get(model, model), row["object_id"]) in versions:
            continue
        wanted.setdefault((row["content_type__app_label"], model), set()).add(row["object_id"])
    found = {}
    for (app_label, model), pks in sorted(wanted.items()):
        try:
            model_class = apps.get_model(app_label, model)
        except LookupError:
            continue
        if not any(f.name == "version" for f in model_class._meta.concrete_fields):
            continue
        for pk, version in model_class._base_manager.filter(pk__in=pks).values_list(
            "pk", "version"
        ):
            found[(model, pk)] = version
    return found


def baselines(product) -> list[d.BaselineInfo]:
    """The product's baselines, oldest first, each with its signatures."""
    rows = list(
        Baseline.objects.filter(product_id=product.pk)
        .order_by("created_at", "id")
        .values(
            "id",
            "name",
            "kind",
            "created_at",
            "content_sha256",
            "created_by__username",
            "created_by__first_name",
            "created_by__last_name",
        )
    )
    if not rows:
        return []
    signatures: dict[int, list[d.Signature]] = {}
    meanings = dict(Signature._meta.get_field("meaning").choices)
    baseline_signatures = list(
        Signature.objects.filter(
            content_type__app_label="baselines",
            content_type__model="baseline",
            object_id__in=[r["id"] for r in rows],
        )
        .order_by("signed_at", "id")
        .values(
            "object_id",
            "record_label",
            "printed_name",
            "signer__username",
            "signed_at",
            "meaning",
            "content_sha256",
            "signer_id",
        )
    )
    competence = competence_at((s["signer_id"], s["signed_at"]) for s in baseline_signatures)
    for s in baseline_signatures:
        signatures.setdefault(s["object_id"], []).append(
            d.Signature(
                record=s["record_label"],
                printed_name=s["printed_name"],
                username=s["signer__username"],
                signed_at=s["signed_at"],
                meaning=str(meanings.get(s["meaning"], s["meaning"])),
                sha256=s["content_sha256"],
                current=True,  # a baseline never changes
                competence=str(competence.get((s["signer_id"], s["signed_at"]), "")),
            )
        )
    return [
        d.BaselineInfo(
            pk=r["id"],
            name=r["name"],
            created_at=r["created_at"],
            created_by=_person(
                r["created_by__first_name"],
                r["created_by__last_name"],
                r["created_by__username"],
            ),
            sha256=r["content_sha256"],
            signatures=tuple(signatures.get(r["id"], ())),
            kind=r["kind"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Release:
    revision: str
    released: bool  # the data is exactly the latest baseline
    previous: d.BaselineInfo | None  # the baseline the changes are counted from
    changes: tuple[d.Change, ...] | None  # None: no previous baseline


def release(product, infos: list[d.BaselineInfo]) -> Release:
    """Revision, and the changes since the previous baseline (see the module docstring)."""
    if not infos:
        return Release("1 (draft)", False, None, None)
    current = baseline_selectors.snapshot(product)
    released = baseline_selectors.snapshot_sha256(current) == infos[-1].sha256
    if released:
        revision = str(len(infos))
        previous = infos[-2] if len(infos) > 1 else None
    else:
        revision = f"{len(infos) + 1} (draft)"
        previous = infos[-1]
    if previous is None:
        return Release(revision, released, None, None)
    stored = Baseline.objects.values_list("snapshot_json", flat=True).get(pk=previous.pk)
    import json

    changes = baseline_selectors.diff(json.loads(stored), current)
    return Release(revision, released, previous, tuple(_change(c) for c in changes))


def _change(c) -> d.Change:
    label = baseline_selectors.section_label(c.section)
    record = label if c.key == c.section else f"{label} {c.key}"
    if c.kind == "added":
        return d.Change("added", record, "", "", "New record")
    if c.kind == "removed":
        return d.Change("removed", record, "", "Removed record", "")
    return d.Change(
        "changed",
        record,
        baseline_selectors.field_label(c.section, c.field),
        _short(c.before),
        _short(c.after),
    )
