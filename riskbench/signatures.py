"""Electronic signatures and approval (21 CFR Part 11 subpart C; ISO 14971 4.5, 9).

A signature binds a signer, the signer's printed name, a UTC time, a meaning (authored / reviewed
/ approved) and a reason to the SHA-256 of the signed record's content (11.50, 11.70). Signing
takes both components of a non-biometric signature — user ID and password — every time (11.200
(a)(1)); wrong attempts are counted in the database and, after a few in a row, signing is locked
for a while (11.300(d)). Approving a workflow record (hazard, risk control, requirement, risk
policy) sets its status to approved and signs it in one transaction.

**What the content hash covers** (`record_content`): the model label, the primary key and every
concrete field of the record (foreign keys as ids), except bookkeeping that changes without the
content changing — `version`, `created_at`, `updated_at` — and the workflow state (`status`,
`revision`), which the approval itself changes. So the hash changes whenever what the record
*says* changes, stays equal while it does not (e.g. when a reviewed record is then approved),
and is equal again if an edit is undone. Including the label and key binds the hash to this one
record: a copy of the signature on another record, even one with identical text, does not
match (11.70). Trace links are not part of a record's content: they have their own history,
their own suspicion (versions) and are frozen by baselines.

**States shown with each signature** (`SignatureState`):
* *valid* — the current content hash equals the signed hash;
* *superseded* — the record was edited (its version moved past the signed version) and now says
  something else: the signature stays on the earlier version, which the history still shows;
* *mismatch* — the content differs although no recorded edit explains it: an integrity alarm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from riskbench import audit, roles
from riskbench.accesslog import record_access
from riskbench.canonical import canonical_sha256, canonical_value
from riskbench.models import (
    AccessAction,
    Signature,
    SignatureMeaning,
    SigningGuard,
    Status,
)
from riskbench.services import lock_for_edit

# URL kind → model. Only these records can be signed. Apps add their own with
# `register_signable` from their AppConfig.ready() (riskbench imports no app above it).
SIGNABLE = {
    "hazard": "hazards.Hazard",
    "control": "hazards.RiskControl",
    "requirement": "traceability.Requirement",
    "test_case": "traceability.TestCase",
    "software_item": "traceability.SoftwareItem",
    "policy": "hazards.RiskPolicy",
    "baseline": "baselines.Baseline",
    # The product record holds the scope and the risk management plan (ISO 14971 4.4): the plan
    # is approved by an "approved" signature on its current content, not by a status.
    "plan": "hazards.Product",
}
PRODUCT_LABEL = "hazards.Product"
# Model label → callable(record, by, meaning) run before a signature is added; it raises
# SignatureRefused (or ValidationError) when the record may not be signed that way now.
SIGN_CHECKS: dict = {}
# A risk policy's approved snapshot (`approved_criteria`, `approved_version`) is written by its
# approval, like `status`: what an approval signature covers is the working criteria it puts
# in force, which are part of the content.
EXCLUDED_FROM_CONTENT = {
    "version",
    "created_at",
    "updated_at",
    "status",
    "revision",
    "approved_criteria",
    "approved_version",
}


def register_signable(kind: str, model_label: str, *, check=None) -> None:
    """Let records of `model_label` be signed under the URL kind `kind`; `check(record, by,
    meaning)` (optional) refuses a signature the app does not allow (e.g. on incomplete
    content)."""
    SIGNABLE[kind] = model_label
    if check is not None:
        SIGN_CHECKS[model_label] = check


def segregation_of_duties() -> bool:
    """`RISKBENCH_SEGREGATION_OF_DUTIES` (on by default): the last author of a record's content
    may not approve it (ISO 14971 9 and 4.3: approval by a person independent of the work)."""
    return bool(getattr(settings, "RISKBENCH_SEGREGATION_OF_DUTIES", True))


def failure_limit() -> int:
    return int(getattr(settings, "RISKBENCH_SIGNING_FAILURE_LIMIT", 3))


def lock_duration() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "RISKBENCH_SIGNING_LOCK_MINUTES", 15)))


class SignatureRefused(Exception):
    """Signing refused (wrong user ID or password, locked, not allowed); nothing was signed."""


class SigningLocked(SignatureRefused):
    pass


# --- Records ------------------------------------------------------------------------------------


def signable_model(kind: str):
    try:
        return apps.get_model(SIGNABLE[kind])
    except (KeyError, LookupError):
        raise Http404("No such kind of record.") from None


def kind_of(record) -> str:
    label = record._meta.label
    for kind, model_label in SIGNABLE.items():
        if model_label == label:
            return kind
    raise ValueError(f"{label} records cannot be signed.")


def get_record(kind: str, pk: int):
    model = signable_model(kind)
    manager = model._base_manager
    if hasattr(model, "product"):
        manager = manager.select_related("product")
    try:
        return manager.get(pk=pk)
    except model.DoesNotExist:
        raise Http404("No such record.") from None


def record_product(record):
    """The product the record belongs to (a risk policy belongs to its product; the scope and
    plan record is the product itself); None for a risk policy template."""
    if record._meta.label == PRODUCT_LABEL:
        return record
    return getattr(record, "product", None)


def record_label(record) -> str:
    return str(record)[:255]


def record_url(record) -> str:
    """The record's own page, or its signatures page while that page does not exist yet."""
    try:
        return record.get_absolute_url()
    except (AttributeError, NoReverseMatch):
        return reverse("core:record_signatures", args=[kind_of(record), record.pk])


