"""The demo's releasable product gets its signed release baseline, taken after every product and
extension of `loaddemo` (the plan's approval and the signed risk management report come from
`traceability.report.demo`; post-market data could add gaps). `baseline_create` refuses a
release baseline while the release gate finds any gap, so a demo that drifts from releasable
stops the load instead of printing a false "Released".

Only with a signer (a release needs people's signatures, 21 CFR 11.50) and only once: a
product that already has its release baseline is left as it is.
"""

from __future__ import annotations

from hazards.models import Product


def release(module, *, by, signer) -> dict[str, int]:
    """Take the signed release baseline of `module`'s product (see the module docstring).
    Returns what was created."""
    from traceability.baselines.models import Baseline, BaselineKind
    from traceability.baselines.services import baseline_create

    name = getattr(module, "RELEASE_BASELINE", "")
    if not (name and signer):
        return {}
    product = Product.objects.get(slug=module.PRODUCT["slug"])
    if Baseline.objects.filter(product=product, name=name).exists():
        return {}
    reason = f"Released after the risk management review (ISO 14971 9), {product.document_number}"
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
    return {"release_baselines": 1}
