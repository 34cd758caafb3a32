"""What the system says about its own work, for tests to wait on before they assert that
something did not happen: /metrics (tasks finished, per task), the learner's replay
stream (every event published to them, whichever process published it and whichever
socket was open), the outbox (work not finished yet), the broker (tasks queued) and the
workers themselves (tasks a worker has taken and not finished, by Celery's remote control)."""
from __future__ import annotations

import json

import redis
import requests
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families

from domain.events import stream_key
from tests.support.stack import Stack
from tests.support.waits import eventually

Samples = dict[tuple[str, tuple], float]


def metrics(stack: Stack) -> Samples:
    """One scrape of /metrics: (sample name, sorted labels) -> value (summed over the
    processes of the stack's metrics folder)."""
    text = requests.get(f"{stack.base_url}/metrics", timeout=10).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def metric(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def tasks_finished(stack: Stack, *tasks: str) -> float:
    """Runs of these tasks the stack's workers have finished, whatever their outcome
    (a worker counts a task once it has returned)."""
    return sum(value for (name, labels), value in metrics(stack).items()
               if name == "parlons_tasks_total" and dict(labels).get("task") in tasks)


def published(stack: Stack, user_id: str, event_type: str) -> list[dict]:
    """Every `event_type` event published to the learner still in their replay stream
    (the whole envelope: type, id, ts, data)."""
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        entries = client.xrange(stream_key(user_id))
    finally:
        client.close()
    envelopes = [json.loads(fields[b"e"]) for _, fields in entries]
    return [envelope for envelope in envelopes if envelope["type"] == event_type]


def outbox_left(stack: Stack, ref_ids: list[str]) -> int:
    """Outbox entries (live or dead) still about these things."""
    with stack.database() as db:
        return db.execute("SELECT count(*) FROM outbox WHERE ref_id = ANY(%s::uuid[])", (ref_ids,)).fetchone()[0]


def _queue_keys(queue: str) -> list[str]:
    """kombu's Redis lists for a queue, one per priority step (tasks go to the first)."""
    return [queue + suffix for suffix in ("", "\x06\x163", "\x06\x166", "\x06\x169")]


def queued(broker: redis.Redis, *queues: str) -> int:
    """Tasks waiting in these queues, taken by no worker yet."""
    return sum(broker.llen(key) for queue in queues for key in _queue_keys(queue))


_NO_ANSWER = "no answer from"


def held(stack: Stack, *queues: str) -> set[str]:
    """Ids of the tasks of these queues (each served by the worker family of its name)
    that the stack's running workers have taken and not finished — running, or taken
    ahead — by the workers' own account. A worker that does not answer is counted as
    holding something (its answer is awaited); a killed worker holds nothing any more."""
    names = [stack.worker_names[queue] for queue in queues if queue in stack.worker_names]
    if not names:
        return set()
    app = Celery(broker=stack.env["REDIS_URL"], set_as_current=False)
    try:
        inspect = app.control.inspect(destination=names, timeout=5)
        answers = [inspect.active() or {}, inspect.reserved() or {}]
    finally:
        app.close()
    found = {f"{_NO_ANSWER} {name}" for name in names for answer in answers if name not in answer}
    for answer in answers:
        found |= {request["id"] for requests in answer.values() for request in requests}
    return found


def wait_out_held_tasks(stack: Stack, queue: str, timeout: float = 30) -> None:
    """Until every task of `queue` that a worker holds now has finished: work the queue's
    workers had started before this call is over (what they take later starts after it)."""
    def answered() -> tuple[set[str]] | None:
        found = held(stack, queue)
        return None if any(entry.startswith(_NO_ANSWER) for entry in found) else (found,)

    [then] = eventually(answered, f"the {queue} worker says what it holds", timeout)
    eventually(lambda: not (then & held(stack, queue)), f"the {queue} tasks held then finished", timeout)
