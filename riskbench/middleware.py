from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpResponse, JsonResponse


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
