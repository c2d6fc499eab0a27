"""Every importer with a preview refuses, at confirm, a plan the records moved away from
(issue 9 §1; DESIGN.md §7): the hazard table (CSV/XLSX), the CycloneDX SBOM and ReqIF."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hazards import services
from hazards.models import Hazard
from traceability import services as trace_services
from traceability.integrations import reqif, sbom
from traceability.integrations.confirm import ImportConflict, decode_versions
from traceability.integrations.models import StagedUpload
from traceability.models import Requirement, SoftwareItem

pytestmark = pytest.mark.django_db


def _url(name, product):
    return reverse(f"integrations:{name}", args=[product.slug])


def _hazard_preview(client, product, csv: bytes):
    response = client.post(
        _url("hazards_import", product), {"file": SimpleUploadedFile("log.csv", csv)}
    )
    preview = client.get(response.url)
    assert preview.context["plan"].ok
    data = {"upload": preview.context["staged"].pk, "action": "confirm"}
    data.update(preview.context["form"].initial)
    return preview, data


def test_a_hazard_confirm_without_the_planned_versions_writes_nothing(
    editor_client, editor, product
):
    hazard = services.hazard_create(
        product=product, by=editor, title="Old", category="safety", severity=2
    )
    _, data = _hazard_preview(editor_client, product, f"ID,Title\n{hazard.code},New\n".encode())
    response = editor_client.post(_url("hazards_preview", product), data, follow=True)
    assert "does not say which versions" in response.content.decode()
    hazard.refresh_from_db()
    assert (hazard.title, hazard.history.count()) == ("Old", 1)


def test_a_hazard_edited_after_the_preview_refuses_the_confirm_page_naming_it(
    editor_client, editor, product
):
    hazard = services.hazard_create(
        product=product, by=editor, title="Old", category="safety", severity=2
    )
    csv = f"ID,Title\n{hazard.code},From the file\n,A new one\n".encode()
    preview, data = _hazard_preview(editor_client, product, csv)
    data["planned_versions"] = preview.context["planned_versions"]
    assert decode_versions(data["planned_versions"]) == {hazard.code: 1}
    services.hazard_update(
        hazard=hazard, by=editor, reason="meanwhile", title="Edited meanwhile", expected_version=1
    )
    response = editor_client.post(_url("hazards_preview", product), data, follow=True)
    assert f"{hazard.code} (v1 planned, v2 now)" in response.content.decode()
    assert Hazard.objects.filter(product=product).count() == 1  # the new row is not created
    hazard.refresh_from_db()
    assert (hazard.title, hazard.version, hazard.history.count()) == ("Edited meanwhile", 2, 2)
    assert StagedUpload.objects.exists()  # the user can preview again


def _sbom(version: str) -> bytes:
    return json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "components": [{"type": "library", "name": "zlib", "version": version,
                        "purl": f"pkg:generic/zlib@{version}"}],
    }).encode()  # fmt: skip


def test_an_sbom_confirm_refuses_when_a_soup_item_moved_since_the_preview(editor, product):
    item = trace_services.software_item_create(
        product=product, by=editor, name="zlib", is_soup=True, soup_version="1.2",
        purl="pkg:generic/zlib@1.2", safety_class="B",
    )  # fmt: skip
    preview = sbom.import_sbom(
        product=product, data=_sbom("1.3"), filename="bom.json", by=editor, dry_run=True
    )
    planned = preview.planned_versions()
    assert planned == {item.code: 1}
    trace_services.software_item_update(
        item=item, by=editor, reason="meanwhile", soup_version="1.2.13", expected_version=1
    )
    with pytest.raises(ImportConflict) as refused:
        sbom.import_sbom(
            product=product, data=_sbom("1.3"), filename="bom.json", by=editor,
            expected_versions=planned,
        )  # fmt: skip
    assert refused.value.changed == [(item.code, 1, 2)]
    item.refresh_from_db()
    assert (item.soup_version, item.history.count()) == ("1.2.13", 2)
    assert SoftwareItem.objects.filter(product=product).count() == 1


def test_a_reqif_confirm_refuses_when_a_requirement_moved_since_the_preview(editor, product):
    requirement = trace_services.requirement_create(
        product=product, by=editor, title="Stop", text="The pump shall stop.", level="software"
    )
    data = reqif.export_reqif(product)
    preview = reqif.import_reqif(
        product=product, data=data, filename="rm.reqif", by=editor, dry_run=True
    )
    assert preview.planned == {requirement.code: 1}
    trace_services.requirement_update(
        requirement=requirement, by=editor, reason="meanwhile", text="Stop within 2 s.",
        expected_version=1,
    )  # fmt: skip
    with pytest.raises(ImportConflict) as refused:
        reqif.import_reqif(
            product=product, data=data, filename="rm.reqif", by=editor,
            expected_versions=preview.planned,
        )  # fmt: skip
    assert refused.value.changed == [(requirement.code, 1, 2)]
    requirement.refresh_from_db()
    assert (requirement.text, requirement.history.count()) == ("Stop within 2 s.", 2)
    assert Requirement.objects.filter(product=product).count() == 1
