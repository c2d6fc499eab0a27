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
    Returns what was created.

    The release is approved by the head of quality whom the plans name (`traceability.report.
    demo.REVIEWERS`), through the same path as the baseline page (ID and password checked,
    signed in the transaction that freezes it) — not by the demo author who wrote the records:
    an auditor expects the release approved by someone other than its author."""
    from django.contrib.auth import get_user_model

    from traceability.baselines.models import Baseline, BaselineKind
    from traceability.baselines.services import baseline_create
    from traceability.report.demo import REVIEWERS

    name = getattr(module, "RELEASE_BASELINE", "")
    if not (name and signer):
        return {}
    product = Product.objects.get(slug=module.PRODUCT["slug"])
    if Baseline.objects.filter(product=product, name=name).exists():
        return {}
    username, password = REVIEWERS[0][:2]
    approver = get_user_model()._default_manager.get(username=username)
    reason = f"Released after the risk management review (ISO 14971 9), {product.document_number}"
    baseline_create(
        product=product,
        name=name,
        by=approver,
        kind=BaselineKind.RELEASE,
        note="The risk management file as released: every record approved, no open gap.",
        reason=reason,
        username=username,
        password=password,
    )
    return {"release_baselines": 1}
