"""Reading a feed as hostile input: ZIP members that climb out, zip bombs, oversized or deeply
nested JSON, links in folders."""

import json
import os

import pytest

from postmarket import feeds
from tests.postmarket.conftest import KEV, OSV_DIR, make_zip


def names(members):
    return [m.name for m in members]


def test_a_zip_is_read_in_memory_json_members_only(tmp_path):
    data = make_zip({"a.json": b'{"id": "A"}', "notes.txt": b"x", "dir/b.json": b'{"id": "B"}'})
    assert names(feeds.read_feed_bytes(data, "feed.zip")) == ["a.json", "dir/b.json"]


@pytest.mark.parametrize(
    "name",
    ["../evil.json", "/etc/evil.json", "a/../../evil.json", "C:/evil.json", "a\\..\\evil.json"],
)
def test_a_zip_member_that_leaves_the_archive_refuses_the_whole_feed(name):
    data = make_zip({"ok.json": b"{}", name: b"{}"})
    with pytest.raises(feeds.FeedError, match="leaves the archive"):
        list(feeds.read_feed_bytes(data, "feed.zip"))


def test_a_zip_bomb_member_is_refused():
    data = make_zip({"bomb.json": b"[" + b" " * (3 * 1024 * 1024) + b"]"})
    with pytest.raises(feeds.FeedError, match="compression ratio"):
        list(feeds.read_feed_bytes(data, "feed.zip"))


def test_a_member_over_the_document_limit_is_refused(monkeypatch):
    monkeypatch.setattr(feeds, "MAX_DOCUMENT_BYTES", 100)
    data = make_zip({"big.json": json.dumps({"id": "X" * 200}).encode()})
    with pytest.raises(feeds.FeedError, match="larger than"):
        list(feeds.read_feed_bytes(data, "feed.zip"))


def test_the_total_expanded_size_is_bounded(settings):
    settings.RISKBENCH_MAX_FEED_BYTES = 50
    data = make_zip({f"{i}.json": b'{"id": "0123456789"}' for i in range(5)})
    with pytest.raises(feeds.FeedError, match="expands beyond"):
        list(feeds.read_feed_bytes(data, "feed.zip"))


def test_a_damaged_zip_is_refused():
    with pytest.raises(feeds.FeedError, match="ZIP"):
        list(feeds.read_feed_bytes(b"PK\x03\x04 not really", "feed.zip"))


def test_json_nested_deeper_than_the_limit_is_refused_before_parsing():
    with pytest.raises(feeds.FeedError, match="deep.json: nested 40 levels deep"):
        feeds.load_json(b"[" * 40 + b"]" * 40, "deep.json")
    with pytest.raises(feeds.FeedError, match="nested 100000 levels"):
        feeds.load_json(b"[" * 100_000, "deeper.json")
    inside = b'{"a": "' + b"[" * 40 + b'"}'
    assert feeds.load_json(inside, "s") == {"a": "[" * 40}  # brackets in a string do not count
    assert feeds.load_json(b"[" * 32 + b"]" * 32, "ok.json")


def test_a_nul_in_an_advisory_is_refused_naming_where():
    with pytest.raises(feeds.FeedError, match="NUL"):
        feeds.load_json(b'{"id": "GHSA-\\u0000"}', "nul.json")


def test_invalid_json_names_the_member():
    with pytest.raises(feeds.FeedError, match="bad.json: not valid JSON"):
        feeds.load_json(b'{"id": ', "bad.json")


def test_a_folder_is_read_without_following_links(tmp_path):
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "a.json").write_bytes(b'{"id": "A"}')
    (tmp_path / "secret.json").write_bytes(b'{"id": "SECRET"}')
    os.symlink(tmp_path / "secret.json", tmp_path / "feed" / "link.json")
    assert names(feeds.read_feed(tmp_path / "feed")) == ["a.json"]


def test_one_json_file_may_hold_a_list_of_advisories(tmp_path):
    path = tmp_path / "all.json"
    path.write_text(json.dumps([json.loads(p.read_text()) for p in sorted(OSV_DIR.glob("*"))]))
    (member,) = list(feeds.read_feed(path))
    assert len(feeds.documents(member)) == len(list(OSV_DIR.glob("*.json")))


def test_a_missing_path_cannot_be_read(tmp_path):
    with pytest.raises(feeds.FeedError, match="no such file"):
        list(feeds.read_feed(tmp_path / "nothing"))


def test_kev_catalogue_gives_cve_ids_and_dates():
    kev = feeds.read_kev(KEV.read_bytes())
    assert kev["CVE-2021-44228"] == "2021-12-10"


def test_a_json_that_is_not_a_kev_catalogue_is_refused():
    with pytest.raises(feeds.FeedError, match="not a KEV catalogue"):
        feeds.read_kev(b'{"id": "GHSA-1"}')


def test_encrypted_zip_members_are_refused(tmp_path):
    data = bytearray(make_zip({"a.json": b"{}"}))
    # Set the "encrypted" flag bit in the local header and the central directory entry.
    data[6] |= 1
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1
    with pytest.raises(feeds.FeedError, match="encrypted"):
        list(feeds.read_feed_bytes(bytes(data), "feed.zip"))