def record_content(record) -> dict:
    """The canonical content a signature's hash covers (see the module docstring)."""
    fields = {
        f.attname: canonical_value(getattr(record, f.attname))
        for f in record._meta.concrete_fields
        if f.name not in EXCLUDED_FROM_CONTENT and not f.primary_key
    }
    return {"model": record._meta.label_lower, "pk": record.pk, "fields": fields}


def record_content_sha256(record) -> str:
    return canonical_sha256(record_content(record))


def can_sign(user, record) -> bool:
    """Editors of the record's product sign — for a risk policy, editors of the one product
    that owns it; a policy template only administrators. Auditors never sign (they only
    read)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    product = record_product(record)
    if product is not None:
        return roles.can_edit(user, product)
    if record._meta.label == SIGNABLE["policy"]:
        return roles.is_administrator(user)
    return False


def can_view(user, record) -> bool:
    if not user.is_authenticated:
        return False
    product = record_product(record)
    if product is not None:
        return roles.is_member(user, product)
    return True  # risk policy templates are readable by every signed-in user


# --- Display ------------------------------------------------------------------------------------


class SignatureState(StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"
    MISMATCH = "mismatch"


STATE_LABELS = {
    SignatureState.VALID: "Valid — the record's content is unchanged since signing",
    SignatureState.SUPERSEDED: "Superseded — the record was edited after this signature",
    SignatureState.MISMATCH: "Content no longer matches, and no recorded edit explains it",
}
STATE_CHIPS = {
    SignatureState.VALID: "chip-acceptable",
    SignatureState.SUPERSEDED: "chip-status",
    SignatureState.MISMATCH: "chip-unacceptable",
}


@dataclass(frozen=True)
class ShownSignature:
    signature: Signature
    state: SignatureState

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def chip(self) -> str:
        return STATE_CHIPS[self.state]


def signature_state(signature: Signature, current_sha256: str, current_version: int):
    if signature.content_sha256 == current_sha256:
        return SignatureState.VALID
    if current_version > signature.record_version:
        return SignatureState.SUPERSEDED
    return SignatureState.MISMATCH


def signatures_of(record) -> list[ShownSignature]:
    """The record's signatures, oldest first, each with its state (one query)."""
    current = record_content_sha256(record)
    version = getattr(record, "version", 1)
    rows = Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(record, for_concrete_model=False),
        object_id=record.pk,
    ).order_by("signed_at", "id")
    return [ShownSignature(s, signature_state(s, current, version)) for s in rows]


