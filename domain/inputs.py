"""What the service accepts from outside, before any schema looks at it: JSON that is
valid, UTF-8 and shallow; text PostgreSQL can store (no NUL byte, no lone surrogate);
integers within the database's columns. Bad input is a 4xx naming the field, never a
500 from the database or the JSON decoder."""
from __future__ import annotations

import json
import re
from typing import Any

from domain.errors import Invalid, Malformed

# PostgreSQL `integer`: the vocabulary's ids, page numbers and every other int column we filter on.
DB_INT_MAX = 2**31 - 1

# PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE_MESSAGE = "Contains a NUL byte or an unpaired surrogate."


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes | str, *, max_depth: int) -> Any:
    """The document in `raw`; Malformed (400) if it is not UTF-8, not strict JSON (NaN,
    Infinity and numbers of thousands of digits included) or nested deeper than `max_depth`."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise Malformed("The body is not valid UTF-8.", code="malformed_json") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        document = None
    except ValueError:
        raise Malformed("The body is not valid JSON.", code="malformed_json") from None
    else:
        if _depth(document) <= max_depth:
            return document
    raise Malformed(f"The JSON is nested more than {max_depth} levels deep.", code="json_too_deep",
                    details={"max_depth": max_depth})


def _depth(document: Any) -> int:
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (value.values() if isinstance(value, dict) else value))
    return deepest


def check_text(location: str, value: Any) -> None:
    """Invalid (422, code invalid_characters) naming the first field, under `location`
    (json, query, path, data), whose key or string value holds a NUL or a lone surrogate."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise Invalid("Text may not contain NUL bytes or unpaired surrogates.", code="invalid_characters",
                              details={location: _nest(path or ("",), [_UNSTORABLE_MESSAGE])})
        elif isinstance(value, dict):
            for key, child in value.items():
                if _UNSTORABLE.search(key):
                    raise Invalid("Field names may not contain NUL bytes or unpaired surrogates.",
                                  code="invalid_characters",
                                  details={location: _nest((*path, _printable(key)), ["Invalid field name."])})
                stack.append(((*path, key), child))
        elif isinstance(value, list):
            stack.extend(((*path, str(index)), child) for index, child in enumerate(value))


def _printable(key: str) -> str:
    return _UNSTORABLE.sub("\ufffd", key)


def _nest(path: tuple[str, ...], leaf: Any) -> dict[str, Any]:
    """("reviews", "0", "client_review_id") -> {"reviews": {"0": {"client_review_id": leaf}}}, as
    marshmallow names nested fields."""
    for part in reversed(path[1:]):
        leaf = {part: leaf}
    return {path[0]: leaf}
