import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from hazards.models import Hazard, Product
from tests import factories
from tests.integrations.helpers import JUNIT_PASS_FAIL, db_counts
from traceability.integrations import product_json, reqif
from traceability.integrations.models import ImportMapping, StagedUpload
from traceability.models import Requirement, SoftwareItem, TestRun

READ_PAGES = ["index", "hazards_import", "junit_import", "sbom_import", "reqif_import"]
DOWNLOADS = ["hazards_export", "matrix_export", "reqif_export", "product_export"]
PREVIEWS = ["hazards_preview", "sbom_preview", "reqif_preview"]
WRITES = ["hazards_import", "hazards_preview", "junit_import", "sbom_import", "sbom_preview",
          "reqif_import", "reqif_preview", "product_import"]  # fmt: skip
ALL = sorted(set(READ_PAGES + DOWNLOADS + PREVIEWS + WRITES))
ADMIN_ONLY = ["product_import"]  # creates a product: administrators only

CSV = b"ID,Title,Sev,Prob\nHAZ-001,Over-delivery,4,2\n"
SBOM = json.dumps({
    "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
    "components": [{"type": "library", "name": "zlib", "version": "1.3",
                    "purl": "pkg:generic/zlib@1.3"}],
}).encode()  # fmt: skip


def url(name, product, query=""):
    return reverse(f"integrations:{name}", args=[product.slug]) + query


def upload(name, data):
    return SimpleUploadedFile(name, data)


# --- Who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_anonymous_is_sent_to_login(client, product, name):
    for method in ("get", "post"):
        response = getattr(client, method)(url(name, product))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ALL)
def test_outsider_gets_404(outsider_client, product, name):
    for method in ("get", "post"):
        assert getattr(outsider_client, method)(url(name, product)).status_code in (404, 405)


@pytest.mark.parametrize("name", READ_PAGES + DOWNLOADS)
def test_auditor_reads_and_exports(auditor_client, product, name):
    response = auditor_client.get(url(name, product))
    assert response.status_code == 200


@pytest.mark.parametrize("name", WRITES)
def test_auditor_cannot_write(auditor_client, product, name):
    before = db_counts()
    data = {"file": upload("x.csv", CSV), "upload": "1", "action": "confirm", "slug": "new"}
    assert auditor_client.post(url(name, product), data).status_code == 403
    assert db_counts() == before


@pytest.mark.parametrize("name", READ_PAGES + DOWNLOADS)
def test_editor_reads_and_exports(editor_client, product, name):
    assert editor_client.get(url(name, product)).status_code == 200


@pytest.mark.parametrize("name", PREVIEWS)
def test_preview_without_an_upload_goes_back_to_the_form(editor_client, product, name):
    response = editor_client.get(url(name, product))
    assert response.status_code == 302


def test_someone_elses_staged_upload_is_not_found(client, product, editor, auditor):
    staged = StagedUpload.objects.create(
        product=product, kind="hazards", filename="x.csv", sha256="0" * 64, size=3,
        uploaded_by=editor, file="imports/x.csv",
    )  # fmt: skip
    other = factories.UserFactory(username="editor2", role="Quality engineer")
    factories.MembershipFactory(product=product, user=other)
    client.force_login(other)
    response = client.get(url("hazards_preview", product, f"?upload={staged.pk}"))
    assert response.status_code == 404


# --- Hazard log: upload → preview → confirm ----------------------------------------------------


def test_hazard_import_flow(editor_client, product, editor):
    response = editor_client.post(url("hazards_import", product), {"file": upload("log.csv", CSV)})
    assert response.status_code == 302 and "upload=" in response.url
    preview = editor_client.get(response.url)
    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert plan.created == 1 and plan.ok
    assert b"Confirm import" in preview.content
    assert not Hazard.objects.exists()  # the preview is a dry run

    staged = preview.context["staged"]
    form = preview.context["form"]
    data = {"upload": staged.pk, "action": "confirm", "save_as": "Supplier log"}
    data["planned_versions"] = preview.context["planned_versions"]
    data.update({k: v for k, v in form.initial.items()})
    response = editor_client.post(url("hazards_preview", product), data, follow=True)
    assert Hazard.objects.get().severity == 4
    assert "log.csv imported: 1 to create" in response.content.decode()
    assert ImportMapping.objects.get(name="Supplier log").columns["severity"] == "Sev"
    assert not StagedUpload.objects.exists()


def test_preview_shows_rejections_and_offers_no_confirm(editor_client, product):
    response = editor_client.post(
        url("hazards_import", product), {"file": upload("bad.csv", b"ID,Title,Sev\nH-1,x,9\n")}
    )
    preview = editor_client.get(response.url)
    content = preview.content.decode()
    assert "outside the policy&#x27;s severity scale" in content
    assert "Confirm import" not in content


def test_preview_with_another_mapping(editor_client, product):
    response = editor_client.post(
        url("hazards_import", product), {"file": upload("log.csv", b"Ref,Name\nH-1,Leak\n")}
    )
    preview = editor_client.get(response.url)
    assert preview.context["plan"].created == 1
    remapped = editor_client.get(response.url + "&col_code=Ref&col_title=Name")
    assert remapped.context["plan"].rows[0].code == "H-1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4", "PDF document"),
        (b"", "empty"),
        (b"ID,Title\n", "no data rows"),
        (b"ID,Title\nH-1,caf\xe9\n", "not valid UTF-8"),
    ],
)
def test_bad_hazard_file_gets_a_clear_message(editor_client, product, data, message):
    before = db_counts()
    response = editor_client.post(
        url("hazards_import", product), {"file": upload("bad.csv", data)}, follow=True
    )
    assert message in response.content.decode()
    assert Hazard.objects.count() == 0
    assert db_counts()["hazards.Hazard"] == before["hazards.Hazard"]


