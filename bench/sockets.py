"""Idle sockets at scale: how many one web process holds, what each costs, and whether
a turn's events still arrive promptly while they are open.

    .venv/bin/python bench/sockets.py [--sockets 10000] [--per-learner 10] [--hold 600]

Starts the stack as `make run` does (deploy/stack.py: embedded PostgreSQL and Redis,
web, every worker family; offline provider) under .data/bench-sockets/ on free ports,
with WEB_CONCURRENCY=1 so that one gunicorn worker holds every socket (or targets a
running stack with --url). Then:
1. registers --sockets / --per-learner learners through the API (Argon2 makes this the
   slow part: --keep keeps the data and the learners for the next run);
2. warms up (a few sockets, --baseline-turns turns, one at a time: the latency with
   next to nothing open) and reads the worker's RSS;
3. opens --sockets sockets on /api/v1/ws, --per-learner per learner, from this one
   asyncio process with a minimal client that answers every WebSocket ping and offers
   permessage-deflate as browsers do;
4. holds them for --hold seconds while a few learners submit a turn every
   --turn-every seconds: submit -> `turn_result` on their socket is the latency;
5. reports the RSS added per socket (after opening and at the end of the hold, from
   psutil, the gunicorn worker(s) only), sockets the server closed or lost ("drops")
   with their close codes, and the latencies. JSON lands in bench/results/.

The bench raises its own RLIMIT_NOFILE to the hard limit; the stack it starts inherits
it. With --source-ips K the client connects from 127.0.0.1..127.0.0.K, for more than
the ~28k ephemeral ports of one source address.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import Client, percentile  # noqa: E402
from deploy.services import free_port, wait_for_port  # noqa: E402

KB = 1024
RSS_BUDGET_KB = 40
LATENCY_BUDGET_MS = 100
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# --- the stack ---------------------------------------------------------------------------

class Stack:
    """`make run`'s stack with one web worker, started here and stopped at the end."""

    def __init__(self, data_dir: Path, web_workers: int, worker_connections: int, extra_env: dict[str, str]):
        self.data_dir = data_dir
        self.web_port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ, "PARLONS_DATA_DIR": str(data_dir), "PORT": str(self.web_port),
            "EMBEDDED_POSTGRES_PORT": str(free_port()), "EMBEDDED_REDIS_PORT": str(free_port()),
            "FLOWER_PORT": str(free_port()),
            "PRIMARY_LLM_PROVIDER": "offline", "SECONDARY_LLM_PROVIDER": "",
            "WEB_CONCURRENCY": str(web_workers),
            # Tokens outlive the hold (and a --keep'd learner list reused the same day).
            "JWT_ACCESS_TOKEN_MINUTES": "1440",
            # Every learner is registered from 127.0.0.1: the per-address limit (20 an hour)
            # would stop the bench at its twenty-first.
            "REGISTER_RATE_LIMIT_ADDRESS": "1000000/hour",
            **extra_env,
        }
        if worker_connections:
            self.env["WEB_WORKER_CONNECTIONS"] = str(worker_connections)
        for name in ("DATABASE_URL", "REDIS_URL", "BROKER_URL"):
            self.env.pop(name, None)
        self.log = open(data_dir / "stack.log", "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "deploy.stack"], cwd=REPO, env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.web_port, timeout=240)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C, as an operator stops `make run`
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def is_gunicorn(process: psutil.Process) -> bool:
    """gunicorn's own processes, not the shell honcho starts it with."""
    cmdline = process.cmdline()
    return len(cmdline) > 1 and "python" in Path(cmdline[0]).name and Path(cmdline[1]).name == "gunicorn"


def web_workers(port: int, launcher_pid: int | None, wanted: int = 1) -> list[psutil.Process]:
    """The gunicorn workers (not the master) serving `port`, once `wanted` of them run."""
    deadline = time.monotonic() + 120
    while len(workers := find_web_workers(port, launcher_pid)) < wanted and time.monotonic() < deadline:
        time.sleep(1)
    if not workers:
        raise SystemExit(f"no gunicorn worker found for port {port}; pass --web-pids")
    return workers


def find_web_workers(port: int, launcher_pid: int | None) -> list[psutil.Process]:
    if launcher_pid is not None:
        candidates = psutil.Process(launcher_pid).children(recursive=True)
    else:
        owners = {c.pid for c in psutil.net_connections("tcp")
                  if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid}
        candidates = []
        for pid in owners:
            process = psutil.Process(pid)
            master = process.parent() if is_gunicorn(process.parent()) else process
            candidates += [master, *master.children()]
    workers = []
    for process in candidates:
        try:
            if is_gunicorn(process) and is_gunicorn(process.parent()):
                workers.append(process)
        except psutil.Error:
            continue
    return workers


def rss(processes: list[psutil.Process]) -> int:
    return sum(process.memory_info().rss for process in processes)


# --- learners -------------------------------------------------------------------------------

def register(base: str, count: int, threads: int) -> list[dict]:
    made: list[dict] = []
    lock = threading.Lock()
    numbers = iter(range(count))

    def work() -> None:
        client = Client(base)
        client.connection.timeout = 120  # Argon2 queues behind the others in one web worker
        while True:
            with lock:
                if next(numbers, None) is None:
                    return
            status, body = client.call("POST", "/api/v1/auth/register", {
                "email": f"sockets-{uuid.uuid4().hex[:12]}@example.com", "password": "benchmark password",
                "display_name": "Sockets"})
            assert status == 201, body
            with lock:
                made.append({"token": body["access_token"], "user_id": body["user"]["id"]})

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return made


def learners(base: str, wanted: int, threads: int, saved: Path | None) -> list[dict]:
    """`wanted` learners, reusing those saved by an earlier --keep run against the same data."""
    known = json.loads(saved.read_text()) if saved and saved.exists() else []
    if len(known) < wanted:
        started = time.monotonic()
        print(f"registering {wanted - len(known)} learners ...", flush=True)
        known += register(base, wanted - len(known), threads)
        print(f"  took {time.monotonic() - started:.0f} s", flush=True)
        if len(known) < wanted:
            raise SystemExit(f"only {len(known)} of {wanted} learners registered: see the errors above")
        if saved:
            saved.write_text(json.dumps(known))
    return known[:wanted]


# --- the WebSocket client ------------------------------------------------------------------

class Tally:
    """What every socket saw, shared by the event loop and the turn thread."""

    def __init__(self) -> None:
        self.opened = 0
        self.failed_to_open: collections.Counter = collections.Counter()
        self.drops: list[dict] = []
        self.messages: collections.Counter = collections.Counter()
        self.pings = 0
        self.watching: set[str] = set()  # learners whose turn events are timed
        self.arrivals: dict[str, dict[str, float]] = {}  # turn id -> event type -> first arrival


class WebSocketClient(asyncio.Protocol):
    """One socket: the handshake, then frames; answers pings, counts what arrives."""

    def __init__(self, host: str, path: str, tally: Tally, user_id: str, deflate: bool, pong_delay: float):
        self.host, self.path, self.tally, self.user_id, self.deflate = host, path, tally, user_id, deflate
        self.pong_delay = pong_delay
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.key = base64.b64encode(os.urandom(16))
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.open_at = 0.0
        self.handshaken = False
        self.inflater = None
        self.inflate_per_message = False
        self.fragments: list[bytes] = []
        self.compressed = False
        self.done = False

    # connection
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        extension = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if self.deflate else ""
        transport.write((f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                         f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.key.decode()}\r\n"
                         f"Sec-WebSocket-Version: 13\r\n{extension}\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshaken:
            if not self.opened.done():
                self.opened.set_exception(ConnectionError(f"lost before the handshake: {exc}"))
        elif not self.done:
            self.drop(1006, f"connection lost: {exc}")
        self.done = True

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.handshaken:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[:end + 4]
            if not self.accept_handshake(head):
                return
        self.read_frames()

    def accept_handshake(self, head: str) -> bool:
        status, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest()).decode()
        if " 101 " not in status + " " or headers.get("sec-websocket-accept") != expected:
            self.opened.set_exception(ConnectionError(status))
            self.transport.close()
            return False
        extensions = headers.get("sec-websocket-extensions", "")
        if "permessage-deflate" in extensions:
            self.inflater = zlib.decompressobj(-15)
            self.inflate_per_message = "server_no_context_takeover" in extensions
        self.handshaken = True
        self.open_at = time.monotonic()
        self.opened.set_result(True)
        return True

    # frames
    def read_frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length, offset = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset:offset + length])
            del buffer[:offset + length]
            self.on_frame(first & 0x0F, bool(first & 0x80), bool(first & 0x40), payload)
            if self.transport.is_closing():
                return

    def on_frame(self, opcode: int, final: bool, rsv1: bool, payload: bytes) -> None:
        if opcode == 0x9:
            self.tally.pings += 1
            if self.pong_delay:
                asyncio.get_running_loop().call_later(self.pong_delay, self.pong_late, payload)
            else:
                self.send_frame(0xA, payload)
        elif opcode == 0x8:
            if not self.done:  # the server closed first: a drop; else it answers our close
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self.drop(code, payload[2:].decode("utf-8", "replace"))
                self.send_frame(0x8, payload[:2])
            self.transport.close()
        elif opcode in (0x0, 0x1, 0x2):
            if opcode != 0x0:
                self.compressed = rsv1
            self.fragments.append(payload)
            if final:
                message = b"".join(self.fragments)
                self.fragments = []
                if self.compressed:
                    if self.inflate_per_message:
                        self.inflater = zlib.decompressobj(-15)
                    message = self.inflater.decompress(message + b"\x00\x00\xff\xff")
                self.on_message(message)

    def on_message(self, message: bytes) -> None:
        event = json.loads(message)
        kind = event["type"]
        self.tally.messages[kind] += 1
        if kind in ("turn_accepted", "turn_result") and self.user_id in self.tally.watching:
            turn_id = event["data"]["turn"]["id"]
            self.tally.arrivals.setdefault(turn_id, {}).setdefault(kind, time.perf_counter())

    def pong_late(self, payload: bytes) -> None:
        if not self.transport.is_closing():
            self.send_frame(0xA, payload)

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """Client frames are masked (RFC 6455 5.3); control payloads are under 126 bytes."""
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def drop(self, code: int, reason: str) -> None:
        self.done = True
        self.tally.drops.append({"code": code, "reason": reason,
                                 "after_s": round(time.monotonic() - self.open_at, 1)})

    def close(self) -> None:
        if not self.done and self.transport is not None and not self.transport.is_closing():
            self.done = True
            self.send_frame(0x8, (1000).to_bytes(2, "big"))


