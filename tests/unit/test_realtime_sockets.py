"""The server WebSocket of api/realtime/sockets.py over a socket pair, with wsproto as the
client: the handshake declines compression, pings are answered, fragments joined, a
silent client is let go, and hub events and heartbeats reach the client from the one
loop that serves the socket."""
from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
import uuid

import pytest
from flask import Flask
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, Pong, TextMessage
from wsproto.utilities import generate_accept_token

from api.realtime.hub import Subscription
from domain import config
from domain.revocation import TokenClaims
from domain.events import Event, ephemeral_event
from tests.support.waits import eventually


@pytest.fixture(scope="module", autouse=True)
def sockets():
    """The module under test, imported with settings that point nowhere (no server is used)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
        patch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
        config.get_settings.cache_clear()
        from api.realtime import sockets

        yield sockets
    config.get_settings.cache_clear()


class Client:
    """The far end of the pair, speaking WebSocket frames through wsproto."""

    def __init__(self, raw: socket.socket):
        self.raw = raw
        self.raw.settimeout(5)
        self.frames = Connection(ConnectionType.CLIENT)

    def send(self, event) -> None:
        self.raw.sendall(self.frames.send(event))

    def events(self, until=lambda event: True) -> list:
        seen = []
        while True:
            for event in self.frames.events():
                seen.append(event)
                if until(event):
                    return seen
            data = self.raw.recv(65536)
            self.frames.receive_data(data or None)


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


@pytest.fixture
def ws(pair, sockets):
    server, _ = pair
    return sockets.WebSocket(server, sockets._PollingWakeup(server), max_message_bytes=1000)


@pytest.fixture
def client(pair):
    return Client(pair[1])


def handshake_environ(raw: socket.socket, key: bytes, **extra: str) -> dict:
    return {"gunicorn.socket": raw, "HTTP_UPGRADE": "websocket", "HTTP_SEC_WEBSOCKET_VERSION": "13",
            "HTTP_SEC_WEBSOCKET_KEY": key.decode(), **extra}


def test_the_handshake_is_answered_without_compression_even_when_the_client_offers_it(pair, sockets):
    server, client = pair
    key = base64.b64encode(os.urandom(16))
    environ = handshake_environ(server, key, HTTP_SEC_WEBSOCKET_EXTENSIONS="permessage-deflate; client_max_window_bits")
    assert sockets._upgrade(environ) is server
    head = client.recv(4096).decode()
    assert head.startswith("HTTP/1.1 101 ")
    assert f"Sec-WebSocket-Accept: {generate_accept_token(key).decode()}\r\n" in head
    assert "Extensions" not in head, "no deflate context per socket"


def test_a_request_that_is_no_websocket_handshake_is_not_upgraded(pair, sockets):
    server, _ = pair
    assert sockets._upgrade(handshake_environ(server, b"")) is None
    assert sockets._upgrade({**handshake_environ(server, b"a2V5"), "HTTP_SEC_WEBSOCKET_VERSION": "8"}) is None


def test_pings_are_answered_and_fragments_joined(ws, client):
    client.send(Ping(payload=b"are you there"))
    client.send(TextMessage(data='{"type": ', message_finished=False))
    client.send(TextMessage(data='"heartbeat"}', message_finished=True))
    assert ws.wakeup.wait(2)
    messages = []
    while len(messages) < 1:
        messages += ws.receive()
    assert messages == ['{"type": "heartbeat"}']
    pong = client.events(lambda e: isinstance(e, Pong))[-1]
    assert pong.payload == b"are you there"


def test_the_clients_close_is_answered_and_ends_the_socket(ws, client, sockets):
    client.send(CloseConnection(code=1000, reason="bye"))
    assert ws.wakeup.wait(2)
    with pytest.raises(sockets.ConnectionClosed):
        ws.receive()
    closing = client.events(lambda e: isinstance(e, CloseConnection))[-1]
    assert closing.code == 1000


def test_a_message_over_the_limit_closes_with_1009(ws, client, sockets):
    client.send(TextMessage(data="x" * 1001))
    with pytest.raises(sockets.ConnectionClosed):
        while True:
            ws.wakeup.wait(2)
            ws.receive()
    assert client.events(lambda e: isinstance(e, CloseConnection))[-1].code == 1009


def test_a_wakeup_from_the_hub_does_not_claim_the_socket_is_readable(ws):
    threading.Timer(0.05, ws.wakeup.set).start()
    started = time.monotonic()
    assert ws.wakeup.wait(2) is False
    assert time.monotonic() - started < 1


@pytest.fixture
def serve(ws, pair):
    """Runs the socket's loop in a thread (as a threaded dev server would), with short
    intervals; at the end the client hangs up and the loop must end."""
    from api.realtime.sockets import ConnectionClosed, _Connection

    threads = []

    def start(*, ping: float, heartbeat: float, session_id: str | None = None) -> tuple:
        token = TokenClaims(jti="j", user_id=str(uuid.uuid4()), issued_at=0, expires_at=int(time.time()) + 60)
        connection = _Connection(ws, token=token, session_id=session_id)
        connection.ping_interval, connection.heartbeat_interval = ping, heartbeat
        connection.subscription = Subscription(str(connection.user_id), ws.wakeup)
        app = Flask(__name__)

        def run() -> None:
            with app.app_context():
                try:
                    connection.run()
                except ConnectionClosed:
                    pass

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        return connection, thread

    yield start
    pair[1].shutdown(socket.SHUT_RDWR)
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive(), "the loop ends when the client goes"


def texts(events: list) -> list[dict]:
    return [json.loads(e.data) for e in events if isinstance(e, TextMessage)]


def test_hub_events_reach_the_client_and_other_sessions_events_do_not(client, serve):
    connection, _ = serve(ping=10, heartbeat=10, session_id="s-1")
    connection.subscription.deliver(Event(type="turn_result", id="1-0", ts="t", data={"session_id": "s-2"}))
    connection.subscription.deliver(Event(type="turn_result", id="2-0", ts="t", data={"session_id": "s-1"}))
    received = texts(client.events(lambda e: isinstance(e, TextMessage)))
    assert [e["id"] for e in received] == ["2-0"]
    eventually(lambda: connection.last_sent_id == "2-0", "the sent event's id noted (just after the send)",
               timeout=2, interval=0.01)


def test_a_client_frame_gets_its_answer_from_the_same_loop(client, serve):
    serve(ping=10, heartbeat=10)
    client.send(TextMessage(data="not json"))
    client.send(TextMessage(data=json.dumps({"type": "heartbeat"})))
    received = texts(client.events(lambda e: isinstance(e, TextMessage) and "heartbeat" in e.data))
    assert [e["type"] for e in received] == ["error", "heartbeat"]
    assert received[0]["data"]["code"] == "malformed_frame"


def test_an_idle_socket_is_pinged_and_gets_heartbeats(client, serve):
    serve(ping=0.2, heartbeat=0.3)
    seen = client.events(lambda e: isinstance(e, TextMessage))
    assert any(isinstance(e, Ping) for e in seen)
    assert texts(seen)[-1]["type"] == "heartbeat"


def test_a_client_that_answers_pings_stays_and_a_silent_one_is_let_go(client, serve):
    _, thread = serve(ping=0.1, heartbeat=60)
    answered_until = time.monotonic() + 0.6
    while time.monotonic() < answered_until:  # answering: stays open
        for event in client.events(lambda e: isinstance(e, Ping)):
            if isinstance(event, Ping):
                client.send(event.response())
    assert thread.is_alive()
    closing = client.events(lambda e: isinstance(e, CloseConnection))[-1]  # silent from now on
    assert (closing.code, closing.reason) == (1001, "no pong")
    thread.join(2)
    assert not thread.is_alive()


def test_a_listener_that_falls_too_far_behind_is_closed_with_1013(client, serve):
    connection, _ = serve(ping=10, heartbeat=10)
    connection.subscription.overflowed = True
    connection.subscription.deliver(ephemeral_event("typing", {}))
    assert client.events(lambda e: isinstance(e, CloseConnection))[-1].code == 1013


def test_a_socket_whose_token_ended_is_closed_with_1008_and_the_reason(client, serve):
    connection, thread = serve(ping=10, heartbeat=10)
    connection.end("token revoked: log in again")
    closing = client.events(lambda e: isinstance(e, CloseConnection))[-1]
    assert (closing.code, closing.reason) == (1008, "token revoked: log in again")
    thread.join(2)
    assert not thread.is_alive()


def test_sockets_stop_at_the_capacity_left_for_them_and_free_it_when_they_close(sockets):
    """gunicorn's post_worker_init keeps a tenth of the worker's connections for HTTP."""
    sockets.set_socket_capacity(sockets._Capacity.open + 1)
    try:
        assert sockets._Capacity.take()
        assert not sockets._Capacity.take(), "full: the next socket is closed with 1013"
        sockets._Capacity.release()
        assert sockets._Capacity.take()
        sockets._Capacity.release()
    finally:
        sockets.set_socket_capacity(None)
