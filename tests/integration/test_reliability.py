"""Nothing acknowledged is lost: a killed worker, a Redis outage, a database restart."""
from __future__ import annotations

import time

import pytest
import requests

from tests.support.client import turn_result_for
from tests.support.signals import outbox_left, published
from tests.support.waits import eventually


def test_worker_killed_mid_reply_the_turn_still_completes_once(stack, learner):
    session = learner.new_session()
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    socket.next_event()
    # Slow the replies down so the reply is surely streaming when the worker dies.
    stack.kill_worker("llm")
    stack.start_worker("llm", OFFLINE_REPLY_CHUNK_DELAY_MS="400", REPLY_DELTA_MIN_INTERVAL_MS="0")
    turn = learner.send(session["id"], "Je suis allé au cinéma avec ma sœur.").json()["turn"]
    socket.until(lambda e: e["type"] == "reply_delta" and e["data"]["turn_id"] == turn["id"])

    stack.kill_worker("llm")
    stack.start_worker("llm")

    events = socket.until(turn_result_for(turn["id"]), timeout=60)
    result = events[-1]["data"]["turn"]
    assert result["status"] == "complete"
    attempts = {e["data"]["attempt"] for e in socket.seen if e["type"] == "reply_delta"}
    assert len(attempts) == 2, "the reply was started again by another delivery"
    with stack.database() as conn:
        messages = conn.execute("SELECT role, count(*) FROM messages WHERE turn_id = %s GROUP BY role",
                                (turn["id"],)).fetchall()
    assert dict(messages) == {"user": 1, "assistant": 1}
    # Done, as the system says it: no outbox work left about the turn (its stages, its
    # finish, its reviews), so nothing will send it again.
    eventually(lambda: outbox_left(stack, [turn["id"]]) == 0, "the turn's outbox entries gone")
    results = [e for e in published(stack, learner.user["id"], "turn_result") if e["data"]["turn"]["id"] == turn["id"]]
    assert len(results) == 1, "turn_result is published once"
    assert not [e for e in socket.drain() if e["type"] == "turn_result"], "turn_result is delivered once"
    socket.close()


def test_redis_down_when_a_turn_is_submitted_the_turn_completes_after_it_returns(stack, learner):
    if stack.redis_server is None:
        pytest.skip("needs the embedded Redis to stop and start it")
    session = learner.new_session()

    stack.stop_redis()
    try:
        started = time.monotonic()
        response = learner.send(session["id"], "Nous allons au musée demain.")
        acknowledged_in = time.monotonic() - started
        assert response.status_code == 202, response.text
        assert acknowledged_in < 5, "a broker outage must not hang the request"
        turn = response.json()["turn"]
        with stack.database() as conn:  # the failed publish recorded: the work waits for the sweeper
            eventually(lambda: conn.execute("SELECT last_published_at IS NULL FROM outbox WHERE kind = 'turn' "
                                            "AND ref_id = %s", (turn["id"],)).fetchone()[0],
                       "the turn's outbox entry unstamped", timeout=10)
        assert learner.get(f"/api/v1/turns/{turn['id']}").json()["status"] == "pending"
        # Signing in still works (the throttle lets attempts through); logging out cannot
        # record the revocation, so it says so instead of pretending.
        login = requests.post(f"{stack.base_url}/api/v1/auth/login",
                              json={"email": learner.email, "password": learner.password}, timeout=10)
        assert login.status_code == 200
        logout = learner.post("/api/v1/auth/logout")
        assert logout.status_code == 503 and logout.json()["error"]["code"] == "auth_unavailable"
    finally:
        stack.start_redis()

    def finished() -> str | None:
        status = learner.get(f"/api/v1/turns/{turn['id']}", params={"wait": 5}).json()["status"]
        return status if status != "pending" else None

    assert eventually(finished, "the turn finished once Redis is back", timeout=60, interval=0) == "complete"
    stack.wait_ready()


def test_after_a_database_restart_the_next_requests_and_turns_succeed(stack, learner):
    if stack.postgres_server is None:
        pytest.skip("needs the embedded PostgreSQL to restart it")
    session = learner.new_session()
    turn = learner.send(session["id"], "Je voudrais un café.").json()["turn"]
    assert learner.get(f"/api/v1/turns/{turn['id']}", params={"wait": 20}).json()["status"] == "complete"

    stack.restart_postgres()  # the web process and the workers hold pooled connections to the old server

    assert learner.get(f"/api/v1/sessions/{session['id']}").status_code == 200
    response = learner.send(session["id"], "Et un croissant, s'il vous plaît.")
    assert response.status_code == 202, response.text
    turn = response.json()["turn"]
    assert learner.get(f"/api/v1/turns/{turn['id']}", params={"wait": 20}).json()["status"] == "complete"


def test_without_an_nlp_worker_language_check_is_a_prompt_503(stack, learner):
    stack.kill_worker("nlp")
    try:
        started = time.monotonic()
        response = learner.post("/api/v1/language/check", {"text": "Je ai faim."})
        waited = time.monotonic() - started
    finally:
        stack.start_worker("nlp")
    assert response.status_code == 503 and response.json()["error"]["code"] == "language_unavailable"
    assert waited < 10, "the wait is bounded by LANGUAGE_CHECK_TIMEOUT_SECONDS"

    def answered() -> dict | None:
        response = learner.post("/api/v1/language/check", {"text": "Je ai faim."})
        return response.json() if response.status_code == 200 else None

    # The new worker loads spaCy, then answers (the stale request has expired).
    checked = eventually(answered, "the new nlp worker answers the check", timeout=90, interval=0)
    assert checked["errors"][0]["suggestions"] == ["J'ai"]


def test_readyz_reports_each_dependency(stack):
    body = requests.get(f"{stack.base_url}/api/v1/readyz", timeout=10).json()
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}}


def test_a_burst_past_the_redis_pool_waits_for_a_connection_instead_of_failing(stack, monkeypatch):
    """More commands at once than the process's pool holds (hundreds of model answers
    arriving together on `llm`): the excess waits for a connection, none fails."""
    import concurrent.futures

    from domain import redis_client
    from domain.config import get_settings

    monkeypatch.setenv("REDIS_URL", stack.env["REDIS_URL"])
    monkeypatch.setenv("DATABASE_URL", stack.env["DATABASE_URL"])
    get_settings.cache_clear()
    redis_client.get_redis.cache_clear()
    try:
        client = redis_client.get_redis()
        limit = client.connection_pool.max_connections
        burst = limit + 50

        def hold_a_connection(index: int) -> None:
            client.blpop([f"parlons:test:burst:{index}"], timeout=0.5)  # nothing to pop: holds 0.5 s

        with concurrent.futures.ThreadPoolExecutor(max_workers=burst) as pool:
            outcomes = [f.exception() for f in [pool.submit(hold_a_connection, i) for i in range(burst)]]
        assert [repr(e) for e in outcomes if e is not None] == []
        client.connection_pool.disconnect()
    finally:
        redis_client.get_redis.cache_clear()
        get_settings.cache_clear()
