"""The least CPU a turn can cost with the parts the product is built on, measured here.

    .venv/bin/python bench/floor.py

A turn, whatever else it does, needs: one authenticated JSON POST through gunicorn
(gevent), Flask, flask-smorest/marshmallow and flask-jwt-extended; three Celery hops
through Redis (`nlp` solo, `llm` gevent, `default` for the FSRS reviews); spaCy's French
parse of the message; three calls through the OpenAI SDK (moderation, the grammar
pass, the streamed reply); a few PostgreSQL transactions through SQLAlchemy and
psycopg; a few events published on Redis. This bench measures each of those parts
alone, doing nothing else (an empty view, an empty task, one UPDATE), and adds them up
the way one turn uses them, with what the load bench's own client and model server
spend per turn on the same cores. Every figure is CPU time (user + system) of every
process involved (client, server, worker, Redis, PostgreSQL), read from /proc, per
operation: the median of --rounds rounds of --count operations.

It answers one question: how many turns per second can this machine hold, at best,
with these parts and nothing of Parlons' own logic? JSON lands in bench/results/.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent
TURN_ID = "0b7e5c7e-9c4f-4a59-8a9e-3c1f2b0f8d11"
MESSAGE = "Hier je suis allé au marché avec mes amie et nous avons acheté des fromages très bons."

# How one turn uses each part (see the module's docstring and domain/turn_pipeline.py).
TURN = {"web_post": 1, "celery_hop_solo": 2, "celery_hop_gevent": 1, "spacy_parse": 1,
        "openai_moderation": 1, "openai_chat": 1, "openai_stream": 1, "postgres_transaction": 4,
        "redis_publish": 4, "bench_client_post": 1}


# --- the parts' processes ------------------------------------------------------------

def web_app():
    """gunicorn's entry point: the frameworks around an empty authenticated view."""
    from flask import Flask
    from flask_jwt_extended import JWTManager, jwt_required
    from flask_smorest import Api, Blueprint
    from marshmallow import Schema, fields

    class MessageIn(Schema):
        text = fields.String(required=True)

    class TurnOut(Schema):
        id = fields.String()
        status = fields.String()

    app = Flask("floor")
    app.config.update(JWT_SECRET_KEY="floor-secret-floor-secret-floor-secret", API_TITLE="floor",
                      API_VERSION="1", OPENAPI_VERSION="3.0.2")
    JWTManager(app)
    api = Api(app)
    blueprint = Blueprint("turns", "turns", url_prefix="/api")

    @blueprint.route("/turns", methods=["POST"])
    @blueprint.arguments(MessageIn)
    @blueprint.response(202, TurnOut)
    @jwt_required()
    def post_turn(message):
        return {"id": "00000000-0000-0000-0000-000000000000", "status": "pending"}

    api.register_blueprint(blueprint)
    return app


def celery_app(broker: str):
    """The Celery workers' app: an empty task, Parlons' delivery settings."""
    from celery import Celery

    app = Celery("floor", broker=broker)
    app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                    task_ignore_result=True, task_serializer="json", accept_content=["json"],
                    worker_send_task_events=False, worker_hijack_root_logger=False)

    @app.task(name="floor.noop")
    def noop(turn_id: str, payload: dict) -> None:
        return None

    return app


celery = celery_app(os.environ["FLOOR_BROKER"]) if "FLOOR_BROKER" in os.environ else None  # for `celery -A`


# --- measuring ---------------------------------------------------------------------------

def cpu(processes: list[psutil.Process]) -> float:
    """CPU seconds so far of `processes` and their children (user + system)."""
    total = 0.0
    for process in processes:
        for each in [process, *process.children(recursive=True)]:
            try:
                times = each.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
    return total


