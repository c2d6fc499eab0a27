"""JSON from outside (uploaded files, API request bodies), parsed with a bounded depth.

Python's parser recurses once per nested array or object: a 100,000-deep `[[[[…]]]]` (a few
hundred kilobytes) ends in a RecursionError — a server error — and a few thousand levels that
it does parse still break every recursive walk after it (schema validation, the importers).
So the nesting depth is measured first, by a linear scan that never recurses, and a document
deeper than MAX_DEPTH is refused with a message before it is parsed. Strings holding a NUL
character (`"\\u0000"`) are refused too, naming where they are: no database text column can
hold one, and PostgreSQL would fail inside the write.

`loads` is the one JSON parser of every upload path (`traceability.integrations.uploads`)
and of the API (`api.parsers.BoundedJSONParser`).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

# Real documents are shallow: a CycloneDX SBOM with components nested five deep is about
# 15 levels, a RiskBench product export 6. 64 leaves room and keeps every walk far from
# Python's recursion limit.
MAX_DEPTH = 64

# A JSON string (escapes included), or an unterminated one running to the end of the text:
# what it holds is never a bracket. Possessive quantifiers and the end-of-text alternative
# mean every quote starts a match, so the scan stays linear on hostile input (`"\"\"\"…`).
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONInputError(ValueError):
    """The text is not acceptable JSON. `message` says why, as a clause the caller puts in its
    own sentence ("nested 100000 levels deep; …"); `line` says where, when known."""

    def __init__(self, message: str, *, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, without parsing it (linear time,
    no recursion). Brackets inside strings do not count."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets))))


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH):
    """Parse `text` as JSON, refusing a document nested deeper than `max_depth` (before it is
    parsed) and any string holding a NUL character. Raises JSONInputError."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JSONInputError(f"not valid UTF-8 (byte {exc.start})") from exc
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JSONInputError(f"nested {depth} levels deep; at most {max_depth} levels are accepted")
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise JSONInputError(f"not acceptable JSON: {exc}") from exc
    # A NUL can only arrive escaped (the parser refuses a raw control character in a string).
    where = nul_path(document) if "\\u0000" in text else None
    if where is not None:
        raise JSONInputError(f"the string at {where} contains a NUL character (\\u0000)")
    return document


def nul_path(document) -> str | None:
    """Where the first string (key or value) holding a NUL is, as a path like
    `$.components[3].name`; None when there is none. Iterative: no recursion."""
    stack = [("$", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if "\x00" in key:
                    return f"{path} (a key)"
                stack.append((f"{path}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    return None
