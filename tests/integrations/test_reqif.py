"""ReqIF export/import. The official OMG XSD is not available offline, so `check_reqif_structure`
checks what the ReqIF 1.2 schema (reqif.xsd, namespace 20110401) requires of the elements we
write: the header sequence, required attributes, unique xsd:ID identifiers (NCName), ISO 8601
LAST-CHANGE, the order of REQ-IF-CONTENT's children, and that every reference resolves."""

import re

import pytest
from lxml import etree

from hazards.models import RiskControl
from tests import factories
from tests.integrations.helpers import BILLION_LAUGHS, XXE, db_counts, wrap_root
from traceability import services as trace_services
from traceability.integrations import reqif
from traceability.integrations.uploads import UploadError
from traceability.models import ControlRequirement, Requirement, RequirementTest, TestCase

NS = {"r": reqif.NS}
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
HEADER_SEQUENCE = ["COMMENT", "CREATION-TIME", "REPOSITORY-ID", "REQ-IF-TOOL-ID",
                   "REQ-IF-VERSION", "SOURCE-TOOL-ID", "TITLE"]  # fmt: skip
HEADER_REQUIRED = {"CREATION-TIME", "REQ-IF-TOOL-ID", "REQ-IF-VERSION", "SOURCE-TOOL-ID", "TITLE"}
CONTENT_SEQUENCE = ["DATATYPES", "SPEC-TYPES", "SPEC-OBJECTS", "SPEC-RELATIONS",
                    "SPECIFICATIONS", "SPEC-RELATION-GROUPS"]  # fmt: skip
IDENTIFIABLE = {
    "DATATYPE-DEFINITION-STRING", "SPEC-OBJECT-TYPE", "SPEC-RELATION-TYPE", "SPECIFICATION-TYPE",
    "ATTRIBUTE-DEFINITION-STRING", "SPEC-OBJECT", "SPEC-RELATION", "SPECIFICATION",
    "SPEC-HIERARCHY",
}  # fmt: skip
# Element → child elements the schema requires (minOccurs=1).
REQUIRED_CHILDREN = {
    "ATTRIBUTE-DEFINITION-STRING": ["TYPE"],
    "ATTRIBUTE-VALUE-STRING": ["DEFINITION"],
    "SPEC-OBJECT": ["TYPE"],
    "SPEC-RELATION": ["SOURCE", "TARGET", "TYPE"],
    "SPECIFICATION": ["TYPE"],
    "SPEC-HIERARCHY": ["OBJECT"],
}
REQUIRED_ATTRIBUTES = {"DATATYPE-DEFINITION-STRING": ["MAX-LENGTH"], "ATTRIBUTE-VALUE-STRING":
                       ["THE-VALUE"], "REQ-IF-HEADER": ["IDENTIFIER"]}  # fmt: skip


def local(elem) -> str:
    return etree.QName(elem).localname


def check_reqif_structure(data: bytes) -> None:
    root = etree.fromstring(data)
    assert etree.QName(root).namespace == reqif.NS and local(root) == "REQ-IF"
    assert [local(c) for c in root] == ["THE-HEADER", "CORE-CONTENT"]
    header = root.find("r:THE-HEADER/r:REQ-IF-HEADER", NS)
    names = [local(c) for c in header]
    assert names == [n for n in HEADER_SEQUENCE if n in names], "header out of sequence"
    assert set(names) >= HEADER_REQUIRED
    assert header.findtext("r:REQ-IF-VERSION", namespaces=NS) == "1.0"  # fixed="1.0"
    assert DATETIME.match(header.findtext("r:CREATION-TIME", namespaces=NS))
    content = root.find("r:CORE-CONTENT/r:REQ-IF-CONTENT", NS)
    names = [local(c) for c in content]
    assert names == [n for n in CONTENT_SEQUENCE if n in names], "content out of sequence"

    identifiers = {}
    for elem in root.iter():
        name = local(elem)
        for attribute in REQUIRED_ATTRIBUTES.get(name, []):
            assert elem.get(attribute) is not None, f"{name} lacks {attribute}"
        for child in REQUIRED_CHILDREN.get(name, []):
            assert elem.find(f"r:{child}", NS) is not None, f"{name} lacks <{child}>"
        if name in IDENTIFIABLE or name == "REQ-IF-HEADER":
            identifier = elem.get("IDENTIFIER")
            assert identifier and NCNAME.match(identifier), f"bad xsd:ID {identifier!r}"
            assert identifier not in identifiers, f"duplicate IDENTIFIER {identifier}"
            identifiers[identifier] = name
            if name != "REQ-IF-HEADER":
                assert DATETIME.match(elem.get("LAST-CHANGE", "")), f"{name} LAST-CHANGE"
    # Every *-REF resolves to an element of the matching kind (LOCAL-REF is xsd:IDREF).
    for elem in root.iter():
        name = local(elem)
        if name.endswith("-REF"):
            target = identifiers.get((elem.text or "").strip())
            assert target == name.removesuffix("-REF"), f"{name} → {elem.text} ({target})"


