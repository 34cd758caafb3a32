"""Progress analytics for a learner with a year of history: GET /progress/analytics.

    .venv/bin/python bench/analytics.py [--cards 2000] [--logs 20000] [--turns 3000] [--requests 300]

Starts its own embedded PostgreSQL and Redis under .data/bench-analytics/ (removed
afterwards) and one web process (the analytics are computed in the request; no worker is
involved). One learner in Europe/Paris gets, with COPY: a 5,000-word vocabulary, `cards`
cards each reviewed about logs/cards times over the past year (each log holding the card
as the review left it, as the API writes them), and `turns` finished turns with their
messages and grammar errors, in sessions of ten turns a few minutes apart. Then one
keep-alive client times days=365 and days=30 back to back, then each after a new review
(the review's transaction updates the learner's review_days), then each after a new
finished turn (inserted as the pipeline leaves it: the turns' series are grouped again,
not read from Redis). The review_days of the COPYed log are built with
domain.analytics.rebuild_review_days. Prints medians and p99 and writes JSON to
bench/results/.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import Client, summary  # noqa: E402
from bench.progress import copy_rows  # noqa: E402
from deploy.services import EmbeddedPostgres, EmbeddedRedis, free_port, wait_for_port  # noqa: E402
from domain.srs.vocabulary_sample import level_for  # noqa: E402

BIN = REPO / ".venv" / "bin"
DATA = REPO / ".data" / "bench-analytics"
WORDS = 5000
CATEGORIES = ("agreement", "gender", "conjugation", "spelling", "preposition", "tense")
STATES = {1: "learning", 2: "review", 3: "relearning"}


def _reviews(rng: random.Random, user_id: str, word_id: int, count: int, now: datetime) -> list[tuple]:
    """One card's reviews over the year, oldest first, each with the card it left."""
    times = sorted(now - timedelta(days=rng.uniform(0, 365)) for _ in range(count))
    rows, state, stability = [], 0, 0.5
    for reps, at in enumerate(times, start=1):
        rating = rng.choice((1, 3, 3, 3, 3, 4))
        previous = state
        if state == 0:
            state, stability = 1, rng.uniform(0.5, 3)
        elif rating == 1:
            state, stability = 3, max(0.5, stability * 0.3)
        else:
            state, stability = 2, stability * rng.uniform(1.5, 3.0)
        result = {"word_id": word_id, "state": STATES[state], "due": (at + timedelta(days=stability)).isoformat(),
                  "stability": round(stability, 4), "difficulty": round(rng.uniform(1, 10), 4),
                  "retrievability": 1.0, "reps": reps, "lapses": 0, "last_review": at.isoformat()}
        rows.append((user_id, word_id, rating, at.isoformat(), "review", previous, json.dumps(result)))
    return rows


def fill(database_url: str, user_id: str, *, cards: int, logs: int, turns: int, seed: int = 1) -> None:
    import psycopg

    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        conn.execute("UPDATE users SET created_at = %s WHERE id = %s", (now - timedelta(days=400), user_id))
        copy_rows(conn, "COPY vocabulary (id, lemma, pos, gender, translation, frequency_rank, cefr_level, example)"
                        " FROM STDIN", ((rank, f"mot{rank:06d}", "noun", "m", f"word {rank}", rank, level_for(rank),
                                         "Un exemple.") for rank in range(1, WORDS + 1)))
        card_rows, log_rows = [], []
        for word_id in rng.sample(range(1, WORDS + 1), cards):
            mine = _reviews(rng, user_id, word_id, max(1, round(rng.gauss(logs / cards, 2))), now)
            last = json.loads(mine[-1][-1])
            state = {name: number for number, name in STATES.items()}[last["state"]]
            card_rows.append((user_id, word_id, state, 0 if state != 2 else None,
                              last["stability"], last["difficulty"], last["due"], last["last_review"], len(mine), 0,
                              mine[0][3]))
            log_rows += mine
        copy_rows(conn, "COPY cards (user_id, word_id, state, step, stability, difficulty, due, last_review, reps,"
                        " lapses, created_at) FROM STDIN", card_rows)
        copy_rows(conn, "COPY review_logs (user_id, word_id, rating, reviewed_at, source, previous_state, result)"
                        " FROM STDIN", log_rows)
        session_rows, turn_rows, message_rows = [], [], []
        for _ in range(turns // 10):
            session_id, at = str(uuid.uuid4()), now - timedelta(days=rng.uniform(0, 365))
            session_rows.append((session_id, user_id, "story", "camille", "A2", "Bench", 0, 10, at.isoformat(),
                                 at.isoformat()))
            for _ in range(10):
                at += timedelta(minutes=rng.choice((1, 2, 3, 4, 15)))
                turn_id = str(uuid.uuid4())
                grammar = {"errors": [{"start": 0, "end": 3, "category": rng.choice(CATEGORIES), "message": "m",
                                       "suggestions": []} for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))],
                           "corrected_text": "Bonjour"}
                turn_rows.append((turn_id, session_id, user_id, "complete", "[]", json.dumps(grammar), "[]", 8,
                                  "f", at.isoformat(), (at + timedelta(seconds=60)).isoformat(),
                                  (at + timedelta(seconds=2)).isoformat(), (at + timedelta(seconds=2)).isoformat()))
                message_rows.append((str(uuid.uuid4()), session_id, turn_id, "user",
                                     " ".join(["mot"] * rng.randint(5, 20)), at.isoformat()))
        copy_rows(conn, "COPY chat_sessions (id, user_id, mode, character_id, level, title, xp, turn_count,"
                        " created_at, last_activity_at) FROM STDIN", session_rows)
        copy_rows(conn, "COPY turns (id, session_id, user_id, status, suggested_word_ids, grammar, word_feedback,"
                        " xp_awarded, degraded, created_at, deadline_at, completed_at, announced_at) FROM STDIN",
                  turn_rows)
        copy_rows(conn, "COPY messages (id, session_id, turn_id, role, content, created_at) FROM STDIN", message_rows)
        conn.commit()
        # COPY bypasses review(): the learner's review_days are built from the log as a time
        # zone change (or the migration) builds them.
        from domain.analytics import rebuild_review_days
        from domain.config import get_settings
        from domain.db import session_scope

        with session_scope() as db:
            rebuild_review_days(db, get_settings(), user_id=uuid.UUID(user_id))
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        print(f"filled {len(card_rows)} cards, {len(log_rows)} review logs, {len(turn_rows)} turns", flush=True)


