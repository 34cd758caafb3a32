"""Sessions end when they should, and sign-in is throttled per client behind a proxy, on
a real stack of its own: one trusted proxy hop (TRUSTED_PROXY_HOPS=1) and small
per-address limits. Every request names its client with X-Forwarded-For, as the proxy
would, so the tests do not share the limits' counters."""
from __future__ import annotations

import itertools
import struct
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import redis
import requests
import websocket

from domain.events import channel
from tests.support.client import Learner, assert_error
from tests.support.stack import llm_worker_stopped, running_stack
from tests.support.waits import eventually

POLICY_VIOLATION = 1008
CLOSED_WITHIN = 5.0  # seconds
JWT_SECRET = "auth-sessions-test-secret-" + "x" * 32
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def auth_stack():
    with running_stack("auth", extra_env={
        "TRUSTED_PROXY_HOPS": "1",
        "LOGIN_RATE_LIMIT_ACCOUNT": "5/minute",
        "LOGIN_RATE_LIMIT_ADDRESS": "4/minute",
        "REGISTER_RATE_LIMIT_ADDRESS": "3/minute",
        "JWT_SECRET_KEY": JWT_SECRET,
    }) as running:
        yield running


def client_at(address: str | None = None) -> dict[str, str]:
    """The header the proxy adds: the client's address (a fresh one unless given)."""
    return {"X-Forwarded-For": address or next(_addresses)}


def register(stack, *, address: str | None = None, email: str | None = None) -> requests.Response:
    return requests.post(f"{stack.base_url}/api/v1/auth/register", headers=client_at(address), json={
        "email": email or f"learner-{uuid.uuid4().hex[:10]}@example.com", "password": "correct horse battery",
        "display_name": "Test Learner"}, timeout=10)


def new_learner(stack) -> Learner:
    response = register(stack)
    assert response.status_code == 201, response.text
    body = response.json()
    return Learner(stack.base_url, stack.ws_url, body["user"]["email"], "correct horse battery",
                   body["access_token"], body["refresh_token"], body["user"])


def login(stack, email: str, password: str, *, address: str | None = None) -> requests.Response:
    return requests.post(f"{stack.base_url}/api/v1/auth/login", headers=client_at(address),
                         json={"email": email, "password": password}, timeout=10)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(stack, access_token: str) -> requests.Response:
    return requests.get(f"{stack.base_url}/api/v1/auth/me", headers=bearer(access_token), timeout=10)


def refresh(stack, refresh_token: str) -> requests.Response:
    return requests.post(f"{stack.base_url}/api/v1/auth/refresh", headers=bearer(refresh_token), timeout=10)


