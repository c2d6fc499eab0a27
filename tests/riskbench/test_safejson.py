"""The bounded-depth JSON parser shared by every upload path and the API (riskbench.safejson)."""

import pytest

from riskbench import safejson

DEEP = "[" * 100_000 + "]" * 100_000


def test_a_100000_deep_document_is_refused_before_parsing():
    with pytest.raises(safejson.JSONInputError, match="nested 100000 levels deep; at most 64"):
        safejson.loads(DEEP)


def test_depth_is_measured_without_counting_brackets_inside_strings():
    assert safejson.nesting_depth('{"a": ["[[[[", {"b": "}}]]\\"[["}]}') == 3
    assert safejson.nesting_depth("[]" * 1000) == 1
    assert safejson.nesting_depth('"unterminated [[[[') == 0


def test_a_document_at_the_limit_is_read():
    text = "[" * safejson.MAX_DEPTH + "]" * safejson.MAX_DEPTH
    assert safejson.loads(text) is not None
    with pytest.raises(safejson.JSONInputError):
        safejson.loads("[" + text + "]")


def test_an_unterminated_string_is_one_match_to_the_end():
    """Escaped quotes that never close made a naive regular expression quadratic (each quote
    rescanned to the end): here the first quote's match runs to the end of the text, so the
    scan never starts again inside it."""
    text = '[1, "' + '\\"[' * 100_000
    match = safejson._STRING.search(text)
    assert (match.start(), match.end()) == (4, len(text))
    assert safejson.nesting_depth(text) == 1


def test_a_nul_in_a_string_is_refused_naming_where():
    with pytest.raises(safejson.JSONInputError, match=r"\$\.components\[1\]\.name contains a NUL"):
        safejson.loads('{"components": [{"name": "ok"}, {"name": "zl\\u0000ib"}]}')
    with pytest.raises(safejson.JSONInputError, match="a key"):
        safejson.loads('{"na\\u0000me": 1}')
    assert safejson.loads('{"a": "\\\\u0000"}') == {"a": "\\u0000"}  # an escaped backslash


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nope", "not valid JSON"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": ' + "1" * 5000 + "}", "not acceptable JSON"),
        (b"\xff\xfe", "not valid UTF-8"),
    ],
)
def test_other_bad_json_gets_a_message(text, message):
    with pytest.raises(safejson.JSONInputError, match=message):
        safejson.loads(text)
