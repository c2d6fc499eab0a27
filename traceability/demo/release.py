"""The demo's releasable product: its plan approved by signature, every step registered in
`traceability.demo.RELEASE_STEPS` (e.g. the signed risk management report), then a signed
release baseline — which `baseline_create` refuses while the release gate finds any gap, so a
demo that drifts from releasable stops the load instead of printing a false "Released".

Runs after every product and extension of `loaddemo` (post-market data could add gaps), only
with a signer (a release needs people's signatures, 21 CFR 11.50) and only once: a product that
already has its release baseline is left as it is.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from hazards.models import Product
from riskbench.models import Signature, SignatureMeaning
from riskbench.signatures import record_content_sha256


def plan_approved(product: Product) -> bool:
    return Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(Product),
        object_id=product.pk,
        meaning=SignatureMeaning.APPROVED,
        content_sha256=record_content_sha256(product),
    ).exists()


def release(module, *, by, signer) -> dict[str, int]:
    """Approve the plan, run the release steps and take the release baseline of `module`'s
    product (see the module docstring). Returns what was created."""
    from traceability.baselines.models import Baseline, BaselineKind
    from traceability.baselines.services import baseline_create
    from traceability.demo import RELEASE_STEPS

    name = getattr(module, "RELEASE_BASELINE", "")
    if not (name and signer):
        return {}
    product = Product.objects.get(slug=module.PRODUCT["slug"])
    if Baseline.objects.filter(product=product, name=name).exists():
        return {}
    created: dict[str, int] = {}
    doc = product.document_number
    if not plan_approved(product):
        signer.sign(
            product,
            reason=f"Scope and risk management plan {doc} approved (ISO 14971 4.4)",
        )
        created["plan_approvals"] = 1
    for step in RELEASE_STEPS:
        for kind, n in (step(product, by=signer.user, signer=signer) or {}).items():
            created[kind] = created.get(kind, 0) + n
    reason = f"Released after the risk management review (ISO 14971 9), {doc}"
    baseline = baseline_create(
        product=product,
        name=name,
        by=signer.user,
        kind=BaselineKind.RELEASE,
        note="The risk management file as released: every record approved, no open gap.",
        reason=reason,
        sign=False,  # signed just below, in the signer's session
    )
    signer.sign(baseline, reason=reason)
    created["release_baselines"] = 1
    return created
