"""Email verification (domain/email_verification.py) on the real stack, with a real SMTP
server on loopback: the llm worker sends the mail through it, the test reads the link.
The web process runs with SMTP_URL and REQUIRE_EMAIL_VERIFICATION=true (the last test
turns the requirement off); the module gives the stack back as it found it."""
from __future__ import annotations

import hashlib
import re
import subprocess
import uuid

import psycopg
import pytest
import redis
import requests

from tests.support.client import assert_error
from tests.support.smtp import LoopbackSMTP
from tests.support.stack import BIN, REPO, fresh_database, llm_worker_stopped
from tests.support.waits import eventually

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
VERIFY = "/api/v1/auth/email/verify"
RESEND = "/api/v1/auth/email/verify/resend"
PASSWORD = "correct horse battery"
BASE_URL = "https://parlons.test"


def _web_env(server: LoopbackSMTP, *, required: bool) -> dict[str, str]:
    return {"SMTP_URL": server.url, "PUBLIC_BASE_URL": BASE_URL,
            "REQUIRE_EMAIL_VERIFICATION": "true" if required else "false",
            # every test of the session resends from 127.0.0.1: the per-account window is the one tested
            "EMAIL_VERIFICATION_RATE_LIMIT_ADDRESS": "1000/hour"}


@pytest.fixture(scope="module")
def smtp(stack):
    with LoopbackSMTP() as server, llm_worker_stopped(stack) as resume:
        resume(SMTP_URL=server.url)
        stack.restart_web(**_web_env(server, required=True))
        try:
            yield server
        finally:
            stack.restart_web()


def _post(stack, path, payload, **kwargs):
    return requests.post(stack.base_url + path, json=payload, timeout=10, **kwargs)


def _register(stack, **fields) -> tuple[str, requests.Response]:
    email = f"verify-{uuid.uuid4().hex[:10]}@example.com"
    answer = _post(stack, REGISTER, {"email": email, "password": PASSWORD, "display_name": "Test Learner", **fields})
    assert answer.status_code == 201, answer.text
    return email, answer


def _mails(smtp, address, count=1):
    return eventually(lambda: (found := smtp.to(address)) and len(found) >= count and found,
                      f"{count} mail(s) to {address}", timeout=60)


def _token(message) -> str:
    return re.search(r"#verify=([A-Za-z0-9_-]+)", message.get_content()).group(1)


def _login(stack, email):
    return _post(stack, LOGIN, {"email": email, "password": PASSWORD})


def _redis(stack) -> redis.Redis:
    return redis.Redis.from_url(stack.env["REDIS_URL"])


