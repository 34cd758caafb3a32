"""WebSockets: /api/v1/ws (all of a learner's events) and /api/v1/sessions/{id}/ws
(one session's events; the client may also send messages and typing notices).

One greenlet per socket, the request's own: it sleeps until the client sends a frame,
the hub delivers an event, or a ping or heartbeat is due, then does all of it. Nothing
else lives per socket: no reader thread and selector (simple-websocket's), no sender
greenlet, no queue with its locks, no zlib context (permessage-deflate is declined:
events are small, and a deflate context costs some 300 KB). That is what lets one
process hold 10,000 idle sockets (docs/sockets.md has the figures).
"""
from __future__ import annotations

import json
import logging
import random
import select
import socket
import threading
import time
import uuid
from typing import Any

import marshmallow as ma
import redis
from flask import Blueprint, Response, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from wsproto.connection import Connection as FrameConnection, ConnectionType
from wsproto.events import CloseConnection, Message, Ping, TextMessage
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import LocalProtocolError, generate_accept_token

from api.errors import error_response
from api.extensions import close_db, db, sock
from api.realtime.hub import RESYNC, hub
from api.realtime.watch import token_watch
from api.sessions.schemas import MessageCreateSchema, SessionSchema
from api.sessions.submit import accept_message, request_hints
from domain import conversations, inputs, metrics, revocation, session_summary
from domain.config import get_settings
from domain.errors import DomainError, Invalid, Malformed, RateLimited
from domain.events import Event, ephemeral_event, is_stream_id, now_iso, stream_id_key
from domain.quotas import SOCKET_LEASE_SECONDS, SOCKETS, Slot, get_quotas
from domain.redis_client import get_publisher

log = logging.getLogger(__name__)

GOING_AWAY = 1001
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
TOO_MANY_SOCKETS = 4429  # the learner holds QUOTA_SOCKETS sockets already (4000-4999: the application's codes)

_RECEIVE_BYTES = 4096  # one read's buffer, freed after the read
_CLOSE_WAIT_SECONDS = 1.0  # for the client's close reply, so the kernel ends with FIN, not RST
_PINGS_UNANSWERED = 2.5  # intervals without a byte from the client before it is counted gone

_message_schema = MessageCreateSchema()


class _Capacity:
    """Sockets open in this process, and how many may be: gunicorn's post_worker_init sets
    the limit below the worker's connections, so that REST calls always find a free slot."""

    limit: int | None = None
    open = 0
    lock = threading.Lock()

    @classmethod
    def take(cls) -> bool:
        with cls.lock:
            if cls.limit is not None and cls.open >= cls.limit:
                return False
            cls.open += 1
            return True

    @classmethod
    def release(cls) -> None:
        with cls.lock:
            cls.open -= 1


def set_socket_capacity(limit: int | None) -> None:
    _Capacity.limit = limit


def _socket_route(path: str):
    """Registered where flask-sock registers its routes (on the app it was given, else on
    its blueprint; websocket=True: only upgrade requests match), but served here rather
    than by its simple-websocket Server."""
    def register(view):
        if sock.app is None and sock.bp is None:
            sock.bp = Blueprint("__flask_sock", __name__)
        (sock.app or sock.bp).add_url_rule(path, view_func=view, websocket=True)
        return view
    return register


@_socket_route("/api/v1/ws")
def learner_socket():
    return _serve(session_id=None)


@_socket_route("/api/v1/sessions/<session_id>/ws")
def session_socket(session_id: str):
    return _serve(session_id=session_id)


def _serve(session_id: str | None):
    raw = _upgrade(request.environ)
    if raw is None:
        return error_response(400, "websocket_required", "This endpoint speaks WebSocket (RFC 6455, version 13).")
    settings = get_settings()
    ws = WebSocket(raw, _wakeup_for(raw), max_message_bytes=settings.max_request_bytes)
    try:
        if _Capacity.take():
            try:
                _converse(ws, session_id)
            finally:
                _Capacity.release()
        else:
            ws.close(TRY_AGAIN_LATER, "this server holds all the sockets it can; reconnect in a moment")
    except Exception:
        log.exception("socket failed")
        ws.close(CloseReason.INTERNAL_ERROR, "internal error")
    finally:
        ws.finish()
    return _SocketDone()


