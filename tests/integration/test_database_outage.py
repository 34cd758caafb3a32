"""A failing database is a 503 in the error format, fast, with one log line per request,
and the service comes back by itself when PostgreSQL does."""
from __future__ import annotations

import time

import pytest
import requests

from tests.support.waits import eventually


def _log_since(stack, name: str, offset: int) -> str:
    return (stack.data_dir / f"{name}.log").read_bytes()[offset:].decode(errors="replace")


def test_postgres_stopped_requests_answer_503_within_2_s_and_recover_after_it_restarts(stack, learner):
    if stack.postgres_server is None:
        pytest.skip("needs the embedded PostgreSQL to stop and start it")
    session = learner.new_session()
    web_log_offset = (stack.data_dir / "web.log").stat().st_size

    stack.stop_postgres()
    try:
        for request in (lambda: learner.get(f"/api/v1/sessions/{session['id']}"),
                        lambda: learner.send(session["id"], "Je voudrais un café, s'il vous plaît.")):
            started = time.monotonic()
            response = request()
            answered_in = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "database_unavailable"
            assert set(response.json()["error"]) == {"code", "message", "details"}
            assert answered_in < 2, f"answered in {answered_in:.2f} s"

        ready = requests.get(f"{stack.base_url}/api/v1/readyz", timeout=10)
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["database"] != "ok" and checks["redis"] == "ok", checks

        logged = _log_since(stack, "web", web_log_offset)
        assert logged.count("database unavailable") >= 2, "one warning per failed request"
        assert "Traceback" not in logged, "an outage is a warning line, not a stack trace"
    finally:
        stack.start_postgres()

    eventually(lambda: learner.get(f"/api/v1/sessions/{session['id']}").status_code == 200,
               "requests succeed again once PostgreSQL is back", timeout=30)
    eventually(lambda: requests.get(f"{stack.base_url}/api/v1/readyz", timeout=10).status_code == 200,
               "/readyz is ready again", timeout=30)
    response = learner.send(session["id"], "Et un croissant, s'il vous plaît.")
    assert response.status_code == 202, response.text
    turn = response.json()["turn"]
    assert learner.get(f"/api/v1/turns/{turn['id']}", params={"wait": 20}).json()["status"] == "complete"
