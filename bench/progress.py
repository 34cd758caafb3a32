"""Spaced repetition at scale: GET /progress/queue and POST /progress/review for a
learner with 50,000 cards, with 1,000,000 review logs in the database.

    .venv/bin/python bench/progress.py [--cards 50000] [--logs 1000000] [--requests 500]

Starts its own embedded PostgreSQL and Redis under .data/bench-progress/ (removed
afterwards) and one web process: reviews are computed in the request, no worker is
involved. The data goes in with COPY: a vocabulary of cards + 5,000 words, the cards of
one learner for the most frequent words with a few gaps (so new words turn up along
the way, as for a learner who met words in conversation out of order), about 15% of
the cards due, and the review logs spread over those cards. Then one keep-alive
client measures each endpoint back to back. Prints medians and p99 and writes JSON
to bench/results/.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import Client, summary  # noqa: E402
from deploy.services import EmbeddedPostgres, EmbeddedRedis, free_port, wait_for_port  # noqa: E402
from domain.srs.vocabulary_sample import level_for  # noqa: E402

BIN = REPO / ".venv" / "bin"
DATA = REPO / ".data" / "bench-progress"


def copy_rows(connection, statement: str, rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if value is None else str(value) for value in row) + "\n")
    buffer.seek(0)
    with connection.cursor().copy(statement) as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def fill(database_url: str, user_id: str, *, cards: int, logs: int, seed: int = 1) -> None:
    import psycopg

    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    words = cards + 5000
    gaps = set(rng.sample(range(1, cards + 5000), 5000))  # ranks the learner has no card for
    carded = [rank for rank in range(1, words + 1) if rank not in gaps][:cards]
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        conn.execute("DELETE FROM vocabulary")
        copy_rows(conn, "COPY vocabulary (id, lemma, pos, gender, translation, frequency_rank, cefr_level, example)"
                        " FROM STDIN", ((rank, f"mot{rank:06d}", "noun", "m", f"word {rank}", rank, level_for(rank),
                                         "Un exemple.") for rank in range(1, words + 1)))
        card_rows, log_rows = [], []
        per_card = logs // cards
        for word_id in carded:
            stability = rng.lognormvariate(2.5, 1.0)
            last_review = now - timedelta(days=rng.uniform(0, 200))
            due = last_review + timedelta(days=stability * (0.3 if rng.random() < 0.15 else 3))
            due = min(due, now - timedelta(minutes=1)) if rng.random() < 0.15 else max(due, now + timedelta(hours=1))
            card_rows.append((user_id, word_id, 2, None, round(stability, 3), round(rng.uniform(1, 10), 3),
                              due.isoformat(), last_review.isoformat(), per_card, 0, now.isoformat()))
            for n in range(per_card):
                at = last_review - timedelta(days=(per_card - n) * rng.uniform(1, 10))
                log_rows.append((user_id, word_id, rng.choice((1, 3, 3, 3, 4)), at.isoformat(), "review",
                                 2 if n else 0, '{"state": "review"}'))
        copy_rows(conn, "COPY cards (user_id, word_id, state, step, stability, difficulty, due, last_review, reps,"
                        " lapses, created_at) FROM STDIN", card_rows)
        copy_rows(conn, "COPY review_logs (user_id, word_id, rating, reviewed_at, source, previous_state, result)"
                        " FROM STDIN", log_rows)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def due_words(database_url: str, count: int) -> list[int]:
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        return [row[0] for row in conn.execute(
            "SELECT word_id FROM cards WHERE due <= now() ORDER BY random() LIMIT %s", (count,))]


def timed(call) -> float:
    started = time.perf_counter()
    status, body = call()
    assert status == 200, body
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=50_000)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()

    shutil.rmtree(DATA, ignore_errors=True)
    postgres = EmbeddedPostgres(DATA / "postgres", free_port(), database="bench")
    redis_server = EmbeddedRedis(DATA / "redis", free_port())
    web = None
    try:
        env = {**os.environ, "DATABASE_URL": postgres.start(), "REDIS_URL": redis_server.start(),
               "FSRS_ENABLE_FUZZING": "true", "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": "1"}
        subprocess.run([BIN / "alembic", "-c", "migrations/alembic.ini", "upgrade", "head"], env=env, cwd=REPO,
                       check=True, capture_output=True)
        port = free_port()
        web = subprocess.Popen([BIN / "gunicorn", "-c", "deploy/gunicorn.conf.py", "api:create_app()"],
                               env={**env, "PORT": str(port)}, cwd=REPO)
        wait_for_port(port, timeout=60)
        base = f"http://127.0.0.1:{port}"
        status, body = Client(base).call("POST", "/api/v1/auth/register", {
            "email": "bench@example.com", "password": "benchmark password", "display_name": "Bench", "level": "C2"})
        assert status == 201, body
        client = Client(base, body["access_token"])

        started = time.perf_counter()
        fill(env["DATABASE_URL"], body["user"]["id"], cards=args.cards, logs=args.logs)
        print(f"filled {args.cards} cards and {args.logs} review logs in {time.perf_counter() - started:.0f} s",
              flush=True)

        queue_path = "/api/v1/progress/queue?limit=20&new_limit=10"
        for _ in range(20):  # warm the connection pool and the caches
            client.call("GET", queue_path)
        queue = [timed(lambda: client.call("GET", queue_path)) for _ in range(args.requests)]
        due = [{"word_id": word_id} for word_id in due_words(env["DATABASE_URL"], args.requests)]
        assert len(due) == args.requests, f"only {len(due)} cards due"

        def review(item: dict) -> float:
            return timed(lambda: client.call("POST", "/api/v1/progress/review", {"word_id": item["word_id"],
                                                                                 "rating": 2}))

        reviews = [review(item) for item in due]
        new = client.call("GET", "/api/v1/progress/queue?limit=0&new_limit=100")[1]["new"]
        first_reviews = [review(item) for item in new]
        results = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
                   "python": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                   "cards": args.cards, "review_logs": args.logs,
                   "queue": summary(queue), "review_due_card": summary(reviews),
                   "review_new_word": summary(first_reviews)}
        for name in ("queue", "review_due_card", "review_new_word"):
            print(f"{name}: {results[name]}", flush=True)
        out = REPO / "bench" / "results"
        out.mkdir(exist_ok=True)
        path = out / f"progress-{time.strftime('%Y%m%d-%H%M%S')}.json"
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
