"""A loopback stand-in for the OpenAI and Anthropic HTTP APIs, so tests run the official
SDKs over real sockets, streaming included.

    with FakeLLM() as fake:
        OpenAI(base_url=fake.openai.url, ...)        # http://127.0.0.1:PORT/v1
        Anthropic(base_url=fake.anthropic.url, ...)  # http://127.0.0.1:PORT (no /v1)
        fake.openai.fail_next(2, status=429, headers={"Retry-After": "0.1"})
        fake.anthropic.down()

Each provider listens on its own port, so one can be down (connection refused) while the
other answers. The servers run in threads of the test process: switches are set there,
and any process that knows the URL can call them. Every request is recorded.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODERATION_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)
DEFAULT_REPLY = "Bonjour ! Je m'appelle Camille. Et toi, comment tu t'appelles ?"
# What every answer reports it cost: the learner's token budget counts these.
PROMPT_TOKENS, COMPLETION_TOKENS = 10, 10


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any
    at: float  # time.time() on arrival


class FakeProvider:
    """One provider's server and its switches (plain attributes, changed at any time)."""

    def __init__(self, flavour: str):
        self.flavour = flavour  # "openai" | "anthropic"
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.port = 0
        self.reset()

    def reset(self) -> None:
        """Back to a healthy provider that answers DEFAULT_REPLY and {"ok": true}."""
        self.reply_text = DEFAULT_REPLY  # streamed a few words per event
        self.reply_json: Any = {"ok": True}  # a str is sent verbatim as the model's output
        self.moderation_flags: set[str] = set()
        self.delay = 0.0  # seconds before each response starts
        self.piece_delay = 0.0  # seconds between streamed pieces
        self.words_per_piece = 2  # of the reply, per streamed event
        self.json_delay = 0.0  # seconds before answering a JSON-format (structured output) request
        self.moderation_delay = 0.0  # seconds before answering a moderation request
        self.transcription_delay = 0.0  # seconds before answering a transcription
        self.transcript_text = "Bonjour, je m'appelle Anna."  # what every transcription hears
        self.malformed = False  # response bodies and stream events that are not JSON
        self.disconnect_after: int | None = None  # cut streams after this many pieces
        self.keep_alive = False  # True: connections serve many requests, as real APIs do
        self.connections = 0  # connections accepted since the last reset
        with self._lock:
            self._failures: deque[tuple[int, dict[str, str]]] = deque()
            self.requests.clear()

    # --- switches -------------------------------------------------------------------------

    def fail_next(self, count: int, *, status: int = 500, headers: dict[str, str] | None = None) -> None:
        """Answer the next `count` requests with `status` (and `headers`, e.g. Retry-After)."""
        with self._lock:
            self._failures.extend([(status, dict(headers or {}))] * count)

    def down(self) -> None:
        """Stop listening: connections are refused until `up()`."""
        if self._server:
            self._stopping.set()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def up(self) -> None:
        """Listen (again, on the same port); a no-op when already listening."""
        if self._server:
            return
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"fake-{self.flavour}", daemon=True)
        self._thread.start()

    # --- what tests read ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The SDK's base URL: OpenAI's includes /v1, Anthropic's does not."""
        root = f"http://127.0.0.1:{self.port}"
        return root + "/v1" if self.flavour == "openai" else root

    def env(self) -> dict[str, str]:
        """Settings that point a Parlons process at this provider."""
        prefix = self.flavour.upper()
        return {f"{prefix}_API_BASE": self.url, f"{prefix}_API_KEY": f"test-{self.flavour}-key"}

    def calls(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # --- used by the handler --------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_failure(self) -> tuple[int, dict[str, str]] | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _pieces(self) -> list[str]:
        words, step = self.reply_text.split(" "), self.words_per_piece
        return [" ".join(words[i:i + step]) + (" " if i + step < len(words) else "")
                for i in range(0, len(words), step)]


class FakeLLM:
    def __init__(self) -> None:
        self.openai = FakeProvider("openai")
        self.anthropic = FakeProvider("anthropic")

    def __enter__(self) -> FakeLLM:
        self.openai.up()
        self.anthropic.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.openai.down()
        self.anthropic.down()

    def env(self) -> dict[str, str]:
        """Settings for a process (a worker, say) that should call these servers."""
        return {**self.openai.env(), **self.anthropic.env()}


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # socketserver's default (5) drops connections under load


def _kind_of(request: RecordedRequest) -> str:
    """What a recorded call was for: moderation, reply (a streamed chat), json (structured
    output: the grammar pass, scoring), chat (other completions) or realtime."""
    body = request.body if isinstance(request.body, dict) else {}
    if request.path.endswith("/moderations"):
        return "moderation"
    if request.path.endswith("/client_secrets"):
        return "realtime"
    if body.get("stream"):
        return "reply"
    if body.get("response_format") or body.get("tool_choice"):
        return "json"
    return "chat"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked streams, so a cut stream is visibly incomplete
    # The headers and the body are two writes: with Nagle's algorithm the body waited for
    # the client's delayed ACK of the headers, some 40 ms a response, which no real API adds.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        with self.fake._lock:
            self.fake.connections += 1
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass  # the client gave up (its timeout): nothing to answer

    @property
    def fake(self) -> FakeProvider:
        return self.server.fake

    def do_GET(self) -> None:
        """`GET /_calls`: the calls recorded so far, summarised for another process
        (a benchmark counting paid calls per turn)."""
        if self.path.split("?", 1)[0] != "/_calls":
            return self._error(404, {})
        with self.fake._lock:
            calls = [{"path": r.path, "kind": _kind_of(r), "at": r.at, "body": json.dumps(r.body)}
                     for r in self.fake.requests]
        self._write_json(200, json.dumps(calls).encode())

    def do_POST(self) -> None:
        # By default one request per connection, so `down()` really stops answering.
        self.close_connection = not self.fake.keep_alive
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Type", "").startswith("multipart/"):  # a transcription's upload
            body = {"multipart_bytes": len(raw), "raw": raw.decode("latin-1")}
        else:
            body = json.loads(raw) if raw else None
        path = self.path.split("?", 1)[0]
        self.fake._record(RecordedRequest(path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()))
        if self.fake.delay and self.fake._stopping.wait(self.fake.delay):
            return
        if failure := self.fake._next_failure():
            return self._error(*failure)
        routes = {
            ("openai", "/v1/chat/completions"): self._openai_chat,
            ("openai", "/v1/moderations"): self._openai_moderation,
            ("openai", "/v1/realtime/client_secrets"): self._openai_client_secret,
            ("openai", "/v1/audio/speech"): self._openai_speech,
            ("openai", "/v1/audio/transcriptions"): self._openai_transcription,
            ("anthropic", "/v1/messages"): self._anthropic_messages,
        }
        route = routes.get((self.fake.flavour, path))
        if route is None:
            return self._error(404, {})
        route(body or {})

    # --- OpenAI ---------------------------------------------------------------------------

    def _openai_chat(self, body: dict) -> None:
        model = body.get("model", "fake")
        usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
                 "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS}
        if not body.get("stream"):
            content = self._json_output() if body.get("response_format") else self.fake.reply_text
            return self._send_json({
                "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": content, "refusal": None}}],
                "usage": usage,
            })

        def chunk(delta: dict, finish_reason: str | None = None) -> str:
            return "data: " + json.dumps({
                "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }) + "\n\n"

        # As the API does: with stream_options.include_usage, a last chunk without choices carries the usage.
        usage_chunk = "data: " + json.dumps({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [], "usage": usage}) + "\n\n"
        wants_usage = (body.get("stream_options") or {}).get("include_usage")
        self._stream(
            first=[chunk({"role": "assistant", "content": ""})],
            pieces=[chunk({"content": piece}) for piece in self.fake._pieces()],
            last=[chunk({}, "stop"), *([usage_chunk] if wants_usage else []), "data: [DONE]\n\n"],
            garbage="data: {not json\n\n",
        )

    def _openai_moderation(self, body: dict) -> None:
        if self.fake.moderation_delay and self.fake._stopping.wait(self.fake.moderation_delay):
            return
        flags = self.fake.moderation_flags
        self._send_json({"id": "modr-fake", "model": body.get("model", "omni-moderation-latest"), "results": [{
            "flagged": bool(flags),
            "categories": {name: name in flags for name in MODERATION_CATEGORIES},
            "category_scores": {name: 0.9 if name in flags else 0.01 for name in MODERATION_CATEGORIES},
            "category_applied_input_types": {name: ["text"] for name in MODERATION_CATEGORIES},
        }]})

    def _openai_client_secret(self, body: dict) -> None:
        session = body.get("session") or {}
        self._send_json({
            "value": f"ek_fake_{len(self.fake.requests)}",
            "expires_at": int(time.time()) + 600,
            "session": {"object": "realtime.session", "id": "sess_fake", **session},
        })

    # --- Anthropic ------------------------------------------------------------------------

    def _openai_speech(self, body: dict) -> None:
        """Fake MP3 bytes that name the voice and text (tests compare them)."""
        audio = b"ID3fake-mp3|" + f"{body.get('voice')}|{body.get('input')}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("Content-Length", str(len(audio)))
        self.end_headers()
        self.wfile.write(audio)

    def _openai_transcription(self, body: dict) -> None:
        """The text in `transcript_text` (set on the FakeProvider), after `transcription_delay`."""
        if self.fake.transcription_delay and self.fake._stopping.wait(self.fake.transcription_delay):
            return
        self._send_json({"text": self.fake.transcript_text})

    def _anthropic_messages(self, body: dict) -> None:
        if {"temperature", "top_p", "top_k"} & set(body):
            return self._error(400, {})  # like API version 2026-10-21, which refuses sampling parameters
        model = body.get("model", "fake")
        message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                   "stop_sequence": None,
                   "usage": {"input_tokens": PROMPT_TOKENS, "output_tokens": COMPLETION_TOKENS}}
        if not body.get("stream"):
            output = self.fake.reply_json
            if body.get("tool_choice", {}).get("type") == "tool" and not isinstance(output, str):
                content = [{"type": "tool_use", "id": "toolu_fake", "name": body["tool_choice"]["name"],
                            "input": output}]
                stop_reason = "tool_use"
            else:
                text = output if body.get("tool_choice") else self.fake.reply_text
                content, stop_reason = [{"type": "text", "text": text}], "end_turn"
            return self._send_json({**message, "content": content, "stop_reason": stop_reason})

        def event(name: str, data: dict) -> str:
            return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"

        self._stream(
            first=[event("message_start", {"message": {**message, "content": [], "stop_reason": None}}),
                   event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})],
            pieces=[event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}})
                    for piece in self.fake._pieces()],
            last=[event("content_block_stop", {"index": 0}),
                  event("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                          "usage": {"output_tokens": COMPLETION_TOKENS}}),
                  event("message_stop", {})],
            garbage="event: content_block_delta\ndata: {not json\n\n",
        )

    # --- wire -----------------------------------------------------------------------------

    def _json_output(self) -> str:
        if self.fake.json_delay:
            self.fake._stopping.wait(self.fake.json_delay)
        output = self.fake.reply_json
        return output if isinstance(output, str) else json.dumps(output)

    def _send_json(self, payload: dict) -> None:
        self._write_json(200, b'{"id": "broken", "choices": [' if self.fake.malformed else json.dumps(payload).encode())

    def _error(self, status: int, headers: dict[str, str]) -> None:
        message = f"fake {self.fake.flavour} error {status}"
        if self.fake.flavour == "openai":
            payload = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
        else:
            payload = {"type": "error", "error": {"type": "api_error", "message": message}}
        self._write_json(status, json.dumps(payload).encode(), headers)

    def _write_json(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if not self.fake.keep_alive:
            self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, *, first: list[str], pieces: list[str], last: list[str], garbage: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        if not self.fake.keep_alive:
            self.send_header("Connection", "close")
        self.end_headers()
        for event in first:
            self._chunk(event)
        if self.fake.malformed:
            self._chunk(garbage)
        for index, event in enumerate(pieces):
            if index == self.fake.disconnect_after:
                self.connection.shutdown(socket.SHUT_RDWR)  # no final chunk: the body is incomplete
                return
            if index and self.fake.piece_delay and self.fake._stopping.wait(self.fake.piece_delay):
                return
            self._chunk(event)
        for event in last:
            self._chunk(event)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
