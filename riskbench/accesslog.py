"""Access log: logins, failed logins, lock-outs, logouts, signatures and exports
(21 CFR 11.10(d) limiting access, 11.300(d) detecting attempted unauthorised use).

The log is append-only (`AccessLogEntry` refuses updates and deletes) and is shown on the audit
trail page. Other features write to it with `record_access`; authentication events arrive through
Django's and django-axes' signals below.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from riskbench.models import AccessAction, AccessLogEntry


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
    entry.save()
    return entry


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
