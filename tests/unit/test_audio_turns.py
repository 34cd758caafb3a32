"""A spoken turn's form fields (api/sessions/schemas.py SpokenMessageSchema): read as the
JSON body's, the suggested words repeated or comma-separated."""
from __future__ import annotations

import marshmallow as ma
import pytest
from werkzeug.datastructures import MultiDict

from domain import config


@pytest.fixture(scope="module")
def schema():
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
        config.get_settings.cache_clear()
        from api.sessions.schemas import SpokenMessageSchema
        yield SpokenMessageSchema()
    config.get_settings.cache_clear()


def test_nothing_but_the_recording(schema):
    assert schema.load(MultiDict()) == {"client_message_id": None, "suggested_word_ids": []}


@pytest.mark.parametrize("form", [
    [("suggested_word_ids", "3"), ("suggested_word_ids", "5, 8")],
    [("suggested_words", "3,5"), ("suggested_words", "8")],
])
def test_suggested_words_repeated_or_comma_separated(schema, form):
    loaded = schema.load(MultiDict([("client_message_id", "rec-1"), *form]))
    assert loaded == {"client_message_id": "rec-1", "suggested_word_ids": [3, 5, 8]}


@pytest.mark.parametrize("form, field", [
    ([("client_message_id", "x" * 65)], "client_message_id"),
    ([("suggested_word_ids", "three")], "suggested_word_ids"),
    ([("suggested_word_ids", "1"), ("suggested_words", "2")], "suggested_words"),
    ([("content", "Bonjour")], "content"),
])
def test_bad_fields_are_named(schema, form, field):
    with pytest.raises(ma.ValidationError) as raised:
        schema.load(MultiDict(form))
    assert field in raised.value.messages