def _converse(ws: WebSocket, session_id: str | None) -> None:
    opened = _open(ws, session_id)
    if opened is None:
        return
    connection, ready, last_event_id = opened
    try:
        connection.slot = get_quotas().hold(connection.user_id, SOCKETS, lease_seconds=SOCKET_LEASE_SECONDS)
    except RateLimited as refused:
        ws.close(TOO_MANY_SOCKETS, refused.message)
        return
    connection.subscription = hub().listen(str(connection.user_id), ws.wakeup)
    token_watch().add(connection)
    metrics.WEBSOCKETS_OPEN.inc()
    try:
        connection.send(ready)
        del ready, opened  # the session's view is not kept for the socket's lifetime
        if last_event_id is not None:
            connection.last_sent_id = last_event_id
            connection.replay()
        connection.run()
    except ConnectionClosed:
        pass
    except redis.RedisError:
        log.warning("replay failed; closing socket so the client resumes", exc_info=True)
        ws.close(TRY_AGAIN_LATER, "replay unavailable; reconnect with last_event_id")
    finally:
        metrics.WEBSOCKETS_OPEN.dec()
        token_watch().discard(connection)
        hub().leave(connection.subscription)
        connection.slot.release()


def _open(ws: WebSocket, session_id: str | None) -> tuple[_Connection, Event, str | None] | None:
    """The learner's connection, its session_ready event and the event to resume after; or
    None once the socket is closed with 1008 (bad token, someone else's session, bad id)."""
    try:
        verify_jwt_in_request(locations=["query_string", "headers"])
        token = revocation.TokenClaims.from_payload(get_jwt())
        user_id = uuid.UUID(token.user_id)
        session = conversations.get_session(db(), user_id=user_id, session_id=session_id) if session_id else None
    except Exception as error:  # every auth or lookup failure closes the same way
        ws.close(POLICY_VIOLATION, _close_reason(error))
        return None
    session_view = SessionSchema().dump(session) if session else None
    summary = session_summary.summary_of(db(), session) if session else None
    close_db()  # hold no database connection for the socket's lifetime

    last_event_id = request.args.get("last_event_id")
    if last_event_id is not None and not is_stream_id(last_event_id):
        ws.close(POLICY_VIOLATION, "last_event_id is not an event id")
        return None
    connection = _Connection(ws, token=token, session_id=session_view["id"] if session_view else None)
    ready = ephemeral_event("session_ready", {"session": session_view, "connected_user_ids": [str(user_id)],
                                              "summary": summary})
    return connection, ready, last_event_id


def _close_reason(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    return "authentication failed: send a valid access token as ?token= or Authorization: Bearer"


class _SocketDone(Response):
    """The view's answer once its socket is over. gunicorn is told the connection is
    finished (StopIteration, as flask-sock does); a plain WSGI server writes this empty
    response to the shut socket and notices the client is gone."""

    def __call__(self, environ: dict, start_response: Any):
        if "gunicorn.socket" in environ:
            raise StopIteration()
        return super().__call__(environ, start_response)


# --- the WebSocket itself ----------------------------------------------------------------

class ConnectionClosed(Exception):
    """The socket is closed, by either side."""


def _upgrade(environ: dict) -> socket.socket | None:
    """Answer the handshake (101) on the server's socket; None if this is no WebSocket
    handshake. No Sec-WebSocket-Extensions in the answer: compression is declined."""
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "")
    raw = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if (raw is None or not key or environ.get("HTTP_SEC_WEBSOCKET_VERSION") != "13"
            or environ.get("HTTP_UPGRADE", "").lower() != "websocket"):
        return None
    raw.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + generate_accept_token(key.encode("latin-1")) + b"\r\n\r\n")
    return raw


