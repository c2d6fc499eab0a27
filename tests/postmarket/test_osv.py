"""Advisory parsing and version matching (pure: no database)."""

import json

import pytest

from postmarket import osv
from tests.postmarket.conftest import OSV_DIR
from traceability.graph import code_key

V = osv.Verdict


def advisory(name: str) -> osv.Advisory:
    return osv.parse_advisory(json.loads((OSV_DIR / name).read_text()))


@pytest.mark.parametrize(
    ("purl", "key"),
    [
        ("pkg:pypi/Django_Rest.Framework@3.0", ("pypi", "", "django-rest-framework")),
        ("pkg:npm/%40scope/config-merge@1.4.3", ("npm", "@scope", "config-merge")),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            ("maven", "org.apache.logging.log4j", "log4j-core"),
        ),
        ("pkg:golang/golang.org/x/net@v0.15.0", ("golang", "golang.org/x", "net")),
        ("pkg:deb/debian/openssl@3.0.11?arch=amd64", ("deb", "debian", "openssl")),
    ],
)
def test_purl_and_ecosystem_name_give_the_same_package_key(purl, key):
    assert osv.purl_key(purl)[0] == key


@pytest.mark.parametrize(
    ("ecosystem", "name", "key"),
    [
        ("PyPI", "Django", ("pypi", "", "django")),
        (
            "Maven",
            "org.apache.logging.log4j:log4j-core",
            ("maven", "org.apache.logging.log4j", "log4j-core"),
        ),
        ("npm", "@scope/config-merge", ("npm", "@scope", "config-merge")),
        ("Go", "golang.org/x/net", ("golang", "golang.org/x", "net")),
        ("Debian:12", "openssl", ("deb", "debian", "openssl")),
        ("Alpine:v3.19", "musl", ("apk", "alpine", "musl")),
        ("OSS-Fuzz", "mbedtls", None),
    ],
)
def test_ecosystem_names_map_to_purl_types(ecosystem, name, key):
    assert osv.ecosystem_key(ecosystem, name) == key


def test_a_git_range_keys_the_package_by_its_github_repository():
    a = advisory("OSV-2024-mbedtls-git.json")
    assert a.affected[0].key == ("github", "mbed-tls", "mbedtls")


def test_pypi_ecosystem_ranges_use_pep_440_order():
    affected = advisory("GHSA-xxxx-django-sqli.json").affected[0]
    assert osv.evaluate(affected, "4.2.10").verdict == V.AFFECTED
    assert osv.evaluate(affected, "4.2.11").verdict == V.NOT_AFFECTED
    assert osv.evaluate(affected, "4.2rc1").verdict == V.NOT_AFFECTED  # pre-release of 4.2
    assert osv.evaluate(affected, "3.1.9").verdict == V.NOT_AFFECTED  # before "introduced"
    assert osv.evaluate(affected, "5.0").verdict == V.AFFECTED
    assert osv.evaluate(affected, "5.1").verdict == V.NOT_AFFECTED


def test_maven_ranges_order_qualifiers_as_maven_does():
    affected = advisory("GHSA-jfh8-c2jp-5v3q-log4j.json").affected[0]
    assert osv.evaluate(affected, "2.14.1").verdict == V.AFFECTED
    assert osv.evaluate(affected, "2.0-beta9").verdict == V.AFFECTED
    assert osv.evaluate(affected, "2.0-alpha1").verdict == V.NOT_AFFECTED
    assert osv.evaluate(affected, "2.12.2").verdict == V.NOT_AFFECTED
    assert osv.evaluate(affected, "2.15.0").verdict == V.NOT_AFFECTED


def test_debian_ranges_use_dpkg_order_with_tilde():
    affected = advisory("DSA-5532-1-openssl.json").affected[0]
    assert osv.evaluate(affected, "3.0.11-1~deb12u1").verdict == V.AFFECTED
    assert osv.evaluate(affected, "3.0.11-1~deb12u2").verdict == V.NOT_AFFECTED
    assert osv.evaluate(affected, "3.0.11-1").verdict == V.NOT_AFFECTED  # ~ sorts before


def test_semver_ranges_with_last_affected_include_the_last_version():
    affected = advisory("GHSA-semver-last-affected.json").affected[0]
    assert osv.evaluate(affected, "1.4.2").verdict == V.AFFECTED
    assert osv.evaluate(affected, "1.4.3").verdict == V.NOT_AFFECTED
    assert osv.evaluate(affected, "0.9.9").verdict == V.NOT_AFFECTED


