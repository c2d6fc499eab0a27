"""A product with SOUP items in several ecosystems, and the OSV / KEV fixtures (hand-written in
the shape of real advisories: tests/postmarket/data)."""

import io
import zipfile
from pathlib import Path

import pytest

from tests import factories

DATA = Path(__file__).parent / "data"
OSV_DIR = DATA / "osv"
KEV = DATA / "kev.json"

SOUP = [
    # code, name, purl, version
    ("SW-101", "Django", "pkg:pypi/Django@4.2.10", "4.2.10"),
    ("SW-102", "lodash", "pkg:npm/lodash@4.17.21", "4.17.21"),
    ("SW-103", "Log4j core", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "2.14.1"),
    (
        "SW-104",
        "OpenSSL",
        "pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12",
        "3.0.11-1~deb12u1",
    ),
    ("SW-105", "x/net", "pkg:golang/golang.org/x/net@v0.15.0", "v0.15.0"),
    ("SW-106", "setuptools", "pkg:pypi/setuptools@65.5.0", "65.5.0"),
    ("SW-107", "Mbed TLS", "pkg:github/Mbed-TLS/mbedtls@v3.6.2", "3.6.2 LTS"),
    ("SW-108", "NimBLE", "pkg:github/apache/mynewt-nimble@nimble_1_7_0_tag", "1.7.0"),
    ("SW-109", "config-merge", "pkg:npm/%40scope/config-merge@1.4.3", "1.4.3"),
    ("SW-110", "Vendor BSP", "", "2.0"),
]


@pytest.fixture
def soup(product):
    return {
        code: factories.SoftwareItemFactory(
            product=product, code=code, name=name, purl=purl, soup_version=version, is_soup=True
        )
        for code, name, purl, version in SOUP
    }


@pytest.fixture
def osv_zip(tmp_path):
    path = tmp_path / "all.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(OSV_DIR.glob("*.json")):
            archive.write(file, file.name)
    return path


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
