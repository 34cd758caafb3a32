"""domain/inputs.py: what a body, a query, a path or a socket frame may hold."""
from __future__ import annotations

import pytest

from domain import inputs
from domain.errors import Invalid, Malformed


def test_json_within_the_depth_limit_is_parsed():
    assert inputs.parse_json(b'{"reviews": [{"word_id": 1}]}', max_depth=3) == {"reviews": [{"word_id": 1}]}
    assert inputs.parse_json("[]", max_depth=1) == []


@pytest.mark.parametrize("raw", [b'{"a": [[1]]}', "[" * 5000 + "]" * 5000])
def test_json_deeper_than_the_limit_is_malformed(raw):
    with pytest.raises(Malformed) as caught:
        inputs.parse_json(raw, max_depth=2)
    assert caught.value.code == "json_too_deep"


@pytest.mark.parametrize("raw", [b'{"a": "caf\xe9"}', b"{not json", b'{"a": NaN}', b"[Infinity]",
                                 b"[" + b"1" * 5000 + b"]"])
def test_bodies_that_are_not_strict_utf8_json_are_malformed(raw):
    with pytest.raises(Malformed) as caught:
        inputs.parse_json(raw, max_depth=32)
    assert caught.value.code == "malformed_json"


def test_nul_and_lone_surrogates_are_named_by_their_field():
    inputs.check_text("json", {"content": "Ça va ? 😀", "ids": [1, 2]})  # accents and paired surrogates are fine
    with pytest.raises(Invalid) as caught:
        inputs.check_text("json", {"reviews": [{"client_review_id": "ok"}, {"client_review_id": "a\x00"}]})
    assert caught.value.code == "invalid_characters"
    assert caught.value.details == {"json": {"reviews": {"1": {"client_review_id": [
        "Contains a NUL byte or an unpaired surrogate."]}}}}
    with pytest.raises(Invalid) as caught:
        inputs.check_text("query", {"q": "\ud800"})
    assert list(caught.value.details["query"]) == ["q"]
    with pytest.raises(Invalid) as caught:
        inputs.check_text("json", {"bad\x00key": 1})
    assert caught.value.details == {"json": {"bad\ufffdkey": ["Invalid field name."]}}
