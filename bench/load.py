"""Load with a model that takes its time: open-loop turn rates against the whole stack.

    .venv/bin/python bench/load.py --model-latency 1 --rates 10,25,50,100,150 --seconds 20

Starts a loopback OpenAI-compatible model server (bench/model_server.py) that answers
every request after --model-latency seconds, and the stack exactly as `make run` starts
it (deploy/stack.py: embedded PostgreSQL and Redis, web, every worker family, beat,
Flower) under .data/bench-load/ on free ports, pointed at that server with its rate
limit out of the way. Extra settings for the stack: --env NAME=VALUE (repeatable).

For each rate, turns are offered open-loop (each at its scheduled moment, whether or not
earlier ones finished) by learners in round robin for --seconds, then the bench waits for
every turn to finish and reports, from the server's own records:
- acknowledged (202), completed, failed, degraded, still pending;
- p50/p99 from the turn's `created_at` to its `completed_at`, and of the acknowledgement;
- model calls per turn by kind (moderation, reply, json = the grammar pass), counted by
  the model server, and the duplicates (a kind called more than once for one turn);
- CPU milliseconds per turn of each process family, read from /proc (user + system);
- PostgreSQL transactions and sessions started, and Redis commands, per turn;
- the peak resident memory of each process family's largest process (VmHWM; forked
  processes share pages, so a sum would count them twice);
- what the learners' replay windows hold in Redis afterwards (events, bytes per learner).
It prints the highest rate held: every turn acknowledged and completed, none failed or
degraded, p99 <= 3 s with the 1 s model (--held-p99; by default the model's latency + 2 s,
since no turn can finish before its model answers). JSON lands in bench/results/.
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
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import psutil
import psycopg
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import Client, percentile  # noqa: E402
from deploy.services import free_port, wait_for_port  # noqa: E402

SENTENCES = [
    "Je suis allé au marché hier avec mes amie.",
    "Nous mange une pizza ce soir avec ma famille.",
    "J'aime beaucoup la musique française et le cinéma.",
    "Ils va au cinéma le samedi après le travail.",
    "Ma sœur habite à Lyon depuis trois ans.",
]
MARKER = re.compile(r"\(n°(\d+)\)")
HELD_P99_MARGIN_SECONDS = 2.0  # over the model's latency: 3 s for the 1 s model


# --- the stack and the model server ------------------------------------------------------

class Deployment:
    """The model server and `make run`'s stack, started here and stopped at the end."""

    def __init__(self, data_dir: Path, latency: float, extra_env: dict[str, str], model_args: Sequence[str] = ()):
        self.data_dir = data_dir
        self.web_port = free_port()
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        self.model = subprocess.Popen([sys.executable, "bench/model_server.py", "--latency", str(latency), *model_args],
                                      cwd=REPO, stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.model_url = self.model.stdout.readline().strip()
        pg_port, redis_port = free_port(), free_port()
        self.env = {
            **os.environ, "PARLONS_DATA_DIR": str(data_dir), "PORT": str(self.web_port),
            "EMBEDDED_POSTGRES_PORT": str(pg_port), "EMBEDDED_REDIS_PORT": str(redis_port),
            "FLOWER_PORT": str(free_port()),
            "PRIMARY_LLM_PROVIDER": "openai", "SECONDARY_LLM_PROVIDER": "",
            "OPENAI_API_BASE": self.model_url, "OPENAI_API_KEY": "bench-key",
            "OPENAI_REQUESTS_PER_MINUTE": "1000000",
            # A load test's learners send faster than a learner may (1.5 turns/s each).
            "QUOTA_TURNS_PER_MINUTE": "1000000", "QUOTA_TURNS_PER_DAY": "1000000",
            "QUOTA_TOKENS_PER_DAY": "1000000000",
            # ...and all of them register from 127.0.0.1.
            "REGISTER_RATE_LIMIT_ADDRESS": "1000000/hour", **extra_env,
        }
        for name in ("DATABASE_URL", "REDIS_URL", "BROKER_URL"):
            self.env.pop(name, None)
        self.database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/parlons"
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.log = open(data_dir / "stack.log", "wb")
        self.stack = subprocess.Popen([sys.executable, "-m", "deploy.stack"], cwd=REPO, env=self.env,
                                      stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(self.web_port, timeout=180)
        except BaseException:
            self.stop()  # nothing of a stack that did not come up is left running
            raise SystemExit(f"the stack did not start: see {data_dir / 'stack.log'} (kept)") from None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def processes(self) -> dict[int, str]:
        """pid -> family for every process of the stack (PostgreSQL's included)."""
        found = {}
        try:
            launcher = psutil.Process(self.stack.pid)
            members = [launcher, *launcher.children(recursive=True)]
        except psutil.NoSuchProcess:
            members = []
        pid_file = self.data_dir / "postgres" / "postmaster.pid"
        if pid_file.exists():
            try:
                postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
                members += [postmaster, *postmaster.children(recursive=True)]
            except (psutil.NoSuchProcess, ValueError):
                pass
        for process in members:
            try:
                found[process.pid] = family(process.cmdline(), process.name())
            except psutil.Error:
                continue
        return found

    def model_cpu_seconds(self) -> float:
        try:
            times = psutil.Process(self.model.pid).cpu_times()
            return times.user + times.system
        except psutil.Error:
            return 0.0

    def stop(self) -> None:
        if self.stack.poll() is None:
            os.killpg(self.stack.pid, signal.SIGINT)  # Ctrl-C, as an operator stops `make run`
            try:
                self.stack.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.stack.pid, signal.SIGKILL)
        os.killpg(self.model.pid, signal.SIGTERM)
        self.model.wait(timeout=10)


def family(cmdline: list[str], name: str) -> str:
    """The Procfile entry (or server) a process belongs to."""
    line = " ".join(cmdline)
    if "celery" in line:
        for queue_name in ("llm", "nlp", "default"):
            if f"-Q {queue_name}" in line:
                return f"worker_{queue_name}"
        for kind in ("beat", "flower"):
            if f" {kind}" in line:
                return kind
        return "celery"
    for needle, label in (("gunicorn", "web"), ("honcho", "honcho"), ("redis-server", "redis"),
                          ("deploy.stack", "launcher")):
        if needle in line:
            return label
    return "postgres" if name.startswith("postgres") or "postgres" in line else name


def cpu_seconds(processes: dict[int, str], seen: dict[int, tuple[str, float]]) -> dict[int, tuple[str, float]]:
    """User + system CPU of each process now (a process that ended keeps its last reading)."""
    now = dict(seen)
    for pid, label in processes.items():
        try:
            times = psutil.Process(pid).cpu_times()
            now[pid] = (label, times.user + times.system)
        except psutil.Error:
            continue
    return now


def cpu_by_family(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    spent: dict[str, float] = defaultdict(float)
    for pid, (label, seconds) in after.items():
        spent[label] += seconds - (before[pid][1] if pid in before else 0.0)
    return dict(spent)


# --- learners and turns --------------------------------------------------------------------

class Learner:
    def __init__(self, base: str):
        status, body = Client(base).call("POST", "/api/v1/auth/register", {
            "email": f"load-{uuid.uuid4().hex[:12]}@example.com", "password": "benchmark password",
            "display_name": "Load"})
        assert status == 201, body
        self.token = body["access_token"]
        client = Client(base, self.token)
        status, body = client.call("POST", "/api/v1/sessions", {"character_id": "camille", "level": "A2"})
        assert status == 201, body
        self.session_id = body["id"]
        # One keep-alive connection per learner, as a browser tab keeps one: whichever
        # sender thread sends the learner's turn uses it (one at a time).
        self.client, self.lock = client, threading.Lock()


def make_learners(base: str, count: int) -> list[Learner]:
    learners: list[Learner] = []
    lock = threading.Lock()

    def make(n: int) -> None:
        made = [Learner(base) for _ in range(n)]
        with lock:
            learners.extend(made)

    threads = [threading.Thread(target=make, args=(count // 4 + (i < count % 4),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return learners


def offer(base: str, learners: list[Learner], rate: float, seconds: float, first_number: int,
          senders: int) -> dict:
    """Send rate × seconds turns, each at its scheduled moment. Returns what was sent."""
    total = int(rate * seconds)
    work: queue.Queue = queue.Queue()
    sent: list[dict] = []
    lock = threading.Lock()

    def sender() -> None:
        while (item := work.get()) is not None:
            number, learner, due = item
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            content = f"{SENTENCES[number % len(SENTENCES)]} (n°{number})"
            started = time.perf_counter()
            try:
                with learner.lock:
                    status, body = learner.client.call("POST", f"/api/v1/sessions/{learner.session_id}/messages",
                                                       {"content": content})
            except OSError as error:
                status, body = 0, {"error": str(error)}
            record = {"number": number, "status": status, "lag_ms": (started - due) * 1000,
                      "ack_ms": (time.perf_counter() - started) * 1000,
                      "turn_id": body.get("turn", {}).get("id") if status == 202 else None}
            with lock:
                sent.append(record)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.5
    for i in range(total):
        work.put((first_number + i, learners[i % len(learners)], start + i / rate))
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    return {"sent": sent, "offered": total, "seconds": time.perf_counter() - start}


def wait_for_turns(database_url: str, turn_ids: list[str], timeout: float) -> list[tuple]:
    """(id, status, degraded, created_at, completed_at) of each turn once none is pending."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as db:
        while True:
            rows = db.execute("SELECT id::text, status, degraded, created_at, completed_at FROM turns "
                              "WHERE id = ANY(%s::uuid[])", (turn_ids,)).fetchall()
            if all(row[1] != "pending" for row in rows) or time.monotonic() > deadline:
                return rows
            time.sleep(1)


def model_calls(model_url: str, since: float) -> list[tuple[str, int]]:
    """(kind, turn number) of every call the model server received since `since`."""
    with urllib.request.urlopen(model_url.rsplit("/v1", 1)[0] + "/_calls", timeout=60) as response:
        calls = json.loads(response.read())
    found = []
    for call in calls:
        if call["at"] < since:
            continue
        body = json.loads(call["body"]) if call["body"] else {}
        kind = call["kind"]
        if call["path"].endswith("/moderations"):
            said = body.get("input") or ""
        else:
            users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
            said = users[-1] if users else ""
            if kind == "reply" and said.startswith(("Summary so far:", "The conversation so far:")):
                kind = "summary" if said.startswith("Summary") else "hint"
        match = MARKER.search(said)
        found.append((kind, int(match.group(1)) if match else -1))
    return found


def server_counters(database_url: str, redis_url: str) -> dict[str, int]:
    """PostgreSQL's committed and rolled-back transactions and the sessions (backends) it
    started, and the commands Redis processed, so far: their growth per turn says how
    many round trips and connections a turn costs."""
    with psycopg.connect(database_url, autocommit=True) as db:
        commits, rollbacks, sessions = db.execute(
            "SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    by_name = {name.removeprefix("cmdstat_"): stats["calls"]
               for name, stats in redis.Redis.from_url(redis_url).info("commandstats").items()}
    return {"postgres_transactions": commits + rollbacks, "postgres_sessions": sessions,
            "redis_commands": sum(by_name.values()), **{f"redis_{name}": calls for name, calls in by_name.items()}}


def replay_windows(redis_url: str) -> dict:
    """What the learners' replay windows hold in Redis: events and bytes per learner."""
    client = redis.Redis.from_url(redis_url)
    sizes = [(client.xlen(key), client.memory_usage(key, samples=0) or 0)
             for key in client.scan_iter(match="parlons:stream:*", count=1000)]
    if not sizes:
        return {}
    return {"learners": len(sizes), "events_per_learner_p50": statistics.median(n for n, _ in sizes),
            "bytes_per_learner_p50": statistics.median(b for _, b in sizes),
            "bytes_per_learner_max": max(b for _, b in sizes),
            "redis_used_memory_bytes": client.info("memory")["used_memory"]}


def peak_rss_mb(processes: dict[int, str]) -> dict[str, float]:
    """Peak resident memory (VmHWM) of each family's largest process, in MB."""
    peaks: dict[str, float] = defaultdict(float)
    for pid, label in processes.items():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kilobytes = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
        peaks[label] = max(peaks[label], kilobytes / 1024)
    return {label: round(mb, 1) for label, mb in sorted(peaks.items(), key=lambda item: -item[1])}


def report(rate: float, offered: dict, rows: list[tuple], calls: list[tuple[str, int]],
           cpu: dict[str, float], model_cpu: float, counted: dict[str, int], held_p99: float) -> dict:
    sent = offered["sent"]
    acknowledged = [s for s in sent if s["status"] == 202]
    statuses = Counter(row[1] for row in rows)
    degraded = sum(1 for row in rows if row[2])
    took = [(row[4] - row[3]).total_seconds() for row in rows if row[1] == "complete"]
    numbers = {s["number"] for s in acknowledged}
    per_kind: dict[str, Counter] = defaultdict(Counter)
    for kind, number in calls:
        if number in numbers:
            per_kind[kind][number] += 1
    calls_per_turn = {kind: round(sum(counts.values()) / max(1, len(numbers)), 3) for kind, counts in per_kind.items()}
    duplicates = {kind: sum(n - 1 for n in counts.values() if n > 1) for kind, counts in per_kind.items()}
    completed = statuses.get("complete", 0)
    result = {
        "rate": rate, "offered": offered["offered"], "acknowledged": len(acknowledged),
        "send_seconds": round(offered["seconds"], 1),
        "send_lag_p99_ms": round(percentile([s["lag_ms"] for s in sent], 0.99), 1) if sent else None,
        "ack_p50_ms": round(statistics.median(s["ack_ms"] for s in acknowledged), 1) if acknowledged else None,
        "ack_p99_ms": round(percentile([s["ack_ms"] for s in acknowledged], 0.99), 1) if acknowledged else None,
        "completed": completed, "failed": statuses.get("failed", 0), "pending": statuses.get("pending", 0),
        "degraded": degraded,
        "p50_s": round(statistics.median(took), 3) if took else None,
        "p99_s": round(percentile(took, 0.99), 3) if took else None,
        "model_calls_per_turn": calls_per_turn, "duplicate_calls": duplicates,
        "turns_without_moderation_call": len(numbers - set(per_kind["moderation"])),
        "turns_without_reply_call": len(numbers - set(per_kind["reply"])),
        "cpu_ms_per_turn": {label: round(seconds * 1000 / max(1, completed), 2)
                            for label, seconds in sorted(cpu.items(), key=lambda item: -item[1])},
        "cpu_ms_per_turn_total": round(sum(cpu.values()) * 1000 / max(1, completed), 2),
        "model_server_cpu_ms_per_turn": round(model_cpu * 1000 / max(1, completed), 2),
        "per_turn": {name: round(count / max(1, completed), 1)
                     for name, count in sorted(counted.items(), key=lambda item: -item[1]) if count >= completed / 10},
    }
    result["held"] = (result["acknowledged"] == result["offered"] == completed and not result["failed"]
                      and not degraded and result["p99_s"] is not None and result["p99_s"] <= held_p99
                      and not any(duplicates.values()))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-latency", type=float, default=1.0, help="seconds before each model answer")
    parser.add_argument("--piece-delay", type=float, default=0.0,
                        help="seconds between the reply's streamed events (0: all at once after the latency)")
    parser.add_argument("--words-per-piece", type=int, default=2, help="words of the reply per streamed event")
    parser.add_argument("--rates", default="10,25,50,100,150", help="turns per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each rate is offered")
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--senders", type=int, default=64, help="client threads (keep-alive connections)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for every process of the stack")
    parser.add_argument("--keep", action="store_true", help="keep .data/bench-load/ afterwards")
    parser.add_argument("--held-p99", type=float, default=None,
                        help="the p99 a rate must stay under to count as held (default: model latency + 2 s)")
    args = parser.parse_args()
    held_p99 = args.held_p99 if args.held_p99 is not None else args.model_latency + HELD_P99_MARGIN_SECONDS
    extra_env = dict(item.split("=", 1) for item in args.env)
    data_dir = REPO / ".data" / "bench-load"

    results = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
                          f"{round(psutil.virtual_memory().total / 2**30)} GiB",
               "python": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "commit": subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True,
                                        text=True).stdout.strip(),
               "load_average": os.getloadavg(),
               "model_latency_s": args.model_latency, "piece_delay_s": args.piece_delay,
               "words_per_piece": args.words_per_piece, "seconds_per_rate": args.seconds, "env": extra_env,
               "held_p99_s": held_p99,
               "rates": []}
    deployment = Deployment(data_dir, args.model_latency, extra_env,
                            ["--piece-delay", str(args.piece_delay), "--words-per-piece", str(args.words_per_piece)])
    try:
        print(f"stack on {deployment.base_url}, model server on {deployment.model_url}", flush=True)
        learners = make_learners(deployment.base_url, args.learners)
        # Warm up: every worker family has its models and connections before the clock starts.
        warm = offer(deployment.base_url, learners, 5, 2, 0, 4)
        wait_for_turns(deployment.database_url, [s["turn_id"] for s in warm["sent"] if s["turn_id"]], 120)
        number = 1000
        for rate in [float(r) for r in args.rates.split(",")]:
            processes = deployment.processes()
            cpu_before = cpu_seconds(processes, {})
            model_before = deployment.model_cpu_seconds()
            counted_before = server_counters(deployment.database_url, deployment.redis_url)
            phase_started = time.time()
            print(f"offering {rate:g} turns/s for {args.seconds:g} s", flush=True)
            offered = offer(deployment.base_url, learners, rate, args.seconds, number, args.senders)
            number += offered["offered"]
            turn_ids = [s["turn_id"] for s in offered["sent"] if s["turn_id"]]
            rows = wait_for_turns(deployment.database_url, turn_ids, timeout=180)
            cpu_after = cpu_seconds(deployment.processes(), cpu_before)
            counted = {name: count - counted_before.get(name, 0)
                       for name, count in server_counters(deployment.database_url, deployment.redis_url).items()}
            row = report(rate, offered, rows, model_calls(deployment.model_url, phase_started),
                         cpu_by_family(cpu_before, cpu_after), deployment.model_cpu_seconds() - model_before, counted,
                         held_p99)
            row["peak_rss_mb"] = peak_rss_mb(deployment.processes())
            row["replay_windows"] = replay_windows(deployment.redis_url)
            results["rates"].append(row)
            print(json.dumps(row), flush=True)
            time.sleep(3)  # let stragglers (conversation reviews, summaries) settle before the next rate
    finally:
        deployment.stop()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    held = [row["rate"] for row in results["rates"] if row["held"]]
    results["highest_rate_held"] = max(held) if held else None
    print(f"highest rate held (all completed, none failed or degraded, p99 <= {held_p99:g} s, "
          f"no duplicate model call): {results['highest_rate_held']} turns/s")
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
