"""`{% signature_panel record as panel %}`: what `riskbench/_signatures.html` shows."""

from django import template
from django.urls import reverse

from riskbench import signatures
from riskbench.competence import competence_at
from riskbench.forms import SignForm
from riskbench.models import SignatureMeaning, Status

register = template.Library()


@register.simple_tag(takes_context=True)
def signature_panel(context, record):
    """The record's signatures with their state, and a sign form for those who may sign.

    Three queries (signatures; the content type is cached; the signers' role and qualification
    at signing, ISO 14971 4.3, when there are signatures), plus the role lookups that every
    page already made.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    kind = signatures.kind_of(record)
    may_sign = bool(user) and signatures.can_sign(user, record)
    form = None
    if may_sign:
        workflow = hasattr(record, "status")
        form = SignForm(
            initial={
                "meaning": SignatureMeaning.APPROVED
                if workflow and record.status == Status.IN_REVIEW
                else SignatureMeaning.REVIEWED,
                "username": "",
                "expected_version": getattr(record, "version", None),
                "next": request.get_full_path() if request else "",
            },
            auto_id=f"id_sign_{kind}_{record.pk}_%s",
        )
        if workflow and record.status == Status.DRAFT:
            # Only a record in review can be approved (hazards.services.record_set_status).
            form.fields["meaning"].choices = [
                c for c in SignatureMeaning.choices if c[0] != SignatureMeaning.APPROVED
            ]
    shown = signatures.signatures_of(record)
    held = competence_at((s.signature.signer_id, s.signature.signed_at) for s in shown)
    competence = [str(held.get((s.signature.signer_id, s.signature.signed_at), "")) for s in shown]
    approved_unsigned = getattr(record, "status", None) == Status.APPROVED and not any(
        s.state == signatures.SignatureState.VALID
        and s.signature.meaning == SignatureMeaning.APPROVED
        for s in shown
    )
    return {
        "kind": kind,
        "signatures": shown,
        "rows": list(zip(shown, competence, strict=True)),
        "approved_unsigned": approved_unsigned,
        "current_sha256": signatures.record_content_sha256(record),
        "can_sign": may_sign,
        "form": form,
        "sign_url": reverse("core:sign", args=[kind, record.pk]),
        "is_workflow": hasattr(record, "status"),
        "status": getattr(record, "status", None),
    }
