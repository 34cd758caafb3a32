"""The web process's event hub against the real Redis: one subscription per listened
learner, confirmed before `subscribe` returns, dropped with the last listener, and
restored (with RESYNC) after the connection is lost."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
import websocket

from api.realtime.hub import RESYNC, Hub
from domain.events import Event, EventPublisher, channel
from tests.support.client import EventSocket
from tests.support.waits import eventually


@pytest.fixture
def redis_client(stack) -> redis.Redis:
    client = redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def hub(stack) -> Hub:
    return Hub(stack.env["REDIS_URL"])


@pytest.fixture
def publisher(redis_client) -> EventPublisher:
    return EventPublisher(redis_client, maxlen=100, ttl_seconds=60)


def subscribers(client: redis.Redis, user_id: str) -> int:
    return dict(client.pubsub_numsub(channel(user_id)))[channel(user_id)]


def next_event(subscription, timeout: float = 5.0) -> Event:
    event = subscription.get(timeout)
    assert isinstance(event, Event), f"expected an event, got {event!r}"
    return event


def test_an_event_published_as_soon_as_subscribe_returns_is_delivered(hub, publisher):
    for _ in range(20):  # each learner is a fresh SUBSCRIBE, so each round races the confirmation
        user_id = str(uuid.uuid4())
        with hub.subscribe(user_id) as subscription:
            event_id = publisher.publish(user_id, "turn_result", {"n": 1})
            assert subscription.get(timeout=5).id == event_id  # and no RESYNC first: nothing was missed


def test_a_listener_gets_only_its_learners_events(hub, publisher):
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    with hub.subscribe(mine) as subscription:
        publisher.publish(theirs, "turn_result", {"for": "them"})
        publisher.publish(mine, "turn_result", {"for": "me"})
        assert next_event(subscription).data == {"for": "me"}
        assert subscription.get(timeout=0.2) is None


def test_listeners_of_one_learner_share_one_subscription_dropped_with_the_last(hub, publisher, redis_client):
    user_id = str(uuid.uuid4())
    with hub.subscribe(user_id) as first:
        with hub.subscribe(user_id) as second:
            assert subscribers(redis_client, user_id) == 1
            event_id = publisher.publish(user_id, "turn_result", {})
            assert next_event(first).id == event_id
            assert next_event(second).id == event_id
        publisher.publish(user_id, "turn_result", {"still": "listening"})
        assert next_event(first).data == {"still": "listening"}
        assert subscribers(redis_client, user_id) == 1
    eventually(lambda: subscribers(redis_client, user_id) == 0, "the subscription dropped", timeout=5, interval=0.02)


def test_a_lost_connection_is_restored_and_listeners_are_told_to_resync(hub, publisher, redis_client):
    user_id = str(uuid.uuid4())
    with hub.subscribe(user_id) as subscription:
        redis_client.client_kill_filter(_type="pubsub")
        assert subscription.get(timeout=10) is RESYNC  # sent once the learner is subscribed again
        event_id = publisher.publish(user_id, "turn_result", {})
        assert next_event(subscription).id == event_id


def test_the_first_listener_of_a_new_hub_is_live_without_waiting_out_the_confirmation(hub, publisher):
    """The hub connects when the first listener arrives; that listener must see the new
    connection's confirmation, not wait for one on the record it replaced."""
    started = time.monotonic()
    user_id = str(uuid.uuid4())
    with hub.subscribe(user_id) as subscription:
        waited = time.monotonic() - started
        event_id = publisher.publish(user_id, "turn_result", {"n": 1})
        assert subscription.get(timeout=5).id == event_id
    assert waited < 1.0, f"waited {waited:.2f} s for the subscription"


def test_a_listener_with_its_own_wakeup_is_woken_by_every_delivery(hub, publisher):
    """Sockets pass their own wakeup, so one greenlet waits for the client and the hub at once."""
    woken = threading.Event()
    user_id = str(uuid.uuid4())
    subscription = hub.listen(user_id, woken)
    try:
        event_id = publisher.publish(user_id, "turn_result", {})
        assert woken.wait(5)
        assert subscription.pop().id == event_id
        assert subscription.pop() is None
    finally:
        hub.leave(subscription)
        hub.leave(subscription)  # twice is harmless


def test_every_socket_of_a_learner_gets_its_events_without_compression(stack, learner, publisher):
    """Over the real web process: the handshake declines permessage-deflate (a zlib
    context per socket costs more than the rest of it), and the hub fans one event out
    to each of the learner's sockets."""
    url = f"{stack.ws_url}/api/v1/ws?token={learner.access_token}"
    offer = ["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"]
    sockets = [EventSocket(websocket.create_connection(url, timeout=15, header=offer)) for _ in range(3)]
    try:
        for socket in sockets:
            assert "sec-websocket-extensions" not in socket.connection.getheaders()
            assert socket.next_event()["type"] == "session_ready"
        event_id = publisher.publish(learner.user["id"], "journey_scored", {"answer": {"id": "a-1"}})
        for socket in sockets:
            assert socket.next_event()["id"] == event_id
    finally:
        for socket in sockets:
            socket.close()
