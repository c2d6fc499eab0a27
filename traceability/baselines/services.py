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
from traceability.baselines.models import Baseline


def baseline_create(
    *,
    product: Product,
    name: str,
    by,
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

    The product row is locked while the snapshot is read, so no hazard or control can be added
    half-way through. The head of the product's audit chain, and of every chain and the access
    log (`audit_anchor`), at that moment is stored with the baseline: anchors that
    `verify_audit` checks, so the newest chain entries cannot be cut off unnoticed.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the baseline (e.g. “Release 2.1 submission”)."})
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
        text = selectors.snapshot_json(selectors.snapshot(product))
        head = AuditChainHead.objects.filter(chain=audit.chain_name(product.pk)).first()
        baseline = Baseline(
            product=product,
            name=name,
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
