"""WebSockets: /api/v1/ws (all of a learner's events) and /api/v1/sessions/{id}/ws
(one session's events; the client may also send messages and typing notices).

Each socket has two loops: this greenlet reads client frames, a sender greenlet writes
events from the socket's hub subscription. Only the sender writes to the socket.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

import marshmallow as ma
import redis
from flask import request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from simple_websocket import ConnectionClosed

from api.extensions import close_db, db, sock
from api.realtime.hub import RESYNC, Subscription, hub
from api.sessions.schemas import MessageCreateSchema, SessionSchema
from api.sessions.submit import accept_message, request_hints
from domain import metrics
from domain import conversations
from domain.config import get_settings
from domain.errors import DomainError
from domain.events import Event, ephemeral_event, is_stream_id, stream_id_key
from domain.redis_client import get_publisher

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013

_message_schema = MessageCreateSchema()


@sock.route("/api/v1/ws")
def learner_socket(ws: Any) -> None:
    _serve(ws, session_id=None)


@sock.route("/api/v1/sessions/<session_id>/ws")
def session_socket(ws: Any, session_id: str) -> None:
    _serve(ws, session_id=session_id)


def _serve(ws: Any, session_id: str | None) -> None:
    try:
        verify_jwt_in_request(locations=["query_string", "headers"])
        user_id = uuid.UUID(get_jwt_identity())
        session = conversations.get_session(db(), user_id=user_id, session_id=session_id) if session_id else None
    except Exception as error:  # every auth or lookup failure closes the same way
        ws.close(reason=POLICY_VIOLATION, message=_close_reason(error))
        return
    session_view = SessionSchema().dump(session) if session else None
    close_db()  # hold no database connection for the socket's lifetime

    last_event_id = request.args.get("last_event_id")
    if last_event_id is not None and not is_stream_id(last_event_id):
        ws.close(reason=POLICY_VIOLATION, message="last_event_id is not an event id")
        return

    connection = _Connection(ws, user_id=user_id, session_id=session_view["id"] if session_view else None)
    with hub().subscribe(str(user_id)) as subscription:
        connection.subscription = subscription
        connection.send(ephemeral_event("session_ready",
                                        {"session": session_view, "connected_user_ids": [str(user_id)]}))
        if last_event_id is not None:
            connection.last_sent_id = last_event_id
            try:
                connection.replay()
            except redis.RedisError:
                ws.close(reason=TRY_AGAIN_LATER, message="replay unavailable; reconnect with last_event_id")
                return
        sender = threading.Thread(target=connection.pump, daemon=True)
        sender.start()
        metrics.WEBSOCKETS_OPEN.inc()
        try:
            connection.read_loop()
        finally:
            metrics.WEBSOCKETS_OPEN.dec()
            connection.closed.set()
            subscription.deliver(RESYNC)  # wake the sender so it can exit
            sender.join(timeout=5)


def _close_reason(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    return "authentication failed: send a valid access token as ?token= or Authorization: Bearer"


class _Connection:
    def __init__(self, ws: Any, *, user_id: uuid.UUID, session_id: str | None):
        self.ws = ws
        self.user_id = user_id
        self.session_id = session_id
        self.socket_id = uuid.uuid4().hex[:12]
        self.subscription: Subscription | None = None
        self.last_sent_id: str | None = None
        self.closed = threading.Event()
        self.settings = get_settings()

    # --- server to client ----------------------------------------------------------

    def send(self, event: Event) -> None:
        self.ws.send(json.dumps(event.envelope(), default=str))

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

    def pump(self) -> None:
        """The sender: events from the hub, a heartbeat when idle."""
        try:
            while not self.closed.is_set():
                event = self.subscription.get(timeout=self.settings.ws_heartbeat_seconds)
                if self.closed.is_set():
                    return
                if self.subscription.overflowed:
                    self.ws.close(reason=TRY_AGAIN_LATER, message="too far behind; reconnect with last_event_id")
                    return
                if event is None:
                    self.send(ephemeral_event("heartbeat", {}))
                elif event is RESYNC:
                    if self.last_sent_id is not None:
                        self.replay()
                else:
                    self.deliver(event)
        except (ConnectionClosed, OSError):
            self.closed.set()
        except redis.RedisError:
            log.warning("replay failed; closing socket so the client resumes", exc_info=True)
            self.ws.close(reason=TRY_AGAIN_LATER, message="temporarily unavailable; reconnect with last_event_id")

    def push_local(self, event: Event) -> None:
        """A reply meant for this socket only, sent by the sender greenlet."""
        self.subscription.deliver(event)

    # --- client to server ----------------------------------------------------------

    def read_loop(self) -> None:
        while True:
            try:
                raw = self.ws.receive()
            except ConnectionClosed:
                return
            if raw is None:
                continue
            self.handle_frame(raw)

    def handle_frame(self, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return self.error("malformed_frame", "Frames must be JSON objects: {\"type\": ..., \"data\": {...}}.")
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            return self.error("malformed_frame", "Frames must be JSON objects with a string \"type\".")
        data = frame.get("data") or {}
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
        self.push_local(ephemeral_event("heartbeat", {}))

    def error(self, code: str, message: str, details: dict | None = None) -> None:
        self.push_local(ephemeral_event("error", {"code": code, "message": message, "details": details or {}}))
