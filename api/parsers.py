"""The API's JSON parser: DRF's, with the bounded-depth, NUL-refusing parse shared with every
upload path (`riskbench.safejson`). A 100,000-deep body is a 400 with a message, not a
RecursionError."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

from riskbench import safejson


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from exc
        try:
            return safejson.loads(text)
        except safejson.JSONInputError as exc:
            where = f" (line {exc.line})" if exc.line else ""
            raise ParseError(f"JSON parse error - {exc.message}{where}.") from exc
