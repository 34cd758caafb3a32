"""`make run`: the whole stack on one machine.

Starts embedded PostgreSQL and Redis under ./.data/ (or PARLONS_DATA_DIR; unless
DATABASE_URL / REDIS_URL are set), applies migrations, seeds the demo learner, then runs every process of the
Procfile through honcho. Ctrl-C stops all of it, the embedded servers included; the
data stays in ./.data/ for the next run.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from deploy.services import EmbeddedPostgres, EmbeddedRedis

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("PARLONS_DATA_DIR") or REPO / ".data").resolve()
BIN = Path(sys.executable).parent

# Every Procfile entry but `release`, which ran above.
PROCESSES = ("web", "worker_llm", "worker_nlp", "worker_default", "beat", "flower")

DEMO_EMAIL = "demo@parlons.local"
DEMO_PASSWORD = "parlons-demo"


def _env_with_dotenv() -> dict[str, str]:
    from dotenv import dotenv_values

    env = {k: v for k, v in dotenv_values(REPO / ".env").items() if v is not None}
    env.update(os.environ)  # the real environment wins over .env
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _lock_data_folder() -> object:
    """One `make run` per data folder: a second one would fight over the servers."""
    import fcntl

    lock = open(DATA / "stack.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"another `make run` is already using {DATA}; stop it first (Ctrl-C in its terminal)")
    return lock


def main() -> int:
    env = _env_with_dotenv()
    DATA.mkdir(parents=True, exist_ok=True)
    lock = _lock_data_folder()  # noqa: F841  (held until this process exits)
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    try:
        if not env.get("DATABASE_URL"):
            pg = EmbeddedPostgres(DATA / "postgres", int(env.get("EMBEDDED_POSTGRES_PORT", "54329")))
            print(f"starting embedded PostgreSQL in {pg.data_dir} ...", flush=True)
            env["DATABASE_URL"] = pg.start()
            started.append(pg)
        if not env.get("REDIS_URL"):
            rd = EmbeddedRedis(DATA / "redis", int(env.get("EMBEDDED_REDIS_PORT", "63799")))
            print(f"starting embedded Redis in {rd.data_dir} ...", flush=True)
            env["REDIS_URL"] = rd.start()
            started.append(rd)

        subprocess.run([BIN / "alembic", "-c", "migrations/alembic.ini", "upgrade", "head"],
                       env=env, cwd=REPO, check=True)
        subprocess.run([BIN / "flask", "--app", "api:create_app", "seed-demo", "--email", DEMO_EMAIL,
                        "--password", DEMO_PASSWORD], env=env, cwd=REPO, check=True)
        subprocess.run([BIN / "flask", "--app", "api:create_app", "vocab", "seed", "--generate-sample"],
                       env=env, cwd=REPO, check=True)

        # Metrics of every process, added up by the web's /metrics; stale files of a
        # previous run would be added too, so the folder starts empty.
        metrics_dir = Path(env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(DATA / "metrics")))
        env.setdefault("CELERY_BEAT_SCHEDULE", str(DATA / "celerybeat-schedule"))
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)

        # honcho hands PORT to the first process (web) and PORT+100·i to the others.
        port = env.setdefault("PORT", "8000")
        flower_port = env.get("FLOWER_PORT", "5555")
        flower_auth = env.get("FLOWER_BASIC_AUTH", "admin:parlons")
        print(
            "\n"
            f"  Playground    http://127.0.0.1:{port}/\n"
            f"  Parlons API   http://127.0.0.1:{port}/api/v1   (Swagger UI: http://127.0.0.1:{port}/docs)\n"
            f"  Metrics       http://127.0.0.1:{port}/metrics\n"
            f"  Flower        http://127.0.0.1:{flower_port}   (login {flower_auth})\n"
            f"  Demo learner  {DEMO_EMAIL} / {DEMO_PASSWORD}\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        honcho = subprocess.Popen([BIN / "honcho", "start", "-f", "Procfile", *PROCESSES], env=env, cwd=REPO)
        # Ctrl-C reaches honcho too (same process group); we wait for it to stop its children.
        signal.signal(signal.SIGINT, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: honcho.send_signal(signal.SIGTERM))
        return honcho.wait()
    finally:
        for server in reversed(started):
            print(f"stopping {type(server).__name__} ...", flush=True)
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
