"""The rules that end a session (domain/revocation.py), the socket sweep that applies
them (api/realtime/watch.py) and the email spelling the throttle keys on, against a
dict standing in for Redis (only SET/MGET and a pipeline of them are used)."""
from __future__ import annotations

import time

import pytest

from api.realtime.watch import TokenWatch
from domain import accounts, revocation
from domain.errors import Unauthorized
from domain.revocation import TokenClaims

DAY = 86400


class DictRedis:
    def __init__(self):
        self.values: dict[str, str] = {}
        self.round_trips = 0

    def set(self, key, value, ex=None, nx=False):
        self.round_trips += 1
        if nx and key in self.values:
            return None
        self.values[key] = value
        return True

    def mget(self, keys):
        self.round_trips += 1
        return [self.values.get(key) for key in keys]

    def pipeline(self, transaction=False):
        return _Pipeline(self)


class _Pipeline:
    def __init__(self, client: DictRedis):
        self.client, self.calls = client, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def set(self, *args, **kwargs):
        self.calls.append(("set", args, kwargs))

    def mget(self, keys):
        self.calls.append(("mget", (keys,), {}))

    def execute(self):
        self.client.round_trips += 1
        results = [getattr(self.client, name)(*args, **kwargs) for name, args, kwargs in self.calls]
        self.client.round_trips -= len(self.calls)
        return results


def token(jti="a", user="u1", family="f1", issued_at=None, lifetime=900) -> TokenClaims:
    now = int(time.time())
    issued_at = now if issued_at is None else issued_at
    return TokenClaims(jti=jti, user_id=user, issued_at=issued_at, expires_at=issued_at + lifetime, family=family)


def test_claims_are_read_from_a_jwt_payload_with_or_without_a_family():
    payload = {"jti": "j", "sub": "u", "iat": 10, "exp": 20}
    assert TokenClaims.from_payload(payload).family is None
    assert TokenClaims.from_payload({**payload, "fam": "f"}) == TokenClaims("j", "u", 10, 20, "f")


def test_a_logout_revokes_the_token_and_every_token_of_its_login_only():
    client = DictRedis()
    access, refresh, other_login = token("a"), token("r"), token("o", family="f2")
    revocation.revoke(client, token=access, longest_token_seconds=30 * DAY)
    assert revocation.is_revoked(client, token=access)
    assert revocation.is_revoked(client, token=refresh), "same family: the login ended"
    assert not revocation.is_revoked(client, token=other_login)


def test_a_refresh_token_works_once_and_its_reuse_revokes_the_family():
    client = DictRedis()
    first = token("r1", lifetime=30 * DAY)
    assert revocation.spend_refresh_token(client, token=first, longest_token_seconds=30 * DAY) == "f1"
    rotated_access, rotated_refresh = token("a2"), token("r2", lifetime=30 * DAY)
    assert not revocation.is_revoked(client, token=rotated_refresh)

    with pytest.raises(Unauthorized) as reused:
        revocation.spend_refresh_token(client, token=first, longest_token_seconds=30 * DAY)
    assert reused.value.code == "refresh_token_reused"
    assert revocation.is_revoked(client, token=rotated_access)
    assert revocation.is_revoked(client, token=rotated_refresh)
    assert not revocation.is_revoked(client, token=token("x", family="another-login"))


def test_a_refresh_token_from_before_families_starts_its_own():
    client = DictRedis()
    legacy = token("old", family=None, lifetime=30 * DAY)
    assert revocation.spend_refresh_token(client, token=legacy, longest_token_seconds=30 * DAY) == "old"


def test_revoking_an_account_ends_tokens_issued_until_now_and_not_later_ones():
    client = DictRedis()
    before = token("b", family="f", issued_at=int(time.time()))
    revocation.revoke_all(client, user_id="u1", longest_token_seconds=30 * DAY)
    after = token("n", family="g", issued_at=int(time.time()))
    assert revocation.is_revoked(client, token=before)
    assert not revocation.is_revoked(client, token=after)
    assert not revocation.is_revoked(client, token=token("z", user="u2", issued_at=before.issued_at))


def test_many_tokens_are_checked_in_one_round_trip():
    client = DictRedis()
    tokens = [token(f"t{i}", user=f"u{i % 7}", family=f"f{i}") for i in range(5000)]
    revocation.revoke(client, token=tokens[42], longest_token_seconds=DAY)
    client.round_trips = 0
    revoked = revocation.revoked_among(client, tokens)
    assert client.round_trips == 1
    assert [i for i, is_revoked in enumerate(revoked) if is_revoked] == [42]


def test_a_token_ends_when_revoked_or_expired():
    live = token(lifetime=60)
    assert revocation.token_ended(live, revoked=False) is None
    assert "revoked" in revocation.token_ended(live, revoked=True)
    assert "expired" in revocation.token_ended(live, revoked=False, now=live.expires_at)


class Watched:
    def __init__(self, claims: TokenClaims):
        self.token = claims
        self.reason: str | None = None

    def end(self, reason: str) -> None:
        self.reason = reason


def test_the_sweep_ends_revoked_and_expired_sockets_and_keeps_the_others(monkeypatch):
    client = DictRedis()
    monkeypatch.setattr("api.realtime.watch.get_redis", lambda: client)
    watch = TokenWatch(interval=60)
    live, logged_out = Watched(token("live")), Watched(token("out", family="f9"))
    expired = Watched(token("old", issued_at=int(time.time()) - 100, lifetime=10))
    for connection in (live, logged_out, expired):
        watch._watched.add(connection)  # without starting the sweeping thread
    revocation.revoke(client, token=logged_out.token, longest_token_seconds=DAY)

    assert watch.sweep() == 2
    assert live.reason is None
    assert "revoked" in logged_out.reason and "expired" in expired.reason
    assert watch._watched == {live}


def test_spelling_variants_of_an_email_are_one_address():
    assert accounts.normalize_email(" Foo@X.com ") == accounts.normalize_email("foo@x.com") == "foo@x.com"
    assert accounts.normalize_email("STRASSE@x.de") == accounts.normalize_email("straße@x.de")


def test_passwords_hash_and_verify_outside_gevent():
    hashed = accounts._hash("correct horse battery")
    assert accounts._password_matches(hashed, "correct horse battery")
    assert not accounts._password_matches(hashed, "wrong")


def test_under_gevent_hashing_leaves_the_event_loop_free():
    """In a process patched as gunicorn's gevent worker is: greenlets keep running while
    Argon2 works (the loop is never blocked for a hash's ~150 ms)."""
    import subprocess
    import sys
    from pathlib import Path

    script = """
from gevent import monkey; monkey.patch_all()
import time, gevent
from domain import accounts
gaps, last = [], [time.monotonic()]
def tick():
    while True:
        gevent.sleep(0.005)
        now = time.monotonic(); gaps.append(now - last[0]); last[0] = now
ticker = gevent.spawn(tick)
gevent.sleep(0.05)
started = time.monotonic()
hashed = accounts._hash("correct horse battery")
assert accounts._password_matches(hashed, "correct horse battery")
took = time.monotonic() - started
ticker.kill()
print(f"{took:.3f} {max(gaps):.3f}")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[2],
                            env={"REDIS_URL": "redis://127.0.0.1:1/0", "PATH": ""})
    assert result.returncode == 0, result.stderr
    took, longest_gap = map(float, result.stdout.split())
    assert longest_gap < took / 2, f"the loop stood still {longest_gap:.3f} s of the hash's {took:.3f} s"
