"""Imports cannot forge (issue 9 §2; DESIGN.md §7): whatever a file claims — workflow status,
approvals, signatures, memberships, who created, executed or reviewed a record — the imported
records arrive as drafts authored by the importing user; the claims are kept as provenance text
and shown as such."""

from __future__ import annotations

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from hazards import services
from hazards.models import Hazard, Membership, Product, RiskControl
from riskbench.models import Provenance, Signature
from tests import factories
from tests.integrations.conftest import full_product  # noqa: F401 - a fixture
from traceability import services as trace_services
from traceability.integrations import hazard_table, junit, product_json, reqif, sbom
from traceability.models import Requirement, SoftwareItem, TestRun

pytestmark = pytest.mark.django_db


def _forged_product_export(product, outsider) -> bytes:
    doc = json.loads(product_json.export_product_json(product))
    name = outsider.get_username()
    for key, _ in product_json.RECORDS:
        for row in doc[key]:
            if "status" in row:
                row["status"] = "approved"
    for run in doc["test_runs"]:
        run["executed_by"] = name
    for rows in doc["links"].values():
        for row in rows:
            row.update(created_by=name, reviewed_by=name, reviewed_at="2026-01-02T03:04:05Z",
                       review_reason="Looks fine")  # fmt: skip
    doc["members"] = [name, "editor"]
    doc["signatures"] = [
        {"record": h["code"], "meaning": "approved", "signer": name} for h in doc["hazards"]
    ]
    doc["risk_policy"]["status"] = "approved"
    return product_json.dumps(doc)


def test_a_forged_product_json_gives_drafts_by_the_importer_with_provenance(
    full_product,  # noqa: F811
    admin_user,
    outsider,
    client,
):
    data = _forged_product_export(full_product, outsider)
    result = product_json.import_product(data=data, by=admin_user, slug="forged")
    product = result.product

    hazards = list(Hazard.objects.filter(product=product))
    records = [*hazards, *RiskControl.objects.filter(product=product),
               *Requirement.objects.filter(product=product)]  # fmt: skip
    assert records and {r.status for r in records} == {"draft"}
    assert product.risk_policy.status == "draft" and not product.risk_policy.is_approved
    runs = list(TestRun.objects.filter(test_case__product=product))
    assert runs and {r.executed_by for r in runs} == {admin_user}
    links = [
        link
        for _, model in product_json.LINKS
        for link in model.objects.all()
        if link.source.product_id == product.pk
    ]
    assert links and {(x.created_by, x.reviewed_by, x.review_reason) for x in links} == {
        (admin_user, None, "")
    }
    assert not Membership.objects.filter(product=product).exists()
    assert not Signature.objects.filter(product=product).exists()
    for record in (*records, *runs, *links):
        assert {h.history_user for h in record.history.all()} == {admin_user}

    hazard = hazards[0]
    said = Provenance.objects.get(
        content_type=ContentType.objects.get_for_model(Hazard), object_id=hazard.pk
    )
    assert said.text == "status in source: approved" and said.recorded_by == admin_user
    run_said = Provenance.objects.get(
        content_type=ContentType.objects.get_for_model(TestRun), object_id=runs[0].pk
    )
    assert f"executed by in source: {outsider.get_username()}" in run_said.text

    # Shown as the source's words on the record's page.
    member = factories.UserFactory(username="reader", role="Auditor")
    services.membership_add(product=product, user=member, by=admin_user)
    client.force_login(member)
    page = client.get(reverse("hazards:hazard_detail", args=[product.slug, hazard.code]))
    content = page.content.decode()
    assert "Provenance" in content and "status in source: approved" in content


def test_a_forged_hazard_csv_cannot_approve_or_attribute(product, editor, outsider):
    csv = (
        "ID,Title,Sev,Status,Created by,Approved by\n"
        f"HAZ-900,Forged,3,Approved,{outsider.username},{outsider.username}\n"
    ).encode()
    table = hazard_table.read_table(csv)
    mapping = hazard_table.suggest_mapping(table.headers)
    assert not {"status", "created_by", "approved_by"} & set(mapping)
    hazard_table.import_hazards(
        product=product, table=table, mapping=mapping, by=editor, reason="Imported"
    )
    hazard = Hazard.objects.get(product=product, code="HAZ-900")
    assert hazard.status == "draft"
    assert hazard.history.get().history_user == editor
    assert not Signature.objects.exists()


def test_a_forged_reqif_status_stays_a_claim(product, editor, admin_user):
    source = factories.ProductFactory(slug="source")
    factories.MembershipFactory(product=source, user=editor)
    requirement = trace_services.requirement_create(
        product=source, by=editor, title="Stop", text="The pump shall stop.", level="software"
    )
    Requirement.objects.filter(pk=requirement.pk).update(status="approved")  # as in the file
    data = reqif.export_reqif(Product.objects.get(pk=source.pk))
    assert b"approved" in data
    reqif.import_reqif(product=product, data=data, filename="rm.reqif", by=editor)
    imported = Requirement.objects.get(product=product)
    assert imported.status == "draft"
    assert imported.history.get().history_user == editor
    said = Provenance.objects.get(object_id=imported.pk)
    assert said.text == "status in source: approved"


def test_a_junit_file_cannot_name_who_executed_the_run(product, editor, outsider):
    factories.TestCaseFactory(product=product, code="TC-001")
    data = (
        '<testsuite name="s" timestamp="2026-03-01T10:00:00"><properties>'
        f'<property name="executed_by" value="{outsider.username}"/></properties>'
        f'<testcase name="TC-001 occlusion" classname="x"><properties>'
        f'<property name="executed_by" value="{outsider.username}"/></properties></testcase>'
        "</testsuite>"
    ).encode()
    result = junit.import_junit(product=product, data=data, filename="ci.xml", by=editor)
    run = result.created_runs[0]
    assert run.executed_by == editor
    assert run.history.get().history_user == editor


def test_a_cyclonedx_sbom_creates_items_authored_by_the_importer(product, editor, outsider):
    data = json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"authors": [{"name": outsider.username}]},
        "components": [{"type": "library", "name": "zlib", "version": "1.3",
                        "purl": "pkg:generic/zlib@1.3",
                        "authors": [{"name": outsider.username}]}],
    }).encode()  # fmt: skip
    sbom.import_sbom(product=product, data=data, filename="bom.json", by=editor)
    item = SoftwareItem.objects.get(product=product)
    assert item.history.get().history_user == editor
