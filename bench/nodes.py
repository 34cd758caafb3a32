"""Two nodes under load, and one of them killed in the middle: nothing acknowledged is lost.

    .venv/bin/python bench/nodes.py --model-latency 1 --rate 10 --seconds 30

Node A is bench/load.py's deployment (deploy/stack.py as `make run` starts it: embedded
PostgreSQL and Redis, web, every worker family, beat, Flower) with the loopback model
server that answers after --model-latency seconds; node B is deploy/stack.py --node, as
`make run-node` starts it, on A's PostgreSQL and Redis with its own web, workers and beat
(no Flower: A's shows every worker). Both call the same model server, which counts the
calls of each turn.

Turns are offered open-loop at --rate for --seconds, alternately to A's and B's web.
Half-way through, every process of node B gets SIGKILL at once (its launcher, honcho,
web, workers and beat: the machine died). The bench then waits until no turn is pending
and reports, from the server's own records:
- offered, acknowledged (202) by each node, and the requests B never answered (cut by
  the kill) with what became of their turns;
- completed, failed, pending; the turns B acknowledged that completed after B died,
  so through A;
- assistant messages per turn (exactly one is the bar) and `turn_result` events per
  turn, read from the learners' replay streams (at most one is the bar: a turn B
  finished in its last moment can lack its event, see docs/scale-out.md);
- model calls per turn and duplicates: a kind called twice for one turn is allowed only
  for the turns in flight when B died (B's call died with it), at most once more.
JSON lands in bench/results/nodes-*.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import psutil
import psycopg
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import Client, percentile  # noqa: E402
from bench.load import SENTENCES, Deployment, Learner, make_learners, model_calls, wait_for_turns  # noqa: E402
from deploy.services import free_port, wait_for_port  # noqa: E402
from domain.events import stream_key  # noqa: E402

MARKER = re.compile(r"\(n°(\d+)\)")


def redis_url_of(first: Deployment) -> str:
    return f"redis://127.0.0.1:{first.env['EMBEDDED_REDIS_PORT']}/0"


class SecondNode:
    """`make run-node` on node A's servers, started here; `kill()` is its machine dying."""

    def __init__(self, data_dir: Path, first: Deployment):
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        self.data_dir = data_dir
        self.web_port = free_port()
        env = {**first.env, "PARLONS_DATA_DIR": str(data_dir), "PORT": str(self.web_port),
               "FLOWER_PORT": str(free_port()),
               "DATABASE_URL": first.database_url.replace("postgresql://", "postgresql+psycopg://"),
               "REDIS_URL": redis_url_of(first)}
        self.log = open(data_dir / "stack.log", "wb")
        self.launcher = subprocess.Popen([sys.executable, "-m", "deploy.stack", "--node", "--without", "flower"],
                                         cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        wait_for_port(self.web_port, timeout=180)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def kill(self) -> tuple[int, datetime]:
        """SIGKILL every process of the node at once. honcho starts each process in a
        session of its own, so every process group under the launcher gets the signal
        (a gunicorn or Celery child forked meanwhile is in its parent's group). Returns
        how many processes there were, and the moment they were signalled."""
        try:
            members = [psutil.Process(self.launcher.pid)]
            members += members[0].children(recursive=True)
        except psutil.NoSuchProcess:
            return 0, datetime.now(timezone.utc)
        ours = os.getpgid(0)
        groups = []
        for member in members:
            try:
                group = os.getpgid(member.pid)
            except ProcessLookupError:
                continue
            if group != ours and group not in groups:
                groups.append(group)
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        killed_at = datetime.now(timezone.utc)
        self.launcher.wait()
        deadline = time.monotonic() + 10
        while any(_alive(member) for member in members) and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(members), killed_at

    def stop(self) -> None:
        if self.launcher.poll() is None:
            self.kill()
        self.log.close()


def _alive(process: psutil.Process) -> bool:
    """Running (a killed process nobody reaped yet is a zombie: dead)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def offer_to_nodes(bases: list[str], learners: list[Learner], rate: float, seconds: float, first_number: int,
                   senders: int, at_half_time=None) -> dict:
    """Send rate × seconds turns open-loop, the n-th to bases[n % len(bases)]; call
    `at_half_time()` half-way through. Returns what was sent and to which node."""
    total = int(rate * seconds)
    work: queue.Queue = queue.Queue()
    sent: list[dict] = []
    lock = threading.Lock()

    def sender() -> None:
        clients: dict[tuple[str, str], Client] = {}
        while (item := work.get()) is not None:
            number, learner, due, node = item
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            client = clients.setdefault((bases[node], learner.token), Client(bases[node], learner.token))
            content = f"{SENTENCES[number % len(SENTENCES)]} (n°{number})"
            started = time.perf_counter()
            try:
                status, body = client.call("POST", f"/api/v1/sessions/{learner.session_id}/messages",
                                           {"content": content})
            except Exception as error:  # refused, reset or cut mid-answer: not acknowledged
                status, body = 0, {"error": repr(error)}
                clients.pop((bases[node], learner.token), None)
            record = {"number": number, "node": node, "status": status, "lag_ms": (started - due) * 1000,
                      "ack_ms": (time.perf_counter() - started) * 1000, "learner": learner.session_id,
                      "turn_id": body.get("turn", {}).get("id") if status == 202 else None}
            with lock:
                sent.append(record)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.5
    timer = None
    if at_half_time is not None:
        timer = threading.Timer(0.5 + seconds / 2, at_half_time)
        timer.start()
    for i in range(total):
        work.put((first_number + i, learners[i % len(learners)], start + i / rate, i % len(bases)))
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    if timer is not None:
        timer.join()
    return {"sent": sent, "offered": total, "seconds": time.perf_counter() - start}


def turns_of_numbers(database_url: str, numbers: set[int], since: datetime) -> dict[int, str]:
    """turn id of each marked message the database holds (for requests never answered)."""
    with psycopg.connect(database_url, autocommit=True) as db:
        rows = db.execute("SELECT turn_id::text, content FROM messages WHERE role = 'user' AND created_at >= %s",
                          (since,)).fetchall()
    found = {}
    for turn_id, content in rows:
        match = MARKER.search(content)
        if match and int(match.group(1)) in numbers:
            found[int(match.group(1))] = turn_id
    return found


def assistant_messages(database_url: str, turn_ids: list[str]) -> Counter:
    with psycopg.connect(database_url, autocommit=True) as db:
        rows = db.execute("SELECT turn_id::text, count(*) FROM messages WHERE role = 'assistant' "
                          "AND turn_id = ANY(%s::uuid[]) GROUP BY turn_id", (turn_ids,)).fetchall()
    return Counter(dict(rows))


def announced_results(redis_url: str, database_url: str, learners: list[Learner]) -> Counter:
    """`turn_result` events per turn id, read from the learners' replay streams."""
    with psycopg.connect(database_url, autocommit=True) as db:
        owners = [row[0] for row in db.execute("SELECT DISTINCT user_id::text FROM chat_sessions WHERE id = "
                                               "ANY(%s::uuid[])", ([learner.session_id for learner in learners],))]
    client = redis.Redis.from_url(redis_url)
    counts: Counter = Counter()
    try:
        for user_id in owners:
            for _, fields in client.xrange(stream_key(user_id)):
                envelope = json.loads(fields[b"e"])
                if envelope["type"] == "turn_result":
                    counts[envelope["data"]["turn"]["id"]] += 1
    finally:
        client.close()
    return counts


def summarize(offered: dict, rows: list[tuple], killed_at: datetime, cut: dict[int, str], calls: list[tuple[str, int]],
              answers: Counter, results: Counter) -> dict:
    sent = offered["sent"]
    acknowledged = [s for s in sent if s["status"] == 202]
    by_id = {row[0]: row for row in rows}
    statuses = Counter(row[1] for row in rows)
    took = [(row[4] - row[3]).total_seconds() for row in rows if row[1] == "complete"]
    acked_by_b = [s["turn_id"] for s in acknowledged if s["node"] == 1]
    completed_after_kill = {row[0] for row in rows if row[1] == "complete" and row[4] > killed_at}
    in_flight = {row[0] for row in rows if row[3] < killed_at and (row[4] is None or row[4] > killed_at)}
    took_elsewhere = [(row[4] - row[3]).total_seconds() for row in rows
                      if row[1] == "complete" and row[0] not in in_flight]
    number_to_turn = {s["number"]: s["turn_id"] for s in acknowledged} | cut
    per_kind: dict[str, Counter] = defaultdict(Counter)
    for kind, number in calls:
        if number in number_to_turn:
            per_kind[kind][number] += 1
    dup_in_flight = {kind: sum(n - 1 for number, n in counts.items() if n > 1
                               and number_to_turn[number] in in_flight) for kind, counts in per_kind.items()}
    dup_elsewhere = {kind: sum(n - 1 for number, n in counts.items() if n > 1
                               and number_to_turn[number] not in in_flight) for kind, counts in per_kind.items()}
    most_calls = max((n for counts in per_kind.values() for n in counts.values()), default=0)
    every_turn = [s["turn_id"] for s in acknowledged] + list(cut.values())
    result = {
        "offered": offered["offered"],
        "acknowledged": {"a": sum(1 for s in acknowledged if s["node"] == 0), "b": len(acked_by_b)},
        "not_answered": {"a": sum(1 for s in sent if s["status"] != 202 and s["node"] == 0),
                         "b": sum(1 for s in sent if s["status"] != 202 and s["node"] == 1)},
        "not_answered_but_stored": len(cut),
        "not_answered_but_stored_completed": sum(1 for t in cut.values() if by_id.get(t, (0, ""))[1] == "complete"),
        "completed": statuses.get("complete", 0), "failed": statuses.get("failed", 0),
        "pending": statuses.get("pending", 0), "degraded": sum(1 for row in rows if row[2]),
        "acknowledged_by_b_completed_after_b_died": sum(1 for t in acked_by_b if t in completed_after_kill),
        "in_flight_when_b_died": len(in_flight),
        "p50_s": round(statistics.median(took), 3) if took else None,
        "p99_s": round(percentile(took, 0.99), 3) if took else None,
        # The turns the dead node held wait for their lease to run out (STAGE_LEASE_SECONDS).
        "p99_s_not_in_flight_when_b_died": round(percentile(took_elsewhere, 0.99), 3) if took_elsewhere else None,
        "ack_p99_ms": round(percentile([s["ack_ms"] for s in acknowledged], 0.99), 1) if acknowledged else None,
        "assistant_messages_per_turn": dict(Counter(answers.get(t, 0) for t in every_turn)),
        "turn_result_events_per_turn": dict(Counter(results.get(t, 0) for t in every_turn)),
        "model_calls_per_turn": {kind: round(sum(c.values()) / max(1, len(number_to_turn)), 3)
                                 for kind, c in per_kind.items()},
        "repeated_calls_in_flight_turns": dup_in_flight, "duplicate_calls_elsewhere": dup_elsewhere,
        "most_calls_of_one_kind_for_one_turn": most_calls,
    }
    result["held"] = (not result["failed"] and not result["pending"]
                      and result["completed"] == len(every_turn)
                      and set(result["assistant_messages_per_turn"]) == {1}
                      and max(result["turn_result_events_per_turn"], default=0) <= 1
                      and not any(dup_elsewhere.values()) and most_calls <= 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-latency", type=float, default=1.0, help="seconds before each model answer")
    parser.add_argument("--rate", type=float, default=10.0, help="turns per second, over both nodes")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the load is offered")
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--senders", type=int, default=32, help="client threads (keep-alive connections)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for every process of both nodes")
    parser.add_argument("--keep", action="store_true", help="keep .data/bench-nodes-*/ afterwards")
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    data_dirs = [REPO / ".data" / "bench-nodes-a", REPO / ".data" / "bench-nodes-b"]

    results = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
                          f"{round(psutil.virtual_memory().total / 2**30)} GiB",
               "python": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "model_latency_s": args.model_latency, "rate": args.rate, "seconds": args.seconds,
               "env": extra_env}
    first = Deployment(data_dirs[0], args.model_latency, extra_env)
    second = None
    try:
        second = SecondNode(data_dirs[1], first)
        print(f"node A on {first.base_url}, node B on {second.base_url}, model server on {first.model_url}",
              flush=True)
        learners = make_learners(first.base_url, args.learners)
        # Warm up both nodes: every worker family has its models and connections first.
        warm = offer_to_nodes([first.base_url, second.base_url], learners, 4, 3, 0, 4)
        wait_for_turns(first.database_url, [s["turn_id"] for s in warm["sent"] if s["turn_id"]], 120)

        killed: dict = {}

        def kill_node_b() -> None:
            killed["processes"], killed["at"] = second.kill()
            print(f"node B killed: {killed['processes']} processes, SIGKILL", flush=True)

        started_at = datetime.now(timezone.utc)
        phase_started = time.time()
        offered = offer_to_nodes([first.base_url, second.base_url], learners, args.rate, args.seconds, 1000,
                                 args.senders, at_half_time=kill_node_b)
        unanswered = {s["number"] for s in offered["sent"] if s["status"] != 202}
        cut = turns_of_numbers(first.database_url, unanswered, started_at)
        turn_ids = [s["turn_id"] for s in offered["sent"] if s["turn_id"]] + list(cut.values())
        waited = time.monotonic()
        rows = wait_for_turns(first.database_url, turn_ids, timeout=240)
        print(f"every turn finished {time.monotonic() - waited:.0f} s after the load ended", flush=True)
        with psycopg.connect(first.database_url, autocommit=True) as db:  # its outbox work too (reviews)
            while db.execute("SELECT count(*) FROM outbox WHERE ref_id = ANY(%s::uuid[])",
                             (turn_ids,)).fetchone()[0] and time.monotonic() - waited < 240:
                time.sleep(1)
        row = summarize(offered, rows, killed["at"], cut, model_calls(first.model_url, phase_started),
                        assistant_messages(first.database_url, turn_ids),
                        announced_results(redis_url_of(first), first.database_url, learners))
        row["node_b_processes_killed"] = killed["processes"]
        results["result"] = row
        print(json.dumps(row, indent=1), flush=True)
    finally:
        if second is not None:
            second.stop()
        first.stop()
        if not args.keep:
            for data_dir in data_dirs:
                shutil.rmtree(data_dir, ignore_errors=True)
    print(f"held (every turn acknowledged or stored completed, once, announced at most once; no duplicate "
          f"model call but one repeat for turns in flight on the dead node): {results['result']['held']}")
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"nodes-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