class OpenSocket:
    """A learner socket that has said session_ready."""

    def __init__(self, stack, access_token: str):
        self.connection = websocket.create_connection(f"{stack.ws_url}/api/v1/ws?token={access_token}", timeout=15)
        assert '"session_ready"' in self.connection.recv()

    def close_frame(self, timeout: float) -> tuple[int, str]:
        """The code and reason of the server's close, waiting up to `timeout` for it."""
        self.connection.settimeout(timeout)
        try:
            while True:
                opcode, frame = self.connection.recv_data_frame(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return struct.unpack("!H", frame.data[:2])[0], frame.data[2:].decode()
        finally:
            self.connection.close()


def assert_closed_within_limit(socket: OpenSocket, since: float, reason_has: str) -> None:
    code, reason = socket.close_frame(timeout=CLOSED_WITHIN + 5)
    elapsed = time.monotonic() - since
    assert code == POLICY_VIOLATION and reason_has in reason, (code, reason)
    assert elapsed < CLOSED_WITHIN, f"closed {elapsed:.1f} s after the token ended"


# --- sessions end when they should ---------------------------------------------------------

def test_a_socket_closes_within_seconds_of_its_logout(auth_stack):
    learner = new_learner(auth_stack)
    socket = OpenSocket(auth_stack, learner.access_token)
    out = requests.post(f"{auth_stack.base_url}/api/v1/auth/logout", headers=learner.headers, timeout=10)
    assert out.status_code == 204
    assert_closed_within_limit(socket, time.monotonic(), "revoked")
    # The login ended: its refresh token is refused too.
    assert_error(refresh(auth_stack, learner.refresh_token), 401, "token_revoked")


def test_a_password_change_ends_every_other_session_and_its_sockets(auth_stack):
    learner = new_learner(auth_stack)
    other = login(auth_stack, learner.email, learner.password)
    assert other.status_code == 200
    other_tokens = other.json()
    socket = OpenSocket(auth_stack, other_tokens["access_token"])

    changed = learner.post("/api/v1/auth/password", {"current_password": learner.password,
                                                     "new_password": "brand new secret"})
    changed_at = time.monotonic()
    assert changed.status_code == 200, changed.text
    assert_closed_within_limit(socket, changed_at, "revoked")
    assert_error(me(auth_stack, other_tokens["access_token"]), 401, "token_revoked")
    assert_error(refresh(auth_stack, other_tokens["refresh_token"]), 401, "token_revoked")
    assert_error(me(auth_stack, learner.access_token), 401, "token_revoked")
    # The client that changed it carries on with the tokens in the answer.
    assert me(auth_stack, changed.json()["access_token"]).status_code == 200
    assert refresh(auth_stack, changed.json()["refresh_token"]).status_code == 200


def test_an_admin_reset_closes_the_accounts_sockets(auth_stack):
    learner = new_learner(auth_stack)
    socket = OpenSocket(auth_stack, learner.access_token)
    reset = auth_stack.flask("users", "reset-password", learner.email, "--password", "operator's choice")
    reset_at = time.monotonic()
    assert reset.returncode == 0, reset.stderr
    assert_closed_within_limit(socket, reset_at, "revoked")
    assert_error(me(auth_stack, learner.access_token), 401, "token_revoked")


def test_a_socket_closes_within_seconds_of_its_token_expiring(auth_stack):
    """An access token living 3 s, minted as the server mints them (same secret, claims)."""
    learner = new_learner(auth_stack)
    now = int(time.time())
    short_lived = jwt.encode({"sub": learner.user["id"], "jti": uuid.uuid4().hex, "type": "access", "fresh": False,
                              "iat": now, "nbf": now, "exp": now + 3, "fam": uuid.uuid4().hex},
                             JWT_SECRET, algorithm="HS256")
    socket = OpenSocket(auth_stack, short_lived)
    expires_in = now + 3 - time.time()
    assert_closed_within_limit(socket, time.monotonic() + expires_in, "expired")
    assert_error(me(auth_stack, short_lived), 401, "token_expired")


def test_refresh_tokens_rotate_and_a_reused_one_revokes_its_whole_login(auth_stack):
    learner = new_learner(auth_stack)
    second_login = login(auth_stack, learner.email, learner.password).json()

    first = refresh(auth_stack, learner.refresh_token)
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != learner.refresh_token
    second = refresh(auth_stack, rotated["refresh_token"])
    assert second.status_code == 200
    latest = second.json()
    socket = OpenSocket(auth_stack, latest["access_token"])

    reused = refresh(auth_stack, learner.refresh_token)  # a copy of a spent token
    reused_at = time.monotonic()
    assert_error(reused, 401, "refresh_token_reused")
    for access in (learner.access_token, rotated["access_token"], latest["access_token"]):
        assert_error(me(auth_stack, access), 401, "token_revoked")
    assert_error(refresh(auth_stack, latest["refresh_token"]), 401, "token_revoked")
    assert_closed_within_limit(socket, reused_at, "revoked")
    # Another login of the same account is not that family.
    assert me(auth_stack, second_login["access_token"]).status_code == 200


def test_a_long_poll_ends_with_a_401_within_seconds_of_its_logout(auth_stack):
    learner = new_learner(auth_stack)
    session = learner.new_session()
    listeners = redis.Redis.from_url(auth_stack.env["REDIS_URL"])
    with llm_worker_stopped(auth_stack), ThreadPoolExecutor(1) as pool:  # the turn stays pending
        turn = learner.send(session["id"], "Bonjour, je voudrais un café.").json()["turn"]
        poll = pool.submit(learner.get, f"/api/v1/turns/{turn['id']}?wait=30")
        eventually(lambda: dict(listeners.pubsub_numsub(channel(learner.user["id"])))
                   .get(channel(learner.user["id"]).encode()), "the long-poll is waiting")
        assert requests.post(f"{auth_stack.base_url}/api/v1/auth/logout", headers=learner.headers,
                             timeout=10).status_code == 204
        logged_out_at = time.monotonic()
        answer = poll.result(timeout=CLOSED_WITHIN + 5)
        assert time.monotonic() - logged_out_at < CLOSED_WITHIN
        assert_error(answer, 401, "token_revoked")


# --- behind a proxy ------------------------------------------------------------------------

def test_spelling_variants_of_an_email_share_one_login_counter(auth_stack):
    learner = new_learner(auth_stack)
    local, domain = learner.email.split("@")
    variants = [f" {local.capitalize()}@{domain.upper()} ", learner.email, f"{learner.email.upper()}\t"]
    # Each attempt from its own address: only the account's counter (5 a minute) can fill.
    statuses = [login(auth_stack, variants[i % 3], "wrong password").status_code for i in range(5)]
    assert statuses == [401] * 5
    limited = login(auth_stack, learner.email, learner.password)
    assert_error(limited, 429, "too_many_login_attempts")
    assert int(limited.headers["Retry-After"]) >= 1


def test_the_login_throttle_keys_on_the_client_address_the_proxy_forwarded(auth_stack):
    client, neighbour = next(_addresses), next(_addresses)
    for _ in range(4):  # 4 a minute per address, each for an account of its own
        assert_error(login(auth_stack, f"nobody-{uuid.uuid4().hex[:8]}@example.com", "guess", address=client),
                     401, "invalid_credentials")
    assert_error(login(auth_stack, "someone@example.com", "guess", address=client), 429, "too_many_login_attempts")
    # A forged left-hand entry changes nothing: one hop is trusted, the proxy's entry is the last.
    forged = f"203.0.113.9, {client}"
    assert_error(login(auth_stack, "someone-else@example.com", "guess", address=forged), 429)
    # Other clients behind the same proxy are not locked out.
    assert_error(login(auth_stack, "someone@example.com", "guess", address=neighbour), 401, "invalid_credentials")


def test_registrations_are_throttled_per_client_address(auth_stack):
    address = next(_addresses)
    for _ in range(3):
        assert register(auth_stack, address=address).status_code == 201
    refused_email = f"refused-{uuid.uuid4().hex[:8]}@example.com"
    refused = register(auth_stack, address=address, email=refused_email)
    assert_error(refused, 429, "too_many_registrations")
    assert int(refused.headers["Retry-After"]) >= 1
    assert_error(login(auth_stack, refused_email, "correct horse battery"), 401, "invalid_credentials")
    assert register(auth_stack, email=refused_email).status_code == 201  # another address