def is_approved_with_signature(record) -> bool:
    """Approved status backed by a valid "approved" signature on the current content."""
    return getattr(record, "status", None) == Status.APPROVED and any(
        s.state == SignatureState.VALID and s.signature.meaning == SignatureMeaning.APPROVED
        for s in signatures_of(record)
    )


# --- Signing ------------------------------------------------------------------------------------


def last_author(record):
    """Who wrote the record's current content: the `history_user` of the first history row at
    the current `version` (later rows at the same version are workflow changes — submitting
    for review, approving — which do not change what the record says). None when the record
    keeps no versioned history."""
    history = getattr(record, "history", None)
    if history is None or not hasattr(record, "version"):
        return None
    row = (
        history.filter(version=record.version)
        .order_by("history_date", "history_id")
        .select_related("history_user")
        .first()
    )
    return row.history_user if row is not None else None


def check_segregation(record, *, by, meaning: str) -> None:
    """Refuse an "approved" signature by the last author of the content, while
    `RISKBENCH_SEGREGATION_OF_DUTIES` is on (ISO 14971 9: the review and approval are made by
    people with the authority the plan names, independent of the author)."""
    if meaning != SignatureMeaning.APPROVED or not segregation_of_duties():
        return
    author = last_author(record)
    if author is not None and author.pk == by.pk:
        raise SignatureRefused(
            f"Segregation of duties: you wrote the current content of {record_label(record)} "
            f"(version {record.version}), so its approval must come from someone else. Sign "
            "it as “Reviewed” or “Authored”, or ask another person with authority to approve."
        )


def run_sign_checks(record, *, by, meaning: str) -> None:
    """Segregation of duties, then the check the record's app registered (if any)."""
    check_segregation(record, by=by, meaning=meaning)
    check = SIGN_CHECKS.get(record._meta.label)
    if check is not None:
        check(record, by, meaning)


def check_credentials(*, user, username: str, password: str, request=None, product=None) -> None:
    """Verify both signature components (user ID and password) of the signed-in user.

    Every refusal is counted in `SigningGuard` and written to the access log in its own
    transaction, committed before the refusal is raised, so it is not rolled back with the
    signing; after `failure_limit()` refusals in a row signing is locked for `lock_duration()`.
    """
    now = timezone.now()
    with transaction.atomic():
        guard, _ = SigningGuard.objects.select_for_update().get_or_create(user=user)
        if guard.locked_until and guard.locked_until > now:
            record_access(
                user,
                AccessAction.SIGNING_LOCKED,
                "Signing attempt while locked",
                request,
                product=product,
            )
            error = SigningLocked(_locked_message(guard.locked_until))
        elif (
            user.is_active
            and username.strip() == user.get_username()
            and user.check_password(password)
        ):
            if guard.consecutive_failures or guard.locked_until:
                guard.consecutive_failures = 0
                guard.locked_until = None
                guard.save(update_fields=["consecutive_failures", "locked_until"])
            return
        else:
            guard.consecutive_failures += 1
            guard.last_failure_at = now
            left = failure_limit() - guard.consecutive_failures
            record_access(
                user,
                AccessAction.SIGNATURE_FAILED,
                f"Wrong user ID or password at signing ({guard.consecutive_failures} in a row)",
                request,
                product=product,
            )
            if left <= 0:
                guard.consecutive_failures = 0
                guard.locked_until = now + lock_duration()
                record_access(
                    user,
                    AccessAction.SIGNING_LOCKED,
                    f"Signing locked until {guard.locked_until:%Y-%m-%d %H:%M} UTC",
                    request,
                    product=product,
                )
                error = SigningLocked(
                    "Wrong user ID or password. " + _locked_message(guard.locked_until)
                )
            else:
                error = SignatureRefused(
                    f"Wrong user ID or password. {left} attempt{'s' if left != 1 else ''} left "
                    "before signing is locked."
                )
            guard.save()
    raise error