@pytest.fixture
def requirements_product(full_product):
    return full_product


def test_export_has_the_structure_reqif_requires(requirements_product):
    data = reqif.export_reqif(requirements_product)
    check_reqif_structure(data)
    root = etree.fromstring(data)
    assert len(root.findall(".//r:SPEC-OBJECT", NS)) == 3 + 2 + 2  # requirements, controls, tests
    assert len(root.findall(".//r:SPEC-RELATION", NS)) == 2 + 2
    # The requirement tree: SRS-001 > SRS-002 > SRS-003.
    top = root.find(".//r:SPECIFICATION[@LONG-NAME='Requirements']/r:CHILDREN", NS)
    assert len(top) == 1 and len(top.findall(".//r:SPEC-HIERARCHY", NS)) == 3


def test_same_data_exports_the_same_identifiers(requirements_product):
    first = reqif.export_reqif(requirements_product, created_at=None)
    second = reqif.export_reqif(requirements_product, created_at=None)
    strip = re.compile(rb"<CREATION-TIME>.*?</CREATION-TIME>")
    assert strip.sub(b"", first) == strip.sub(b"", second)


def _snapshot(product):
    requirements = {
        r.code: (r.level, r.title, r.text, r.rationale, r.parent.code if r.parent else None,
                 r.software_item.code if r.software_item else None)
        for r in Requirement.objects.filter(product=product).select_related("parent",
                                                                            "software_item")
    }  # fmt: skip
    implemented = set(
        ControlRequirement.objects.filter(control__product=product).values_list(
            "control__code", "requirement__code"
        )
    )
    verified = set(
        RequirementTest.objects.filter(requirement__product=product).values_list(
            "requirement__code", "test_case__code"
        )
    )
    return requirements, implemented, verified


def test_round_trip_into_a_fresh_product(requirements_product, editor):
    data = reqif.export_reqif(requirements_product)
    fresh = factories.ProductFactory(slug="fresh")
    for item in requirements_product.software_items.all():
        factories.SoftwareItemFactory(product=fresh, code=item.code, name=item.name)

    result = reqif.import_reqif(product=fresh, data=data, filename="rm.reqif", by=editor)
    assert result.applied and result.warnings == []
    assert sorted(result.created) == ["SRS-001", "SRS-002", "SRS-003"]
    assert sorted(result.controls_created) == ["RC-001", "RC-002"]
    assert _snapshot(fresh) == _snapshot(requirements_product)
    control = RiskControl.objects.get(product=fresh, code="RC-002")
    assert (control.option, control.security_category) == ("inherent_safety", "authentication")
    assert TestCase.objects.get(product=fresh, code="TC-002").level == "unit"
    requirement = Requirement.objects.get(product=fresh, code="SRS-002")
    history = requirement.history.get()
    assert history.history_user == editor
    assert history.history_change_reason == "Imported from ReqIF rm.reqif"

    # Importing the same file again changes nothing (idempotent).
    before = db_counts()
    again = reqif.import_reqif(product=fresh, data=data, filename="rm.reqif", by=editor)
    assert again.created == again.updated == again.links_created == []
    assert db_counts() == before


def test_reimport_updates_changed_requirements(requirements_product, editor):
    data = reqif.export_reqif(requirements_product)
    requirement = Requirement.objects.get(product=requirements_product, code="SRS-003")
    trace_services.requirement_update(
        requirement=requirement,
        by=editor,
        reason="x",
        text="New",
        expected_version=requirement.version,
    )
    result = reqif.import_reqif(
        product=requirements_product, data=data, filename="old.reqif", by=editor
    )
    assert result.updated == ["SRS-003"]
    requirement.refresh_from_db()
    assert requirement.text == "Bolus commands shall be signed."


