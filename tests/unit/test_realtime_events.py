import json

from domain.events import channel, is_stream_id, parse_channel_message, stream_id_key


def test_stream_ids_sort_numerically_not_as_text():
    ids = ["1700000000000-10", "1700000000000-9", "999999999999-0"]
    assert sorted(ids, key=stream_id_key) == ["999999999999-0", "1700000000000-9", "1700000000000-10"]


def test_only_stream_ids_can_be_resumed_from():
    assert is_stream_id("1700000000000-3")
    assert is_stream_id("1700000000000")
    assert not is_stream_id("x-abc")
    assert not is_stream_id("1-2-3")
    assert not is_stream_id("")


def test_a_published_message_parses_back_to_the_event():
    body = json.dumps({"type": "typing", "ts": "2026-01-01T00:00:00.000Z", "data": {"is_typing": True}})
    user_id, event = parse_channel_message(channel("u-1"), f"x-123 sock42 {body}")
    assert user_id == "u-1"
    assert (event.type, event.id, event.origin, event.data) == ("typing", "x-123", "sock42", {"is_typing": True})
    assert not event.replayable
    assert event.envelope() == {"type": "typing", "id": "x-123", "ts": "2026-01-01T00:00:00.000Z",
                                "data": {"is_typing": True}}