def test_go_semver_range_accepts_a_leading_v():
    affected = advisory("GO-2023-2102-x-net.json").affected[0]
    assert osv.evaluate(affected, "v0.15.0").verdict == V.AFFECTED
    assert osv.evaluate(affected, "v0.17.0").verdict == V.NOT_AFFECTED


def test_explicit_versions_list_decides_without_ranges():
    affected = advisory("PYSEC-2022-42991-versions-only.json").affected[0]
    assert osv.evaluate(affected, "65.5.0").verdict == V.AFFECTED
    assert osv.evaluate(affected, "65.5.1").verdict == V.NOT_AFFECTED


def test_git_range_without_versions_is_not_comparable():
    affected = advisory("OSV-2024-mbedtls-git.json").affected[0]
    match = osv.evaluate(affected, "3.6.2 LTS", "v3.6.2")
    assert match.verdict == V.NOT_COMPARABLE
    assert "GIT" in match.basis


def test_git_range_decides_for_one_of_its_commits():
    affected = advisory("OSV-2024-mbedtls-git.json").affected[0]
    assert osv.evaluate(affected, "0a1b2c3d4e5f").verdict == V.AFFECTED
    assert osv.evaluate(affected, "9f8e7d6c5b4a39281706").verdict == V.NOT_AFFECTED


def test_git_range_with_enumerated_tags_uses_the_tags():
    affected = advisory("OSV-2024-nimble-git-tags.json").affected[0]
    assert osv.evaluate(affected, "1.7.0", "nimble_1_7_0_tag").verdict == V.AFFECTED
    assert osv.evaluate(affected, "1.8.0", "nimble_1_8_0_tag").verdict == V.NOT_AFFECTED


def test_a_version_that_does_not_parse_is_not_comparable_never_not_affected():
    affected = advisory("GHSA-xxxx-django-sqli.json").affected[0]
    assert osv.evaluate(affected, "latest-build").verdict == V.NOT_COMPARABLE
    assert osv.evaluate(affected).verdict == V.NOT_COMPARABLE


def test_introduced_zero_without_fix_affects_every_version():
    a = osv.parse_advisory(
        {
            "id": "X-1",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "p"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                }
            ],
        }
    )
    assert osv.evaluate(a.affected[0], "999.0").verdict == V.AFFECTED


def test_limit_event_caps_the_range():
    a = osv.parse_advisory(
        {
            "id": "X-2",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "p"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"limit": "2.0"}]}
                    ],
                }
            ],
        }
    )
    assert osv.evaluate(a.affected[0], "1.5").verdict == V.AFFECTED
    assert osv.evaluate(a.affected[0], "2.1").verdict == V.NOT_AFFECTED


def test_aliases_cves_and_the_newest_cvss_are_kept():
    a = advisory("GO-2023-2102-x-net.json")
    assert a.cves == ("CVE-2023-39325",)
    assert a.cvss_vector.startswith("CVSS:4.0/")
    assert advisory("GHSA-withdrawn.json").withdrawn


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"id": 5},
        {"id": ""},
        {"id": "X", "affected": {"package": {}}},
        {"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "p"}, "ranges": "x"}]},
        {
            "id": "X",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "p"}, "versions": ["1.0\x00"]}],
        },
    ],
)
def test_malformed_advisories_are_refused_naming_the_field(document):
    with pytest.raises(osv.Malformed):
        osv.parse_advisory(document)


def test_code_key_orders_codes_naturally_and_survives_odd_digits():
    assert sorted(["VUL-10", "VUL-2", "VUL-1"], key=code_key) == ["VUL-1", "VUL-2", "VUL-10"]
    assert sorted(["HAZ-²", "HAZ-1"], key=code_key)[0] == "HAZ-1"  # "²".isdigit() is True


def test_prefilter_never_drops_an_advisory_that_names_a_soup_package():
    from postmarket.vulncheck import may_concern

    tokens = {"log4j-core", "mbedtls", "django"}
    assert may_concern((OSV_DIR / "GHSA-jfh8-c2jp-5v3q-log4j.json").read_bytes(), tokens)
    assert may_concern((OSV_DIR / "OSV-2024-mbedtls-git.json").read_bytes(), tokens)
    assert not may_concern((OSV_DIR / "GHSA-unrelated.json").read_bytes(), tokens)
    escaped = b'{"id": "X", "affected": [{"package": {"name": "\\u0064jango"}}]}'
    assert may_concern(escaped, tokens)  # escapes: parsed to be sure
