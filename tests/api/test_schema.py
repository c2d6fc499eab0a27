"""The OpenAPI schema is valid and complete, its viewers load nothing from a CDN, and a bounded,
seeded schemathesis run over every operation finds no server error.

The schemathesis run calls the Django WSGI application in-process (no server, no network) as
an editor with a token, on factory data of one product, with a fixed number of examples per
operation and a derandomised generator, so it is repeatable and takes seconds.
"""

import json
import os
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.api.conftest import api_endpoints, populate, token_client

# Per operation and generation mode: ~1,000 requests in all. Raise it for a deeper local run:
# RISKBENCH_FUZZ_EXAMPLES=100 .venv/bin/pytest tests/api/test_schema.py -k schemathesis
MAX_EXAMPLES = int(os.environ.get("RISKBENCH_FUZZ_EXAMPLES", "6"))


def test_schema_generates_without_warnings_or_errors(db):
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
    operations = {
        (path, method.upper()) for path, item in schema["paths"].items() for method in item
    }
    routed = {(p.replace("{pk}", "{id}"), m) for p, m in api_endpoints() if p.startswith("/api/")}
    # Every routed operation is documented (the schema and its viewers are not API operations).
    viewers = {("/api/docs/", "GET"), ("/api/redoc/", "GET"), ("/api/schema/", "GET")}
    assert routed - viewers <= operations
    assert len(operations) > 70


def test_schema_is_served_as_json(auditor_api):
    response = auditor_api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["info"]["title"] == "RiskBench API"
    assert "/api/products/{product_slug}/hazards/{code}/" in schema["paths"]


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_load_their_assets_locally(url, auditor_api):
    html = auditor_api.get(url).content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs", "https://"):
        assert cdn not in html


@contextmanager
def shared_test_connection():
    """Keep the test's database connection (and its transaction) across WSGI requests, as
    Django's test client does: the handler would otherwise close it between requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def existing_record_parameters(path: str, method: str, product, records: dict) -> dict:
    """Path parameters naming real records, so that reads and updates reach the serializers
    and the services instead of stopping at 404. DELETE keeps generated codes and ids (the
    records stay for the other operations)."""
    params = {"product_slug": product.slug}
    if method.upper() == "DELETE":
        return params
    if "{slug}" in path:
        params["slug"] = product.slug
    parts = path.strip("/").split("/")
    record = records.get(parts[3]) if len(parts) > 4 else None
    if record is not None and "{code}" in path:
        params["code"] = record.code
    if record is not None and "{id}" in path:
        params["id"] = record.pk
    return params


def current_version(path: str, product, records: dict) -> int | None:
    parts = path.strip("/").split("/")
    if "{slug}" in path:
        return type(product).objects.get(pk=product.pk).version
    record = records.get(parts[3]) if len(parts) > 4 else None
    if record is None or not hasattr(record, "version"):
        return None
    fresh = type(record).objects.filter(pk=record.pk).first()
    return fresh.version if fresh else None


# Body fields that name another record of the product by code, and the collection it is in.
REFERENCES = {
    "hazard": "hazards",
    "safety_hazard": "hazards",
    "security_hazard": "hazards",
    "control": "controls",
    "requirement": "requirements",
    "test_case": "test-cases",
    "software_item": "software-items",
}


def point_references_at_real_records(case, records: dict) -> None:
    """Generated codes almost never exist; naming real records makes links, runs and parents
    reach the services (duplicates, cycles, wrong categories…) instead of stopping at 400."""
    if not isinstance(case.body, dict):
        return
    parts = case.operation.path.strip("/").split("/")
    collection = parts[3] if len(parts) > 3 else ""
    for name in list(case.body):
        if name == "parent" and collection in ("requirements", "software-items"):
            target = collection
        elif name in REFERENCES and not (collection == "hazards" and name == "hazard"):
            target = REFERENCES[name]  # (a hazard's `hazard` is its text, not a reference)
        else:
            continue
        case.body[name] = records[target].code


def test_schemathesis_finds_no_server_error(product, other_product, editor):
    """Every operation, positive and (where a body or query exists) negative examples, as the
    product's editor. Updates are sent with the record's current version so that the
    generated data reaches the services' validation rather than stopping at 409."""
    records = populate(product)
    populate(other_product)
    token = Token.objects.create(user=editor).key
    headers = {"Authorization": f"Token {token}"}
    raw = json.loads(token_client(editor).get("/api/schema/", {"format": "json"}).content)
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_dict(raw)
    failures = []
    operations = 0
    with shared_test_connection():
        # Deletions last, so that reads, updates and reviews still find the records.
        all_operations = sorted(
            (result.ok() for result in schema.get_all_operations()),
            key=lambda op: op.method.upper() == "DELETE",
        )
        for operation in all_operations:
            operations += 1
            modes = [GenerationMode.POSITIVE]
            if operation.body or operation.query:
                # Only a body or query parameters can be made invalid; the other parameters
                # are free strings (codes, reasons) or fixed (the product, the record).
                modes.append(GenerationMode.NEGATIVE)
            params = existing_record_parameters(operation.path, operation.method, product, records)
            for mode in modes:
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=params)

                @settings(
                    max_examples=MAX_EXAMPLES,
                    derandomize=True,
                    database=None,
                    deadline=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=strategy)
                def run(case):
                    if isinstance(case.body, dict) and case.method in ("PUT", "PATCH"):
                        version = current_version(case.operation.path, product, records)
                        if version is not None:
                            case.body["version"] = version
                    if case.headers:
                        case.headers.pop("If-Match", None)
                    point_references_at_real_records(case, records)
                    response = case.call(app=app, headers=headers)
                    case.validate_response(response, checks=[not_a_server_error])

                try:
                    run()
                except Exception as exc:  # collect every failing operation, not just the first
                    failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert operations > 70
    assert not failures, "\n\n".join(failures)