def measured(run, processes: list[psutil.Process], count: int, rounds: int) -> float:
    """Median CPU milliseconds per operation of `run(count)`, over this process (its
    thread CPU included) and `processes`."""
    run(max(10, count // 10))  # warm up: imports, connections, caches
    per_operation = []
    for _ in range(rounds):
        own, others = time.process_time(), cpu(processes)
        run(count)
        spent = (time.process_time() - own) + (cpu(processes) - others)
        per_operation.append(1000 * spent / count)
    return round(statistics.median(per_operation), 3)


def wait_for(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("a part of the bench did not start")
        time.sleep(0.05)


class Parts:
    """Embedded Redis and PostgreSQL, a gunicorn web process, two Celery workers and the
    bench's model server, started under a scratch folder."""

    def __init__(self, scratch: Path):
        from deploy.services import EmbeddedPostgres, EmbeddedRedis, free_port

        self.scratch = scratch
        self.redis = EmbeddedRedis(scratch / "redis", free_port())
        self.postgres = EmbeddedPostgres(scratch / "postgres", free_port())
        self.children: list[subprocess.Popen] = []
        self.web_port, self.model_port = free_port(), free_port()

    def start(self) -> None:
        self.redis_url = self.redis.start()
        self.database_url = self.postgres.start()
        env = {**os.environ, "FLOOR_BROKER": self.redis_url, "PYTHONPATH": str(ROOT / "bench")}
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": ROOT / "bench"}
        self.web = self._spawn([VENV_BIN / "gunicorn", "-k", "gevent", "-w", "1", "--worker-connections", "1000",
                                "-b", f"127.0.0.1:{self.web_port}", "floor:web_app()"], quiet)
        self.solo = self._spawn([VENV_BIN / "celery", "-A", "floor:celery", "worker", "-P", "solo", "-Q", "solo",
                                 "-n", "solo@floor", "--loglevel=WARNING"], quiet)
        self.gevent = self._spawn([VENV_BIN / "celery", "-A", "floor:celery", "worker", "-P", "gevent", "-c",
                                   "100", "-Q", "gevent", "-n", "gevent@floor", "--loglevel=WARNING"], quiet)
        self.model = self._spawn([sys.executable, ROOT / "bench" / "model_server.py", "--port", str(self.model_port),
                                  "--latency", "0"], quiet)
        from deploy.services import wait_for_port

        wait_for_port(self.web_port)
        wait_for_port(self.model_port)

    def _spawn(self, command: list, options: dict) -> subprocess.Popen:
        child = subprocess.Popen([str(part) for part in command], **options)
        self.children.append(child)
        return child

    def process(self, child: subprocess.Popen) -> psutil.Process:
        return psutil.Process(child.pid)

    def stop(self) -> None:
        for child in self.children:
            child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        self.postgres.stop()
        self.redis.stop()


def postgres_processes(port: int) -> list[psutil.Process]:
    """The PostgreSQL server listening on `port`: its postmaster and every backend."""
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and f"-p {port}" in " ".join(process.info["cmdline"] or []):
            return [process]
    for connection in psutil.net_connections("tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == "LISTEN" and connection.pid:
            return [psutil.Process(connection.pid)]
    raise RuntimeError("PostgreSQL's postmaster not found")


def redis_processes(port: int) -> list[psutil.Process]:
    for connection in psutil.net_connections("tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == "LISTEN" and connection.pid:
            return [psutil.Process(connection.pid)]
    raise RuntimeError("redis-server not found")


# --- the parts, one at a time ------------------------------------------------------------

def web_post(parts: Parts, count: int, rounds: int) -> tuple[float, float]:
    """An authenticated JSON POST: (web + client CPU, the client's share)."""
    import http.client

    import jwt

    token = jwt.encode({"sub": "learner", "type": "access", "fresh": False, "jti": "x", "iat": int(time.time()),
                        "nbf": int(time.time()), "exp": int(time.time()) + 3600},
                       "floor-secret-floor-secret-floor-secret", algorithm="HS256")
    connection = http.client.HTTPConnection("127.0.0.1", parts.web_port)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    body = json.dumps({"text": MESSAGE})

    def run(n: int) -> None:
        for _ in range(n):
            connection.request("POST", "/api/turns", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 202, response.status

    client_only = measured(run, [], count, rounds)
    return measured(run, [parts.process(parts.web)], count, rounds), client_only


def celery_hop(parts: Parts, redis_url: str, queue: str, worker: subprocess.Popen, count: int,
               rounds: int) -> float:
    """One task sent (as Parlons sends them: no result) and run empty by the worker:
    sender + worker + Redis."""
    import redis as redis_py

    app = celery_app(redis_url)
    probe = redis_py.Redis.from_url(redis_url)
    payload = {"rules": {"errors": [], "corrected_text": MESSAGE, "word_feedback": []}}

    def idle() -> bool:  # every task taken and acknowledged (acks_late: after running)
        return probe.llen(queue) == 0 and probe.hlen("unacked") == 0

    def run(n: int) -> None:
        for _ in range(n):
            app.send_task("floor.noop", [TURN_ID, payload], queue=queue, ignore_result=True)
        time.sleep(0.05)
        wait_for(idle)

    wait_for(lambda: probe.exists("_kombu.binding.solo") and probe.exists("_kombu.binding.gevent"), timeout=60)
    return measured(run, [parts.process(worker), *redis_processes(parts.redis.port)], count, rounds)


def spacy_parse(count: int, rounds: int) -> float:
    import spacy

    nlp = spacy.load("fr_core_news_sm", exclude=["ner"])
    return measured(lambda n: [nlp(MESSAGE) for _ in range(n)], [], count, rounds)


def openai_calls(parts: Parts, count: int, rounds: int, concurrency: int) -> tuple[dict, dict]:
    """The SDK's three calls of a turn against the loopback model server (answering at
    once), `concurrency` at a time from greenlets as on `llm`: (client + model server,
    the model server's share) per call."""
    model_server = parts.process(parts.model)
    figures, served_share = {}, {}
    for kind in ("moderation", "chat", "stream"):
        client_ms, server_ms = [], []
        for _ in range(rounds):
            served = cpu([model_server])
            child = subprocess.run([sys.executable, __file__, "--openai-child", kind, str(parts.model_port),
                                    str(count), str(concurrency)], capture_output=True, text=True, check=True)
            calls, client_seconds = json.loads(child.stdout.strip().splitlines()[-1])
            client_ms.append(1000 * client_seconds / count)
            server_ms.append(1000 * (cpu([model_server]) - served) / calls)
        served_share[f"openai_{kind}"] = round(statistics.median(server_ms), 3)
        figures[f"openai_{kind}"] = round(statistics.median(client_ms) + served_share[f"openai_{kind}"], 3)
    return figures, served_share


def openai_child(kind: str, port: int, count: int, concurrency: int) -> None:
    """In a process of its own, patched by gevent as the `llm` worker is: warm up, then
    `count` calls of `kind`; prints [calls made, client CPU seconds of the counted ones]."""
    from gevent import monkey

    monkey.patch_all()
    import gevent.pool
    import openai

    client = openai.OpenAI(api_key="floor", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    messages = [{"role": "system", "content": "Tu es Camille."}, {"role": "user", "content": MESSAGE}]

    def call(_: int) -> None:
        # As domain/llm/remote.py calls them: the SDK's generic `post`, answers as decoded
        # JSON (its typed methods build a model of every answer and every streamed chunk).
        if kind == "moderation":
            client.post("/moderations", body={"model": "omni-moderation-latest", "input": MESSAGE}, cast_to=object)
        elif kind == "chat":
            client.post("/chat/completions", body={"model": "gpt-4o-mini", "messages": messages,
                                                   "response_format": {"type": "json_object"}}, cast_to=object)
        else:
            with client.post("/chat/completions", body={"model": "gpt-4o-mini", "messages": messages, "stream": True},
                             cast_to=object, stream=True, stream_cls=openai.Stream[object]) as stream:
                for _chunk in stream:
                    pass

    pool = gevent.pool.Pool(concurrency)
    warm = max(concurrency, count // 10)
    list(pool.imap_unordered(call, range(warm)))
    started = time.process_time()
    list(pool.imap_unordered(call, range(count)))
    print(json.dumps([warm + count, time.process_time() - started]))


def postgres_transaction(parts: Parts, count: int, rounds: int) -> float:
    """One transaction of one UPDATE by primary key through SQLAlchemy and psycopg:
    client + server."""
    import sqlalchemy as sa

    engine = sa.create_engine(parts.database_url, pool_size=5)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE IF NOT EXISTS floor (id int PRIMARY KEY, n int NOT NULL)"))
        connection.execute(sa.text("INSERT INTO floor VALUES (1, 0) ON CONFLICT DO NOTHING"))
    update = sa.text("UPDATE floor SET n = n + 1 WHERE id = :id")

    def run(n: int) -> None:
        for _ in range(n):
            with engine.begin() as connection:
                connection.execute(update, {"id": 1})

    spent = measured(run, postgres_processes(parts.postgres.port), count, rounds)
    engine.dispose()
    return spent


def redis_publish(parts: Parts, redis_url: str, count: int, rounds: int) -> float:
    """One event as Parlons publishes it (XADD to the replay window and PUBLISH, in one
    script): client + server."""
    import redis as redis_py

    client = redis_py.Redis.from_url(redis_url)
    script = client.register_script(
        "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', 200, '*', 'e', ARGV[1]) "
        "redis.call('PUBLISH', KEYS[2], ARGV[1]) return id")
    event = json.dumps({"event": "turn_accepted", "data": {"turn_id": "0b7e5c7e", "text": MESSAGE}})
    return measured(lambda n: [script(keys=["floor:events", "floor:live"], args=[event]) for _ in range(n)],
                    redis_processes(parts.redis.port), count, rounds)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500, help="operations per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=25, help="model calls in flight at once")
    parser.add_argument("--openai-child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--cores", type=int, default=os.cpu_count(), help="cores the budget is computed for")
    args = parser.parse_args()
    if args.openai_child:
        kind, port, count, concurrency = args.openai_child
        return openai_child(kind, int(port), int(count), int(concurrency))

    scratch = Path(tempfile.mkdtemp(prefix="floor-", dir=ROOT / ".data" if (ROOT / ".data").exists() else None))
    parts = Parts(scratch)
    parts.start()
    try:
        figures: dict[str, float] = {}
        figures["web_post"], figures["bench_client_post"] = web_post(parts, args.count, args.rounds)
        figures["web_post"] = round(figures["web_post"] - figures["bench_client_post"], 3)
        figures["celery_hop_solo"] = celery_hop(parts, parts.redis_url, "solo", parts.solo, args.count, args.rounds)
        figures["celery_hop_gevent"] = celery_hop(parts, parts.redis_url, "gevent", parts.gevent, args.count,
                                                  args.rounds)
        figures["spacy_parse"] = spacy_parse(args.count, args.rounds)
        model_calls, model_server_share = openai_calls(parts, args.count, args.rounds, args.concurrency)
        figures.update(model_calls)
        figures["postgres_transaction"] = postgres_transaction(parts, args.count, args.rounds)
        figures["redis_publish"] = redis_publish(parts, parts.redis_url, args.count, args.rounds)
    finally:
        parts.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    per_turn = {part: round(figures[part] * uses, 2) for part, uses in TURN.items()}
    floor_ms = round(sum(per_turn.values()), 2)
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {cpu_model()}",
              "python": platform.python_version(), "started": datetime.now(timezone.utc).isoformat(),
              "count": args.count, "rounds": args.rounds, "cpu_ms_per_operation": figures,
              "of_which_model_server": model_server_share,
              "uses_per_turn": TURN, "cpu_ms_per_turn": per_turn, "floor_ms_per_turn": floor_ms,
              "turns_per_second_at_best": round(1000 * args.cores / floor_ms, 1), "cores": args.cores}
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / f"floor-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"{args.cores} cores / {floor_ms} ms per turn: at best {result['turns_per_second_at_best']} turns/s "
          f"with these parts and nothing else; wrote {out}")


if __name__ == "__main__":
    main()
