"""A small client of the public API and sockets, as an app would use them."""
from __future__ import annotations

import json
import struct
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import requests
import websocket


@dataclass
class Learner:
    base_url: str
    ws_url: str
    email: str
    password: str
    access_token: str
    refresh_token: str
    user: dict

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.base_url + path, headers=self.headers, timeout=40, **kwargs)

    def post(self, path: str, payload: Any = None, **kwargs: Any) -> requests.Response:
        return requests.post(self.base_url + path, json=payload, headers=self.headers, timeout=10, **kwargs)

    def patch(self, path: str, payload: Any = None, **kwargs: Any) -> requests.Response:
        return requests.patch(self.base_url + path, json=payload, headers=self.headers, timeout=10, **kwargs)

    def new_session(self, character_id: str = "camille", **fields: Any) -> dict:
        response = self.post("/api/v1/sessions", {"mode": "story", "character_id": character_id, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def send(self, session_id: str, content: str, **fields: Any) -> requests.Response:
        return self.post(f"/api/v1/sessions/{session_id}/messages", {"content": content, **fields})

    def socket(self, path: str, **query: str) -> "EventSocket":
        params = "&".join(f"{k}={v}" for k, v in {"token": self.access_token, **query}.items())
        return EventSocket(websocket.create_connection(f"{self.ws_url}{path}?{params}", timeout=15))


def register(base_url: str, ws_url: str, **fields: Any) -> Learner:
    email = fields.pop("email", f"learner-{uuid.uuid4().hex[:10]}@example.com")
    password = fields.pop("password", "correct horse battery")
    response = requests.post(base_url + "/api/v1/auth/register", json={
        "email": email, "password": password, "display_name": "Test Learner", **fields}, timeout=10)
    assert response.status_code == 201, response.text
    body = response.json()
    return Learner(base_url, ws_url, email, password, body["access_token"], body["refresh_token"], body["user"])


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict:
    """The response is `status` in the one error format (with `code` if given): its error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


class SocketClosed(AssertionError):
    """The server closed the socket (or the connection died) while events were awaited."""


class EventSocket:
    """A socket's events as JSON envelopes. Waiting for an event that does not come raises
    websocket.WebSocketTimeoutException; a socket that closes raises SocketClosed: a test
    can tell "nothing came" from "the socket died"."""

    def __init__(self, connection: websocket.WebSocket):
        self.connection = connection
        self.seen: list[dict] = []

    def next_event(self, timeout: float = 15) -> dict:
        self.connection.settimeout(timeout)
        try:
            raw = self.connection.recv()
        except websocket.WebSocketConnectionClosedException as error:
            raise SocketClosed(f"the socket closed; events seen: {self._types()}") from error
        if not raw:  # recv() answers the server's close frame with ""
            raise SocketClosed(f"the server closed the socket; events seen: {self._types()}")
        event = json.loads(raw)
        self.seen.append(event)
        return event

    def drain(self, quiet_for: float = 0.5) -> list[dict]:
        """The events that come until none has come for `quiet_for` seconds, the socket
        still open (fails with SocketClosed if it closes)."""
        received = []
        while True:
            try:
                received.append(self.next_event(quiet_for))
            except websocket.WebSocketTimeoutException:
                return received

    def _types(self) -> list[str]:
        return [event["type"] for event in self.seen]

    def until(self, predicate: Callable[[dict], bool], timeout: float = 20) -> list[dict]:
        """Events received until one matches `predicate` (included)."""
        received = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event; got {[e['type'] for e in received]}")
            event = self.next_event(remaining)
            received.append(event)
            if predicate(event):
                return received

    def send(self, frame_type: str, data: Any) -> None:
        self.connection.send(json.dumps({"type": frame_type, "data": data}))

    def send_text(self, text: str) -> None:
        """A frame exactly as written."""
        self.connection.send(text)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "EventSocket":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def close_code(url: str) -> int:
    """Connect and return the close code the server answers with."""
    connection = websocket.create_connection(url, timeout=10)
    try:
        while True:
            opcode, frame = connection.recv_data_frame(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return struct.unpack("!H", frame.data[:2])[0]
    finally:
        connection.close()


def turn_result_for(turn_id: str) -> Callable[[dict], bool]:
    return lambda event: event["type"] == "turn_result" and event["data"]["turn"]["id"] == turn_id