def timed(client: Client, path: str) -> float:
    started = time.perf_counter()
    status, body = client.call("GET", path)
    assert status == 200, body
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--logs", type=int, default=20_000)
    parser.add_argument("--turns", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    shutil.rmtree(DATA, ignore_errors=True)
    postgres = EmbeddedPostgres(DATA / "postgres", free_port(), database="bench")
    redis_server = EmbeddedRedis(DATA / "redis", free_port())
    web = None
    try:
        env = {**os.environ, "DATABASE_URL": postgres.start(), "REDIS_URL": redis_server.start(),
               "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": "1"}
        os.environ.update({name: env[name] for name in ("DATABASE_URL", "REDIS_URL")})  # for fill()'s rebuild
        subprocess.run([BIN / "alembic", "-c", "migrations/alembic.ini", "upgrade", "head"], env=env, cwd=REPO,
                       check=True, capture_output=True)
        port = free_port()
        web = subprocess.Popen([BIN / "gunicorn", "-c", "deploy/gunicorn.conf.py", "api:create_app()"],
                               env={**env, "PORT": str(port)}, cwd=REPO)
        wait_for_port(port, timeout=60)
        base = f"http://127.0.0.1:{port}"
        status, body = Client(base).call("POST", "/api/v1/auth/register", {
            "email": "bench@example.com", "password": "benchmark password", "display_name": "Bench",
            "timezone": "Europe/Paris"})
        assert status == 201, body
        client = Client(base, body["access_token"])
        fill(env["DATABASE_URL"], body["user"]["id"], cards=args.cards, logs=args.logs, turns=args.turns)

        results = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
                   "python": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                   "cards": args.cards, "review_logs": args.logs, "turns": args.turns}
        words = iter(range(1, WORDS + 1))

        def after_a_review(path: str) -> float:
            # The first read after a review: nothing of the review log is cached anywhere.
            status, body = client.call("POST", "/api/v1/progress/review", {"word_id": next(words), "rating": 2})
            assert status == 200, body
            return timed(client, path)

        import psycopg

        database = psycopg.connect(env["DATABASE_URL"].replace("+psycopg", ""), autocommit=True)
        session_id = database.execute("SELECT id FROM chat_sessions LIMIT 1").fetchone()[0]

        def after_a_turn(path: str) -> float:
            # A turn finished as the pipeline leaves it (no worker here): the turns' series are grouped again.
            database.execute(
                "INSERT INTO turns (id, session_id, user_id, status, suggested_word_ids, grammar, word_feedback,"
                " xp_awarded, degraded, created_at, deadline_at, completed_at)"
                " VALUES (%s, %s, %s, 'complete', '[]', %s, '[]', 8, false, now(), now(), now())",
                (uuid.uuid4(), session_id, body["user"]["id"],
                 json.dumps({"errors": [{"category": "gender"}], "corrected_text": "Bonjour"})))
            return timed(client, path)

        for days in (365, 30):
            path = f"/api/v1/progress/analytics?days={days}"
            for _ in range(20):  # warm the connection pool and the caches
                client.call("GET", path)
            results[f"analytics_days_{days}"] = summary([timed(client, path) for _ in range(args.requests)])
            print(f"analytics days={days} (repeated): {results[f'analytics_days_{days}']}", flush=True)
            results[f"analytics_days_{days}_after_a_review"] = summary(
                [after_a_review(path) for _ in range(args.requests // 2)])
            print(f"analytics days={days} (each after a review): {results[f'analytics_days_{days}_after_a_review']}",
                  flush=True)
            results[f"analytics_days_{days}_after_a_turn"] = summary(
                [after_a_turn(path) for _ in range(args.requests // 2)])
            print(f"analytics days={days} (each after a finished turn): "
                  f"{results[f'analytics_days_{days}_after_a_turn']}", flush=True)
        database.close()
        out = REPO / "bench" / "results"
        out.mkdir(exist_ok=True)
        path = out / f"analytics-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(results, indent=2))
        print(f"wrote {path}")
    finally:
        if web is not None:
            web.terminate()
            web.wait(timeout=30)
        redis_server.stop()
        postgres.stop()
        shutil.rmtree(DATA, ignore_errors=True)


if __name__ == "__main__":
    main()