def test_dry_run_writes_nothing(requirements_product, editor):
    data = reqif.export_reqif(requirements_product)
    fresh = factories.ProductFactory(slug="fresh")
    before = db_counts()
    result = reqif.import_reqif(product=fresh, data=data, filename="x", by=editor, dry_run=True)
    assert len(result.created) == 3 and not result.applied
    assert db_counts() == before


FOREIGN = b"""<?xml version="1.0" encoding="UTF-8"?>
<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd"
        xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <THE-HEADER><REQ-IF-HEADER IDENTIFIER="h1"><CREATION-TIME>2025-01-01T00:00:00Z</CREATION-TIME>
    <REQ-IF-TOOL-ID>DOORS</REQ-IF-TOOL-ID><REQ-IF-VERSION>1.0</REQ-IF-VERSION>
    <SOURCE-TOOL-ID>DOORS</SOURCE-TOOL-ID><TITLE>Pump SRS</TITLE></REQ-IF-HEADER></THE-HEADER>
  <CORE-CONTENT><REQ-IF-CONTENT>
    <DATATYPES>
      <DATATYPE-DEFINITION-XHTML IDENTIFIER="dx" LAST-CHANGE="2025-01-01T00:00:00Z"/>
      <DATATYPE-DEFINITION-STRING IDENTIFIER="ds" LAST-CHANGE="2025-01-01T00:00:00Z"
                                  MAX-LENGTH="255"/>
    </DATATYPES>
    <SPEC-TYPES>
      <SPEC-OBJECT-TYPE IDENTIFIER="t1" LAST-CHANGE="2025-01-01T00:00:00Z" LONG-NAME="Object">
        <SPEC-ATTRIBUTES>
          <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="a-id" LAST-CHANGE="2025-01-01T00:00:00Z"
              LONG-NAME="ReqIF.ForeignID"><TYPE><DATATYPE-DEFINITION-STRING-REF>ds
              </DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>
          <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="a-ch" LAST-CHANGE="2025-01-01T00:00:00Z"
              LONG-NAME="ReqIF.ChapterName"><TYPE><DATATYPE-DEFINITION-STRING-REF>ds
              </DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>
          <ATTRIBUTE-DEFINITION-XHTML IDENTIFIER="a-text" LAST-CHANGE="2025-01-01T00:00:00Z"
              LONG-NAME="ReqIF.Text"><TYPE><DATATYPE-DEFINITION-XHTML-REF>dx
              </DATATYPE-DEFINITION-XHTML-REF></TYPE></ATTRIBUTE-DEFINITION-XHTML>
        </SPEC-ATTRIBUTES>
      </SPEC-OBJECT-TYPE>
      <SPEC-RELATION-TYPE IDENTIFIER="rt" LAST-CHANGE="2025-01-01T00:00:00Z" LONG-NAME="satisfies"/>
      <SPECIFICATION-TYPE IDENTIFIER="st" LAST-CHANGE="2025-01-01T00:00:00Z"/>
    </SPEC-TYPES>
    <SPEC-OBJECTS>
      <SPEC-OBJECT IDENTIFIER="o-head" LAST-CHANGE="2025-01-01T00:00:00Z"><VALUES>
        <ATTRIBUTE-VALUE-STRING THE-VALUE="1"><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>a-id
          </ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING>
        <ATTRIBUTE-VALUE-STRING THE-VALUE="Delivery"><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>
          a-ch</ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING>
        </VALUES><TYPE><SPEC-OBJECT-TYPE-REF>t1</SPEC-OBJECT-TYPE-REF></TYPE></SPEC-OBJECT>
      <SPEC-OBJECT IDENTIFIER="o-12" LAST-CHANGE="2025-01-01T00:00:00Z"><VALUES>
        <ATTRIBUTE-VALUE-STRING THE-VALUE="12"><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>a-id
          </ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING>
        <ATTRIBUTE-VALUE-XHTML><DEFINITION><ATTRIBUTE-DEFINITION-XHTML-REF>a-text
          </ATTRIBUTE-DEFINITION-XHTML-REF></DEFINITION><THE-VALUE><xhtml:div>
          <xhtml:p>The pump shall stop within <xhtml:b>2 s</xhtml:b>.</xhtml:p>
          <xhtml:p>It shall alarm.</xhtml:p></xhtml:div></THE-VALUE></ATTRIBUTE-VALUE-XHTML>
        </VALUES><TYPE><SPEC-OBJECT-TYPE-REF>t1</SPEC-OBJECT-TYPE-REF></TYPE></SPEC-OBJECT>
      <SPEC-OBJECT IDENTIFIER="o-13" LAST-CHANGE="2025-01-01T00:00:00Z"><VALUES>
        <ATTRIBUTE-VALUE-STRING THE-VALUE="13"><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>a-id
          </ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING>
        <ATTRIBUTE-VALUE-XHTML><DEFINITION><ATTRIBUTE-DEFINITION-XHTML-REF>a-text
          </ATTRIBUTE-DEFINITION-XHTML-REF></DEFINITION><THE-VALUE><xhtml:div>Occlusion within
          10 s.</xhtml:div></THE-VALUE></ATTRIBUTE-VALUE-XHTML>
        </VALUES><TYPE><SPEC-OBJECT-TYPE-REF>t1</SPEC-OBJECT-TYPE-REF></TYPE></SPEC-OBJECT>
    </SPEC-OBJECTS>
    <SPEC-RELATIONS>
      <SPEC-RELATION IDENTIFIER="r1" LAST-CHANGE="2025-01-01T00:00:00Z">
        <SOURCE><SPEC-OBJECT-REF>o-13</SPEC-OBJECT-REF></SOURCE>
        <TARGET><SPEC-OBJECT-REF>o-12</SPEC-OBJECT-REF></TARGET>
        <TYPE><SPEC-RELATION-TYPE-REF>rt</SPEC-RELATION-TYPE-REF></TYPE></SPEC-RELATION>
    </SPEC-RELATIONS>
    <SPECIFICATIONS><SPECIFICATION IDENTIFIER="s1" LAST-CHANGE="2025-01-01T00:00:00Z">
      <TYPE><SPECIFICATION-TYPE-REF>st</SPECIFICATION-TYPE-REF></TYPE><CHILDREN>
        <SPEC-HIERARCHY IDENTIFIER="h-head" LAST-CHANGE="2025-01-01T00:00:00Z">
          <OBJECT><SPEC-OBJECT-REF>o-head</SPEC-OBJECT-REF></OBJECT><CHILDREN>
            <SPEC-HIERARCHY IDENTIFIER="h-12" LAST-CHANGE="2025-01-01T00:00:00Z">
              <OBJECT><SPEC-OBJECT-REF>o-12</SPEC-OBJECT-REF></OBJECT><CHILDREN>
                <SPEC-HIERARCHY IDENTIFIER="h-13" LAST-CHANGE="2025-01-01T00:00:00Z">
                  <OBJECT><SPEC-OBJECT-REF>o-13</SPEC-OBJECT-REF></OBJECT></SPEC-HIERARCHY>
              </CHILDREN></SPEC-HIERARCHY>
          </CHILDREN></SPEC-HIERARCHY>
      </CHILDREN></SPECIFICATION></SPECIFICATIONS>
  </REQ-IF-CONTENT></CORE-CONTENT>
</REQ-IF>
"""