def test_registration_mails_a_link_that_verifies_the_address_once(stack, smtp):
    email, answer = _register(stack, native_language="fr")
    body = answer.json()
    assert body["verification_required"] is True
    assert "access_token" not in body and "refresh_token" not in body
    assert body["user"]["email_verified"] is False

    message = _mails(smtp, email)[0]
    assert message["Subject"] == "Confirmez votre adresse e-mail pour Parlons"
    assert message["Content-Language"] == "fr"
    assert f"{BASE_URL}/#verify=" in message.get_content()
    assert "48 heures" in message.get_content()
    token = _token(message)

    assert_error(_login(stack, email), 403, "email_unverified")
    assert_error(_post(stack, LOGIN, {"email": email, "password": "wrong password"}), 401, "invalid_credentials")

    verified = _post(stack, VERIFY, {"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["email"] == email and verified.json()["email_verified"] is True
    login = _login(stack, email)
    assert login.status_code == 200, login.text
    assert login.json()["user"]["email_verified"] is True
    me = requests.get(stack.base_url + "/api/v1/auth/me", timeout=10,
                      headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json()["email_verified"] is True

    assert_error(_post(stack, VERIFY, {"token": token}), 410, "invalid_verification_token")  # once only


def test_an_expired_or_unknown_link_fails_and_changes_nothing(stack, smtp):
    email, _ = _register(stack)
    token = _token(_mails(smtp, email)[0])
    key = "parlons:email-verify:" + hashlib.sha256(token.encode()).hexdigest()
    client = _redis(stack)
    assert 47 * 3600 < client.ttl(key) <= 48 * 3600  # EMAIL_VERIFICATION_HOURS (48)

    client.pexpire(key, 1)  # the 48 hours are over
    eventually(lambda: not client.exists(key), "the token expired")
    assert_error(_post(stack, VERIFY, {"token": token}), 410, "invalid_verification_token")
    assert_error(_post(stack, VERIFY, {"token": "not-a-real-token"}), 410, "invalid_verification_token")
    assert_error(_post(stack, VERIFY, {}), 422)
    assert_error(_login(stack, email), 403, "email_unverified")


def test_an_unverified_account_cannot_refresh_its_tokens(stack, smtp):
    # An account whose tokens predate the requirement and whose address is not confirmed.
    email, _ = _register(stack)
    assert _post(stack, VERIFY, {"token": _token(_mails(smtp, email)[0])}).status_code == 200
    tokens = _login(stack, email).json()
    with stack.database() as conn:
        conn.execute("UPDATE users SET email_verified_at = NULL WHERE email = %s", (email,))
    assert_error(_post(stack, REFRESH, None, headers={"Authorization": f"Bearer {tokens['refresh_token']}"}),
                 403, "email_unverified")


def test_resend_is_always_202_and_throttled_per_account(stack, smtp):
    email, _ = _register(stack)
    _mails(smtp, email)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    answers = [_post(stack, RESEND, {"email": address}) for address in (unknown, email, email, email, email)]
    assert [a.status_code for a in answers] == [202] * 5
    assert len({str(a.json()) for a in answers}) == 1  # the same answer whatever the address
    # EMAIL_VERIFICATION_RATE_LIMIT_ACCOUNT 3/hour: three resends mailed, the fourth dropped
    mails = _mails(smtp, email, count=4)
    other, _ = _register(stack)
    _mails(smtp, other)
    assert _post(stack, RESEND, {"email": other}).status_code == 202
    _mails(smtp, other, count=2)  # sent after the fourth resend: that one was dropped
    assert len(smtp.to(email)) == 4
    assert smtp.to(unknown) == []

    tokens = [_token(message) for message in mails]
    assert _post(stack, VERIFY, {"token": tokens[-1]}).status_code == 200
    assert_error(_post(stack, VERIFY, {"token": tokens[0]}), 410, "invalid_verification_token")  # all dropped

    # a verified account gets the same answer and no mail
    assert _post(stack, RESEND, {"email": email.upper()}).status_code == 202
    assert _post(stack, RESEND, {"email": other}).status_code == 202
    _mails(smtp, other, count=3)  # sent after the verified account's resend
    assert len(smtp.to(email)) == 4
    assert_error(_post(stack, RESEND, {}), 422)


def test_accounts_from_before_the_migration_and_from_operators_count_as_verified(stack, smtp):
    url = fresh_database(stack, migrate=False)
    env = {**stack.env, "DATABASE_URL": url}
    alembic = [BIN / "alembic", "-c", "migrations/alembic.ini", "upgrade"]
    subprocess.run([*alembic, "c1a55e5c0de1"], env=env, cwd=REPO, check=True, capture_output=True)
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("INSERT INTO users (id, email, password_hash, display_name, target_language, level, timezone, "
                     "role, xp, created_at, updated_at) VALUES (%s, 'old@example.com', 'x', 'Old', 'fr', 'A1', "
                     "'UTC', 'learner', 0, now(), now())", (uuid.uuid4(),))
        subprocess.run([*alembic, "head"], env=env, cwd=REPO, check=True, capture_output=True)
        assert conn.execute("SELECT email_verified_at IS NOT NULL FROM users").fetchall() == [(True,)]

    email = f"operator-made-{uuid.uuid4().hex[:8]}@example.com"
    made = stack.flask("users", "create", "--email", email, "--display-name", "Made", "--password", PASSWORD,
                       "--role", "learner", "--level", "A1", "--native-language", "")
    assert made.returncode == 0, made.stderr
    assert _login(stack, email).status_code == 200  # REQUIRE_EMAIL_VERIFICATION is on


def test_without_the_requirement_the_link_is_mailed_and_the_account_signs_in_at_once(stack, smtp):
    stack.restart_web(**_web_env(smtp, required=False))
    email, answer = _register(stack)
    body = answer.json()
    assert body["verification_required"] is False and body["access_token"] and body["refresh_token"]
    assert body["user"]["email_verified"] is False
    assert _login(stack, email).status_code == 200
    assert _post(stack, VERIFY, {"token": _token(_mails(smtp, email)[0])}).json()["email_verified"] is True
