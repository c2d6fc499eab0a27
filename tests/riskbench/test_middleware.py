import json

import pytest
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import reverse

from riskbench.middleware import ControlCharacterMiddleware, RequestSizeLimitMiddleware
from tests import factories
from tests.api.conftest import token_client


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


# --- Control characters (issue 9 §4) ------------------------------------------------------------


def _guarded(request):
    return ControlCharacterMiddleware(lambda r: HttpResponse("reached the view"))(request)


@pytest.mark.parametrize(
    ("path", "named"),
    [
        (
            "/p/insulin-pump/hazards/HAZ-001\x00/",
            "Path segment 4 ('HAZ-001\\x00') contains a NUL character",
        ),
        ("/p/insulin\x1b-pump/", "contains a control character (U+001B)"),
        ("/api/products/x\x7f/", "contains a control character (U+007F)"),
    ],
)
def test_a_control_character_in_a_path_segment_is_refused_naming_it(path, named):
    response = _guarded(RequestFactory().get(path))
    assert response.status_code == 400
    assert named in response.content.decode()


def test_a_nul_in_a_query_value_or_name_is_refused_naming_the_parameter():
    response = _guarded(RequestFactory().get("/p/x/hazards/", {"owner": "ed\x00itor"}))
    assert response.status_code == 400
    assert "query parameter 'owner' contains a NUL character" in response.content.decode()
    response = _guarded(RequestFactory().get("/p/x/hazards/?ow%00ner=1"))
    assert (
        response.status_code == 400 and "The name of query parameter" in response.content.decode()
    )


def test_a_nul_in_a_form_field_is_refused_but_a_newline_or_tab_in_a_query_is_not():
    response = _guarded(RequestFactory().post("/p/x/hazards/new/", {"title": "Over\x00dose"}))
    assert response.status_code == 400
    assert "form field 'title'" in response.content.decode()
    fine = _guarded(RequestFactory().get("/p/x/search/", {"q": "two\nlines\tand tab"}))
    assert fine.content == b"reached the view"
    typed = _guarded(RequestFactory().post("/p/x/hazards/new/", {"title": "bell\x07 is fine"}))
    assert typed.content == b"reached the view"


def test_the_api_gets_a_json_400():
    response = _guarded(RequestFactory().get("/api/products/x/hazards/", {"status": "\x00"}))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "'status'" in json.loads(response.content)["detail"]


def test_a_multipart_body_that_cannot_be_parsed_is_a_400():
    request = RequestFactory().post(
        "/p/x/io/hazards/", data=b"garbage", content_type="multipart/form-data"
    )
    response = _guarded(request)
    assert response.status_code == 400
    assert "form data cannot be read" in response.content.decode()


# --- Cache-Control (issue 9 §5) -----------------------------------------------------------------


def _no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_every_authenticated_answer_is_no_store_and_private(editor_client, editor, product):
    factories.HazardFactory(product=product, code="HAZ-001")
    test_case = factories.TestCaseFactory(product=product, code="TC-001")
    run = factories.TestRunFactory.build(test_case=test_case, evidence_name="r.txt")
    run.evidence.save("r.txt", ContentFile(b"passed"), save=False)
    run.save()
    answers = {
        "page": editor_client.get(reverse("hazards:dashboard", args=[product.slug])),
        "404": editor_client.get("/p/no-such-product/"),
        "export": editor_client.get(
            reverse("integrations:hazards_export", args=[product.slug]) + "?format=csv"
        ),
        "evidence": editor_client.get(
            reverse("traceability:evidence_download", args=[product.slug, "TC-001", run.pk])
        ),
        "api": token_client(editor).get(f"/api/products/{product.slug}/hazards/"),
        "api 404": token_client(editor).get("/api/products/no-such-product/hazards/"),
    }
    for what, response in answers.items():
        assert _no_store(response), (what, response.status_code, response.get("Cache-Control"))


def test_static_files_keep_their_own_caching(editor_client):
    response = editor_client.get("/static/css/riskbench.css")
    assert response.status_code == 200
    assert not _no_store(response)
