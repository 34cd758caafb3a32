"""What operators see: /metrics adds up every process (multiprocess mode) and shows
where work waits (queues, outbox, model calls in flight), and the logs are JSON lines
that carry the request id from the web into the tasks."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.client import turn_result_for

SENTENCE = "Je suis allé au marché hier avec mes amie."
T = TypeVar("T")


def samples(stack) -> dict[tuple[str, tuple], float]:
    text = requests.get(f"{stack.base_url}/metrics", timeout=10).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    """`probe()`'s first truthy answer, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while not (answer := probe()):
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)
    return answer


def scrape_when(stack, condition: Callable[[dict], bool], what: str, timeout: float = 30) -> dict:
    """The first scrape of /metrics for which `condition` holds."""
    def scrape() -> dict | None:
        found = samples(stack)
        return found if condition(found) else None

    return eventually(scrape, what, timeout)


def start_llm_worker(stack, **env: str) -> None:
    """Start an llm worker (with `env` over the stack's settings) and wait until it consumes."""
    log = stack.data_dir / "worker_llm.log"
    offset = log.stat().st_size if log.exists() else 0
    stack.start_worker("llm", **env)
    eventually(lambda: b" ready." in log.read_bytes()[offset:], "the llm worker is ready", timeout=90)


@contextmanager
def llm_worker_stopped(stack):
    """No llm worker in the block until it calls the `resume(**env)` given; afterwards the
    stack has its own llm worker again, whatever happened."""
    resumed_with: list[dict] = []

    def resume(**env: str) -> None:
        start_llm_worker(stack, **env)
        resumed_with.append(env)

    stack.stop_process("worker_llm")  # SIGTERM: a warm shutdown
    try:
        yield resume
    finally:
        if resumed_with != [{}]:  # never resumed, or resumed with other settings
            if "worker_llm" in stack.processes:
                stack.stop_process("worker_llm")
            start_llm_worker(stack)


def test_metrics_count_a_turn_across_the_web_and_the_workers(stack, learner):
    before = samples(stack)
    session = learner.new_session("camille")
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        during = samples(stack)
        turn = learner.send(session["id"], SENTENCE).json()["turn"]
        socket.until(turn_result_for(turn["id"]))

    def counted(found: dict) -> bool:
        # A worker counts the turn just after publishing its result, and its task on return.
        return all(value(found, "parlons_tasks_total", task=task, outcome="success") >
                   value(before, "parlons_tasks_total", task=task, outcome="success")
                   for task in ("turns.analyse", "turns.respond")) and \
            value(found, "parlons_turns_total", status="complete", degraded="false") > \
            value(before, "parlons_turns_total", status="complete", degraded="false")

    after = scrape_when(stack, counted, "the turn and its tasks counted")

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


def test_queue_depth_and_the_oldest_outbox_entry_show_a_turn_waiting_for_its_worker(stack, learner):
    session = learner.new_session("camille")
    with llm_worker_stopped(stack) as resume, learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        turn = learner.send(session["id"], SENTENCE).json()["turn"]
        accepted_at = time.time()
        # Analysed on nlp, the turn's reply task waits in the llm queue: no worker takes it.
        waiting = scrape_when(stack, lambda found: value(found, "parlons_queue_depth", queue="llm") >= 1,
                              "the reply task counted in the llm queue")
        assert {("parlons_queue_depth", (("queue", queue),)) for queue in ("nlp", "default")} <= waiting.keys()
        assert value(waiting, "parlons_outbox_backlog", kind="turn") >= 1
        first_age = value(waiting, "parlons_outbox_oldest_age_seconds", kind="turn")
        assert first_age > 0
        scrape_when(stack, lambda found: value(found, "parlons_outbox_oldest_age_seconds", kind="turn") > first_age,
                    "the unfinished entry's age grows")

        resume()
        socket.until(turn_result_for(turn["id"]))
    scrape_when(stack, lambda found: value(found, "parlons_queue_depth", queue="llm") == 0,
                "the llm queue drained")

    def our_entry_is_gone() -> bool:
        # Any entry still there is younger than ours would be: ours was written before `accepted_at`.
        younger_than_ours = time.time() - accepted_at
        return value(samples(stack), "parlons_outbox_oldest_age_seconds", kind="turn") < younger_than_ours

    eventually(our_entry_is_gone, "the finished turn's outbox entry is gone")


def test_model_calls_in_flight_count_a_slow_reply_until_it_ends(stack, learner, fake):
    in_flight = {"provider": "openai", "kind": "reply"}
    fake.openai.reply_text = " ".join(["Bonjour, je suis Camille."] * 100)  # 200 streamed pieces
    fake.openai.piece_delay = 0.1  # read before each piece: set to 0, the stream ends at once
    session = learner.new_session("camille")
    with llm_worker_stopped(stack) as resume, learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        resume(**fake.env(), PRIMARY_LLM_PROVIDER="openai", SECONDARY_LLM_PROVIDER="")
        socket.next_event()
        before = samples(stack)
        turn = learner.send(session["id"], SENTENCE).json()["turn"]
        try:
            scrape_when(stack, lambda found: value(found, "parlons_llm_calls_in_flight", **in_flight) >= 1,
                        "the streaming reply counted in flight")
        finally:  # the stream ends now, so the worker's warm shutdown never waits on it
            fake.openai.piece_delay = 0
        result = [e for e in socket.until(turn_result_for(turn["id"])) if e["type"] == "turn_result"][-1]
        assert result["data"]["turn"]["reply_provider"] == "openai"

        after = scrape_when(stack, lambda found: value(found, "parlons_llm_calls_in_flight", **in_flight) == 0,
                            "no reply in flight once the turn finished")
    assert value(after, "parlons_llm_call_seconds_count", **in_flight) > \
        value(before, "parlons_llm_call_seconds_count", **in_flight)
    assert value(after, "parlons_llm_call_seconds_bucket", le="+Inf", **in_flight) == \
        value(after, "parlons_llm_call_seconds_count", **in_flight)
