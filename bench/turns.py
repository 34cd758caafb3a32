"""Turn latency and throughput against a running stack (`make run`, offline provider).

    .venv/bin/python bench/turns.py [--url http://127.0.0.1:8000] [--turns 200] [--e2e 100] [--pause 0.2]

Measures, with fresh learners:
1. submit -> `turn_result` over the session socket, one turn at a time with a short
   pause between turns (light load), with when each event of the turn arrived,
   and the acknowledgement latency of those POSTs;
2. acknowledgement latency of POST /sessions/{id}/messages and accepted turns per
   second with 1, 10 and 50 learners sending at once, each back to back (the pipeline
   runs on the same two cores, so this is the saturated case).
Prints medians and p99 and writes JSON to bench/results/.

The client is `http.client` on one keep-alive connection per learner: `requests` adds
1-2 ms of its own per call on this machine (proxy and environment lookups), which is
the client's time, not the server's.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
import timeit
import uuid
from collections import defaultdict
from pathlib import Path

import redis
import websocket

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import Client, summary  # noqa: E402

SENTENCES = [
    "Je suis allé au marché hier avec mes amie.",
    "Nous mange une pizza ce soir.",
    "J'aime beaucoup la musique française.",
    "Ils va au cinéma le samedi.",
    "Ma sœur habite à Lyon depuis trois ans.",
]


class Learner:
    def __init__(self, base: str):
        status, body = Client(base).call("POST", "/api/v1/auth/register", {
            "email": f"bench-{uuid.uuid4().hex[:12]}@example.com", "password": "benchmark password",
            "display_name": "Bench"})
        assert status == 201, body
        self.token = body["access_token"]
        self.client = Client(base, self.token)
        self.session_id = self.client.call("POST", "/api/v1/sessions", {"character_id": "camille"})[1]["id"]

    def send(self, text: str) -> tuple[float, dict]:
        started = time.perf_counter()
        status, body = self.client.call("POST", f"/api/v1/sessions/{self.session_id}/messages", {"content": text})
        elapsed = (time.perf_counter() - started) * 1000
        assert status == 202, body
        return elapsed, body["turn"]


def bench_end_to_end(base: str, ws_base: str, turns: int, pause: float) -> tuple[dict, dict, dict]:
    """One turn at a time, `pause` seconds apart (light load): (submit -> turn_result
    over the socket, POST acknowledgement, median arrival of each event type)."""
    learner = Learner(base)
    socket = websocket.create_connection(f"{ws_base}/api/v1/sessions/{learner.session_id}/ws?token={learner.token}",
                                         timeout=30)
    socket.recv()  # session_ready
    latencies, acks = [], []
    arrivals: dict[str, list[float]] = defaultdict(list)
    for i in range(turns + 5):
        started = time.perf_counter()
        ack, turn = learner.send(SENTENCES[i % len(SENTENCES)])
        seen: dict[str, float] = {}
        while True:
            event = json.loads(socket.recv())
            seen.setdefault(event["type"], (time.perf_counter() - started) * 1000)
            if event["type"] == "turn_result" and event["data"]["turn"]["id"] == turn["id"]:
                break
        if i >= 5:  # the first few warm the connection pools
            latencies.append(seen["turn_result"])
            acks.append(ack)
            for event_type, at in seen.items():
                arrivals[event_type].append(at)
        time.sleep(pause)
    socket.close()
    timeline = {event_type: round(statistics.median(values), 1)
                for event_type, values in sorted(arrivals.items(), key=lambda item: statistics.median(item[1]))}
    return summary(latencies), summary(acks), timeline


def bench_acknowledgement(base: str, concurrency: int, total_turns: int) -> dict[str, float]:
    learners = [Learner(base) for _ in range(concurrency)]
    per_learner = max(1, total_turns // concurrency)
    latencies: list[float] = []
    lock = threading.Lock()

    def run(learner: Learner) -> None:
        mine = [learner.send(SENTENCES[i % len(SENTENCES)])[0] for i in range(per_learner)]
        with lock:
            latencies.extend(mine)

    for learner in learners:  # warm each keep-alive connection
        learner.send("Bonjour !")
    threads = [threading.Thread(target=run, args=(learner,)) for learner in learners]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"concurrency": concurrency, **summary(latencies), "turns_per_second": round(len(latencies) / elapsed, 1)}


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _pipe_round_trip_us(rounds: int = 2000) -> float:
    """Median time for a byte to go to another process and back: the machine's cost of
    waking a process, which every hop of a turn pays several times."""
    to_child, from_parent = os.pipe()
    from_child, to_parent = os.pipe()
    pid = os.fork()
    if pid == 0:
        for _ in range(rounds):
            os.read(to_child, 1)
            os.write(to_parent, b"x")
        os._exit(0)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        os.write(from_parent, b"x")
        os.read(from_child, 1)
        times.append((time.perf_counter() - started) * 1e6)
    os.waitpid(pid, 0)
    return round(statistics.median(times), 1)


def calibrate(base: str, redis_url: str | None) -> dict:
    """This shared machine's speed drifts (a slow period doubles every figure): a fixed
    loop, a process round trip, a Redis PING and the cheapest request put the figures
    in context."""
    found = {"sum_range_100_us": round(min(timeit.repeat("sum(range(100))", number=100_000, repeat=5)) * 10, 3),
             "pipe_round_trip_us": _pipe_round_trip_us()}
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        found["redis_ping_us"] = round(statistics.median(_timed(client.ping) for _ in range(2000)) * 1000, 1)
    probe = Client(base)
    found["healthz"] = summary([_timed(lambda: probe.call("GET", "/api/v1/healthz")) for _ in range(200)])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--turns", type=int, default=200, help="turns per concurrency level")
    parser.add_argument("--e2e", type=int, default=100, help="turns for the end-to-end measurement")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between end-to-end turns")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:63799/0"),
                        help="the stack's Redis, for the calibration PING ('' to skip)")
    args = parser.parse_args()
    ws_base = args.url.replace("http://", "ws://").replace("https://", "wss://")

    results = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
               "python": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "calibration": calibrate(args.url, args.redis or None)}
    print(f"calibration: {results['calibration']}", flush=True)
    light = bench_end_to_end(args.url, ws_base, args.e2e, args.pause)
    results["end_to_end"], results["acknowledgement_light_load"], results["event_arrival_ms"] = light
    print(f"submit -> turn_result over socket, one turn at a time: {results['end_to_end']}", flush=True)
    print(f"  median arrival of each event after submit (ms): {results['event_arrival_ms']}", flush=True)
    print(f"POST /messages acknowledgement, one turn at a time: {results['acknowledgement_light_load']}", flush=True)
    results["acknowledgement"] = []
    for concurrency in (1, 10, 50) if args.turns else ():
        row = bench_acknowledgement(args.url, concurrency, args.turns)
        results["acknowledgement"].append(row)
        print(f"POST /messages with {concurrency:>2} learners: {row}", flush=True)
        time.sleep(5)  # let the workers drain this phase's turns before the next

    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"turns-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
