"""Ids in URLs: a UUID, or a 404 naming what was looked for."""
import uuid

import pytest

from domain.errors import NotFound
from domain.ids import parse_uuid


def test_a_uuid_in_any_usual_spelling_is_read():
    value = uuid.uuid4()
    assert parse_uuid(str(value), "turn") == value
    assert parse_uuid(str(value).upper(), "turn") == value
    assert parse_uuid(value, "turn") == value


@pytest.mark.parametrize("given", ["", "42", "not-a-uuid", "0" * 33])
def test_anything_else_is_a_404_naming_the_thing(given):
    with pytest.raises(NotFound) as raised:
        parse_uuid(given, "letter")
    assert raised.value.code == "letter_not_found"
    assert raised.value.message == "No such letter."