async def open_sockets(url: str, plan: list[tuple[str, str]], tally: Tally, *, concurrency: int,
                       source_ips: int, deflate: bool, pong_delay: float = 0.0,
                       timeout: float = 60) -> list[WebSocketClient]:
    """One socket per (token, user_id) in `plan`, at most `concurrency` handshakes at a time."""
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    clients: list[WebSocketClient] = []

    async def open_one(number: int, token: str, user_id: str) -> None:
        async with gate:
            source = (f"127.0.0.{1 + number % source_ips}", 0) if source_ips > 1 else None
            client = WebSocketClient(f"{host}:{port}", f"/api/v1/ws?token={token}", tally, user_id, deflate,
                                     pong_delay)
            try:
                await asyncio.wait_for(loop.create_connection(lambda: client, host, port, local_addr=source),
                                       timeout)
                await asyncio.wait_for(client.opened, timeout)
            except (OSError, asyncio.TimeoutError) as error:
                tally.failed_to_open[type(error).__name__ + (f": {error}" if str(error) else "")] += 1
                if client.transport:
                    client.transport.close()
                return
            tally.opened += 1
            clients.append(client)

    await asyncio.gather(*(open_one(i, token, user_id) for i, (token, user_id) in enumerate(plan)))
    return clients


# --- turns ------------------------------------------------------------------------------------

