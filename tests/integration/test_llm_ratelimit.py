"""The provider-wide rate limit, shared through Redis by separate OS processes: callers
wait for a free slot instead of failing, and give up only at their deadline."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import redis

from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.openai_provider import OpenAIProvider
from domain.llm.remote import CallPolicy
from domain.llm.rate_limit import RequestRateLimit
from tests.support.stack import REPO

LIMIT, WINDOW_SECONDS, CALLS_PER_PROCESS = 2, 1, 3

# One caller process: builds a provider with the shared limit, warms the SDK up (its first
# call is slower) outside the limit, says "ready", waits for "go" on stdin (so both start
# together, after their slow imports), then makes its calls.
CALLER = """
import json, sys, time
import redis
from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.openai_provider import OpenAIProvider
from domain.llm.remote import CallPolicy
from domain.llm.rate_limit import RequestRateLimit

redis_url, base_url, key, limit, window, calls = sys.argv[1:]
rate_limit = RequestRateLimit(redis.Redis.from_url(redis_url), provider=key, requests=int(limit),
                              per_seconds=int(window))

def provider(policy):
    return OpenAIProvider(api_key="k", base_url=base_url, model="m", moderation_model="mm", realtime_model="rm",
                          policy=policy)


warm_up = ChatRequest(system="warm-up", messages=[{"role": "user", "content": "Salut"}])
"".join(provider(CallPolicy(request_timeout=5, max_retries=0)).stream_chat(warm_up, deadline=time.monotonic() + 20))
limited = provider(CallPolicy(request_timeout=5, max_retries=0, rate_limit=rate_limit))
request = ChatRequest(system="Tu es Camille.", messages=[{"role": "user", "content": "Salut"}])
print("ready", flush=True)
sys.stdin.readline()
outcomes = []
for _ in range(int(calls)):
    started = time.monotonic()
    try:
        "".join(limited.stream_chat(request, deadline=time.monotonic() + 20))
        outcomes.append({"ok": True, "seconds": time.monotonic() - started})
    except ProviderFailure as failure:
        outcomes.append({"ok": False, "reason": failure.reason})
print(json.dumps(outcomes), flush=True)
"""


def test_two_processes_together_stay_within_the_limit_by_waiting(stack, fake):
    key = f"test-{uuid.uuid4()}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    callers = [subprocess.Popen([sys.executable, "-c", CALLER, stack.env["REDIS_URL"], fake.openai.url, key,
                                 str(LIMIT), str(WINDOW_SECONDS), str(CALLS_PER_PROCESS)],
                                cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    try:
        for caller in callers:
            assert caller.stdout.readline().strip() == "ready"
        for caller in callers:
            caller.stdin.write("go\n")
            caller.stdin.flush()
        outcomes = [outcome for caller in callers for outcome in json.loads(caller.stdout.readline())]
    finally:
        for caller in callers:
            caller.kill()
            caller.wait()

    assert len(outcomes) == 2 * CALLS_PER_PROCESS and all(o["ok"] for o in outcomes), outcomes
    assert max(o["seconds"] for o in outcomes) > 0.5 * WINDOW_SECONDS, "some callers waited for a slot"
    arrivals = sorted(call.at for call in fake.openai.calls("/v1/chat/completions")
                      if call.body["messages"][0]["content"] != "warm-up")
    assert len(arrivals) == 2 * CALLS_PER_PROCESS
    # Any LIMIT + 1 consecutive requests span at least one window (less the jitter between a
    # slot being taken and its request arriving; without the limit all arrive within ~50 ms).
    spans = [arrivals[i + LIMIT] - arrivals[i] for i in range(len(arrivals) - LIMIT)]
    assert min(spans) >= WINDOW_SECONDS - 0.1, spans


def test_a_caller_whose_deadline_comes_before_a_free_slot_fails_without_a_request(stack, fake):
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    rate_limit = RequestRateLimit(client, provider=f"test-{uuid.uuid4()}", requests=1, per_seconds=60)
    provider = OpenAIProvider(api_key="k", base_url=fake.openai.url, model="m", moderation_model="mm",
                              realtime_model="rm", policy=CallPolicy(request_timeout=5, max_retries=2,
                                                                     rate_limit=rate_limit))
    request = ChatRequest(system="Tu es Camille.", messages=[{"role": "user", "content": "Salut"}])
    "".join(provider.stream_chat(request, deadline=time.monotonic() + 5))
    started = time.monotonic()
    with pytest.raises(ProviderFailure, match="rate limit"):
        "".join(provider.stream_chat(request, deadline=started + 2))
    assert time.monotonic() - started < 1.0, "it failed at once, not at its deadline (2 s)"
    assert len(fake.openai.requests) == 1
    client.close()


def test_callers_waiting_for_slots_ask_redis_in_line_not_all_at_every_slot(stack):
    """24 callers of one process want a slot of a limit of 4 a second: all get one, in
    about five seconds, and the waiters ask Redis about once or twice each per slot they
    wait for, not all of them at every slot that frees (which grows with their square)."""
    import concurrent.futures

    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    rate_limit = RequestRateLimit(client, provider=f"test-{uuid.uuid4()}", requests=4, per_seconds=1)
    asked = {"hit": 0, "window": 0}
    limiter = rate_limit._limiter
    hit, window_stats = limiter.hit, limiter.get_window_stats

    def counted_hit(*args, **kwargs):
        asked["hit"] += 1
        return hit(*args, **kwargs)

    def counted_window_stats(*args, **kwargs):
        asked["window"] += 1
        return window_stats(*args, **kwargs)

    limiter.hit, limiter.get_window_stats = counted_hit, counted_window_stats
    callers = 24
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(callers) as pool:
        took = list(pool.map(lambda _: rate_limit.acquire(deadline=started + 30) or time.monotonic() - started,
                             range(callers)))
    client.close()
    # 24 slots at 4 a second: the last is free after five windows, never sooner (the upper
    # bound is only there so that a caller left waiting shows)
    assert len(took) == callers and 4.5 < max(took) < 20, took
    # In line: a hit each (the first four), then per waiter about one hit that fails, one
    # window read and one hit that succeeds. All asking at every slot: some 150 round trips.
    assert asked["hit"] + asked["window"] <= 4 * callers, asked
