import re

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.cache import patch_cache_control


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page requires login; the API answers 401/403 itself instead of redirecting.

    DRF views authenticate by token as well as by session, so the redirect to the login page
    would be wrong for a CI job posting JUnit results.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class RequestSizeLimitMiddleware:
    """Refuse an over-sized request from its Content-Length, before Django reads the body.

    Views still check each uploaded file against RISKBENCH_MAX_UPLOAD_BYTES with a message that
    names the file; this guard stops a 100 MB upload from being spooled to disk at all.
    """

    MARGIN = 1024 * 1024  # multipart framing and the other form fields

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.RISKBENCH_MAX_UPLOAD_BYTES + self.MARGIN
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            megabytes = settings.RISKBENCH_MAX_UPLOAD_BYTES // (1024 * 1024)
            message = f"The upload is too large: files may be at most {megabytes} MB."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


# C0 control characters and DEL. None names anything in a URL; NUL cannot even reach
# PostgreSQL (psycopg refuses it in a query parameter), the others are refused alike so a
# hostile URL gets the same answer on every database.
_PATH_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# In query values tab, line feed and carriage return may be typed (a pasted search text).
_QUERY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Form fields are text a person typed: only NUL, which no database text column can hold.
_FORM_CONTROL = re.compile(r"\x00")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _describe(char: str) -> str:
    return "a NUL character" if char == "\x00" else f"a control character (U+{ord(char):04X})"


def _shown(text: str) -> str:
    """`text` quoted for a message, its control characters written as \\xNN."""
    visible = _PATH_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text[:60])
    return f"'{visible}'"


def control_character_problem(request) -> str | None:
    """The first control character in the request's path, query or form fields, as a message
    that names where it is; None when there is none."""
    match = _PATH_CONTROL.search(request.path)
    if match:
        for index, segment in enumerate(request.path.split("/")):
            found = _PATH_CONTROL.search(segment)
            if found:
                return (
                    f"Path segment {index} ({_shown(segment)}) contains {_describe(found.group())}."
                )
    for where, data, pattern in (
        ("query parameter", request.GET, _QUERY_CONTROL),
        ("form field", _form_data(request), _FORM_CONTROL),
    ):
        for key, values in data.lists():
            found = pattern.search(key)
            if found:
                return f"The name of {where} {_shown(key)} contains {_describe(found.group())}."
            for value in values:
                found = pattern.search(value)
                if found:
                    return f"The {where} {_shown(key)} contains {_describe(found.group())}."
    return None


def _form_data(request):
    """The form fields of a POST (not files; nothing for JSON or XML bodies, whose parsers
    check their own content)."""
    if request.method != "POST" or not request.content_type.startswith(_FORM_TYPES):
        return QueryDict()
    return request.POST


class ControlCharacterMiddleware:
    """Answer 400, naming the parameter, when a path segment, query parameter or form field
    holds a control character (issue 9 §4) — one place, before any view or query runs, so a
    NUL is refused alike on SQLite and PostgreSQL instead of failing inside a query there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            problem = control_character_problem(request)
        except MultiPartParserError as exc:
            problem = f"The form data cannot be read ({exc})."
        if problem:
            message = f"Bad request: {problem}"
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store, private` on every response the application renders (pages,
    API, downloads): a risk file, an evidence file or a token page must not stay in a shared
    proxy or the browser's cache after logout (21 CFR 11.10(d): access limited to authorised
    individuals). Static files never reach this middleware: WhiteNoise answers them first
    with its own long-lived caching headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response
