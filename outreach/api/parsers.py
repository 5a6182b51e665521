"""The API's JSON parser: what PostgreSQL cannot store (NUL, lone surrogates) and what Python cannot parse
(nesting past the recursion limit) is a 400 naming where it is, never a 500 further down."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from outreach.unstorable import unstorable_in

MAX_DEPTH = 64


def _check(value, path: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels at {path or 'the top'}.")
    if isinstance(value, str):
        if problem := unstorable_in(value):
            raise ParseError(f"{path or 'The body'} contains {problem}, which is not allowed.")
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if problem := unstorable_in(key):
                raise ParseError(f"A field name at {path or 'the top'} contains {problem}, which is not allowed.")
            _check(item, where, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", depth + 1)


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        _check(data, "")
        return data
