"""Helpers shared by the integration tests: a snapshot of row and history counts so every bad
input test can assert the database did not change at all."""

from django.apps import apps

# Every table an importer could write to, with its history table.
WATCHED_APPS = ("hazards", "traceability", "integrations")


def db_counts() -> dict[str, int]:
    counts = {}
    for app_label in WATCHED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            counts[model._meta.label] = model._default_manager.count()
    return counts


JUNIT_PASS_FAIL = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="ci">
  <testsuite name="pump" timestamp="2026-03-01T10:00:00" tests="4">
    <properties><property name="software_version" value="2.1.0-rc3"/></properties>
    <testcase classname="tests.test_occlusion" name="test_TC_001_stops_within_2s" time="0.4"/>
    <testcase classname="tests.test_alarm" name="test_alarm_sounds" time="0.2">
      <properties><property name="test_case" value="TC-002"/></properties>
      <failure message="no sound">AssertionError</failure>
    </testcase>
    <testcase classname="tests.test_misc" name="test_unrelated" time="0.1"/>
    <testcase classname="tests.test_occlusion" name="test_TC-001_resumes" time="0.3">
      <skipped/>
    </testcase>
  </testsuite>
</testsuites>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuites><testsuite name="&lol4;"><testcase name="TC-001"/></testsuite></testsuites>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<testsuites><testsuite name="x"><testcase name="TC-001 &xxe;"/></testsuite></testsuites>
"""


def wrap_root(xml: bytes, root: bytes) -> bytes:
    """The two attack payloads above with another root element (ReqIF, CycloneDX)."""
    return xml.replace(b"testsuites", root)