SENTENCES = ["Je suis allé au marché hier avec mes amie.", "Nous mange une pizza ce soir.",
             "J'aime beaucoup la musique française.", "Ils va au cinéma le samedi."]


class Turns:
    """Submits turns for a few learners (who have sockets open) from a thread."""

    def __init__(self, base: str, speakers: list[dict], tally: Tally):
        self.tally = tally
        self.speakers = []
        for learner in speakers:
            client = Client(base, learner["token"])
            status, body = client.call("POST", "/api/v1/sessions", {"character_id": "camille"})
            assert status == 201, body
            self.speakers.append((client, body["id"]))
            tally.watching.add(learner["user_id"])
        self.submitted: dict[str, float] = {}
        self.failed = 0
        self.count = 0

    def submit(self) -> None:
        client, session_id = self.speakers[self.count % len(self.speakers)]
        content = SENTENCES[self.count % len(SENTENCES)]
        self.count += 1
        started = time.perf_counter()
        try:
            status, body = client.call("POST", f"/api/v1/sessions/{session_id}/messages", {"content": content})
        except OSError:
            status, body = 0, {}
        if status == 202:
            self.submitted[body["turn"]["id"]] = started
        else:
            self.failed += 1

    def run(self, every: float, stop: threading.Event) -> threading.Thread:
        def loop() -> None:
            while not stop.wait(every):
                self.submit()
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    def latencies(self, turn_ids: list[str] | None = None) -> dict:
        ids = list(self.submitted) if turn_ids is None else turn_ids
        result: dict = {"submitted": len(ids)}
        for kind in ("turn_accepted", "turn_result"):
            took = [(self.tally.arrivals[t][kind] - self.submitted[t]) * 1000
                    for t in ids if kind in self.tally.arrivals.get(t, {})]
            result[kind] = {"n": len(took), "p50_ms": round(statistics.median(took), 1) if took else None,
                            "p99_ms": round(percentile(took, 0.99), 1) if took else None}
        result["without_turn_result"] = result["submitted"] - result["turn_result"]["n"]
        return result