@override_settings(RISKBENCH_MAX_UPLOAD_BYTES=10)
def test_oversized_upload_is_refused(editor_client, product):
    response = editor_client.post(url("hazards_import", product), {"file": upload("x.csv", CSV)})
    assert response.status_code == 200
    assert "the limit is 10 bytes" in response.content.decode()
    assert not StagedUpload.objects.exists()


@pytest.mark.parametrize(("fmt", "start"), [("csv", b"\xef\xbb\xbfCode,"), ("xlsx", b"PK")])
def test_hazard_export_download(auditor_client, product, fmt, start):
    factories.HazardFactory(product=product)
    response = auditor_client.get(url("hazards_export", product, f"?format={fmt}"))
    assert response.content.startswith(start)
    assert f"{product.slug}-hazard-log.{fmt}" in response["Content-Disposition"]
    assert auditor_client.get(url("hazards_export", product, "?format=pdf")).status_code == 404


# --- JUnit, SBOM, ReqIF, product ----------------------------------------------------------------


def test_junit_page_records_runs(editor_client, product):
    factories.TestCaseFactory(product=product, code="TC-001")
    response = editor_client.post(
        url("junit_import", product), {"file": upload("ci.xml", JUNIT_PASS_FAIL)}
    )
    assert response.status_code == 200
    assert TestRun.objects.count() == 1
    assert "tests.test_misc.test_unrelated" in response.content.decode()
    again = editor_client.post(
        url("junit_import", product), {"file": upload("ci.xml", JUNIT_PASS_FAIL)}
    )
    assert "imported before" in again.content.decode()
    assert TestRun.objects.count() == 1


def test_sbom_preview_then_apply(editor_client, product):
    response = editor_client.post(url("sbom_import", product), {"file": upload("bom.json", SBOM)})
    preview = editor_client.get(response.url)
    assert len(preview.context["diff"].added) == 1
    assert not SoftwareItem.objects.exists()
    staged = preview.context["staged"]
    planned = preview.context["planned_versions"]
    editor_client.post(
        url("sbom_preview", product),
        {"upload": staged.pk, "action": "confirm", "planned_versions": planned},
    )
    assert SoftwareItem.objects.get().soup_version == "1.3"


def test_bad_sbom_is_answered_with_a_message(editor_client, product):
    response = editor_client.post(
        url("sbom_import", product), {"file": upload("bom.json", b'{"x": 1}')}
    )
    page = editor_client.get(response.url, follow=True)
    assert "not a CycloneDX SBOM" in page.content.decode()
    assert not SoftwareItem.objects.exists()


def test_reqif_export_and_import_pages(editor_client, full_product, editor):
    data = editor_client.get(url("reqif_export", full_product)).content
    fresh = factories.ProductFactory(slug="fresh")
    factories.MembershipFactory(product=fresh, user=editor)
    response = editor_client.post(
        url("reqif_import", fresh), {"file": upload("rm.reqif", data), "prefix": "REQ"}
    )
    preview = editor_client.get(response.url)
    assert len(preview.context["result"].created) == 3
    assert not Requirement.objects.filter(product=fresh).exists()
    editor_client.post(
        url("reqif_preview", fresh),
        {
            "upload": preview.context["staged"].pk,
            "action": "confirm",
            "prefix": "REQ",
            "planned_versions": preview.context["planned_versions"],
        },
    )
    assert Requirement.objects.filter(product=fresh).count() == 3
    assert (
        "attachment" in editor_client.get(url("reqif_export", full_product))["Content-Disposition"]
    )
    assert (
        data.split(b"<CREATION-TIME>")[0]
        == reqif.export_reqif(full_product).split(b"<CREATION-TIME>")[0]
    )


@pytest.mark.parametrize("name", ADMIN_ONLY)
def test_members_who_are_not_administrators_get_403_on_product_import(
    editor_client, auditor_client, full_product, name
):
    data = product_json.export_product_json(full_product)
    before = db_counts()
    for client in (editor_client, auditor_client):
        assert client.get(url(name, full_product)).status_code == 403
        response = client.post(
            url(name, full_product), {"file": upload("p.json", data), "slug": "copy"}
        )
        assert response.status_code == 403
    assert db_counts() == before
    assert not Product.objects.filter(slug="copy").exists()


def test_product_export_and_import_pages(client, admin_user, full_product, editor):
    client.force_login(admin_user)
    data = client.get(url("product_export", full_product)).content
    assert json.loads(data)["format"] == product_json.FORMAT
    assert client.get(url("product_import", full_product)).status_code == 200
    response = client.post(
        url("product_import", full_product),
        {"file": upload("p.json", data), "slug": "copy", "name": ""},
    )
    assert response.status_code == 302
    copy = Product.objects.get(slug="copy")
    assert not copy.memberships.exists()  # access is given by an administrator, not a file
    policy = copy.risk_policy
    assert policy.pk != full_product.risk_policy.pk and policy.status == "draft"
    assert not policy.is_approved
    taken = client.post(
        url("product_import", full_product),
        {"file": upload("p.json", data), "slug": "copy", "name": ""},
    )
    assert "exists already" in taken.content.decode()


def test_product_import_page_can_copy_a_chosen_template(client, admin_user, full_product):
    client.force_login(admin_user)
    template = factories.default_policy()
    data = product_json.export_product_json(full_product)
    response = client.post(
        url("product_import", full_product),
        {"file": upload("p.json", data), "slug": "copy", "template": template.pk},
    )
    assert response.status_code == 302
    policy = Product.objects.get(slug="copy").risk_policy
    assert policy.template == template and policy.product.slug == "copy"
