"""CycloneDX 1.6 JSON of a product's SOUP list with the VEX assessments of its vulnerabilities
(FDA premarket cybersecurity guidance 2023: a machine-readable SBOM with the support status of
each component, and every known vulnerability assessed; IEC 62304 8.1.2).

Built with cyclonedx-python-lib's object model and checked with its strict JSON validator
before it is returned, so a file that does not follow the schema is never written. Each SOUP
item is a component (name, version, supplier, licence, purl; hashes where the purl carries a
`checksum` qualifier; support status and end of support as properties); each vulnerability
that is not withdrawn is a `vulnerabilities[]` entry whose `analysis` says the assessment:

    under investigation → in_triage      affected → exploitable
    not affected        → not_affected (with its justification)
    fixed               → resolved

Same data, same bytes: the serial number is derived from the product and the data, and the
timestamp is the latest change of what is exported.
"""

from __future__ import annotations

import datetime as dt
import uuid

from cyclonedx.contrib.hash.factories import HashTypeFactory
from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.impact_analysis import ImpactAnalysisJustification, ImpactAnalysisState
from cyclonedx.model.vulnerability import (
    BomTarget,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySource,
)
from cyclonedx.model.vulnerability import (
    Vulnerability as CdxVulnerability,
)
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from django.db.models import Q
from packageurl import PackageURL

from hazards.models import Product
from postmarket.models import AnalysisState, Vulnerability
from traceability.models import SoftwareItem

STATE = {
    AnalysisState.UNDER_INVESTIGATION: ImpactAnalysisState.IN_TRIAGE,
    AnalysisState.AFFECTED: ImpactAnalysisState.EXPLOITABLE,
    AnalysisState.NOT_AFFECTED: ImpactAnalysisState.NOT_AFFECTED,
    AnalysisState.FIXED: ImpactAnalysisState.RESOLVED,
}
JUSTIFICATION = {j.value: j for j in ImpactAnalysisJustification}
HASH_ALGORITHMS = {
    "sha1": "SHA-1",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
    "md5": "MD5",
    "sha3-256": "SHA3-256",
}
NAMESPACE = uuid.UUID("6f3c1f0e-3a47-4a44-9d3e-2f0a8c6b7e51")


class SbomInvalid(Exception):
    """The document did not pass the strict validator (a bug: never written)."""


def _purl(value: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(value) if value else None
    except ValueError:
        return None


def _hashes(purl: PackageURL | None) -> list[HashType]:
    """Hashes the purl records (`checksum=sha256:…,sha1:…`, purl spec qualifier)."""
    if purl is None:
        return []
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    found = []
    for part in (qualifiers.get("checksum") or qualifiers.get("checksums") or "").split(","):
        alg, _, content = part.partition(":")
        if alg.lower() in HASH_ALGORITHMS and content:
            try:
                found.append(
                    HashTypeFactory().from_composite_str(f"{alg.lower()}:{content.lower()}")
                )
            except Exception:  # noqa: S112 - a malformed checksum is left out, not invented
                continue
    return found


def _rating(v: Vulnerability) -> list[VulnerabilityRating]:
    if not v.cvss_vector:
        return []
    method = (
        VulnerabilityScoreSource.CVSS_V4
        if v.cvss_vector.startswith("CVSS:4")
        else VulnerabilityScoreSource.CVSS_V3_1
        if v.cvss_vector.startswith("CVSS:3.1")
        else VulnerabilityScoreSource.CVSS_V3
        if v.cvss_vector.startswith("CVSS:3")
        else VulnerabilityScoreSource.CVSS_V2
    )
    return [VulnerabilityRating(score=v.cvss_score, method=method, vector=v.cvss_vector)]


def build_bom(product: Product) -> Bom:
    """The BOM object (three queries: product, SOUP items, vulnerabilities)."""
    # SOUP items, and any item a recorded vulnerability names (it was SOUP when matched).
    items = list(
        SoftwareItem.objects.filter(product=product)
        .filter(Q(is_soup=True) | Q(vulnerabilities__isnull=False))
        .distinct()
        .order_by("code")
    )
    vulnerabilities = list(
        Vulnerability.objects.filter(product=product, withdrawn=False)
        .select_related("software_item", "hazard", "problem_report")
        .order_by("code")
    )
    factory = LicenseFactory()
    components = {}
    for item in items:
        purl = _purl(item.purl)
        properties = [
            Property(name="riskbench:code", value=item.code),
            Property(name="riskbench:support_status", value=item.support_status),
        ]
        if item.end_of_support:
            properties.append(
                Property(name="riskbench:end_of_support", value=item.end_of_support.isoformat())
            )
        properties.append(Property(name="riskbench:safety_class", value=item.safety_class))
        components[item.pk] = Component(
            name=item.name,
            version=item.soup_version or None,
            type=ComponentType.LIBRARY,
            bom_ref=f"soup-{item.code}",
            supplier=OrganizationalEntity(name=item.manufacturer) if item.manufacturer else None,
            licenses=[factory.make_from_string(item.licence)] if item.licence else None,
            purl=purl,
            hashes=_hashes(purl),
            properties=properties,
        )
    latest = [
        product.updated_at,
        *(i.updated_at for i in items),
        *(v.updated_at for v in vulnerabilities),
    ]
    as_of = max(latest).astimezone(dt.UTC).replace(microsecond=0)
    device = Component(
        name=product.name,
        version=product.model_number or None,
        type=ComponentType.DEVICE,
        bom_ref=f"product-{product.slug}",
        supplier=OrganizationalEntity(name=product.manufacturer) if product.manufacturer else None,
    )
    bom = Bom(
        serial_number=uuid.uuid5(NAMESPACE, f"{product.slug}|{as_of.isoformat()}"),
        metadata=BomMetaData(timestamp=as_of, component=device),
        components=components.values(),
    )
    # The SOUP list is flat: every SOUP item is a direct dependency of the device.
    bom.register_dependency(device, components.values())
    for v in vulnerabilities:
        detail = v.analysis_detail
        if v.hazard_id:
            detail = f"{detail}\nHandled by security hazard {v.hazard.code}.".strip()
        if v.problem_report_id:
            detail = f"{detail}\nHandled by problem report {v.problem_report.code}.".strip()
        references = [
            VulnerabilityReference(
                id=alias,
                source=VulnerabilitySource(
                    name="NVD", url=XsUri(f"https://nvd.nist.gov/vuln/detail/{alias}")
                ),
            )
            for alias in v.cve_ids
        ]
        bom.vulnerabilities.add(
            CdxVulnerability(
                bom_ref=f"{v.code}",
                id=v.advisory_id,
                source=VulnerabilitySource(
                    name="OSV", url=XsUri(f"https://osv.dev/vulnerability/{v.advisory_id}")
                ),
                references=references,
                ratings=_rating(v),
                description=v.summary or None,
                analysis=VulnerabilityAnalysis(
                    state=STATE[AnalysisState(v.analysis_state)],
                    justification=JUSTIFICATION.get(v.justification) if v.justification else None,
                    detail=detail or None,
                ),
                affects=[BomTarget(ref=components[v.software_item_id].bom_ref.value)],
                properties=[Property(name="riskbench:kev", value="true")] if v.in_kev else None,
            )
        )
    return bom


def export_sbom(product: Product) -> str:
    """The CycloneDX 1.6 JSON text, validated by the strict validator first."""
    text = JsonV1Dot6(build_bom(product)).output_as_string(indent=2)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise SbomInvalid(str(error.data)[:1000])
    return text + "\n"
