import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.output.xml import XmlV1Dot5
from django.utils import timezone
from packageurl import PackageURL

from tests import factories
from tests.integrations.helpers import BILLION_LAUGHS, XXE, db_counts, wrap_root
from traceability import services as trace_services
from traceability.integrations.sbom import import_sbom, parse_sbom
from traceability.integrations.uploads import UploadError
from traceability.models import SoftwareItem, SoftwareItemHazard


def make_bom(components) -> Bom:
    bom = Bom()
    for name, version, supplier, licence in components:
        bom.components.add(
            Component(
                name=name,
                version=version,
                type=ComponentType.LIBRARY,
                bom_ref=f"{name}@{version}",
                supplier=OrganizationalEntity(name=supplier) if supplier else None,
                purl=PackageURL(type="generic", name=name, version=version),
                licenses=[LicenseExpression(licence)]
                if " " in licence
                else [DisjunctiveLicense(id=licence)],
            )
        )
    return bom


V1 = [
    ("openssl", "3.0.13", "OpenSSL Foundation", "Apache-2.0"),
    ("zlib", "1.3", "Jean-loup Gailly", "Zlib"),
    ("freertos", "10.5.1", "Amazon", "MIT"),
]
V2 = [
    ("openssl", "3.0.14", "OpenSSL Foundation", "Apache-2.0"),  # version changed
    ("zlib", "1.3", "Jean-loup Gailly", "Zlib"),  # unchanged
    ("mbedtls", "3.6.0", "Arm", "Apache-2.0 OR GPL-2.0-or-later"),  # added; freertos removed
]


def json_sbom(components) -> bytes:
    return JsonV1Dot6(make_bom(components)).output_as_string().encode()


def xml_sbom(components) -> bytes:
    return XmlV1Dot5(make_bom(components)).output_as_string().encode()


@pytest.mark.parametrize("render", [json_sbom, xml_sbom], ids=["json", "xml"])
def test_sbom_creates_soup_items(product, editor, render):
    diff = import_sbom(product=product, data=render(V1), filename="sbom", by=editor)
    assert len(diff.added) == 3 and diff.applied
    item = SoftwareItem.objects.get(product=product, name="openssl")
    assert item.is_soup
    assert (item.soup_version, item.manufacturer, item.licence) == (
        "3.0.13",
        "OpenSSL Foundation",
        "Apache-2.0",
    )
    assert item.purl == "pkg:generic/openssl@3.0.13"
    assert item.safety_class == product.software_safety_class
    history = item.history.get()
    assert history.history_user == editor
    assert history.history_change_reason == "Added from SBOM sbom"


def test_reimport_reports_diff_and_makes_links_suspect(product, editor):
    import_sbom(product=product, data=json_sbom(V1), filename="v1.json", by=editor)
    openssl = SoftwareItem.objects.get(name="openssl")
    trace_services.software_item_update(
        item=openssl,
        by=editor,
        reason="Anomalies reviewed",
        anomalies_reviewed_at=timezone.localdate(),
        expected_version=openssl.version,
    )
    hazard = factories.HazardFactory(product=product)
    link = trace_services.software_item_hazard_link(
        software_item=SoftwareItem.objects.get(pk=openssl.pk),
        hazard=hazard,
        cause_type="soup_failure",
        by=editor,
    )
    assert not link.is_suspect

    preview = import_sbom(
        product=product, data=xml_sbom(V2), filename="v2.xml", by=editor, dry_run=True
    )
    assert not preview.applied
    assert [c.component.name for c in preview.added] == ["mbedtls"]
    assert [i.name for i in preview.removed] == ["freertos"]
    assert [(c.item.name, c.old_version, c.component.version) for c in preview.version_changed] == [
        ("openssl", "3.0.13", "3.0.14")
    ]
    assert [i.name for i in preview.unchanged] == ["zlib"]

    diff = import_sbom(product=product, data=xml_sbom(V2), filename="v2.xml", by=editor)
    assert diff.applied
    openssl.refresh_from_db()
    assert openssl.soup_version == "3.0.14"
    assert openssl.purl == "pkg:generic/openssl@3.0.14"
    assert openssl.anomalies_reviewed_at is None  # the review was for 3.0.13
    assert openssl.history.first().history_change_reason == "SBOM v2.xml: version 3.0.13 → 3.0.14"
    assert SoftwareItemHazard.objects.get(pk=link.pk).is_suspect  # IEC 62304 7.4
    # Removed components are reported, never deleted.
    assert SoftwareItem.objects.filter(name="freertos").exists()
    assert SoftwareItem.objects.get(name="mbedtls").licence == "Apache-2.0 OR GPL-2.0-or-later"


