"""The features' background work on a Runtime built with fakes, one function at a time."""
from __future__ import annotations

import json
import time
import uuid

from domain import hints, language_check, maintenance, outbox, tasks
from domain.llm.chain import ProviderChain
from domain.runtime import Runtime
from domain.turn_pipeline import TurnPipeline


class FakeRedis:
    """The commands these functions use: a pipeline of RPUSH and EXPIRE, and GET."""

    def __init__(self):
        self.lists, self.expiries, self.values = {}, {}, {}

    def pipeline(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False

    def rpush(self, key, value):
        self.lists.setdefault(key, []).append(value)
        return self

    def expire(self, key, seconds):
        self.expiries[key] = seconds
        return self

    def execute(self):
        return []

    def get(self, key):
        return self.values.get(key)


def runtime(**overrides) -> Runtime:
    sent = []
    fields = dict(settings=None, redis=FakeRedis(), publisher=None, characters=None, chain=ProviderChain([]),
                  offline=None, send_task=lambda name, args, kwargs: sent.append((name, args, kwargs)))
    return Runtime(**{**fields, **overrides})


def test_the_language_check_answers_on_the_callers_list_which_expires():
    rt = runtime()
    language_check.answer(rt.redis, "Je suis allé au marché.", "en", "reply-key")
    assert json.loads(rt.redis.lists["reply-key"][0])["errors"] == []
    assert rt.redis.expiries["reply-key"] == 60


def test_without_openai_moderation_is_the_local_check():
    pipeline = TurnPipeline(runtime())
    verdict = pipeline._moderate("Bonjour, je voudrais un café.", deadline=time.monotonic() + 5)
    assert verdict == {"flagged": False, "categories": [], "source": "local"}


def test_the_grammar_pass_needs_a_model_and_french():
    assert not TurnPipeline(runtime())._has_grammar_pass("fr")


def test_a_hint_after_speech_waits_while_the_learner_keeps_talking(monkeypatch):
    # The segment is moderated first (on the database): here it is clean.
    monkeypatch.setattr(hints, "moderate_segment", lambda rt, segment_id: {"flagged": False, "categories": []})
    rt = runtime()  # the fake Redis knows no latest segment: this one is not the latest
    assert hints.after_speech(rt, uuid.uuid4(), 7) is None  # returns before touching the database


def test_the_sweeper_announces_again_every_final_event_and_every_task_has_a_queue():
    assert [kind.event for kind in maintenance.ANNOUNCED] == [
        "turn_result", "hint", "journey_scored", "session_summary", "greeting"]
    assert {name for started in outbox.TASKS_BY_KIND.values() for name, _ in started} <= set(tasks.QUEUES)
