"""Where work waits, as /metrics shows it: model calls in flight stay exact however calls
end, queue depths count every list kombu keeps for a queue, and a broker that does not
answer costs the scrape its queue depths only."""
from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import gevent
import gevent.event
import pytest
from prometheus_client.parser import text_string_to_metric_families

from domain import config, metrics
from domain.llm.base import ProviderFailure


def in_flight(provider: str = "openai", kind: str = "reply") -> float:
    return metrics.LLM_CALLS_IN_FLIGHT.labels(provider, kind)._value.get()


def test_a_model_call_is_in_flight_until_it_ends_however_it_ends():
    start = in_flight()
    with metrics.llm_call("openai", "reply"):
        with metrics.llm_call("openai", "reply"):
            assert in_flight() == start + 2
        assert in_flight() == start + 1
    assert in_flight() == start

    with pytest.raises(ProviderFailure):
        with metrics.llm_call("openai", "reply"):
            raise ProviderFailure("timeout")
    assert in_flight() == start

    def stream():  # as the provider chain streams a reply: the caller may stop reading
        with metrics.llm_call("openai", "reply"):
            yield "Bonjour"
            yield "!"

    abandoned = stream()
    next(abandoned)
    assert in_flight() == start + 1
    abandoned.close()
    assert in_flight() == start


def test_hundreds_of_calls_in_one_gevent_process_are_counted_exactly():
    release = gevent.event.Event()

    def call() -> None:
        with metrics.llm_call("anthropic", "json"):
            release.wait()

    start = in_flight("anthropic", "json")
    calls = [gevent.spawn(call) for _ in range(300)]
    gevent.sleep(0)  # every greenlet runs up to its wait
    assert in_flight("anthropic", "json") == start + 300
    gevent.killall(calls[:100])  # killed mid-call (GreenletExit), as a worker's cold shutdown does
    assert in_flight("anthropic", "json") == start + 200
    release.set()
    gevent.joinall(calls)
    assert in_flight("anthropic", "json") == start


class _FakeBroker:
    """Answers LLEN from `lengths` through a pipeline, as redis-py does."""

    def __init__(self, lengths: dict[str, int]):
        self.lengths = lengths
        self.asked: list[str] = []

    @contextmanager
    def pipeline(self, transaction: bool = True):
        yield self

    def llen(self, name: str) -> None:
        self.asked.append(name)

    def execute(self) -> list[int]:
        return [self.lengths.get(name, 0) for name in self.asked]


def test_queue_depth_counts_the_lists_of_every_priority(monkeypatch):
    broker = _FakeBroker({"llm": 4, "llm\x06\x163": 2, "llm\x06\x169": 1, "nlp": 3})
    monkeypatch.setattr(metrics, "_broker_client", lambda url: broker)

    [family] = metrics._QueueDepths("redis://broker:6379/0").collect()

    assert family.name == "parlons_queue_depth"
    assert {sample.labels["queue"]: sample.value for sample in family.samples} == {"llm": 7, "nlp": 3, "default": 0}


class _FakeDatabase:
    """What the backlog queries read: two turns waiting, the oldest for 12.5 s, one given up."""

    def execute(self, statement):
        if "FROM outbox" in str(statement):
            return [("turn", 2, Decimal("12.5"), 1)]
        return self

    def one(self):
        return 0, 0


@contextmanager
def _database():
    yield _FakeDatabase()


def test_a_broker_that_does_not_answer_skips_the_queue_depths_not_the_scrape(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")  # not used: faked
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens: refused at once
    monkeypatch.setenv("BROKER_URL", "redis://127.0.0.1:1/0")
    config.get_settings.cache_clear()
    try:
        text = metrics.render(_database).decode()
    finally:
        config.get_settings.cache_clear()

    found = {(sample.name, tuple(sample.labels.items())): sample.value
             for family in text_string_to_metric_families(text) for sample in family.samples}
    assert found[("parlons_outbox_backlog", (("kind", "turn"),))] == 2
    assert found[("parlons_outbox_oldest_age_seconds", (("kind", "turn"),))] == 12.5
    assert found[("parlons_outbox_dead", (("kind", "turn"),))] == 1
    assert not [name for name, _ in found if name == "parlons_queue_depth"]