def _locked_message(until) -> str:
    return (
        f"Signing is locked until {until:%H:%M} UTC after repeated wrong passwords. "
        "Try again later or ask an administrator."
    )


def signature_create(*, record, by, meaning: str, reason: str = "", request=None) -> Signature:
    """Append a signature on `record` as it is now. Call after `check_credentials`, inside the
    transaction that holds the record's lock."""
    if meaning not in SignatureMeaning.values:
        raise SignatureRefused(f"Unknown meaning {meaning!r}.")
    product = record_product(record)
    content_type = ContentType.objects.get_for_model(record, for_concrete_model=False)
    content_sha256 = record_content_sha256(record)
    # Idempotent under the record's lock: the same signer, meaning and content sign once
    # (a double-submitted form, two tabs). The unique constraint backs this up.
    same = Signature.objects.filter(
        content_type=content_type, object_id=record.pk, signer=by, meaning=meaning,
        content_sha256=content_sha256,
    ).first()  # fmt: skip
    if same is not None:
        return same
    signature = Signature(
        content_type=content_type,
        object_id=record.pk,
        record_label=record_label(record),
        record_version=getattr(record, "version", 1),
        product=product,
        signer=by,
        printed_name=(by.get_full_name() or by.get_username())[:300],
        signed_at=timezone.now(),
        meaning=meaning,
        content_sha256=content_sha256,
        reason=reason,
    )
    signature.save()
    audit.append_record(
        signature,
        product_id=product.pk if product else None,
        object_repr=f"{signature.get_meaning_display()} signature on {signature.record_label}",
        at=signature.signed_at,
        user_id=by.pk,
        user_name=by.get_username(),
        reason=reason,
    )
    record_access(
        by,
        AccessAction.SIGNATURE,
        f"{signature.get_meaning_display()}: {signature.record_label} "
        f"(version {signature.record_version}, SHA-256 {signature.content_sha256})",
        request,
        product=product,
    )
    return signature


def record_sign(
    *,
    record,
    by,
    username: str,
    password: str,
    meaning: str,
    reason: str = "",
    expected_version: int | None,
    request=None,
) -> Signature:
    """Sign a record; with meaning "approved" on a workflow record, approve it too.

    Approval runs `hazards.services.record_set_status`, which refuses a hazard whose ISO 14971
    approval check fails (e.g. residual risk not evaluated) — then nothing is signed. A stale
    `expected_version` (the record changed since the page was loaded) is refused, so nobody
    signs content they have not seen; a record with a version must be given the version the
    signer saw (a missing one is refused, never read as "sign whatever is there now"), a record
    without one (a baseline: frozen) takes None. `run_sign_checks` refuses an approval by the
    last author of the content (segregation of duties) and whatever the record's app refuses.
    """
    if not can_sign(by, record):
        raise SignatureRefused("Your role does not allow you to sign this record.")
    if meaning not in SignatureMeaning.values:
        raise SignatureRefused(f"Unknown meaning {meaning!r}.")
    product = record_product(record)
    check_credentials(
        user=by, username=username, password=password, request=request, product=product
    )
    with transaction.atomic():
        if hasattr(record, "version"):
            current = lock_for_edit(record, expected_version)
        else:
            current = type(record)._base_manager.select_for_update().get(pk=record.pk)
        run_sign_checks(current, by=by, meaning=meaning)
        if (
            meaning == SignatureMeaning.APPROVED
            and hasattr(current, "status")
            and current.status != Status.APPROVED
        ):
            from hazards.services import record_set_status

            current = record_set_status(
                record=current,
                status=Status.APPROVED,
                by=by,
                reason=f"Approved with electronic signature of {by.get_username()}",
                signed=True,
                expected_version=current.version,
            )
        return signature_create(
            record=current, by=by, meaning=meaning, reason=reason, request=request
        )
