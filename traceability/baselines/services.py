"""Taking a baseline: freeze the product's risk file, hash it, anchor it in the audit chain and
sign it (ISO 14971 4.5, 9; IEC 62304 8.1.3; 21 CFR 11.50, 11.70)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from hazards.models import Product
from riskbench import audit, signatures
from riskbench.audit_anchor import current_anchor
from riskbench.canonical import sha256_hex
from riskbench.models import AuditChainHead, SignatureMeaning
from riskbench.roles import can_edit
from traceability.baselines import selectors
from traceability.baselines.models import Baseline, BaselineKind


class ReleaseRefused(ValidationError):
    """A release baseline was refused: the release gate found gaps. `gaps` lists them (each
    names its record and clause), so the page and the command can say what blocks it."""

    def __init__(self, product: Product, gaps: list):
        self.gaps = gaps
        super().__init__(
            {
                "kind": f"{product.name} cannot be released: {len(gaps)} open gap(s) in its "
                "risk management file (riskcheck lists them)."
            }
        )


def release_blockers(product: Product) -> list:
    """What stops a release baseline: every gap of the release gate (traceability.gate) —
    traceability, records not approved, risks not estimated or not acceptable as the plan
    says, post-market findings and, once registered, an unsigned risk management report."""
    from traceability import gate

    return gate.product_gaps(product).gaps


def baseline_create(
    *,
    product: Product,
    name: str,
    by,
    kind: str = BaselineKind.WORKING,
    note: str = "",
    reason: str = "",
    sign: bool = True,
    username: str = "",
    password: str = "",
    meaning: str = SignatureMeaning.APPROVED,
    request=None,
) -> Baseline:
    """Freeze `product`'s whole risk file as a named, hashed baseline, signed by `by`.

    With `sign` (the default, and what the page does) the user's ID and password are checked
    first — a refusal is counted and logged and nothing is frozen — and the baseline is signed
    in the same transaction that creates it. `sign=False` (the command line without `--user`)
    leaves an unsigned baseline that can be signed later on its page.

    A *working* baseline can be taken at any time. A *release* baseline only when the release
    gate passes — no gap, every record approved (ISO 14971 9: review before release;
    IEC 62304 5.8): otherwise `ReleaseRefused` lists the gaps that block it. The gate is
    checked again inside the transaction, on the locked product.

    The product row is locked while the snapshot is read, so no hazard or control can be added
    half-way through. The head of the product's audit chain, and of every chain and the access
    log (`audit_anchor`), at that moment is stored with the baseline: anchors that
    `verify_audit` checks, so the newest chain entries cannot be cut off unnoticed.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the baseline (e.g. “Release 2.1 submission”)."})
    if kind not in BaselineKind.values:
        raise ValidationError({"kind": f"Unknown kind of baseline {kind!r}."})
    if kind == BaselineKind.RELEASE:
        blockers = release_blockers(product)
        if blockers:
            raise ReleaseRefused(product, blockers)
    if sign:
        if by is None or not can_edit(by, product):
            raise signatures.SignatureRefused("Your role does not allow you to sign baselines.")
        signatures.check_credentials(
            user=by, username=username, password=password, request=request, product=product
        )
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        if Baseline.objects.filter(product=product, name=name).exists():
            raise ValidationError({"name": f"{product.name} already has a baseline “{name}”."})
        if kind == BaselineKind.RELEASE:
            blockers = release_blockers(product)  # again, under the lock
            if blockers:
                raise ReleaseRefused(product, blockers)
        text = selectors.snapshot_json(selectors.snapshot(product))
        head = AuditChainHead.objects.filter(chain=audit.chain_name(product.pk)).first()
        baseline = Baseline(
            product=product,
            name=name,
            kind=kind,
            note=note,
            created_at=timezone.now(),
            created_by=by,
            format_version=selectors.FORMAT,
            content_sha256=sha256_hex(text),
            snapshot_json=text,
            audit_chain_seq=head.seq if head else 0,
            audit_chain_hash=head.row_hash if head else "",
            audit_anchor=current_anchor(),
        )
        baseline.save()
        audit.append_record(
            baseline,
            product_id=product.pk,
            object_repr=f"Baseline {name} (SHA-256 {baseline.content_sha256[:12]}…)",
            at=baseline.created_at,
            user_id=by.pk if by else None,
            user_name=by.get_username() if by else "",
            reason=reason or "Baseline taken",
        )
        if sign:
            signatures.signature_create(
                record=baseline, by=by, meaning=meaning, reason=reason, request=request
            )
    return baseline
