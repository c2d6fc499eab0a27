"""Pages of the signatures, the audit trail and the access log. Thin: check the role, read
through `riskbench.trail` / `riskbench.signatures`, write through the signing service."""

from __future__ import annotations

import contextlib
import functools

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from riskbench import roles, signatures, trail
from riskbench.accesslog import record_access
from riskbench.filters import paginate
from riskbench.forms import AccessFilterForm, AuditFilterForm, SignForm
from riskbench.models import AccessAction, AuditChainEntry, Signature
from riskbench.navigation import safe_next_url
from riskbench.services import StaleEditError

PAGE_SIZE = 50

# Backends that deliver no mail to anyone (the console one prints reset links into the log).
NON_DELIVERING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


def password_reset_enabled() -> bool:
    """Password reset by e-mail only when it is switched on (RISKBENCH_PASSWORD_RESET, on by
    default when DJANGO_EMAIL_HOST is set) and a backend delivers the mail: otherwise a reset
    link would go nowhere, or into the server log for anyone who reads it."""
    return bool(
        getattr(settings, "RISKBENCH_PASSWORD_RESET", False)
        and settings.EMAIL_BACKEND not in NON_DELIVERING_EMAIL_BACKENDS
    )


def password_reset_gate(view):
    """Wrap a password-reset view so that it answers 404 while password reset is off."""

    @functools.wraps(view)
    def gated(request, *args, **kwargs):
        if not password_reset_enabled():
            raise Http404("Password reset is not available here; ask an administrator.")
        return view(request, *args, **kwargs)

    return gated


def _viewable_record(request, kind: str, pk: int):
    record = signatures.get_record(kind, pk)
    if not signatures.can_view(request.user, record):
        raise Http404("No such record.")
    request.current_product = signatures.record_product(record)
    return record


@require_GET
def record_signatures(request, kind, pk):
    """A record's signatures with their manifestation and state (21 CFR 11.50, 11.70)."""
    record = _viewable_record(request, kind, pk)
    return render(
        request,
        "riskbench/record_signatures.html",
        {"record": record, "record_url": signatures.record_url(record), "kind": kind},
    )


@require_POST
def sign(request, kind, pk):
    """Sign (and, with meaning "approved", approve) a record: user ID and password again."""
    record = _viewable_record(request, kind, pk)
    if not signatures.can_sign(request.user, record):
        raise PermissionDenied("Your role does not allow you to sign this record.")
    form = SignForm(request.POST)
    target = _next(request, form.data.get("next"), record)
    if not form.is_valid():
        messages.error(request, "Not signed: give your user ID, password and the meaning.")
        return redirect(target)
    data = form.cleaned_data
    try:
        signature = signatures.record_sign(
            record=record,
            by=request.user,
            username=data["username"],
            password=data["password"],
            meaning=data["meaning"],
            reason=data["reason"],
            expected_version=data["expected_version"],
            request=request,
        )
    except signatures.SignatureRefused as exc:
        messages.error(request, f"Not signed: {exc}")
    except StaleEditError as exc:
        messages.error(request, f"Not signed: {exc}")
    except ValidationError as exc:
        messages.error(request, "Not signed: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Signed: {signature.manifestation}.")
    return redirect(target)


def _next(request, candidate, record) -> str:
    return safe_next_url(request, candidate) or signatures.record_url(record)


# --- Audit trail -------------------------------------------------------------------------------


def _fitting_filters(request, form) -> dict:
    """The filters that fit their fields; each one that does not is named in a message."""
    for message in form.ignored():
        messages.warning(request, message)
    return form.fitting()


def _trail_form(request):
    products = trail.visible_products(request.user)
    form = AuditFilterForm(request.GET, products=products, models=trail.record_types())
    filters = _fitting_filters(request, form)
    if request.GET.get("product") and not filters.get("product"):
        raise Http404("No such product.")  # a product the user is not a member of
    return form, filters, products


@require_GET
def audit_trail(request):
    """Every history row of every regulated model, every signature and baseline, in one
    filterable, paginated table (21 CFR 11.10(e)); queries do not grow with the data."""
    form, filters, products = _trail_form(request)
    qs = trail.trail_entries(request.user, filters, products)
    page = paginate(request, qs, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    types = dict(trail.record_types())
    return render(
        request,
        "riskbench/audit_trail.html",
        {
            "form": form,
            "page": page,
            "entries": [
                (
                    e,
                    trail.action_label(e),
                    types.get(e.model_label, e.model_label),
                    trail.entry_user(e),
                )
                for e in page.object_list
            ],
            "query": query.urlencode(),
        },
    )


@require_GET
def audit_trail_csv(request):
    """The filtered trail as CSV, streamed; the export itself is access-logged."""
    form, filters, products = _trail_form(request)
    qs = trail.trail_entries(request.user, filters, products)
    product = next((p for p in products if p.slug == filters.get("product")), None)
    record_access(
        request.user,
        AccessAction.EXPORT,
        f"Audit trail CSV ({request.GET.urlencode() or 'no filter'})",
        request,
        product=product,
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(trail.trail_csv_rows(qs), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response


@require_GET
def access_log(request):
    """Logins, failed logins, lock-outs, logouts, signatures and exports (11.10(d), 11.300)."""
    products = trail.visible_products(request.user)
    form = AccessFilterForm(request.GET, products=products)
    filters = _fitting_filters(request, form)
    if request.GET.get("product") and not filters.get("product"):
        raise Http404("No such product.")
    qs = trail.access_entries(request.user, filters, products)
    page = paginate(request, qs, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "riskbench/access_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@require_GET
def access_log_csv(request):
    products = trail.visible_products(request.user)
    form = AccessFilterForm(request.GET, products=products)
    filters = _fitting_filters(request, form)
    if request.GET.get("product") and not filters.get("product"):
        raise Http404("No such product.")
    qs = trail.access_entries(request.user, filters, products)
    record_access(
        request.user,
        AccessAction.EXPORT,
        f"Access log CSV ({request.GET.urlencode() or 'no filter'})",
        request,
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(trail.access_csv_rows(qs), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="access-log-{stamp}.csv"'
    return response


@require_GET
def open_record(request, label, object_id):
    """Follow a trail entry to its record's page; a record without a page of its own (a link,
    a test run) or a deleted one shows its trail instead."""
    entry = (
        AuditChainEntry.objects.filter(model_label=label, object_id=object_id)
        .select_related("product")
        .order_by("-id")
        .first()
    )
    if entry is None or (entry.product and not roles.is_member(request.user, entry.product)):
        raise Http404("No such record.")
    url = f"{reverse('core:audit_trail')}?model={label}&object={object_id}"
    record = apps.get_model(label)._base_manager.filter(pk=object_id).first()
    if isinstance(record, Signature):
        record = record.content_type.get_object_for_this_type(pk=record.object_id)
        url = signatures.record_url(record)
    elif record is not None:
        with contextlib.suppress(AttributeError, NoReverseMatch):
            url = record.get_absolute_url()
    return redirect(url)


# --- Error pages ---------------------------------------------------------------------------------
# Styled, saying why and where to go. The 404 page never repeats the exception's text, so a
# product that exists but is not yours looks exactly like one that does not exist.


def permission_denied(request, exception=None):
    reason = str(exception) if exception is not None and str(exception) else ""
    return render(request, "403.html", {"reason": reason}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", {"path": request.path}, status=404)


def server_error(request):
    """No context processors, no database: the page must render whatever broke."""
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render())
