from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from riskbench.middleware import RequestSizeLimitMiddleware


def _middleware():
    return RequestSizeLimitMiddleware(lambda request: HttpResponse("reached the view"))


@override_settings(RISKBENCH_MAX_UPLOAD_BYTES=20 * 1024 * 1024)
def test_a_100_mb_upload_is_refused_before_the_body_is_read():
    request = RequestFactory().post(
        "/p/x/io/hazards/", data=b"", content_type="multipart/form-data; boundary=x"
    )
    request.META["CONTENT_LENGTH"] = str(100 * 1024 * 1024)
    response = _middleware()(request)
    assert response.status_code == 413
    assert b"at most 20 MB" in response.content


@override_settings(RISKBENCH_MAX_UPLOAD_BYTES=20 * 1024 * 1024)
def test_the_api_gets_a_json_413():
    request = RequestFactory().post(
        "/api/products/x/junit/", data=b"", content_type="application/xml"
    )
    request.META["CONTENT_LENGTH"] = str(100 * 1024 * 1024)
    response = _middleware()(request)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"


def test_a_normal_request_reaches_the_view():
    request = RequestFactory().post("/p/x/io/hazards/", data={"a": "b"})
    assert _middleware()(request).content == b"reached the view"
