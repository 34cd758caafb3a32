"""What operators see: /metrics adds up every process (multiprocess mode) and the logs
are JSON lines that carry the request id from the web into the tasks."""
from __future__ import annotations

import json
import time
import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.client import turn_result_for

SENTENCE = "Je suis allé au marché hier avec mes amie."


def samples(stack) -> dict[tuple[str, tuple], float]:
    text = requests.get(f"{stack.base_url}/metrics", timeout=10).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_a_turn_across_the_web_and_the_workers(stack, learner):
    before = samples(stack)
    session = learner.new_session("camille")
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        during = samples(stack)
        turn = learner.send(session["id"], SENTENCE).json()["turn"]
        socket.until(turn_result_for(turn["id"]))
    after = samples(stack)

    assert value(during, "parlons_websockets_open") >= 1
    assert value(after, "parlons_turns_total", status="complete", degraded="false") == \
        value(before, "parlons_turns_total", status="complete", degraded="false") + 1
    for stage in ("reply_started", "complete"):
        assert value(after, "parlons_turn_stage_seconds_count", stage=stage) > \
            value(before, "parlons_turn_stage_seconds_count", stage=stage)
    for task in ("turns.analyse", "turns.respond"):  # two worker processes
        assert value(after, "parlons_tasks_total", task=task, outcome="success") > \
            value(before, "parlons_tasks_total", task=task, outcome="success"), task
    assert value(after, "parlons_events_published_total", type="turn_result") > \
        value(before, "parlons_events_published_total", type="turn_result")
    endpoint = {"endpoint": "/api/v1/sessions/<session_id>/messages", "method": "POST", "status": "202"}
    assert value(after, "parlons_http_request_duration_seconds_count", **endpoint) == \
        value(before, "parlons_http_request_duration_seconds_count", **endpoint) + 1
    assert ("parlons_penpal_replies_overdue", ()) in after


def test_the_request_id_reaches_the_tasks_logs_and_the_message_text_does_not(stack, learner):
    learner.post("/api/v1/language/check", {"text": SENTENCE})  # a task whose argument is the text
    request_id = f"test-{uuid.uuid4().hex[:12]}"
    session = learner.new_session("camille")
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        response = requests.post(f"{stack.base_url}/api/v1/sessions/{session['id']}/messages",
                                 json={"content": SENTENCE}, headers={**learner.headers, "X-Request-ID": request_id},
                                 timeout=10)
        assert response.headers["X-Request-ID"] == request_id
        turn_id = response.json()["turn"]["id"]
        socket.until(turn_result_for(turn_id))
    deadline = time.monotonic() + 10  # a task logs its end after the turn_result it published
    while True:
        lines = []
        for family in ("llm", "nlp", "default"):
            lines += (stack.data_dir / f"worker_{family}.log").read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        mine = [r for r in records if r.get("request_id") == request_id]
        if {r["task"] for r in mine} >= {"turns.analyse", "turns.respond"}:
            break
        assert time.monotonic() < deadline, f"tasks logged with the request id: {sorted({r['task'] for r in mine})}"
        time.sleep(0.2)
    assert all(r["turn_id"] == turn_id and r["user_id"] == learner.user["id"] for r in mine if "turn_id" in r)
    assert not [line for line in lines if "avec mes amie" in line]  # ASCII: JSON escapes "é"
