"""`make run`: the whole stack on one machine; `make run-node`: one more node of it.

`make run` starts embedded PostgreSQL and Redis under ./.data/ (or PARLONS_DATA_DIR;
unless DATABASE_URL / REDIS_URL are set), applies migrations, seeds the demo learner,
then runs every process of the Procfile through honcho. Ctrl-C stops all of it, the
embedded servers included; the data stays in ./.data/ for the next run.

`make run-node` (`python -m deploy.stack --node`) adds a complete node to a Parlons that
is already running: web, every worker family, beat and Flower, on the first node's
PostgreSQL and Redis (DATABASE_URL and REDIS_URL, required). It starts no server and
seeds nothing (the first node did); it runs `alembic upgrade head`, which does nothing
on a migrated database. What is the node's own stays apart from the other nodes on the
same host: its folder .data/node-<port>/ (metrics, beat's schedule, gunicorn's control
socket), its ports (the first free ones from PORT and FLOWER_PORT) and its Celery worker
names (PARLONS_NODE_NAME, default <host>-<port>). Every node may run beat: the jobs
claim their rows, so each is done once (docs/scale-out.md); `--without beat` leaves them
to the other nodes.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from deploy.services import EmbeddedPostgres, EmbeddedRedis
from domain.config import DEV_FLOWER_LOGIN

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# Every Procfile entry but `release`, which ran above.
PROCESSES = ("web", "worker_llm", "worker_nlp", "worker_default", "beat", "flower")

DEMO_EMAIL = "demo@parlons.local"
DEMO_PASSWORD = "parlons-demo"

JOIN_HELP = """\
{missing} not set.
make run-node adds a node to a Parlons that is already running: it needs that Parlons'
PostgreSQL and Redis. A `make run` on this machine with its embedded servers has them
on EMBEDDED_POSTGRES_PORT and EMBEDDED_REDIS_PORT:

  DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:{pg_port}/parlons \\
  REDIS_URL=redis://127.0.0.1:{redis_port}/0 make run-node

The embedded servers listen on loopback only; nodes on other machines need a PostgreSQL
and a Redis they can reach (docs/scale-out.md)."""


def _env_with_dotenv() -> dict[str, str]:
    from dotenv import dotenv_values

    env = {k: v for k, v in dotenv_values(REPO / ".env").items() if v is not None}
    env.update(os.environ)  # the real environment wins over .env
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _lock_data_folder(data: Path) -> object:
    """One stack per data folder: a second one would fight over the servers."""
    import fcntl

    lock = open(data / "stack.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"another `make run` or `make run-node` is already using {data}; stop it first "
                 "(Ctrl-C in its terminal), or give this one another PARLONS_DATA_DIR")
    return lock


def _first_free_port(start: int, taken: tuple[int, ...] = ()) -> int:
    """`start`, or the next port up that nothing on this host listens on: a second node
    here must not take the first one's."""
    port = start
    while port in taken or not _port_is_free(port):
        port += 1
    return port


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _where(url: str) -> str:
    """host:port of a server URL, without its credentials (for the banner and errors)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _check_shared_servers(env: dict[str, str]) -> None:
    """Fail now, and clearly, when the first node's servers cannot be reached, rather than
    in every process honcho starts."""
    import psycopg
    import redis

    try:
        psycopg.connect(env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
                        connect_timeout=5).close()
    except psycopg.Error as error:
        sys.exit(f"cannot reach PostgreSQL at {_where(env['DATABASE_URL'])} (is the first node running?): {error}")
    try:
        redis.Redis.from_url(env["REDIS_URL"], socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        sys.exit(f"cannot reach Redis at {_where(env['REDIS_URL'])} (is the first node running?): {error}")


def _prepare_node(env: dict[str, str]) -> tuple[Path, str]:
    """Point this node at the first node's servers and give it what must be its own:
    (data folder, node name)."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not env.get(name)]
    if missing:
        sys.exit(JOIN_HELP.format(missing=" and ".join(missing) + (" are" if len(missing) > 1 else " is"),
                                  pg_port=env.get("EMBEDDED_POSTGRES_PORT", "54329"),
                                  redis_port=env.get("EMBEDDED_REDIS_PORT", "63799")))
    _check_shared_servers(env)
    wanted_port = int(env.get("PORT", "8000"))
    port = _first_free_port(wanted_port)
    # Flower moves up as far as the web did: the first node's Flower binds its port
    # seconds after its web does, so "free now" is not enough.
    flower_port = _first_free_port(int(env.get("FLOWER_PORT", "5555")) + port - wanted_port, taken=(port,))
    env["PORT"], env["FLOWER_PORT"] = str(port), str(flower_port)
    name = env.setdefault("PARLONS_NODE_NAME", f"{socket.gethostname()}-{port}")
    data = Path(env.get("PARLONS_DATA_DIR") or REPO / ".data" / f"node-{port}").resolve()
    # Per node, whatever .env says: two beats must not share a schedule file, a node
    # empties its metrics folder when it starts, and gunicorn's control socket would be
    # ~/.gunicorn/gunicorn.ctl for every web of the host.
    env["PROMETHEUS_MULTIPROC_DIR"] = str(data / "metrics")
    env["CELERY_BEAT_SCHEDULE"] = str(data / "celerybeat-schedule")
    control_socket = shlex.quote(str(data / "gunicorn.ctl"))
    env["GUNICORN_CMD_ARGS"] = f"{env.get('GUNICORN_CMD_ARGS', '')} --control-socket {control_socket}".strip()
    return data, name


