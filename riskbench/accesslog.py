"""Access log: logins, failed logins, lock-outs, logouts, signatures and exports
(21 CFR 11.10(d) limiting access, 11.300(d) detecting attempted unauthorised use).

The log is append-only (`AccessLogEntry` refuses updates and deletes) and is shown on the audit
trail page. Other features write to it with `record_access`; authentication events arrive through
Django's and django-axes' signals below.

It is hash-chained like the audit trail: each entry carries a `seq`, the previous entry's hash
and its own `row_hash` = SHA-256 over that previous hash and its canonical content, so an entry
edited or deleted in the database breaks the chain and `verify_audit` names it
(`verify_access_log`). An append locks the chain's head row (`AuditChainHead`
`ACCESS_LOG_CHAIN`); a transaction that also writes regulated records locks the audit chain
heads first and the access-log head last (every caller records access after its write), so two
transactions never wait on each other in opposite orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.dispatch import receiver
from django.utils import timezone

from riskbench.canonical import canonical_sha256
from riskbench.models import ACCESS_LOG_CHAIN, AccessAction, AccessLogEntry, AuditChainHead

GENESIS_HASH = "0" * 64


def entry_hash(entry: AccessLogEntry) -> str:
    """SHA-256 of the canonical content of an access-log entry and its place in the chain.
    The user is hashed by id and by the name recorded then, never by their current name."""
    return canonical_sha256(
        {
            "seq": entry.seq,
            "prev": entry.prev_hash,
            "at": entry.at,
            "user": entry.user_id,
            "username": entry.username,
            "action": entry.action,
            "detail": entry.detail,
            "product": entry.product_id,
            "ip": entry.ip_address,
            "agent": entry.user_agent,
        }
    )


def _locked_head(using: str) -> AuditChainHead:
    head, _ = (
        AuditChainHead.objects.using(using)
        .select_for_update()
        .get_or_create(chain=ACCESS_LOG_CHAIN)
    )
    return head


def _chain_and_save(entry: AccessLogEntry, head: AuditChainHead, using: str) -> None:
    entry.seq = head.seq + 1
    entry.prev_hash = head.row_hash or GENESIS_HASH
    entry.row_hash = entry_hash(entry)
    entry.save(using=using)
    head.seq, head.row_hash = entry.seq, entry.row_hash
    head.save(using=using, update_fields=["seq", "row_hash"])


def _client(request) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    try:
        ip = get_client_ip_address(request)
    except Exception:  # noqa: BLE001 - a request without META (tests, commands): no address
        ip = None
    return ip or None, request.META.get("HTTP_USER_AGENT", "")[:300]


def record_access(
    user, action: str, detail: str = "", request=None, *, product=None, username: str = ""
) -> AccessLogEntry:
    """Append one access-log entry.

    `user`: the acting user (None or AnonymousUser when unknown, e.g. a failed login — then pass
    `username` as typed). `action`: an `AccessAction` value ("login", "login_failed",
    "login_locked", "logout", "signature", "signature_failed", "signing_locked", "export").
    `detail`: what, in words (e.g. "Dossier RMF-0001 rev 3, SHA-256 …"). `request`: gives the
    client address and user agent. `product`: the product concerned, if any, so members of that
    product see the entry in the audit trail.

    Callers inside a transaction that may roll back lose the entry with it; log refusals
    (failed signatures) outside, as `riskbench.signatures` does.
    """
    if action not in AccessAction.values:
        raise ValueError(f"Unknown access-log action {action!r}.")
    known = user if user is not None and getattr(user, "is_authenticated", False) else None
    ip, agent = _client(request)
    entry = AccessLogEntry(
        at=timezone.now(),
        user=known,
        username=(known.get_username() if known else username)[:150],
        action=action,
        detail=detail,
        product=product,
        ip_address=ip,
        user_agent=agent,
    )
    using = router.db_for_write(AccessLogEntry)
    with transaction.atomic(using=using):
        _chain_and_save(entry, _locked_head(using), using)
    return entry


@dataclass
class AccessLogVerification:
    entries: int = 0
    seq: int = 0
    head: str = ""
    problems: list[tuple[int | None, str]] = field(default_factory=list)  # (entry id, message)
    at_seq: dict[int, str] = field(default_factory=dict)  # wanted seq → row hash

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_access_log(
    using: str = DEFAULT_DB_ALIAS, chunk_size: int = 5000, wanted: set[int] | None = None
) -> AccessLogVerification:
    """Recompute the access-log chain; name each broken entry by its id.

    One streamed query over the entries in chain order plus one for the head. Entries
    without a place in the chain (`seq` empty) were written behind the application (entries
    older than the chain were chained by migration 0003).
    `wanted`: sequence numbers whose hashes to return (for anchors)."""
    result = AccessLogVerification()
    wanted = wanted or set()
    rows = AccessLogEntry.objects.using(using).order_by("seq", "pk")
    expected, prev = 1, GENESIS_HASH
    for entry in rows.iterator(chunk_size=chunk_size):
        result.entries += 1
        if entry.seq is None:
            result.problems.append((entry.pk, "access-log entry is not in the chain"))
            continue
        if entry.seq != expected:
            result.problems.append(
                (
                    entry.pk,
                    f"sequence gap: expected access-log entry #{expected}, found #{entry.seq} "
                    "(entries were removed)",
                )
            )
        elif entry.prev_hash != prev:
            result.problems.append(
                (entry.pk, "previous-hash mismatch: an earlier entry was altered or removed")
            )
        elif entry_hash(entry) != entry.row_hash:
            result.problems.append(
                (entry.pk, f"access-log entry #{entry.seq} was altered (hash mismatch)")
            )
        if entry.seq in wanted:
            result.at_seq[entry.seq] = entry.row_hash
        expected, prev = entry.seq + 1, entry.row_hash
        result.seq, result.head = entry.seq, entry.row_hash
    head = AuditChainHead.objects.using(using).filter(chain=ACCESS_LOG_CHAIN).first()
    if head is not None and (head.seq, head.row_hash) != (result.seq, result.head):
        result.problems.append(
            (
                None,
                f"access-log head says #{head.seq} but the log ends at #{result.seq}: entries "
                "were removed from the end",
            )
        )
    return result


@receiver(user_logged_in, dispatch_uid="riskbench_access_login")
def _logged_in(sender, request, user, **kwargs):
    record_access(user, AccessAction.LOGIN, "Logged in", request)


@receiver(user_logged_out, dispatch_uid="riskbench_access_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_access(user, AccessAction.LOGOUT, "Logged out", request)


@receiver(user_login_failed, dispatch_uid="riskbench_access_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))
    if getattr(request, "axes_locked_out", False):
        detail = "Refused: locked out after repeated failures"
    else:
        detail = "Wrong user name or password"
    record_access(None, AccessAction.LOGIN_FAILED, detail, request, username=username)


@receiver(user_locked_out, dispatch_uid="riskbench_access_locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    record_access(
        None,
        AccessAction.LOGIN_LOCKED,
        f"Login locked after repeated failures (from {ip_address or 'unknown address'})",
        request,
        username=username or "",
    )
