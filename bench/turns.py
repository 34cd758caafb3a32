"""Turn latency and throughput against a running stack (`make run`, offline provider).

    .venv/bin/python bench/turns.py [--url http://127.0.0.1:8000] [--turns 200] [--e2e 100] [--pause 0.2]

Measures, with fresh learners:
1. submit -> `turn_result` over the session socket, one turn at a time with a short
   pause between turns (light load),
   and the acknowledgement latency of those POSTs;
2. acknowledgement latency of POST /sessions/{id}/messages and accepted turns per
   second with 1, 10 and 50 learners sending at once, each back to back (the pipeline
   runs on the same two cores, so this is the saturated case).
Prints medians and p99 and writes JSON to bench/results/.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time
import timeit
import uuid
from pathlib import Path

import requests
import websocket

SENTENCES = [
    "Je suis allé au marché hier avec mes amie.",
    "Nous mange une pizza ce soir.",
    "J'aime beaucoup la musique française.",
    "Ils va au cinéma le samedi.",
    "Ma sœur habite à Lyon depuis trois ans.",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {"n": len(values_ms), "p50_ms": round(statistics.median(values_ms), 2),
            "p99_ms": round(percentile(values_ms, 0.99), 2), "mean_ms": round(statistics.fmean(values_ms), 2)}


class Learner:
    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        body = self.http.post(f"{base}/api/v1/auth/register", json={
            "email": f"bench-{uuid.uuid4().hex[:12]}@example.com", "password": "benchmark password",
            "display_name": "Bench"}, timeout=30).json()
        self.token = body["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.session_id = self.http.post(f"{base}/api/v1/sessions", json={"character_id": "camille"},
                                         timeout=30).json()["id"]

    def send(self, text: str) -> tuple[float, dict]:
        started = time.perf_counter()
        response = self.http.post(f"{self.base}/api/v1/sessions/{self.session_id}/messages",
                                  json={"content": text}, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 202, response.text
        return elapsed, response.json()["turn"]


def bench_end_to_end(base: str, ws_base: str, turns: int, pause: float) -> tuple[dict, dict]:
    """One turn at a time, `pause` seconds apart (light load): (submit -> turn_result
    over the socket, POST acknowledgement)."""
    learner = Learner(base)
    socket = websocket.create_connection(f"{ws_base}/api/v1/sessions/{learner.session_id}/ws?token={learner.token}",
                                         timeout=30)
    socket.recv()  # session_ready
    latencies, acks = [], []
    for i in range(turns + 5):
        started = time.perf_counter()
        ack, turn = learner.send(SENTENCES[i % len(SENTENCES)])
        while True:
            event = json.loads(socket.recv())
            if event["type"] == "turn_result" and event["data"]["turn"]["id"] == turn["id"]:
                break
        if i >= 5:  # the first few warm the connection pools
            latencies.append((time.perf_counter() - started) * 1000)
            acks.append(ack)
        time.sleep(pause)
    socket.close()
    return summary(latencies), summary(acks)


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


def _timed_get(http: requests.Session, url: str) -> float:
    started = time.perf_counter()
    http.get(url, timeout=10).raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--turns", type=int, default=200, help="turns per concurrency level")
    parser.add_argument("--e2e", type=int, default=100, help="turns for the end-to-end measurement")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between end-to-end turns")
    args = parser.parse_args()
    ws_base = args.url.replace("http://", "ws://").replace("https://", "wss://")

    results = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
               "python": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
               # This shared machine's speed drifts; a fixed loop's time and the cheapest
               # request's round trip put the figures in context.
               "calibration_sum_range_100_us": round(min(timeit.repeat("sum(range(100))", number=100_000,
                                                                       repeat=5)) * 10, 3)}
    probe = requests.Session()
    results["calibration_healthz"] = summary([_timed_get(probe, f"{args.url}/api/v1/healthz") for _ in range(200)])
    print(f"calibration: sum(range(100)) takes {results['calibration_sum_range_100_us']} us; "
          f"GET /healthz {results['calibration_healthz']}", flush=True)
    light = bench_end_to_end(args.url, ws_base, args.e2e, args.pause)
    results["end_to_end"], results["acknowledgement_light_load"] = light
    print(f"submit -> turn_result over socket, one turn at a time: {results['end_to_end']}", flush=True)
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