def _wakeup_for(raw: socket.socket) -> Any:
    from gevent import monkey

    return _GeventWakeup(raw.fileno()) if monkey.is_module_patched("socket") else _PollingWakeup(raw)


class _GeventWakeup:
    """Wakes the socket's greenlet when the client sent something or `set()` is called
    (the hub delivered an event): a one-shot read watcher on the socket and an Event,
    instead of a reader greenlet."""

    __slots__ = ("_event", "_watcher", "_readable")

    def __init__(self, fd: int):
        from gevent import get_hub
        from gevent.event import Event

        self._event = Event()
        self._watcher = get_hub().loop.io(fd, 1)  # 1: readable
        self._readable = False

    def _on_readable(self) -> None:
        self._watcher.stop()  # level-triggered: started again by the next wait, once the data is read
        self._readable = True
        self._event.set()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Whether the socket has something to read (after an event, a wake-up or `timeout`)."""
        if not self._watcher.active:
            self._watcher.start(self._on_readable)
        self._event.wait(max(0.0, timeout))
        self._event.clear()
        readable, self._readable = self._readable, False
        return readable

    def close(self) -> None:
        self._watcher.stop()
        self._watcher.close()


class _PollingWakeup:
    """The same outside gevent (a threaded WSGI server, the unit tests): the thread looks
    at the socket every 50 ms while waiting for `set()`. Not for production."""

    __slots__ = ("_raw", "_event")

    def __init__(self, raw: socket.socket):
        self._raw = raw
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            readable = bool(select.select([self._raw], [], [], 0)[0])
            remaining = deadline - time.monotonic()
            if readable or remaining <= 0 or self._event.wait(min(0.05, remaining)):
                break
        self._event.clear()
        return readable

    def close(self) -> None:
        pass


class WebSocket:
    """The server end of one WebSocket (RFC 6455 framing by wsproto), driven by the
    greenlet that calls it: `wakeup.wait()` then `receive()`, `send_text()`, `ping()`."""

    __slots__ = ("raw", "wakeup", "heard_at", "open", "_frames", "_max_message_bytes", "_fragments", "_size")

    def __init__(self, raw: socket.socket, wakeup: Any, *, max_message_bytes: int):
        self.raw = raw
        self.wakeup = wakeup
        self.heard_at = time.monotonic()  # the client's last byte
        self.open = True
        self._frames = FrameConnection(ConnectionType.SERVER)
        self._max_message_bytes = max_message_bytes
        self._fragments: list[str | bytes] = []
        self._size = 0

    def send_text(self, text: str) -> None:
        self._write(TextMessage(data=text))

    def ping(self) -> None:
        self._write(Ping())

    def receive(self) -> list[str | bytes]:
        """The messages in what the socket has to read now (call it when `wait` said so);
        answers pings and the client's close. Raises ConnectionClosed."""
        try:
            data = self.raw.recv(_RECEIVE_BYTES)
        except OSError:
            data = b""
        if not data:
            self.open = False
            raise ConnectionClosed()
        self.heard_at = time.monotonic()
        self._frames.receive_data(data)
        messages: list[str | bytes] = []
        for event in self._frames.events():
            if isinstance(event, Ping):
                self._write(event.response())
            elif isinstance(event, CloseConnection):  # the client's close, or a frame wsproto rejected
                self._send_close(event.response())
                raise ConnectionClosed()
            elif isinstance(event, Message):
                self._size += len(event.data)
                if self._size > self._max_message_bytes:
                    self.close(CloseReason.MESSAGE_TOO_BIG, "Message is too big")
                    raise ConnectionClosed()
                self._fragments.append(event.data)
                if event.message_finished:
                    joiner = "" if isinstance(event.data, str) else b""
                    messages.append(joiner.join(self._fragments))
                    self._fragments, self._size = [], 0
            # A Pong needs nothing more: any byte from the client refreshed heard_at.
        return messages

    def close(self, code: int, reason: str = "") -> None:
        self._send_close(CloseConnection(code=code, reason=reason))

    def finish(self) -> None:
        """Half-close and read out the client's close reply, briefly; the server closes the socket."""
        self.wakeup.close()
        self.open = False
        try:
            self.raw.shutdown(socket.SHUT_WR)
            self.raw.settimeout(_CLOSE_WAIT_SECONDS)
            while self.raw.recv(_RECEIVE_BYTES):
                pass
        except OSError:
            pass
        try:
            self.raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_close(self, event: CloseConnection) -> None:
        if self.open:
            self.open = False
            try:
                self.raw.sendall(self._frames.send(event))
            except (OSError, LocalProtocolError):
                pass

    def _write(self, event: Any) -> None:
        if not self.open:
            raise ConnectionClosed()
        try:
            self.raw.sendall(self._frames.send(event))
        except (OSError, LocalProtocolError):
            self.open = False
            raise ConnectionClosed() from None