def _start_first_node(env: dict[str, str], data: Path) -> list[EmbeddedPostgres | EmbeddedRedis]:
    """Embedded servers unless configured, migrations, the demo learner and the sample
    vocabulary. Returns the servers started (stopped on exit)."""
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    if not env.get("DATABASE_URL"):
        pg = EmbeddedPostgres(data / "postgres", int(env.get("EMBEDDED_POSTGRES_PORT", "54329")))
        print(f"starting embedded PostgreSQL in {pg.data_dir} ...", flush=True)
        env["DATABASE_URL"] = pg.start()
        started.append(pg)
    if not env.get("REDIS_URL"):
        rd = EmbeddedRedis(data / "redis", int(env.get("EMBEDDED_REDIS_PORT", "63799")))
        print(f"starting embedded Redis in {rd.data_dir} ...", flush=True)
        env["REDIS_URL"] = rd.start()
        started.append(rd)
    _migrate(env)
    subprocess.run([BIN / "flask", "--app", "api:create_app", "seed-demo", "--email", DEMO_EMAIL,
                    "--password", DEMO_PASSWORD], env=env, cwd=REPO, check=True)
    subprocess.run([BIN / "flask", "--app", "api:create_app", "vocab", "seed", "--generate-sample"],
                   env=env, cwd=REPO, check=True)
    return started


def _migrate(env: dict[str, str]) -> None:
    subprocess.run([BIN / "alembic", "-c", "migrations/alembic.ini", "upgrade", "head"],
                   env=env, cwd=REPO, check=True)


def _banner(env: dict[str, str], node_name: str | None, data: Path) -> str:
    port, flower_port = env["PORT"], env.get("FLOWER_PORT", "5555")
    flower_auth = env.get("FLOWER_BASIC_AUTH", "")
    lines = [
        f"  Playground    http://127.0.0.1:{port}/",
        f"  Parlons API   http://127.0.0.1:{port}/api/v1   (Swagger UI: http://127.0.0.1:{port}/docs)",
        f"  Metrics       http://127.0.0.1:{port}/metrics",
        f"  Flower        http://127.0.0.1:{flower_port}   (login {flower_auth})",
    ]
    if node_name:
        lines[:0] = [f"  Node          {node_name}: PostgreSQL {_where(env['DATABASE_URL'])}, "
                     f"Redis {_where(env['REDIS_URL'])}, folder {data}"]
    else:
        lines.append(f"  Demo learner  {DEMO_EMAIL} / {DEMO_PASSWORD}")
    if not (env.get("VAPID_PRIVATE_KEY") and env.get("VAPID_PUBLIC_KEY")):
        lines.append("  Web Push      off: no VAPID_PRIVATE_KEY / VAPID_PUBLIC_KEY (README: Reminders)")
    return "\n" + "\n".join(lines) + "\n  Ctrl-C stops everything.\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--node", action="store_true",
                        help="join the PostgreSQL and Redis of a running Parlons (DATABASE_URL, REDIS_URL)")
    parser.add_argument("--without", action="append", default=[], choices=PROCESSES, metavar="PROCESS",
                        help="a Procfile entry not to run here (repeatable), e.g. beat or flower when "
                             "another node runs them")
    args = parser.parse_args(argv)

    env = _env_with_dotenv()
    # A laptop's Flower login (printed below); the Procfile has no default, and production
    # refuses this one (domain/config.py).
    if env.get("PARLONS_ENV", "development") != "production":
        env.setdefault("FLOWER_BASIC_AUTH", DEV_FLOWER_LOGIN)
    node_name = None
    if args.node:
        data, node_name = _prepare_node(env)
    else:
        data = Path(env.get("PARLONS_DATA_DIR") or REPO / ".data").resolve()
    data.mkdir(parents=True, exist_ok=True)
    lock = _lock_data_folder(data)  # noqa: F841  (held until this process exits)
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    try:
        if args.node:
            _migrate(env)
        else:
            started = _start_first_node(env, data)

        # Metrics of every process, added up by the web's /metrics; stale files of a
        # previous run would be added too, so the folder starts empty.
        metrics_dir = Path(env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(data / "metrics")))
        env.setdefault("CELERY_BEAT_SCHEDULE", str(data / "celerybeat-schedule"))
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)

        # honcho hands PORT to the first process (web) and PORT+100·i to the others.
        env.setdefault("PORT", "8000")
        print(_banner(env, node_name, data), flush=True)
        processes = [name for name in PROCESSES if name not in args.without]
        # `-e /dev/null`: the environment built here (.env included) is the whole of it;
        # honcho would otherwise read .env again and let it win over the real environment.
        honcho = subprocess.Popen([BIN / "honcho", "start", "-e", os.devnull, "-f", REPO / "Procfile", *processes],
                                  env=env, cwd=REPO)
        # Either signal is passed on to honcho, which stops its children; we wait for it.
        # Ctrl-C reaches honcho directly too (same process group): a second one is a no-op.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda number, _: honcho.send_signal(number))
        return honcho.wait()
    finally:
        for server in reversed(started):
            print(f"stopping {type(server).__name__} ...", flush=True)
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
