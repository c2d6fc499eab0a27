"""Walk EVERY URL pattern of the project and check who may use it (brief, non-negotiable 4):

* anonymous → redirected to the login page (pages) or 401/403 (API);
* auditor (member, read-only) → GET works, every POST is refused with 403 and changes nothing;
* member of another product → 404 (or 403), never the data.

A new URL without a sample below makes this test fail on purpose: add its arguments.
"""

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from hazards.models import ControlIntroducedHazard, HazardTransfer
from tests import factories
from tests.postmarket.samples import postmarket_kwargs, postmarket_world
from traceability.dossier.models import DossierExport

SKIPPED_PREFIXES = ("admin:", "login", "logout", "password_")


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            prefix = f"{namespace}{ns}:" if ns else namespace
            yield from _walk(entry.url_patterns, prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", list(entry.pattern.regex.groupindex)


def all_url_names():
    seen = {}
    for name, params in _walk(get_resolver().url_patterns):
        if name.startswith(SKIPPED_PREFIXES) or name in seen:
            continue
        seen[name] = params
    return sorted(seen.items())


@pytest.fixture
def world(product, editor, auditor, outsider):
    """One record of every kind on `product`, so every URL has something real to show."""
    hazard = factories.HazardFactory(product=product, code="HAZ-001", category="safety")
    security = factories.HazardFactory(
        product=product, code="HAZ-002", category="security", title="Spoofed bolus"
    )
    control = factories.RiskControlFactory(product=product, code="RC-001")
    reduces = factories.HazardControlFactory(hazard=hazard, control=control)
    requirement = factories.RequirementFactory(product=product, code="SRS-001")
    test_case = factories.TestCaseFactory(product=product, code="TC-001")
    run = factories.TestRunFactory.build(test_case=test_case, evidence_name="report.txt")
    run.evidence.save("report.txt", ContentFile(b"TC-001 passed"), save=False)
    run.save()
    item = factories.SoftwareItemFactory(product=product, code="SW-001")
    links = {
        "control_requirement": factories.ControlRequirementFactory(
            control=control, requirement=requirement
        ),
        "requirement_test": factories.RequirementTestFactory(
            requirement=requirement, test_case=test_case
        ),
        "item_hazard": factories.SoftwareItemHazardFactory(software_item=item, hazard=hazard),
    }
    links["implementation"] = factories.ControlImplementationTestFactory(
        control=control, test_case=test_case
    )
    links["effectiveness"] = factories.ControlEffectivenessTestFactory(
        control=control, test_case=test_case
    )
    links["introduces"] = ControlIntroducedHazard.objects.create(control=control, hazard=security)
    links["transfer"] = HazardTransfer.objects.create(
        security_hazard=security, safety_hazard=hazard
    )
    dossier_export = DossierExport(product=product, created_by=editor, status="done")
    dossier_export.file.save("RMF-test.pdf", ContentFile(b"%PDF-1.4 sample"), save=False)
    dossier_export.save()
    from traceability.baselines.services import baseline_create

    baseline = baseline_create(product=product, name="Release 1", by=None, sign=False)
    from traceability.report.services import report_create

    report = report_create(product=product, by=editor, release="2.1")
    world = {
        "report": report,
        "dossier_export": dossier_export,
        "baseline": baseline,
        "product": product,
        "hazard": hazard,
        "security": security,
        "control": control,
        "reduces": reduces,
        "requirement": requirement,
        "test_case": test_case,
        "run": run,
        "item": item,
        "links": links,
        "policy": product.risk_policy,
    }
    world.update(postmarket_world(product, editor, world))
    return world


def sample_kwargs(name: str, params: list[str], world) -> dict | None:
    """Arguments for URL `name`, or None when no sample is known (the test then fails)."""
    product = world["product"]
    specific = {
        "hazards:policy_detail": {"pk": world["policy"].pk},
        "hazards:policy_edit": {"pk": world["policy"].pk},
        "hazards:hazard_unlink": {
            "slug": product.slug,
            "code": world["hazard"].code,
            "kind": "reduces",
            "link_id": world["reduces"].pk,
        },
    }
    links = world["links"]
    specific.update(
        {
            "traceability:impact": {
                "slug": product.slug, "kind": "hazard", "code": world["hazard"].code
            },
            "traceability:test_run_create": {"slug": product.slug, "code": world["test_case"].code},
            "traceability:evidence_download": {
                "slug": product.slug, "code": world["test_case"].code, "run_id": world["run"].pk
            },
            "traceability:link_delete": {
                "slug": product.slug,
                "kind": "implemented_by",
                "link_id": links["control_requirement"].pk,
            },
            "traceability:suspect_link_clear": {
                "slug": product.slug,
                "kind": "verified_by",
                "link_id": links["requirement_test"].pk,
            },
        }
    )  # fmt: skip
    specific.update(
        {
            "core:record_signatures": {"kind": "hazard", "pk": world["hazard"].pk},
            "core:sign": {"kind": "hazard", "pk": world["hazard"].pk},
            "core:open_record": {"label": "hazards.hazard", "object_id": str(world["hazard"].pk)},
            "baselines:detail": {"slug": product.slug, "pk": world["baseline"].pk},
            "baselines:json": {"slug": product.slug, "pk": world["baseline"].pk},
        }
    )
    specific.update(
        {
            "dossier:download": {"slug": product.slug, "pk": world["dossier_export"].pk},
            "dossier:status": {"slug": product.slug, "pk": world["dossier_export"].pk},
        }
    )
    specific.update(
        {
            f"report:{name}": {"slug": product.slug, "pk": world["report"].pk}
            for name in ("detail", "edit", "history", "status")
        }
    )
    if name in specific:
        return specific[name]
    if name.startswith("postmarket:"):
        return postmarket_kwargs(name, params, world)
    if name.startswith("api:") and "pk" in params:
        record = api_link_for(name, world)
        if record is None:
            return None
        return {"product_slug": product.slug, "pk": record.pk}
    kwargs = {}
    for param in params:
        if param in ("slug", "product_slug"):
            kwargs[param] = product.slug
        elif param == "code":
            kwargs["code"] = code_for(name, world)
            if kwargs["code"] is None:
                return None
        else:
            return None
    return kwargs


API_LINKS = {
    "hazard-control": "reduces",
    "control-introduced-hazard": "introduces",
    "hazard-transfer": "transfer",
    "control-requirement": "control_requirement",
    "requirement-test": "requirement_test",
    "control-implementation-test": "implementation",
    "control-effectiveness-test": "effectiveness",
    "software-item-hazard": "item_hazard",
}


def api_link_for(name: str, world):
    short = name.split(":")[-1].rsplit("-", 1)[0]  # "hazard-control-detail" → "hazard-control"
    if short == "test-run":
        return world["run"]
    key = API_LINKS.get(short)
    if key == "reduces":
        return world["reduces"]
    return world["links"].get(key) if key else None


def code_for(name: str, world) -> str | None:
    short = name.split(":")[-1].replace("-", "_")
    for key, record in (
        ("software_item", world["item"]),
        ("requirement", world["requirement"]),
        ("test_case", world["test_case"]),
        ("control", world["control"]),
        ("hazard", world["hazard"]),
    ):
        if short.startswith(key):
            return record.code
    return None


def history_total() -> int:
    """Rows in every historical table: any change to a regulated record adds one."""
    total = 0
    for model in apps.get_models():
        if model.__name__.startswith("Historical"):
            total += model.objects.count()
    return total


def page_urls(world):
    urls, missing = [], []
    for name, params in all_url_names():
        kwargs = sample_kwargs(name, params, world)
        if kwargs is None:
            missing.append(f"{name} {params}")
            continue
        urls.append((name, reverse(name, kwargs=kwargs)))
    return urls, missing


def test_every_url_has_a_sample(world):
    _, missing = page_urls(world)
    assert not missing, "Add samples in tests/test_all_urls.py for: " + ", ".join(missing)


def test_anonymous_is_sent_to_login_or_refused(client, world):
    urls, _ = page_urls(world)
    assert urls
    for name, url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if url.startswith("/api/") and response.status_code != 302:
                assert response.status_code in (401, 403), (method, name, url)
            else:
                assert response.status_code == 302, (method, name, url, response.status_code)
                assert response.url.startswith(reverse("login")), (name, url)


# An auditor may make an API token for their own read-only access, and may generate a dossier
# (issue 4: "an auditor may generate and download"): neither changes the risk file.
OWN_ACCOUNT_ACTIONS = {"api:token", "dossier:generate"}

# Pages whose only purpose is to change something (forms): an auditor is refused at GET too.
WRITE_PAGE_WORDS = ("create", "edit", "new", "import", "generate", "sign", "token", "preview")


def test_auditor_reads_everything_and_changes_nothing(auditor_client, world):
    urls, _ = page_urls(world)
    before = history_total()
    for name, url in urls:
        response = auditor_client.get(url)
        allowed = {200, 302, 405}
        if any(word in name.split(":")[-1] for word in WRITE_PAGE_WORDS):
            allowed.add(403)
        assert response.status_code in allowed, (name, url, response.status_code)
        if name in OWN_ACCOUNT_ACTIONS:
            continue
        response = auditor_client.post(url, {"reason": "x", "change_reason": "x"})
        assert response.status_code in (403, 405), (name, url, response.status_code)
    assert history_total() == before


def test_member_of_another_product_sees_nothing(outsider_client, world):
    urls, _ = page_urls(world)
    product_urls = [(n, u) for n, u in urls if world["product"].slug in u]
    assert product_urls
    for name, url in product_urls:
        for method in ("get", "post"):
            response = getattr(outsider_client, method)(url)
            assert response.status_code in (403, 404, 405), (method, name, url)
