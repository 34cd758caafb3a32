"""A loopback Web Push service for the tests: it makes subscriptions (holding each one's
private key and auth secret, as a browser does), receives pushes on their endpoints,
checks the VAPID Authorization header (RFC 8292: an ES256 JWT whose `aud` is this
server's origin, signed by the key in `k=`) and decrypts the payload (RFC 8291,
aes128gcm). A subscription may be told to answer a status (410: gone) instead of 201.
subscribe_user stores one for a user in the database, as the API does."""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_keys() -> tuple[str, str]:
    """A fresh VAPID key pair as the server is configured with it: (private raw, public point), base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(private), b64url(public)


@dataclass
class Subscription:
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    status: int = 201

    def as_json(self) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                            serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}


@dataclass
class Delivery:
    endpoint: str
    payload: dict[str, Any] | None
    vapid_key: str | None
    problems: list[str] = field(default_factory=list)


class PushEndpoint:
    def __init__(self, vapid_public_key: str):
        self.vapid_public_key = vapid_public_key
        self.subscriptions: dict[str, Subscription] = {}
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = endpoint._receive(self.path, self.headers, body)  # case-insensitive
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> PushEndpoint:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def subscribe(self, status: int = 201) -> Subscription:
        subscription = Subscription(f"{self.origin}/push/{uuid.uuid4().hex}", ec.generate_private_key(ec.SECP256R1()),
                                    uuid.uuid4().bytes, status)
        self.subscriptions[subscription.endpoint] = subscription
        return subscription

    def delivered_to(self, subscription: Subscription) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.endpoint == subscription.endpoint]

    def _receive(self, path: str, headers: Any, body: bytes) -> int:
        subscription = self.subscriptions.get(self.origin + path)
        if subscription is None:
            return 404
        problems = []
        vapid_key = self._check_vapid(headers.get("Authorization", ""), problems)
        if headers.get("Content-Encoding") != "aes128gcm":
            problems.append(f"Content-Encoding {headers.get('Content-Encoding')!r}")
        if not headers.get("TTL"):
            problems.append("no TTL header")
        payload = None
        try:
            payload = json.loads(http_ece.decrypt(body, private_key=subscription.private_key,
                                                  auth_secret=subscription.auth, version="aes128gcm"))
        except Exception as error:  # a payload that does not decrypt is the failure under test
            problems.append(f"payload does not decrypt: {error!r}")
        with self._lock:
            self.deliveries.append(Delivery(subscription.endpoint, payload, vapid_key, problems))
        return subscription.status

    def _check_vapid(self, header: str, problems: list[str]) -> str | None:
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "vapid":
            problems.append(f"Authorization scheme {scheme!r}")
            return None
        parts = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
        token, key = parts.get("t", ""), parts.get("k", "")
        if key != self.vapid_public_key:
            problems.append("k= is not the server's VAPID public key")
        try:
            head, claims, signature = token.split(".")
            raw = unb64url(signature)
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
            public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                          f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(unb64url(claims))
        except (ValueError, InvalidSignature) as error:
            problems.append(f"VAPID token does not verify: {error!r}")
            return key
        if json.loads(unb64url(head)).get("alg") != "ES256":
            problems.append("VAPID token is not ES256")
        if claims.get("aud") != self.origin:
            problems.append(f"VAPID aud {claims.get('aud')!r}")
        if not (time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600):
            problems.append("VAPID exp not within 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            problems.append(f"VAPID sub {claims.get('sub')!r}")
        return key


def subscribe_user(db_scope, push: PushEndpoint, user_id: uuid.UUID, status: int = 201) -> Subscription:
    """A new subscription at `push`, stored for the user as POST /api/v1/push/subscriptions stores it."""
    from domain import reminders

    subscription = push.subscribe(status)
    data = subscription.as_json()
    with db_scope() as db:
        reminders.subscribe(db, user_id=user_id, endpoint=data["endpoint"], p256dh=data["keys"]["p256dh"],
                            auth=data["keys"]["auth"])
    return subscription
