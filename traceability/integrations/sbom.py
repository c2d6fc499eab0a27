"""CycloneDX SBOM (JSON or XML) → SOUP software items, and the diff on every re-import.

The build's SBOM is the machine-readable list of SOUP (IEC 62304 8.1.2: title, manufacturer,
unique version; FDA premarket cybersecurity guidance: SBOM). Each component becomes a SOUP
SoftwareItem (name, version, supplier, purl, licence). Re-importing a newer SBOM shows what was
added, removed and which versions changed; applying it:

* creates the added components as SOUP items (safety class inherited from the product, to be
  reviewed — IEC 62304 4.3);
* updates the changed ones through the software-item service, which raises their `version`:
  every trace link touching them becomes *suspect* until reviewed, and their known-anomaly
  review is cleared because it was for the old version (IEC 62304 7.4, 7.1.3);
* only reports the removed ones (deleting a SOUP item with trace links is a deliberate act).

Parsing is defensive: size checked first, XML through the defused parser (no DTD, no entity),
the document validated against the CycloneDX schema of its declared spec version by
cyclonedx-python-lib, and only then read into its object model. One transaction, all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonValidator
from cyclonedx.validation.xml import XmlValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from lxml import etree
from packageurl import PackageURL

from hazards.models import Product
from traceability import services as trace_services
from traceability.integrations.confirm import lock_rows, refuse_if_moved
from traceability.integrations.uploads import (
    JSON,
    XML,
    UploadError,
    check_size,
    decode_utf8,
    local_name,
    parse_json,
    parse_xml,
    sniff,
)
from traceability.models import SoftwareItem

CYCLONEDX_NS = "http://cyclonedx.org/schema/bom/"
MAX_COMPONENTS = 20_000


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    supplier: str
    purl: str
    licence: str
    group: str = ""

    @property
    def key(self) -> str:
        return component_key(self.purl, self.group, self.name)

    @property
    def title(self) -> str:
        return f"{self.group}/{self.name}" if self.group else self.name


def component_key(purl: str, group: str, name: str) -> str:
    """Identity of a package across versions: its purl without version and qualifiers, or
    group/name when there is no purl."""
    if purl:
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError:
            return purl.split("@", 1)[0].lower()
        return (
            "pkg:" + "/".join(p for p in (parsed.type, parsed.namespace, parsed.name) if p).lower()
        )
    return f"{group}/{name}".strip("/").lower()


def _spec_version(value: str) -> SchemaVersion:
    try:
        return SchemaVersion.from_version(str(value))
    except (ValueError, KeyError) as exc:
        raise UploadError(f"Unsupported CycloneDX specVersion {value!r}.") from exc


def _licence(component) -> str:
    parts = []
    for lic in component.licenses or ():
        value = (
            getattr(lic, "value", None) or getattr(lic, "id", None) or getattr(lic, "name", None)
        )
        if value:
            parts.append(str(value))
    return ", ".join(parts)[:200]


def _supplier(component) -> str:
    for entity in (
        getattr(component, "supplier", None),
        getattr(component, "manufacturer", None),
    ):
        if entity is not None and getattr(entity, "name", None):
            return str(entity.name)
    for text in (getattr(component, "publisher", None), getattr(component, "author", None)):
        if text:
            return str(text)
    return ""


def _flatten(components):
    for component in components or ():
        yield component
        yield from _flatten(getattr(component, "components", None))


def parse_sbom(data: bytes) -> list[Component]:
    """The components of a CycloneDX SBOM (JSON or XML), validated against its schema."""
    check_size(len(data))
    kind = sniff(data)
    if kind == JSON:
        text = decode_utf8(data)
        document = parse_json(data, what="SBOM")
        if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
            raise UploadError('This JSON is not a CycloneDX SBOM ("bomFormat": "CycloneDX").')
        version = _spec_version(document.get("specVersion", ""))
        error = JsonValidator(version).validate_str(text)
        if error is not None:
            detail = error.data
            where = getattr(detail, "json_path", "")
            message = getattr(detail, "message", str(detail)).splitlines()[0][:300]
            raise UploadError(f"The SBOM does not follow CycloneDX {version.to_version()}: "
                              f"{message} (at {where}).")  # fmt: skip
        try:
            bom = Bom.from_json(document)
        except Exception as exc:  # the object model raises many types on odd documents
            raise UploadError(f"The SBOM cannot be read: {exc}.") from exc
    elif kind == XML:
        root = parse_xml(data, what="CycloneDX XML")
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        if local_name(root.tag) != "bom" or not namespace.startswith(CYCLONEDX_NS):
            raise UploadError("This XML is not a CycloneDX SBOM (no CycloneDX <bom> root).")
        version = _spec_version(namespace.rsplit("/", 1)[-1])
        error = XmlValidator(version).validate_str(decode_utf8(data))
        if error is not None:
            entry = error.data
            raise UploadError(
                f"The SBOM does not follow CycloneDX {version.to_version()}: "
                f"{getattr(entry, 'message', entry)}",
                row=getattr(entry, "line", None),
            )
        try:
            from defusedxml import ElementTree as SafeET

            bom = Bom.from_xml(SafeET.fromstring(etree.tostring(root)))
        except Exception as exc:
            raise UploadError(f"The SBOM cannot be read: {exc}.") from exc
    else:
        raise UploadError("An SBOM must be CycloneDX JSON or XML.")

    main = bom.metadata.component if bom.metadata else None
    components = []
    for component in _flatten(bom.components):
        if main is not None and component is main:
            continue
        components.append(
            Component(
                name=str(component.name)[:200],
                version=str(component.version or "")[:100],
                supplier=_supplier(component)[:200],
                purl=str(component.purl or "")[:500],
                licence=_licence(component),
                group=str(component.group or ""),
            )
        )
        if len(components) > MAX_COMPONENTS:
            raise UploadError(f"More than {MAX_COMPONENTS} components; refused.")
    if not components:
        raise UploadError("The SBOM lists no components.")
    return components


# --- Diff ---------------------------------------------------------------------------------------


@dataclass
class Change:
    component: Component
    item: SoftwareItem | None = None
    old_version: str = ""
    fields: dict = field(default_factory=dict)  # what the update sets


@dataclass
class SbomDiff:
    added: list[Change] = field(default_factory=list)
    version_changed: list[Change] = field(default_factory=list)
    metadata_changed: list[Change] = field(default_factory=list)
    removed: list[SoftwareItem] = field(default_factory=list)
    unchanged: list[SoftwareItem] = field(default_factory=list)
    applied: bool = False

    def planned_versions(self) -> dict[str, int]:
        """Code → version of every stored item the SBOM matched, as planned (the preview hands
        it to the confirmation, see `traceability.integrations.confirm`)."""
        changed = [c.item for c in (*self.version_changed, *self.metadata_changed)]
        return {i.code: i.version for i in (*changed, *self.unchanged)}

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.version_changed or self.metadata_changed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.removed)} removed, "
            f"{len(self.version_changed)} version changed, "
            f"{len(self.metadata_changed)} details changed, {len(self.unchanged)} unchanged"
        )


def _item_key(item: SoftwareItem) -> str:
    return component_key(item.purl, "", item.name)


def _details(component: Component) -> dict:
    return {
        "manufacturer": component.supplier,
        "purl": component.purl,
        "licence": component.licence,
    }


def diff_sbom(product: Product, components: list[Component]) -> SbomDiff:
    """Compare an SBOM with the product's SOUP items, package by package."""
    items = list(SoftwareItem.objects.filter(product=product, is_soup=True).order_by("code"))
    by_key: dict[str, list[SoftwareItem]] = {}
    for item in items:
        by_key.setdefault(_item_key(item), []).append(item)
    # Components without a purl are also matched on the item's bare name.
    by_name = {item.name.lower(): item for item in items}
    seen_components: dict[tuple[str, str], Component] = {}
    grouped: dict[str, list[Component]] = {}
    for component in components:
        seen_components.setdefault((component.key, component.version), component)
    for component in seen_components.values():
        grouped.setdefault(component.key, []).append(component)

    diff = SbomDiff()
    matched: set[int] = set()
    for key, comps in sorted(grouped.items()):
        candidates = [i for i in by_key.get(key, []) if i.pk not in matched]
        if not candidates and not comps[0].purl and comps[0].name.lower() in by_name:
            item = by_name[comps[0].name.lower()]
            candidates = [item] if item.pk not in matched else []
        left = []
        for component in sorted(comps, key=lambda c: c.version):
            exact = next((i for i in candidates if i.soup_version == component.version), None)
            if exact is None:
                left.append(component)
                continue
            candidates.remove(exact)
            matched.add(exact.pk)
            details = _details(component)
            changed = {k: v for k, v in details.items() if v and getattr(exact, k) != v}
            if changed:
                diff.metadata_changed.append(Change(component, exact, exact.soup_version, changed))
            else:
                diff.unchanged.append(exact)
        for component in left:
            if candidates:
                item = candidates.pop(0)
                matched.add(item.pk)
                fields = {
                    "soup_version": component.version,
                    **{k: v for k, v in _details(component).items() if v},
                    # The anomaly review was for the old version (IEC 62304 7.1.3): redo it.
                    "anomalies_reviewed_at": None,
                }
                diff.version_changed.append(Change(component, item, item.soup_version, fields))
            else:
                diff.added.append(Change(component))
    diff.removed = [i for i in items if i.pk not in matched]
    return diff


