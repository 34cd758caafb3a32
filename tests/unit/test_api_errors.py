"""The one error format, checked on the app without any server behind it."""
import os

import pytest

from sqlalchemy.exc import OperationalError, ProgrammingError

from api import create_app
from domain import config


@pytest.fixture
def client(monkeypatch):
    # Addresses where nothing listens: these tests must not need a server.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    config.get_settings.cache_clear()
    app = create_app(config.load_settings({**os.environ, "MAX_REQUEST_BYTES": "1024"}))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/database-down")
    def database_down():
        raise OperationalError("SELECT 1", {"email": "someone@example.com"}, ConnectionRefusedError("refused"),
                               hide_parameters=True)

    @app.get("/database-bug")
    def database_bug():
        raise ProgrammingError("SELEC 1", {}, SyntaxError("syntax error at or near SELEC"))

    yield app.test_client()
    config.get_settings.cache_clear()


def test_an_unexpected_exception_is_a_500_without_internals(client):
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error", "details": {},
                                             "message": "Something went wrong on our side; it has been logged."}}
    assert b"secret internals" not in response.data and b"Traceback" not in response.data


def test_unknown_path_and_method_use_the_error_format(client):
    assert client.get("/api/v1/nowhere").get_json()["error"]["code"] == "not_found"
    assert client.put("/api/v1/healthz").get_json()["error"]["code"] == "method_not_allowed"


def test_body_over_the_cap_is_a_413_before_anything_else_runs(client):
    response = client.post("/api/v1/auth/login", data="x" * 2048, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_validation_errors_name_the_fields(client):
    response = client.post("/api/v1/auth/register", json={"email": "not-an-email"})
    body = response.get_json()["error"]
    assert response.status_code == 422 and body["code"] == "validation_error"
    assert {"email", "password", "display_name"} <= set(body["details"]["json"])


def test_missing_token_is_a_401_in_the_error_format(client):
    response = client.get("/api/v1/sessions")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "missing_token"


def test_production_without_settings_stops_with_a_message_not_a_traceback(monkeypatch):
    monkeypatch.setattr(config, "load_dotenv", lambda *a, **k: None)
    for name in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARLONS_ENV", "production")
    config.get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as stop:
            config.get_settings()
        assert "DATABASE_URL is required when PARLONS_ENV=production" in str(stop.value)
    finally:
        config.get_settings.cache_clear()


def test_a_database_that_cannot_serve_is_a_503_with_one_warning_line(client, caplog):
    response = client.get("/database-down")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.get_json()["error"]["code"] == "database_unavailable"
    [record] = [r for r in caplog.records if r.name == "api.errors"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert record.getMessage() == "database unavailable: ConnectionRefusedError: refused"


def test_a_database_error_that_is_a_bug_stays_a_500(client):
    response = client.get("/database-bug")
    assert response.status_code == 500 and response.get_json()["error"]["code"] == "internal_error"