def test_reimporting_the_same_sbom_writes_nothing(product, editor):
    import_sbom(product=product, data=json_sbom(V1), filename="v1.json", by=editor)
    before = db_counts()
    diff = import_sbom(product=product, data=xml_sbom(V1), filename="v1.xml", by=editor)
    assert not diff.has_changes and len(diff.unchanged) == 3
    assert db_counts() == before


def test_dry_run_writes_nothing(product, editor):
    before = db_counts()
    diff = import_sbom(product=product, data=json_sbom(V1), filename="v1", by=editor, dry_run=True)
    assert len(diff.added) == 3
    assert db_counts() == before


def test_soup_of_another_product_is_not_touched(product, other_product, editor):
    factories.SoftwareItemFactory(
        product=other_product, name="openssl", is_soup=True, soup_version="1.0",
        purl="pkg:generic/openssl@1.0",
    )  # fmt: skip
    diff = import_sbom(product=product, data=json_sbom(V1), filename="v1", by=editor)
    assert len(diff.added) == 3
    assert SoftwareItem.objects.get(product=other_product).soup_version == "1.0"


def test_metadata_component_is_not_soup(product):
    bom = make_bom(V1[:1])
    bom.metadata.component = Component(name="insulin-pump-fw", version="2.1.0")
    bom.register_dependency(bom.metadata.component, list(bom.components))
    data = JsonV1Dot6(bom).output_as_string().encode()
    assert [c.name for c in parse_sbom(data)] == ["openssl"]


BAD_SBOMS = [
    ("billion laughs", wrap_root(BILLION_LAUGHS, b"bom"), "entity expansion"),
    ("external entity", wrap_root(XXE, b"bom"), "external entity"),
    ("empty", b"", "empty"),
    ("PDF", b"%PDF-1.5", "PDF"),
    ("CSV", b"name,version\nopenssl,3\n", "CycloneDX JSON or XML"),
    ("not JSON", b"{ nope", "not valid JSON"),
    ("other JSON", b'{"name": "x"}', "not a CycloneDX SBOM"),
    ("other XML", b"<project/>", "not a CycloneDX SBOM"),
    (
        "schema violation",
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": '
        b'[{"type": "gadget", "name": "x"}]}',
        r"does not follow CycloneDX 1.6: 'gadget' is not one of",
    ),
    (
        "unknown spec version",
        b'{"bomFormat": "CycloneDX", "specVersion": "9.9", "components": []}',
        "Unsupported CycloneDX specVersion",
    ),
    (
        "no components",
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1}',
        "no components",
    ),
    ("invalid UTF-8", b'{"bomFormat": "CycloneDX",\n "x": "\xff"}', "row 2.*UTF-8"),
]


@pytest.mark.parametrize(("label", "data", "message"), BAD_SBOMS, ids=[b[0] for b in BAD_SBOMS])
def test_bad_sboms_are_refused_and_write_nothing(product, editor, label, data, message):
    before = db_counts()
    with pytest.raises(UploadError, match=message):
        import_sbom(product=product, data=data, filename="bad", by=editor)
    assert db_counts() == before
