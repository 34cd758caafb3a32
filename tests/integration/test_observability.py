"""What operators see: /metrics adds up every process (multiprocess mode) and shows
where work waits (queues, outbox, model calls in flight), and the logs are JSON lines
that carry the request id from the web into the tasks."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import requests

from tests.support.client import turn_result_for
from tests.support.signals import metric, metrics
from tests.support.stack import llm_worker_stopped
from tests.support.waits import eventually

SENTENCE = "Je suis allé au marché hier avec mes amie."


def scrape_when(stack, condition: Callable[[dict], bool], what: str, timeout: float = 30) -> dict:
    """The first scrape of /metrics for which `condition` holds."""
    def scrape() -> dict | None:
        found = metrics(stack)
        return found if condition(found) else None

    return eventually(scrape, what, timeout)


def test_metrics_count_a_turn_across_the_web_and_the_workers(stack, learner):
    before = metrics(stack)
    session = learner.new_session("camille")
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        during = metrics(stack)
        turn = learner.send(session["id"], SENTENCE).json()["turn"]
        socket.until(turn_result_for(turn["id"]))

    def counted(found: dict) -> bool:
        # A worker counts the turn just after publishing its result, and its task on return.
        return all(metric(found, "parlons_tasks_total", task=task, outcome="success") >
                   metric(before, "parlons_tasks_total", task=task, outcome="success")
                   for task in ("turns.analyse", "turns.respond")) and \
            metric(found, "parlons_turns_total", status="complete", degraded="false") > \
            metric(before, "parlons_turns_total", status="complete", degraded="false")

    after = scrape_when(stack, counted, "the turn and its tasks counted")

    assert metric(during, "parlons_websockets_open") >= 1
    assert metric(after, "parlons_turns_total", status="complete", degraded="false") == \
        metric(before, "parlons_turns_total", status="complete", degraded="false") + 1
    for stage in ("reply_started", "complete"):
        assert metric(after, "parlons_turn_stage_seconds_count", stage=stage) > \
            metric(before, "parlons_turn_stage_seconds_count", stage=stage)
    for task in ("turns.analyse", "turns.respond"):  # two worker processes
        assert metric(after, "parlons_tasks_total", task=task, outcome="success") > \
            metric(before, "parlons_tasks_total", task=task, outcome="success"), task
    assert metric(after, "parlons_events_published_total", type="turn_result") > \
        metric(before, "parlons_events_published_total", type="turn_result")
    endpoint = {"endpoint": "/api/v1/sessions/<session_id>/messages", "method": "POST", "status": "202"}
    assert metric(after, "parlons_http_request_duration_seconds_count", **endpoint) == \
        metric(before, "parlons_http_request_duration_seconds_count", **endpoint) + 1
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

    def worker_lines() -> list[str]:
        return [line for family in ("llm", "nlp", "default")
                for line in (stack.data_dir / f"worker_{family}.log").read_text().splitlines()]

    def with_request_id(lines: list[str]) -> list[dict]:
        return [record for record in (json.loads(line) for line in lines if line.startswith("{"))
                if record.get("request_id") == request_id]

    def both_tasks_logged() -> list[str] | None:
        lines = worker_lines()
        return lines if {r["task"] for r in with_request_id(lines)} >= {"turns.analyse", "turns.respond"} else None

    # A task logs its end after the turn_result it published.
    lines = eventually(both_tasks_logged, lambda: "both tasks logged with the request id; logged: "
                       f"{sorted({r['task'] for r in with_request_id(worker_lines())})}", timeout=10, interval=0.2)
    mine = with_request_id(lines)
    assert all(r["turn_id"] == turn_id and r["user_id"] == learner.user["id"] for r in mine if "turn_id" in r)
    assert not [line for line in lines if "avec mes amie" in line]  # ASCII: JSON escapes "é"


def test_queue_depth_and_the_oldest_outbox_entry_show_a_turn_waiting_for_its_worker(stack, learner):
    session = learner.new_session("camille")
    with llm_worker_stopped(stack) as resume, learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        turn = learner.send(session["id"], SENTENCE).json()["turn"]
        accepted_at = time.time()
        # Analysed on nlp, the turn's reply task waits in the llm queue: no worker takes it.
        waiting = scrape_when(stack, lambda found: metric(found, "parlons_queue_depth", queue="llm") >= 1,
                              "the reply task counted in the llm queue")
        assert {("parlons_queue_depth", (("queue", queue),)) for queue in ("nlp", "default")} <= waiting.keys()
        assert metric(waiting, "parlons_outbox_backlog", kind="turn") >= 1
        first_age = metric(waiting, "parlons_outbox_oldest_age_seconds", kind="turn")
        assert first_age > 0
        scrape_when(stack, lambda found: metric(found, "parlons_outbox_oldest_age_seconds", kind="turn") > first_age,
                    "the unfinished entry's age grows")

        resume()
        socket.until(turn_result_for(turn["id"]))
    scrape_when(stack, lambda found: metric(found, "parlons_queue_depth", queue="llm") == 0,
                "the llm queue drained")

    def our_entry_is_gone() -> bool:
        # Any entry still there is younger than ours would be: ours was written before `accepted_at`.
        younger_than_ours = time.time() - accepted_at
        return metric(metrics(stack), "parlons_outbox_oldest_age_seconds", kind="turn") < younger_than_ours

    eventually(our_entry_is_gone, "the finished turn's outbox entry is gone")


def test_model_calls_in_flight_count_a_slow_reply_until_it_ends(stack, learner, fake):
    in_flight = {"provider": "openai", "kind": "reply"}
    fake.openai.reply_text = " ".join(["Bonjour, je suis Camille."] * 100)  # 200 streamed pieces
    fake.openai.piece_delay = 0.1  # read before each piece: set to 0, the stream ends at once
    session = learner.new_session("camille")
    with llm_worker_stopped(stack) as resume, learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        resume(**fake.env(), PRIMARY_LLM_PROVIDER="openai", SECONDARY_LLM_PROVIDER="")
        socket.next_event()
        before = metrics(stack)
        turn = learner.send(session["id"], SENTENCE).json()["turn"]
        try:
            scrape_when(stack, lambda found: metric(found, "parlons_llm_calls_in_flight", **in_flight) >= 1,
                        "the streaming reply counted in flight")
        finally:  # the stream ends now, so the worker's warm shutdown never waits on it
            fake.openai.piece_delay = 0
        result = [e for e in socket.until(turn_result_for(turn["id"])) if e["type"] == "turn_result"][-1]
        assert result["data"]["turn"]["reply_provider"] == "openai"

        after = scrape_when(stack, lambda found: metric(found, "parlons_llm_calls_in_flight", **in_flight) == 0,
                            "no reply in flight once the turn finished")
    assert metric(after, "parlons_llm_call_seconds_count", **in_flight) > \
        metric(before, "parlons_llm_call_seconds_count", **in_flight)
    assert metric(after, "parlons_llm_call_seconds_bucket", le="+Inf", **in_flight) == \
        metric(after, "parlons_llm_call_seconds_count", **in_flight)
