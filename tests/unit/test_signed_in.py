"""@signed_in: the token is checked before anything else, and the OpenAPI says so."""
import os

import pytest

from api import create_app
from domain import config

_PUBLIC = {("post", "/api/v1/auth/register"), ("post", "/api/v1/auth/login"), ("get", "/api/v1/healthz"),
           ("get", "/api/v1/readyz"), ("get", "/api/v1/metrics"),
           # A forgotten password, email verification, a mailed export link and the push key
           # work without signing in.
           ("post", "/api/v1/auth/password/forgot"), ("post", "/api/v1/auth/password/reset"),
           ("post", "/api/v1/auth/email/verify"), ("post", "/api/v1/auth/email/verify/resend"),
           ("get", "/api/v1/auth/me/export/{token}"), ("get", "/api/v1/push/vapid-public-key")}


@pytest.fixture(scope="module")
def app():
    with pytest.MonkeyPatch.context() as monkeypatch:
        # Addresses where nothing listens: a missing token never reaches a server.
        monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
        config.get_settings.cache_clear()
        yield create_app(config.load_settings(dict(os.environ)))
    config.get_settings.cache_clear()


def test_every_operation_but_the_public_ones_requires_a_bearer_token_and_documents_its_401(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = {(method, path): operation for path, item in spec["paths"].items()
                  for method, operation in item.items() if method in {"get", "post", "patch", "put", "delete"}}
    assert _PUBLIC < set(operations)
    for key, operation in operations.items():
        if key in _PUBLIC:
            assert "security" not in operation, key
        else:
            assert operation["security"] == [{"bearerAuth": []}], key
            assert "401" in operation["responses"], key
    assert "bearerAuth" in spec["components"]["securitySchemes"]


@pytest.mark.parametrize("method, path", [("get", "/api/v1/admin/users?role=nobody"),
                                          ("get", "/api/v1/progress/queue?limit=-1"),
                                          ("post", "/api/v1/sessions")])
def test_a_missing_token_is_a_401_before_the_query_or_body_is_read(app, method, path):
    response = getattr(app.test_client(), method)(path, json=None if method == "get" else {"level": "Z9"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "missing_token"
    assert response.headers["WWW-Authenticate"] == "Bearer"
