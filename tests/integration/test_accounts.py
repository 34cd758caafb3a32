"""Accounts and tokens on the real stack."""
from __future__ import annotations

import requests

from tests.support.client import assert_error
from tests.support.client import register


def test_register_login_refresh_me_and_logout(stack):
    learner = register(stack.base_url, stack.ws_url, level="b1", timezone="Europe/Paris")
    assert learner.user["level"] == "B1"
    assert "password" not in learner.user and "password_hash" not in learner.user

    login = requests.post(f"{stack.base_url}/api/v1/auth/login",
                          json={"email": learner.email.upper(), "password": learner.password}, timeout=10)
    assert login.status_code == 200
    tokens = login.json()

    refreshed = requests.post(f"{stack.base_url}/api/v1/auth/refresh",
                              headers={"Authorization": f"Bearer {tokens['refresh_token']}"}, timeout=10)
    assert refreshed.status_code == 200
    access = refreshed.json()["access_token"]
    me = requests.get(f"{stack.base_url}/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert me.json()["email"] == learner.email

    # An access token cannot refresh.
    assert_error(requests.post(f"{stack.base_url}/api/v1/auth/refresh",
                               headers={"Authorization": f"Bearer {access}"}, timeout=10), 401)

    out = requests.post(f"{stack.base_url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {access}"},
                        timeout=10)
    assert out.status_code == 204
    assert_error(requests.get(f"{stack.base_url}/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"},
                              timeout=10), 401, "token_revoked")


def test_duplicate_email_is_a_conflict(stack, learner):
    response = requests.post(f"{stack.base_url}/api/v1/auth/register", json={
        "email": learner.email, "password": "another password", "display_name": "Twin"}, timeout=10)
    assert_error(response, 409, "email_taken")


def test_wrong_password_is_a_401_and_repeated_attempts_a_429(stack, learner):
    def attempt():
        return requests.post(f"{stack.base_url}/api/v1/auth/login",
                             json={"email": learner.email, "password": "wrong password"}, timeout=10)

    assert_error(attempt(), 401, "invalid_credentials")
    statuses = [attempt().status_code for _ in range(6)]
    assert statuses[-1] == 429
    limited = attempt()
    assert_error(limited, 429, "too_many_login_attempts")
    assert int(limited.headers["Retry-After"]) >= 1


def test_profile_update_and_password_change(stack, learner):
    patched = requests.patch(f"{stack.base_url}/api/v1/auth/me", json={"level": "c1", "display_name": "Anna"},
                             headers=learner.headers, timeout=10)
    assert patched.status_code == 200 and patched.json()["level"] == "C1"
    assert_error(requests.patch(f"{stack.base_url}/api/v1/auth/me", json={"timezone": "Mars/Olympus"},
                                headers=learner.headers, timeout=10), 422, "invalid_timezone")

    wrong = learner.post("/api/v1/auth/password", {"current_password": "nope", "new_password": "brand new secret"})
    assert_error(wrong, 401, "invalid_credentials")
    changed = learner.post("/api/v1/auth/password", {"current_password": learner.password,
                                                     "new_password": "brand new secret"})
    assert changed.status_code == 200 and changed.json()["access_token"]
    login = requests.post(f"{stack.base_url}/api/v1/auth/login",
                          json={"email": learner.email, "password": "brand new secret"}, timeout=10)
    assert login.status_code == 200
