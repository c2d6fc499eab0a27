"""ReqIF 1.2 (OMG, namespace .../ReqIF/20110401/reqif.xsd) export and import of requirements
with their hierarchy and trace links, so requirements travel to and from DOORS, Polarion and
StrictDoc (IEC 62304 5.2 software requirements; 5.1.1 traceability; ISO 14971 7.2).

Export: one SPEC-OBJECT per requirement, risk control and test case (each type with its own
SPEC-OBJECT-TYPE and STRING attributes: ReqIF.ForeignID = code, ReqIF.Name = title, ReqIF.Text,
and RiskBench.* for the rest); the requirement tree as nested SPEC-HIERARCHY in a "Requirements"
SPECIFICATION; trace links as SPEC-RELATIONs ("implemented by": control → requirement,
"verified by": requirement → test case). Identifiers are derived from product and code
(uuid5), so exporting the same data twice gives the same identifiers.

Import (upsert by code, through the services, one transaction, all or nothing): requirements
are created or updated (parent from the hierarchy); risk controls and test cases named in the
file are created when missing, never changed; relations become links. Files from other tools
work too: objects of foreign types with a text are read as requirements (a DOORS absolute
number becomes the code PREFIX-n), objects without text are headings and are skipped;
unknown relation types are reported.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from lxml import etree

from hazards.models import (
    ControlOption,
    ImplementationStatus,
    Product,
    RiskControl,
    SecurityControlCategory,
)
from riskbench.codes import code_problem
from traceability.integrations import hazard_table, workbook
from traceability.integrations.confirm import lock_rows, refuse_if_moved
from traceability.integrations.uploads import (
    XML,
    UploadError,
    check_size,
    local_name,
    parse_xml,
    sniff,
)
from traceability.models import (
    ControlRequirement,
    Requirement,
    RequirementLevel,
    RequirementTest,
    SoftwareItem,
    TestCase,
    TestLevel,
    TestMethod,
)

NS = "http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"
XML_NS = "http://www.w3.org/XML/1998/namespace"
TOOL_ID = "RiskBench"
# The RiskBench ReqIF "schema" (types and attribute definitions) is fixed; its LAST-CHANGE too.
SCHEMA_DATE = "2026-01-01T00:00:00+00:00"
ID_NAMESPACE = uuid.UUID("6f1d7b1e-3c0b-4d8e-9a55-2a6b1f0c9e10")
MAX_STRING = 100_000

REQUIREMENT, CONTROL, TEST_CASE = "Requirement", "Risk control", "Test case"
IMPLEMENTED_BY, VERIFIED_BY = "implemented by", "verified by"
FOREIGN_ID, NAME, TEXT, CHAPTER = "ReqIF.ForeignID", "ReqIF.Name", "ReqIF.Text", "ReqIF.ChapterName"

# Object type → attribute LONG-NAME → model field.
ATTRIBUTES = {
    REQUIREMENT: {
        FOREIGN_ID: "code",
        NAME: "title",
        TEXT: "text",
        "RiskBench.Level": "level",
        "RiskBench.Rationale": "rationale",
        "RiskBench.SoftwareItem": "software_item",
        "RiskBench.Status": "status",
    },
    CONTROL: {
        FOREIGN_ID: "code",
        NAME: "title",
        TEXT: "description",
        "RiskBench.Option": "option",
        "RiskBench.SecurityCategory": "security_category",
        "RiskBench.ImplementationStatus": "implementation_status",
    },
    TEST_CASE: {
        FOREIGN_ID: "code",
        NAME: "title",
        TEXT: "procedure",
        "RiskBench.Method": "method",
        "RiskBench.Level": "level",
    },
}
TYPE_IDS = {REQUIREMENT: "rb-type-requirement", CONTROL: "rb-type-control",
            TEST_CASE: "rb-type-test-case"}  # fmt: skip
RELATION_TYPE_IDS = {IMPLEMENTED_BY: "rb-rel-implemented-by", VERIFIED_BY: "rb-rel-verified-by"}


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _attr_id(kind: str, long_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", f"{kind} {long_name}".lower()).strip("-")
    return f"rb-ad-{slug}"


def _object_id(product: Product, kind: str, code: str) -> str:
    return f"rb-{uuid.uuid5(ID_NAMESPACE, f'{product.slug}/{kind}/{code}')}"


def _iso(value: dt.datetime | None) -> str:
    value = value or timezone.now()
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


# --- Export -------------------------------------------------------------------------------------


class _Builder:
    def __init__(self):
        self.root = etree.Element(_q("REQ-IF"), nsmap={None: NS})
        self.root.set(f"{{{XML_NS}}}lang", "en")

    @staticmethod
    def sub(parent, tag: str, text: str | None = None, **attrs):
        elem = etree.SubElement(parent, _q(tag))
        for key, value in attrs.items():
            elem.set(key.replace("_", "-"), value)
        if text is not None:
            elem.text = text
        return elem

    def ref(self, parent, wrapper: str, tag: str, identifier: str):
        self.sub(self.sub(parent, wrapper), tag, identifier)


def export_reqif(product: Product, *, created_at: dt.datetime | None = None) -> bytes:
    """The product's requirements, the controls and tests they link to, hierarchy and links.

    Query plan: requirements with software item (1) + controls (1) + test cases (1) +
    control→requirement links (1) + requirement→test links (1).
    """
    requirements = list(
        Requirement.objects.filter(product=product).select_related("software_item", "parent")
    )
    controls = list(RiskControl.objects.filter(product=product))
    tests = list(TestCase.objects.filter(product=product))
    implemented = list(
        ControlRequirement.objects.filter(requirement__product=product).values_list(
            "control__code", "requirement__code"
        )
    )
    verified = list(
        RequirementTest.objects.filter(requirement__product=product).values_list(
            "requirement__code", "test_case__code"
        )
    )
    b = _Builder()
    sub = b.sub
    header = sub(sub(b.root, "THE-HEADER"), "REQ-IF-HEADER",
                 IDENTIFIER=_object_id(product, "header", "reqif"))  # fmt: skip
    sub(header, "COMMENT", f"Requirements of {product} exported by RiskBench.")
    sub(header, "CREATION-TIME", _iso(created_at))
    sub(header, "REPOSITORY-ID", f"riskbench:{product.slug}")
    sub(header, "REQ-IF-TOOL-ID", TOOL_ID)
    sub(header, "REQ-IF-VERSION", "1.0")
    sub(header, "SOURCE-TOOL-ID", TOOL_ID)
    sub(header, "TITLE", f"{product} — requirements")

    content = sub(sub(b.root, "CORE-CONTENT"), "REQ-IF-CONTENT")
    datatypes = sub(content, "DATATYPES")
    sub(datatypes, "DATATYPE-DEFINITION-STRING", IDENTIFIER="rb-dt-string",
        LAST_CHANGE=SCHEMA_DATE, LONG_NAME="String", MAX_LENGTH=str(MAX_STRING))  # fmt: skip
    spec_types = sub(content, "SPEC-TYPES")
    for kind, attributes in ATTRIBUTES.items():
        object_type = sub(spec_types, "SPEC-OBJECT-TYPE", IDENTIFIER=TYPE_IDS[kind],
                          LAST_CHANGE=SCHEMA_DATE, LONG_NAME=kind)  # fmt: skip
        spec_attributes = sub(object_type, "SPEC-ATTRIBUTES")
        for long_name in attributes:
            definition = sub(spec_attributes, "ATTRIBUTE-DEFINITION-STRING",
                             IDENTIFIER=_attr_id(kind, long_name), LAST_CHANGE=SCHEMA_DATE,
                             LONG_NAME=long_name)  # fmt: skip
            b.ref(definition, "TYPE", "DATATYPE-DEFINITION-STRING-REF", "rb-dt-string")
    for long_name, identifier in RELATION_TYPE_IDS.items():
        sub(spec_types, "SPEC-RELATION-TYPE", IDENTIFIER=identifier, LAST_CHANGE=SCHEMA_DATE,
            LONG_NAME=long_name)  # fmt: skip
    sub(spec_types, "SPECIFICATION-TYPE", IDENTIFIER="rb-type-specification",
        LAST_CHANGE=SCHEMA_DATE, LONG_NAME="RiskBench specification")  # fmt: skip

    def value_of(record, field_name: str) -> str:
        if field_name == "software_item":
            return record.software_item.code if record.software_item_id else ""
        value = getattr(record, field_name)
        return "" if value is None else str(value)

    objects = sub(content, "SPEC-OBJECTS")
    ids: dict[tuple[str, str], str] = {}
    for kind, records in ((REQUIREMENT, requirements), (CONTROL, controls), (TEST_CASE, tests)):
        for record in sorted(records, key=lambda r: _code_key(r.code)):
            identifier = ids[(kind, record.code)] = _object_id(product, kind, record.code)
            spec_object = sub(
                objects, "SPEC-OBJECT", IDENTIFIER=identifier,
                LAST_CHANGE=_iso(record.updated_at), LONG_NAME=record.code,
            )  # fmt: skip
            values = sub(spec_object, "VALUES")
            for long_name, field_name in ATTRIBUTES[kind].items():
                value = value_of(record, field_name)
                if not value:
                    continue
                attr_value = sub(values, "ATTRIBUTE-VALUE-STRING", THE_VALUE=value)
                b.ref(attr_value, "DEFINITION", "ATTRIBUTE-DEFINITION-STRING-REF",
                      _attr_id(kind, long_name))  # fmt: skip
            b.ref(spec_object, "TYPE", "SPEC-OBJECT-TYPE-REF", TYPE_IDS[kind])

    relations = sub(content, "SPEC-RELATIONS")
    pairs = [(IMPLEMENTED_BY, (CONTROL, c), (REQUIREMENT, r)) for c, r in implemented]
    pairs += [(VERIFIED_BY, (REQUIREMENT, r), (TEST_CASE, t)) for r, t in verified]
    for relation_type, source, target in sorted(
        pairs, key=lambda p: (p[0], _code_key(p[1][1]), _code_key(p[2][1]))
    ):
        relation = sub(relations, "SPEC-RELATION",
                       IDENTIFIER=_object_id(product, relation_type, f"{source[1]}>{target[1]}"),
                       LAST_CHANGE=SCHEMA_DATE, LONG_NAME=f"{source[1]} {relation_type} "
                       f"{target[1]}")  # fmt: skip
        b.ref(relation, "SOURCE", "SPEC-OBJECT-REF", ids[source])
        b.ref(relation, "TARGET", "SPEC-OBJECT-REF", ids[target])
        b.ref(relation, "TYPE", "SPEC-RELATION-TYPE-REF", RELATION_TYPE_IDS[relation_type])

    specifications = sub(content, "SPECIFICATIONS")
    children_of: dict[int | None, list[Requirement]] = {}
    for requirement in requirements:
        children_of.setdefault(requirement.parent_id, []).append(requirement)

    def hierarchy(parent_elem, kind: str, records, nested: dict | None = None):
        if not records:
            return
        children = sub(parent_elem, "CHILDREN")
        for record in sorted(records, key=lambda r: _code_key(r.code)):
            identifier = ids[(kind, record.code)]
            node = sub(children, "SPEC-HIERARCHY", IDENTIFIER=f"rb-h-{identifier[3:]}",
                       LAST_CHANGE=_iso(record.updated_at))  # fmt: skip
            b.ref(node, "OBJECT", "SPEC-OBJECT-REF", identifier)
            if nested is not None:
                hierarchy(node, kind, nested.get(record.pk, []), nested)

    for kind, title, records, nested in (
        (REQUIREMENT, "Requirements", children_of.get(None, []), children_of),
        (CONTROL, "Risk controls", controls, None),
        (TEST_CASE, "Test cases", tests, None),
    ):
        specification = sub(specifications, "SPECIFICATION",
                             IDENTIFIER=_object_id(product, "specification", title),
                             LAST_CHANGE=SCHEMA_DATE, LONG_NAME=title)  # fmt: skip
        b.ref(specification, "TYPE", "SPECIFICATION-TYPE-REF", "rb-type-specification")
        hierarchy(specification, kind, records, nested)
    return etree.tostring(b.root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _code_key(code: str) -> tuple:
    match = re.match(r"^(.*?)(\d+)$", code or "")
    return (match[1], int(match[2]), code) if match else (code or "", -1, code or "")


# --- Import: reading ----------------------------------------------------------------------------


@dataclass
class ReqifObject:
    identifier: str
    type_name: str
    values: dict[str, str]
    kind: str = ""  # REQUIREMENT | CONTROL | TEST_CASE | "" (heading, skipped)
    code: str = ""
    parent: str | None = None  # identifier of the parent requirement object


@dataclass
class ReqifDocument:
    title: str
    objects: dict[str, ReqifObject]
    relations: list[tuple[str, str, str]]  # (type long name, source id, target id)


def _children(elem, tag: str):
    return [c for c in elem if local_name(c.tag) == tag]


def _child(elem, tag: str):
    found = _children(elem, tag)
    return found[0] if found else None


def _ref(elem, wrapper: str) -> str:
    holder = _child(elem, wrapper)
    if holder is None or not len(holder):
        return ""
    return (holder[0].text or "").strip()


def _require(elem, tag: str, where: str):
    found = _child(elem, tag)
    if found is None:
        raise UploadError(f"Not a valid ReqIF file: <{where}> has no <{tag}>.")
    return found


def _xhtml_text(elem) -> str:
    """Plain text of an XHTML value: paragraphs and line breaks become new lines."""
    parts: list[str] = []

    def walk(node):
        name = local_name(node.tag)
        if name == "br":
            parts.append("\n")
        if node.text:
            parts.append(re.sub(r"\s+", " ", node.text))
        for child in node:
            walk(child)
            if child.tail:
                parts.append(re.sub(r"\s+", " ", child.tail))
        if name in {"p", "div", "li"}:
            parts.append("\n")

    walk(elem)
    # HTML whitespace rules: runs of spaces collapse; block elements make the line breaks.
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parts).split("\n")]
    return "\n".join(line for line in lines if line)


def read_reqif(data: bytes) -> ReqifDocument:
    """Parse a ReqIF file (defused) into plain objects, relations and hierarchy."""
    check_size(len(data))
    if sniff(data) != XML:
        raise UploadError("This is not a ReqIF file (ReqIF is XML; .reqifz archives: unzip).")
    root = parse_xml(data, what="ReqIF")
    if local_name(root.tag) != "REQ-IF" or not root.tag.startswith(f"{{{NS}}}"):
        raise UploadError(f"This is not a ReqIF 1.x file: the root must be <REQ-IF> in {NS}.")
    header = _require(_require(root, "THE-HEADER", "REQ-IF"), "REQ-IF-HEADER", "THE-HEADER")
    title_elem = _child(header, "TITLE")
    title = (title_elem.text or "").strip() if title_elem is not None else ""
    content = _require(_require(root, "CORE-CONTENT", "REQ-IF"), "REQ-IF-CONTENT", "CORE-CONTENT")

    enum_values: dict[str, str] = {}
    datatypes = _child(content, "DATATYPES")
    for datatype in datatypes if datatypes is not None else []:
        specified = _child(datatype, "SPECIFIED-VALUES")
        for enum_value in specified if specified is not None else []:
            enum_values[enum_value.get("IDENTIFIER", "")] = enum_value.get("LONG-NAME", "")
    attribute_names: dict[str, str] = {}
    type_names: dict[str, str] = {}
    spec_types = _child(content, "SPEC-TYPES")
    for spec_type in spec_types if spec_types is not None else []:
        type_names[spec_type.get("IDENTIFIER", "")] = spec_type.get("LONG-NAME", "")
        attributes = _child(spec_type, "SPEC-ATTRIBUTES")
        for definition in attributes if attributes is not None else []:
            attribute_names[definition.get("IDENTIFIER", "")] = definition.get("LONG-NAME", "")

    objects: dict[str, ReqifObject] = {}
    spec_objects = _child(content, "SPEC-OBJECTS")
    for spec_object in spec_objects if spec_objects is not None else []:
        if local_name(spec_object.tag) != "SPEC-OBJECT":
            continue
        identifier = spec_object.get("IDENTIFIER", "")
        if not identifier:
            raise UploadError("A SPEC-OBJECT has no IDENTIFIER.")
        type_id = _ref(spec_object, "TYPE")
        if type_id not in type_names:
            raise UploadError(
                f"SPEC-OBJECT {identifier} refers to an undefined type {type_id!r}.",
                field=identifier,
            )
        values: dict[str, str] = {}
        values_elem = _child(spec_object, "VALUES")
        for value in values_elem if values_elem is not None else []:
            definition = attribute_names.get(_ref(value, "DEFINITION"), "")
            if not definition:
                raise UploadError(
                    f"SPEC-OBJECT {identifier} has a value of an undefined attribute.",
                    field=identifier,
                )
            kind = local_name(value.tag)
            if kind == "ATTRIBUTE-VALUE-XHTML":
                the_value = _child(value, "THE-VALUE")
                values[definition] = _xhtml_text(the_value) if the_value is not None else ""
            elif kind == "ATTRIBUTE-VALUE-ENUMERATION":
                refs = _child(value, "VALUES")
                values[definition] = ", ".join(
                    enum_values.get((r.text or "").strip(), "") for r in (refs or [])
                )
            else:
                values[definition] = value.get("THE-VALUE", "")
        objects[identifier] = ReqifObject(identifier, type_names[type_id], values)

    relations = []
    spec_relations = _child(content, "SPEC-RELATIONS")
    relation_types = dict(type_names)
    for relation in spec_relations if spec_relations is not None else []:
        relations.append(
            (
                relation_types.get(_ref(relation, "TYPE"), ""),
                _ref(relation, "SOURCE"),
                _ref(relation, "TARGET"),
            )
        )

    def walk(node, parent_id: str | None):
        children = _child(node, "CHILDREN")
        for hierarchy in children if children is not None else []:
            object_id = _ref(hierarchy, "OBJECT")
            if object_id not in objects:
                raise UploadError(
                    f"SPEC-HIERARCHY {hierarchy.get('IDENTIFIER')} points to a missing object "
                    f"{object_id!r}."
                )
            if parent_id is not None and objects[object_id].parent is None:
                objects[object_id].parent = parent_id
            walk(hierarchy, object_id)

    specifications = _child(content, "SPECIFICATIONS")
    for specification in specifications if specifications is not None else []:
        walk(specification, None)
    return ReqifDocument(title=title, objects=objects, relations=relations)


# --- Import: planning and writing ---------------------------------------------------------------


def _text_of(values: dict[str, str]) -> str:
    for name in (TEXT, "Text", "Description", "Object Text", "ReqIF.Description"):
        if values.get(name, "").strip():
            return values[name].strip()
    return ""


def _classify(doc: ReqifDocument, prefix: str) -> list[str]:
    """Set kind and code of every object; return warnings.

    A ReqIF.ForeignID is kept exactly as the source wrote it when it follows the one code rule
    (`riskbench.codes`); a bare number (a DOORS absolute number) becomes PREFIX-nnn."""
    warnings = []
    for obj in doc.objects.values():
        if obj.type_name in (CONTROL, TEST_CASE):
            obj.kind = obj.type_name
        elif obj.type_name == REQUIREMENT or _text_of(obj.values):
            obj.kind = REQUIREMENT
        else:
            name = obj.values.get(CHAPTER) or obj.values.get(NAME) or obj.identifier
            warnings.append(f"{name}: no text, read as a heading and skipped.")
            continue
        foreign = (obj.values.get(FOREIGN_ID) or "").strip()
        if re.fullmatch(r"\d{1,9}", foreign):
            obj.code = f"{prefix}-{int(foreign):03d}"
        elif foreign and not code_problem(foreign):
            obj.code = foreign
        else:
            why = code_problem(foreign) if foreign else "it has none"
            raise UploadError(
                f"Object {obj.identifier} has no usable ReqIF.ForeignID (a code such as SRS-001 "
                f"or a number): {why} Requirements are matched by code.",
                field=obj.identifier,
            )
    # A heading's children hang from the nearest requirement above it.
    for obj in doc.objects.values():
        parent = obj.parent
        while parent is not None and doc.objects[parent].kind != REQUIREMENT:
            parent = doc.objects[parent].parent
        obj.parent = parent
    return warnings


def _choice(value: str, choices, default: str, what: str, where: str) -> str:
    if not value:
        return default
    lowered = value.strip().lower()
    for choice_value, label in choices.choices:
        if lowered in (choice_value, label.lower()):
            return choice_value
    raise UploadError(f"{where}: unknown {what} {value!r}.", field=where)


@dataclass
class ReqifImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    controls_created: list[str] = field(default_factory=list)
    tests_created: list[str] = field(default_factory=list)
    links_created: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    applied: bool = False
    planned: dict[str, int] = field(default_factory=dict)  # code → version read, see confirm.py

    def summary(self) -> str:
        return (
            f"{len(self.created)} requirement(s) created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged; {len(self.controls_created)} control(s) and "
            f"{len(self.tests_created)} test case(s) created; {len(self.links_created)} link(s)"
        )


def _ordered(objects: list[ReqifObject], by_id: dict[str, ReqifObject]) -> list[ReqifObject]:
    """Parents before their children (the hierarchy is a tree by construction)."""
    depth_cache: dict[str, int] = {}

    def depth(obj: ReqifObject) -> int:
        if obj.identifier not in depth_cache:
            depth_cache[obj.identifier] = 0 if obj.parent is None else depth(by_id[obj.parent]) + 1
        return depth_cache[obj.identifier]

    return sorted(objects, key=lambda o: (depth(o), _code_key(o.code)))


def _relations(doc: ReqifDocument, result: ReqifImportResult):
    """(control → requirements) and (test → requirements) codes from the relations. Every
    relation with a missing end is reported — all of them, each with the code of the end that
    exists — and nothing is imported."""
    implemented: dict[str, list[str]] = {}  # requirement code → control codes
    verified: dict[str, list[str]] = {}  # test code → requirement codes
    missing, foreign = [], 0
    by_id = doc.objects
    for type_name, source_id, target_id in doc.relations:
        source, target = by_id.get(source_id), by_id.get(target_id)
        if source is None or target is None:
            ends = [
                f"{end.code or end.identifier} ({end.kind or 'heading'})"
                if end is not None
                else f"missing object {ident!r}"
                for end, ident in ((source, source_id), (target, target_id))
            ]
            missing.append(f"'{type_name or '?'}' from {ends[0]} to {ends[1]}")
            continue
        kinds = (type_name, source.kind, target.kind)
        if kinds == (IMPLEMENTED_BY, CONTROL, REQUIREMENT):
            implemented.setdefault(target.code, []).append(source.code)
        elif kinds == (VERIFIED_BY, REQUIREMENT, TEST_CASE):
            verified.setdefault(target.code, []).append(source.code)
        else:
            foreign += 1
    if missing:
        raise UploadError(
            f"{len(missing)} SPEC-RELATION(s) point to a missing object: "
            + "; ".join(missing)
            + ". Nothing was imported."
        )
    if foreign:
        result.warnings.append(
            f"{foreign} relation(s) of other types (not 'implemented by' control → "
            f"requirement or 'verified by' requirement → test) were not imported."
        )
    return implemented, verified


def _source(doc: ReqifDocument, product: Product, result: ReqifImportResult):
    """The document as workbook tables (Controls, Requirements, Tests), so ReqIF is planned and
    written by the same engine as the workbook: one code rule, one title rule (refused naming
    the code, never cut), every dangling reference named, bulk writes with history.

    Controls and test cases the product already has are named only (never changed by a ReqIF
    file: their own records are the source of truth); new ones take the file's values."""
    implemented, verified = _relations(doc, result)
    existing_controls = set(
        RiskControl.objects.filter(product=product).values_list("code", flat=True)
    )
    existing_tests = set(TestCase.objects.filter(product=product).values_list("code", flat=True))
    items = set(SoftwareItem.objects.filter(product=product).values_list("code", flat=True))
    objects = list(doc.objects.values())

    def table(sheet, rows):
        headers = [c.name for c in workbook.COLUMNS[sheet]]
        body = [(i, [r.get(h, "") for h in headers]) for i, r in enumerate(rows, start=1)]
        return hazard_table.Table(headers=headers, rows=body, kind=XML)

    controls, tests, requirements = [], [], []
    where: dict[tuple[str, int], str] = {}
    for obj in sorted((o for o in objects if o.kind == CONTROL), key=lambda o: _code_key(o.code)):
        row = {"id": obj.code}
        if obj.code not in existing_controls:
            row.update(
                title=obj.values.get(NAME) or obj.code,
                description=_text_of(obj.values),
                type=_choice(obj.values.get("RiskBench.Option", ""), ControlOption,
                             ControlOption.PROTECTIVE_MEASURE, "control option", obj.code),
                security_category=_choice(
                    obj.values.get("RiskBench.SecurityCategory", ""), SecurityControlCategory,
                    "", "security category", obj.code),
                implementation_status=_choice(
                    obj.values.get("RiskBench.ImplementationStatus", ""), ImplementationStatus,
                    ImplementationStatus.PLANNED, "implementation status", obj.code),
            )  # fmt: skip
        controls.append(row)
        where[(workbook.CONTROLS, len(controls))] = f"Risk control {obj.code}"
    for obj in sorted((o for o in objects if o.kind == TEST_CASE), key=lambda o: _code_key(o.code)):
        row = {"id": obj.code, "requirement_ids": "; ".join(verified.get(obj.code, []))}
        if obj.code not in existing_tests:
            row.update(
                title=obj.values.get(NAME) or obj.code,
                procedure=_text_of(obj.values),
                method=_choice(obj.values.get("RiskBench.Method", ""), TestMethod,
                               TestMethod.TEST, "test method", obj.code),
                level=_choice(obj.values.get("RiskBench.Level", ""), TestLevel,
                              TestLevel.SYSTEM, "test level", obj.code),
            )  # fmt: skip
        tests.append(row)
        where[(workbook.TESTS, len(tests))] = f"Test case {obj.code}"
    by_id = doc.objects
    for obj in _ordered([o for o in objects if o.kind == REQUIREMENT], by_id):
        values = obj.values
        text = _text_of(values)
        if not text:
            raise UploadError(f"Requirement {obj.code} has no text.", field=obj.code)
        item_code = values.get("RiskBench.SoftwareItem", "").strip()
        if item_code and item_code not in items:
            result.warnings.append(
                f"{obj.code}: software item {item_code} is not in this product; left unallocated."
            )
            item_code = ""
        requirements.append({
            "id": obj.code,
            "title": values.get(NAME) or values.get(CHAPTER) or text.splitlines()[0],
            "text": text,
            "level": _choice(values.get("RiskBench.Level", ""), RequirementLevel,
                             RequirementLevel.SOFTWARE, "requirement level", obj.code),
            "rationale": values.get("RiskBench.Rationale", "") or hazard_table.BLANK,
            "parent_id": by_id[obj.parent].code if obj.parent else hazard_table.BLANK,
            "control_ids": "; ".join(implemented.get(obj.code, [])),
            "software_item_id": item_code or hazard_table.BLANK,
        })  # fmt: skip
        where[(workbook.REQUIREMENTS, len(requirements))] = f"Requirement {obj.code}"
    tables = {}
    for sheet, rows in ((workbook.CONTROLS, controls), (workbook.TESTS, tests),
                        (workbook.REQUIREMENTS, requirements)):  # fmt: skip
        if rows:
            tables[sheet] = table(sheet, rows)
    return workbook.Source(name="ReqIF", tables=tables), where


