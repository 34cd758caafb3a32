"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the mail tests."""
from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackSMTP:
    def __init__(self) -> None:
        self._handler = _Keep()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=_free_port())

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self._controller.port}"

    def to(self, address: str) -> list[EmailMessage]:
        with self._handler.lock:
            return [m for m in self._handler.messages if m["To"] == address]

    def __enter__(self) -> LoopbackSMTP:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()