def test_foreign_tool_file_with_xhtml_and_headings(product, editor):
    result = reqif.import_reqif(
        product=product, data=FOREIGN, filename="doors.reqif", by=editor, prefix="DRS"
    )
    assert result.created == ["DRS-012", "DRS-013"]
    assert any("Delivery: no text, read as a heading" in w for w in result.warnings)
    assert any("1 relation(s) of other types" in w for w in result.warnings)
    top = Requirement.objects.get(product=product, code="DRS-012")
    assert top.parent is None  # its parent was a heading
    assert top.text == "The pump shall stop within 2 s.\nIt shall alarm."
    assert top.title == "The pump shall stop within 2 s."
    assert Requirement.objects.get(code="DRS-013").parent == top


BAD = [
    ("billion laughs", wrap_root(BILLION_LAUGHS, b"REQ-IF"), "entity expansion"),
    ("external entity", wrap_root(XXE, b"REQ-IF"), "external entity"),
    ("empty", b"", "empty"),
    ("JSON", b'{"a": 1}', "not a ReqIF file"),
    ("other XML", b"<testsuites/>", "root must be <REQ-IF>"),
    ("no header", b'<REQ-IF xmlns="%s"/>' % reqif.NS.encode(), "no <THE-HEADER>"),
    ("dangling type", FOREIGN.replace(b"<SPEC-OBJECT-TYPE-REF>t1<", b"<SPEC-OBJECT-TYPE-REF>t9<"),
     "undefined type"),
    ("dangling relation", FOREIGN.replace(b"<SPEC-OBJECT-REF>o-13</SPEC-OBJECT-REF></SOURCE>",
                                          b"<SPEC-OBJECT-REF>o-99</SPEC-OBJECT-REF></SOURCE>"),
     "missing object"),
    ("object without code", FOREIGN.replace(b'THE-VALUE="12"', b'THE-VALUE="a;b"'),
     "no usable ReqIF.ForeignID"),
    ("duplicate code", FOREIGN.replace(b'THE-VALUE="13"', b'THE-VALUE="12"'), "used by two"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "data", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_reqif_files_write_nothing(product, editor, label, data, message):
    before = db_counts()
    with pytest.raises(UploadError, match=message):
        reqif.import_reqif(product=product, data=data, filename="bad.reqif", by=editor)
    assert db_counts() == before


def test_export_query_count_does_not_grow(product, count_queries):
    def export_count():
        with count_queries() as q:
            reqif.export_reqif(product)
        return q.count

    factories.RequirementTestFactory(requirement__product=product)
    small = export_count()
    for _ in range(10):
        link = factories.ControlRequirementFactory(control__product=product)
        factories.RequirementTestFactory(requirement=link.requirement)
    # requirements (1) + controls (1) + test cases (1) + implemented-by (1) + verified-by (1)
    assert small == export_count() == 5


def test_long_title_is_refused_naming_the_code_never_truncated(product, editor):
    # The title of a foreign requirement is the first line of its text: 226 characters here.
    first_line = "The pump shall stop " + "x" * 205 + "."
    data = FOREIGN.replace(
        b"The pump shall stop within <xhtml:b>2 s</xhtml:b>.", first_line.encode()
    )
    before = db_counts()
    with pytest.raises(UploadError) as caught:
        reqif.import_reqif(product=product, data=data, filename="l.reqif", by=editor, prefix="DRS")
    assert "Requirement DRS-012: the title has 226 characters; at most 200" in str(caught.value)
    assert db_counts() == before


def test_every_dangling_relation_is_reported_with_the_code_of_its_other_end(product, editor):
    data = FOREIGN.replace(
        b"<SPEC-OBJECT-REF>o-13</SPEC-OBJECT-REF></SOURCE>",
        b"<SPEC-OBJECT-REF>o-13</SPEC-OBJECT-REF></SOURCE>",
    ).replace(
        b"</SPEC-RELATIONS>",
        b"""<SPEC-RELATION IDENTIFIER="r2" LAST-CHANGE="2025-01-01T00:00:00Z">
        <SOURCE><SPEC-OBJECT-REF>o-12</SPEC-OBJECT-REF></SOURCE>
        <TARGET><SPEC-OBJECT-REF>o-gone</SPEC-OBJECT-REF></TARGET>
        <TYPE><SPEC-RELATION-TYPE-REF>rt</SPEC-RELATION-TYPE-REF></TYPE></SPEC-RELATION>
        <SPEC-RELATION IDENTIFIER="r3" LAST-CHANGE="2025-01-01T00:00:00Z">
        <SOURCE><SPEC-OBJECT-REF>o-lost</SPEC-OBJECT-REF></SOURCE>
        <TARGET><SPEC-OBJECT-REF>o-13</SPEC-OBJECT-REF></TARGET>
        <TYPE><SPEC-RELATION-TYPE-REF>rt</SPEC-RELATION-TYPE-REF></TYPE></SPEC-RELATION>
        </SPEC-RELATIONS>""",
    )
    with pytest.raises(UploadError) as caught:
        reqif.import_reqif(product=product, data=data, filename="x.reqif", by=editor, prefix="DRS")
    message = str(caught.value)
    assert message.startswith("2 SPEC-RELATION(s) point to a missing object")
    assert "from DRS-012 (Requirement) to missing object 'o-gone'" in message
    assert "from missing object 'o-lost' to DRS-013 (Requirement)" in message


def test_source_codes_are_kept_exactly(product, editor):
    data = FOREIGN.replace(b'THE-VALUE="12"', b'THE-VALUE="GIP 1.1"').replace(
        b'THE-VALUE="13"', b'THE-VALUE="1.10.3"'
    )
    result = reqif.import_reqif(product=product, data=data, filename="x.reqif", by=editor)
    assert sorted(result.created) == ["1.10.3", "GIP 1.1"]
    assert Requirement.objects.get(code="1.10.3").parent.code == "GIP 1.1"