# --- the run ----------------------------------------------------------------------------------

def raise_fd_limit() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


async def run(args: argparse.Namespace, base: str, workers: list[psutil.Process], people: list[dict]) -> dict:
    tally = Tally()
    speakers = people[:args.speakers]
    turns = Turns(base, speakers, tally)
    result: dict = {}

    # Warm up: the first turn through every worker (models, pools, lazy imports), then
    # turns one at a time with next to nothing open (the baseline latency), sockets
    # closed again: all of this before the RSS is read.
    warm = await open_sockets(base, [(p["token"], p["user_id"]) for p in speakers], tally,
                              concurrency=10, source_ips=1, deflate=args.deflate)
    await asyncio.to_thread(turns.submit)
    deadline = time.monotonic() + 120
    while not any("turn_result" in tally.arrivals.get(t, {}) for t in turns.submitted):
        assert time.monotonic() < deadline, "the warm-up turn never finished"
        await asyncio.sleep(0.5)
    warm_ids = set(turns.submitted)
    for _ in range(args.baseline_turns):
        await asyncio.to_thread(turns.submit)
        await asyncio.sleep(args.baseline_pause)
    await asyncio.sleep(2)
    result["baseline_latency"] = turns.latencies([t for t in turns.submitted if t not in warm_ids])
    for client in warm:
        client.close()
    await asyncio.sleep(3)
    baseline_ids = set(turns.submitted)

    rss_before = rss(workers)
    plan = [(p["token"], p["user_id"]) for p in people for _ in range(args.per_learner)][:args.sockets]
    started = time.monotonic()
    clients = await open_sockets(base, plan, tally, concurrency=args.open_concurrency,
                                 source_ips=args.source_ips, deflate=args.deflate, pong_delay=args.pong_delay)
    result["open_seconds"] = round(time.monotonic() - started, 1)
    result["opened"], result["failed_to_open"] = tally.opened - len(warm), dict(tally.failed_to_open)
    await asyncio.sleep(5)  # let the server finish what each open started
    rss_open = rss(workers)
    opened = max(1, result["opened"])
    result["rss_before_mb"] = round(rss_before / 2**20, 1)
    result["rss_after_open_mb"] = round(rss_open / 2**20, 1)
    result["rss_per_socket_after_open_kb"] = round((rss_open - rss_before) / opened / KB, 1)
    print(f"opened {result['opened']} sockets in {result['open_seconds']} s; "
          f"{result['rss_per_socket_after_open_kb']} KB of worker RSS each", flush=True)

    stop = threading.Event()
    thread = turns.run(args.turn_every, stop)
    peak = rss_open
    held_from, held_from_clock = time.monotonic(), time.perf_counter()
    while (elapsed := time.monotonic() - held_from) < args.hold:
        await asyncio.sleep(min(10.0, args.hold - elapsed))
        peak = max(peak, rss(workers))
        print(f"  {elapsed + 10:5.0f} s: {len(tally.drops)} drops, RSS {rss(workers) / 2**20:.0f} MB, "
              f"{turns.count} turns, {tally.pings} pings answered", flush=True)
    stop.set()
    await asyncio.to_thread(thread.join)
    await asyncio.sleep(3)  # the last turn's events
    rss_end = rss(workers)
    result["rss_end_of_hold_mb"] = round(rss_end / 2**20, 1)
    result["rss_per_socket_end_of_hold_kb"] = round((rss_end - rss_before) / opened / KB, 1)
    result["rss_per_socket_peak_kb"] = round((peak - rss_before) / opened / KB, 1)
    result["worker_fds"] = sum(w.num_fds() for w in workers)
    result["worker_nofile_limit"] = [w.rlimit(psutil.RLIMIT_NOFILE) for w in workers]
    result["drops"] = len(tally.drops)
    result["drops_by_reason"] = dict(collections.Counter(f"{d['code']} {d['reason']}" for d in tally.drops))
    result["first_drops"] = tally.drops[:10]
    result["pings_answered"] = tally.pings
    result["messages"] = dict(tally.messages)
    result["latency_while_open"] = turns.latencies([t for t in turns.submitted if t not in baseline_ids])
    result["turn_submit_failures"] = turns.failed
    timed = [((tally.arrivals[t]["turn_result"] - at) * 1000, at - held_from_clock)
             for t, at in turns.submitted.items()
             if t not in baseline_ids and "turn_result" in tally.arrivals.get(t, {})]
    result["slowest_turns"] = [{"ms": round(ms, 1), "at_s": round(at, 1)} for ms, at in sorted(timed)[-5:]]

    for client in clients:
        client.close()
    await asyncio.sleep(3)
    for client in clients:
        if client.transport:
            client.transport.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=10000)
    parser.add_argument("--per-learner", type=int, default=10, help="sockets per learner")
    parser.add_argument("--hold", type=float, default=600, help="seconds the sockets stay open")
    parser.add_argument("--turn-every", type=float, default=1.0, help="seconds between turns while they are open")
    parser.add_argument("--speakers", type=int, default=5, help="learners who submit the turns")
    parser.add_argument("--baseline-turns", type=int, default=20)
    parser.add_argument("--baseline-pause", type=float, default=0.3)
    parser.add_argument("--open-concurrency", type=int, default=200, help="handshakes in flight")
    parser.add_argument("--source-ips", type=int, default=1, help="connect from 127.0.0.1..127.0.0.K")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false",
                        help="do not offer permessage-deflate (browsers do)")
    parser.add_argument("--pong-delay", type=float, default=0.0,
                        help="answer each ping this many seconds late (a client too busy to answer at once)")
    parser.add_argument("--web-workers", type=int, default=1, help="WEB_CONCURRENCY of the stack started here")
    parser.add_argument("--worker-connections", type=int, default=0,
                        help="WEB_WORKER_CONNECTIONS of the stack started here (default: the config's)")
    parser.add_argument("--register-threads", type=int, default=4)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for every process of the stack")
    parser.add_argument("--url", help="target a running stack instead (its RSS is read from --web-pids or the port)")
    parser.add_argument("--web-pids", help="comma-separated gunicorn worker pids (with --url)")
    parser.add_argument("--keep", action="store_true",
                        help="keep .data/bench-sockets/ and its learners for the next run")
    args = parser.parse_args()
    nofile = raise_fd_limit()
    data_dir = REPO / ".data" / "bench-sockets"
    results = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
                          f"{round(psutil.virtual_memory().total / 2**30)} GiB",
               "python": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "args": {k: v for k, v in vars(args).items() if k != "env"}, "env": args.env,
               "client_nofile_limit": nofile}
    if nofile[0] < args.sockets + 100:
        print(f"warning: RLIMIT_NOFILE is {nofile[0]}, fewer than {args.sockets} sockets", flush=True)
    stack = None
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    try:
        if args.url:
            base = args.url.rstrip("/")
            workers = ([psutil.Process(int(pid)) for pid in args.web_pids.split(",")] if args.web_pids
                       else web_workers(urlsplit(base).port or 80, None))
        else:
            extra_env = dict(item.split("=", 1) for item in args.env)
            stack = Stack(data_dir, args.web_workers, args.worker_connections, extra_env)
            base = stack.base_url
            workers = web_workers(stack.web_port, stack.process.pid, args.web_workers)
        results["web_workers"] = [w.pid for w in workers]
        print(f"stack on {base}; web workers {results['web_workers']}", flush=True)
        wanted = -(-args.sockets // args.per_learner)
        people = learners(base, max(wanted, args.speakers), args.register_threads,
                          data_dir / "learners.json" if args.keep and not args.url else None)
        results.update(asyncio.run(run(args, base, workers, people)))
    finally:
        if stack:
            stack.stop()
            if not args.keep:
                shutil.rmtree(data_dir, ignore_errors=True)
    held = results["latency_while_open"]["turn_result"]["p50_ms"]
    results["held"] = (results["drops"] == 0 and not results["failed_to_open"]
                       and max(results["rss_per_socket_peak_kb"], results["rss_per_socket_end_of_hold_kb"])
                       <= RSS_BUDGET_KB and held is not None and held <= LATENCY_BUDGET_MS)
    print(json.dumps(results, indent=2))
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"sockets-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