@transaction.atomic
def import_reqif(
    *,
    product: Product,
    data: bytes,
    filename: str,
    by,
    dry_run: bool = False,
    prefix: str = "REQ",
    expected_versions: dict[str, int] | None = None,
) -> ReqifImportResult:
    """Upsert the file's requirements (with parents), add missing controls and test cases, and
    link them as the file's relations say. All or nothing; a dry run writes nothing.

    Planned and written by the workbook engine (`workbook.import_workbook`): bulk writes with
    one history row per created or changed record, the importer and the reason (21 CFR
    11.10(e)); a title longer than the one length rule is refused naming the object's code,
    never truncated (issue 13 §2)."""
    doc = read_reqif(data)
    result = ReqifImportResult()
    result.warnings = _classify(doc, prefix)
    product = Product.objects.select_for_update().get(pk=product.pk)
    reason = f"Imported from ReqIF {filename.rsplit('/', 1)[-1]}"[:100]
    seen: dict[tuple[str, str], str] = {}
    for obj in doc.objects.values():
        if obj.kind:
            key = (obj.kind, obj.code)
            if key in seen:
                raise UploadError(
                    f"Code {obj.code} is used by two {obj.kind.lower()} objects "
                    f"({seen[key]} and {obj.identifier}).",
                    field=obj.identifier,
                )
            seen[key] = obj.identifier
    if not dry_run:  # what the plan reads is what gets written (see confirm.py)
        lock_rows(Requirement.objects.filter(product=product))
    source, where = _source(doc, product, result)
    codes = {o.code for o in doc.objects.values() if o.kind == REQUIREMENT}
    result.planned = dict(
        Requirement.objects.filter(product=product, code__in=codes).values_list("code", "version")
    )
    if not dry_run:
        refuse_if_moved(result.planned, expected_versions)
    if not source.tables:
        result.applied = not dry_run
        return result
    try:
        plan = workbook.import_workbook(
            product=product, source=source, by=by, reason=reason, dry_run=dry_run
        )
    except workbook.WorkbookRefused as exc:
        plan = exc.plan
    problems = []
    for sheet, row, _, why in plan.rejections():
        label = where.get((sheet, row), f"{sheet} row {row}")
        problems.append(f"{label}: {why.removeprefix(label.rsplit(' ', 1)[-1] + ': ')}")
    if problems:
        raise UploadError(
            f"{len(problems)} problem(s), nothing was imported: " + " | ".join(problems)
        )
    for row in plan.rows.get(workbook.REQUIREMENTS, []):
        {"create": result.created, "update": result.updated}.get(
            row.action, result.unchanged
        ).append(row.code)
    result.controls_created = [
        r.code for r in plan.rows.get(workbook.CONTROLS, []) if r.action == "create"
    ]
    result.tests_created = [
        r.code for r in plan.rows.get(workbook.TESTS, []) if r.action == "create"
    ]
    for requirement, control in plan.new_links.get(ControlRequirement, []):
        result.links_created.append(f"{control} implemented by {requirement}")
    for test, requirement in plan.new_links.get(RequirementTest, []):
        result.links_created.append(f"{requirement} verified by {test}")
    result.applied = not dry_run
    return result