# --- one learner's socket ------------------------------------------------------------------

class _Connection:
    __slots__ = ("ws", "token", "user_id", "session_id", "socket_id", "subscription", "slot", "last_sent_id",
                 "sent_at", "ping_interval", "heartbeat_interval", "ended")

    def __init__(self, ws: WebSocket, *, token: revocation.TokenClaims, session_id: str | None):
        settings = get_settings()
        self.ws = ws
        self.token = token
        self.user_id = uuid.UUID(token.user_id)
        self.ended: str | None = None  # why the token no longer holds, set by the token watch
        self.session_id = session_id
        self.socket_id = uuid.uuid4().hex[:12]
        self.subscription = None
        self.slot: Slot | None = None  # the socket's place among the learner's QUOTA_SOCKETS
        self.last_sent_id: str | None = None
        self.sent_at = time.monotonic()
        self.ping_interval = float(settings.ws_ping_interval_seconds)
        self.heartbeat_interval = float(settings.ws_heartbeat_seconds)

    def run(self) -> None:
        """Until the socket closes: the client's frames, the hub's events, a WebSocket ping
        every ping interval, a `heartbeat` event after the heartbeat interval of silence, and
        a close when the client has not said a byte (a pong included) for 2.5 intervals."""
        ws = self.ws
        # The first ping somewhere in the first interval: sockets opened together (every
        # client reconnecting after a deploy) do not stay in step, pinged all at once.
        next_ping = time.monotonic() + self.ping_interval * random.uniform(0.5, 1.0)
        while True:
            if self.ended is not None:
                ws.close(POLICY_VIOLATION, self.ended)
                return
            now = time.monotonic()
            if now - ws.heard_at > _PINGS_UNANSWERED * self.ping_interval:
                ws.close(GOING_AWAY, "no pong")
                return
            if now >= next_ping:
                ws.ping()
                next_ping = now + self.ping_interval
                if self.slot is not None and now - self.slot.renewed_at > SOCKET_LEASE_SECONDS / 3:
                    self.slot.renew()
            if now - self.sent_at >= self.heartbeat_interval:
                self.send(ephemeral_event("heartbeat", {}))
            due = min(next_ping, self.sent_at + self.heartbeat_interval)
            if ws.wakeup.wait(due - time.monotonic()):
                for message in ws.receive():
                    self.handle_frame(message)
            self.drain()

    def end(self, reason: str) -> None:
        """The token watch's verdict (another greenlet): this socket's own loop closes it."""
        self.ended = reason
        self.ws.wakeup.set()

    # --- server to client ----------------------------------------------------------

    def send(self, event: Event) -> None:
        self.ws.send_text(json.dumps(event.envelope(), default=str))
        self.sent_at = time.monotonic()

    def wants(self, event: Event) -> bool:
        if event.origin == self.socket_id:
            return False  # our own typing notice
        if self.session_id is not None and event.data.get("session_id") not in (None, self.session_id):
            return False
        if event.replayable and self.last_sent_id is not None:
            return stream_id_key(event.id) > stream_id_key(self.last_sent_id)
        return True

    def deliver(self, event: Event) -> None:
        if self.wants(event):
            self.send(event)
            if event.replayable:
                self.last_sent_id = event.id

    def replay(self) -> None:
        """Send stored events after last_sent_id (resume, or catch-up after a hub reconnect)."""
        for event in get_publisher().replay(self.user_id, self.last_sent_id):
            self.deliver(event)

    def drain(self) -> None:
        """Send what the hub delivered since the last look."""
        subscription = self.subscription
        if subscription.overflowed:
            self.ws.close(TRY_AGAIN_LATER, "too far behind; reconnect with last_event_id")
            raise ConnectionClosed()
        while (event := subscription.pop()) is not None:
            if event is RESYNC:
                if self.last_sent_id is not None:
                    self.replay()
            else:
                self.deliver(event)

    # --- client to server ----------------------------------------------------------

    def handle_frame(self, raw: str | bytes) -> None:
        try:  # the same rules as a request body (api/inputs.py)
            frame = inputs.parse_json(raw, max_depth=get_settings().max_json_depth)
            inputs.check_text("frame", frame)
        except Malformed as error:
            return self.error("malformed_frame", f"{error.message} Frames are JSON objects: "
                                                 "{\"type\": ..., \"data\": {...}}.", error.details)
        except Invalid as error:
            return self.error(error.code, error.message, error.details)
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            return self.error("malformed_frame", "Frames must be JSON objects with a string \"type\".")
        # Wrapped ({"type": ..., "data": {...}}) or flat ({"type": ..., "content": ...}),
        # as the seed clients send them.
        data = (frame.get("data") or {}) if "data" in frame else {k: v for k, v in frame.items() if k != "type"}
        if not isinstance(data, dict):
            return self.error("malformed_frame", "\"data\" must be an object.")
        handler = {
            "user_message": self.on_user_message,
            "typing": self.on_typing,
            "heartbeat": self.on_heartbeat,
            "hint_request": self.on_hint_request,
        }.get(frame["type"])
        if handler is None:
            return self.error("unknown_type", f"Unknown frame type {frame['type']!r}.")
        try:
            handler(data)
        except DomainError as error:
            self.error(error.code, error.message, error.details)
        except ConnectionClosed:
            raise
        except Exception:  # the frame failed, the socket is fine
            log.exception("socket frame %r failed", frame["type"])
            self.error("internal_error", "Something went wrong on our side; try again.")
        finally:
            close_db()

    def on_user_message(self, data: dict) -> None:
        if self.session_id is None:
            return self.error("session_required", "Send messages on /api/v1/sessions/{id}/ws.")
        if "suggested_words" in data:  # the frame's name for it (DESIGN.md §5); REST says suggested_word_ids
            data = dict(data)
            data["suggested_word_ids"] = data.pop("suggested_words")
        try:
            args = _message_schema.load(data)
        except ma.ValidationError as error:
            return self.error("validation_error", "Some fields are missing or invalid.", error.messages)
        accept_message(user_id=self.user_id, session_id=self.session_id, **args)

    def on_hint_request(self, _: dict) -> None:
        if self.session_id is None:
            return self.error("session_required", "Ask for hints on /api/v1/sessions/{id}/ws.")
        request_hints(user_id=self.user_id, session_id=self.session_id)

    def on_typing(self, data: dict) -> None:
        if self.session_id is None:
            return self.error("session_required", "Send typing notices on /api/v1/sessions/{id}/ws.")
        is_typing = data.get("is_typing")
        if not isinstance(is_typing, bool):
            return self.error("validation_error", "typing needs {\"is_typing\": true|false}.",
                              {"is_typing": ["Must be a boolean."]})
        get_publisher().publish_ephemeral(
            self.user_id, "typing",
            {"session_id": self.session_id, "user_id": str(self.user_id), "is_typing": is_typing},
            origin=self.socket_id)

    def on_heartbeat(self, _: dict) -> None:
        self.send(ephemeral_event("heartbeat", {"server_time": now_iso()}))

    def error(self, code: str, message: str, details: dict | None = None) -> None:
        self.send(ephemeral_event("error", {"code": code, "message": message, "details": details or {}}))