@transaction.atomic
def import_sbom(
    *,
    product: Product,
    data: bytes,
    filename: str,
    by,
    dry_run: bool = False,
    expected_versions: dict[str, int] | None = None,
) -> SbomDiff:
    """Apply an SBOM to the product's SOUP list through the software-item services.

    The SOUP rows are locked before the diff reads them; with `expected_versions` (the
    preview's `planned_versions()`) an item changed since the preview refuses the whole
    import (`ImportConflict`), naming it."""
    components = parse_sbom(data)
    product = Product.objects.select_for_update().get(pk=product.pk)
    if not dry_run:
        lock_rows(SoftwareItem.objects.filter(product=product, is_soup=True))
    diff = diff_sbom(product, components)
    if not dry_run:
        refuse_if_moved(diff.planned_versions(), expected_versions)
    if dry_run or not diff.has_changes:
        return diff
    source = f"SBOM {filename.rsplit('/', 1)[-1]}"
    try:
        for change in diff.added:
            c = change.component
            change.item = trace_services.software_item_create(
                product=product,
                by=by,
                reason=f"Added from {source}"[:100],
                name=c.title[:200],
                is_soup=True,
                soup_version=c.version,
                manufacturer=c.supplier,
                purl=c.purl,
                licence=c.licence,
                safety_class=product.software_safety_class,
                safety_class_rationale=(
                    "Inherited from the product's software safety class when imported from the "
                    "SBOM; review (IEC 62304 4.3)."
                ),
            )
        for change in diff.version_changed:
            change.item = trace_services.software_item_update(
                item=change.item,
                by=by,
                expected_version=change.item.version,
                reason=(
                    f"{source}: version {change.old_version or '—'} → "
                    f"{change.component.version or '—'}"
                )[:100],
                **change.fields,
            )
        for change in diff.metadata_changed:
            change.item = trace_services.software_item_update(
                item=change.item,
                by=by,
                expected_version=change.item.version,
                reason=f"{source}: {', '.join(sorted(change.fields))} updated"[:100],
                **change.fields,
            )
    except ValidationError as exc:
        raise UploadError(f"{change.component.title}: {'; '.join(exc.messages)}") from exc
    diff.applied = True
    return diff
