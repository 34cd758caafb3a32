"""JSON log lines with their context, and the model-call metric."""
from __future__ import annotations

import json
import logging

import pytest

from domain import logs, metrics
from domain.llm.base import ProviderFailure


@pytest.fixture
def restored_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_log_line_is_one_json_object_with_the_bound_context(restored_logging, capsys):
    logs.configure("INFO")  # here, not in a fixture: the handler writes to the test's captured stderr
    logs.reset(request_id="r-1", user_id="u-1")
    logs.bind(turn_id="t-1", session_id=None)  # unknown fields are left out
    logging.getLogger("parlons.test").info("turn stored", extra={"duration_ms": 3.5})
    [line] = capsys.readouterr().err.strip().splitlines()
    record = json.loads(line)
    assert (record["level"], record["logger"], record["message"]) == ("INFO", "parlons.test", "turn stored")
    assert (record["request_id"], record["user_id"], record["turn_id"], record["duration_ms"]) == \
        ("r-1", "u-1", "t-1", 3.5)
    assert "session_id" not in record
    logs.reset()
    assert logs.context() == {}


def test_the_http_clients_line_per_model_request_is_left_out_but_their_warnings_stay(restored_logging, capsys):
    logs.configure("INFO")
    logging.getLogger("httpx2").info("HTTP Request: POST http://127.0.0.1/v1/moderations 200 OK")
    logging.getLogger("httpx2").warning("connection reset")
    [line] = capsys.readouterr().err.strip().splitlines()
    assert json.loads(line)["message"] == "connection reset"


def test_model_calls_are_counted_by_outcome_and_timed():
    def count(outcome: str) -> float:
        return metrics.LLM_CALLS.labels("openai", "json", outcome)._value.get()

    ok, errors = count("ok"), count("error")
    timed = metrics.LLM_CALL_SECONDS.labels("openai", "json")._sum.get()
    with metrics.llm_call("openai", "json"):
        pass
    with pytest.raises(ProviderFailure):
        with metrics.llm_call("openai", "json"):
            raise ProviderFailure("timeout")
    assert (count("ok"), count("error")) == (ok + 1, errors + 1)
    assert metrics.LLM_CALL_SECONDS.labels("openai", "json")._sum.get() >= timed


def test_metrics_want_the_token_when_one_is_configured(monkeypatch):
    from api import create_app
    from domain import config

    # Addresses where nothing listens: a refusal must not need a server.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("METRICS_TOKEN", "s3cret-scrape-token")
    config.get_settings.cache_clear()
    try:
        client = create_app().test_client()
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            refused = client.get("/metrics", headers=headers)
            assert refused.status_code == 401 and refused.json["error"]["code"] == "metrics_token_required"
    finally:
        config.get_settings.cache_clear()


def test_task_arguments_are_shown_as_ids_and_a_redaction_marker():
    turn_id = "0b9c1c8e-7c3a-4f0e-9a52-3e4b8f0d2a11"
    args, kwargs = logs.task_arguments_repr([turn_id, "Je suis allé au marché.", "fr", 3, None],
                                            {"known": {"content": "Je suis allé au marché."}, "attempt": 2})
    assert args == f"['{turn_id}', '<redacted>', '<redacted>', 3, None]"
    assert kwargs == "{'known': '<redacted>', 'attempt': 2}"


def test_a_task_reported_by_inspect_shows_its_redacted_arguments_only():
    from celery.contrib.testing.mocks import TaskMessage

    import workers.language  # noqa: F401  (registers language.analyse)
    from workers.celery_app import PrivateRequest, celery

    message = TaskMessage("language.analyse", args=["Je suis allé au marché.", "fr"],
                          argsrepr="['<redacted>', '<redacted>']", kwargsrepr="{}")
    info = PrivateRequest(message, app=celery, task=celery.tasks["language.analyse"]).info()  # Flower asks unsafe
    assert (info["args"], info["kwargs"]) == ("['<redacted>', '<redacted>']", "{}")
