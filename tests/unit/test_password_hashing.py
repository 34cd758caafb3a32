"""Argon2 in a gevent web process: off the event loop, and no more hashes at once than
domain.accounts.HASHES_AT_ONCE (each holds 64 MiB), however many requests want one."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Run in a process of its own: it patches the standard library as gunicorn's gevent worker does.
SCRIPT = r"""
from gevent import monkey
monkey.patch_all()

import json
import time

import gevent

from domain import accounts

lock = monkey.get_original("threading", "Lock")()
blocking_sleep = monkey.get_original("time", "sleep")  # blocks its thread, as Argon2's computing does
running = {"now": 0, "most": 0}
spans = []
ticks = []


def fake_hash(n):
    started = time.monotonic()
    with lock:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
    blocking_sleep(0.05)
    with lock:
        running["now"] -= 1
    spans.append((started, time.monotonic()))
    return n * 2


def ticker():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.01)


tick = gevent.spawn(ticker)
jobs = [gevent.spawn(accounts._off_the_event_loop, fake_hash, n) for n in range(12)]
gevent.joinall(jobs, timeout=30)
tick.kill()
first, last = min(s for s, _ in spans), max(e for _, e in spans)
print(json.dumps({"results": [job.value for job in jobs], "most": running["most"],
                  "ticks_while_hashing": sum(first < t < last for t in ticks), "limit": accounts.HASHES_AT_ONCE}))
"""


def test_hashes_run_off_the_event_loop_and_at_most_a_few_at_once():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["results"] == [n * 2 for n in range(12)]
    assert outcome["most"] == outcome["limit"] == 2, "twelve wanted a hash at once; two ran at a time"
    # 12 hashes of 50 ms, two at a time, take 0.3 s: a free event loop ticks every 10 ms meanwhile
    assert outcome["ticks_while_hashing"] >= 10, "the event loop kept running while the hashes ran"
