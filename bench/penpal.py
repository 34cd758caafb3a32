"""Penpal delivery at scale: 1,000 replies due at the same moment.

    .venv/bin/python bench/penpal.py [--letters 1000] [--learners 50] [--interval 15]

Starts the whole stack as the tests do (embedded PostgreSQL and Redis, gunicorn, the
three worker families and beat; tests/support/stack.py) with the beat interval given
(default: the production default, 15 s). Learners send the letters over HTTP; the
workers analyse them and write the replies (offline provider). Once every reply is
written, all their due times are set to one moment a few seconds ahead, and a Redis
subscriber on every learner's channel notes each `penpal_reply` event's publish time.
Reports lateness after the due time (median, p99, max), how long the delivery of the
whole batch took, and checks that every reply was delivered and announced exactly once.
Writes JSON to bench/results/.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import Client, percentile  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

LETTER = ("Bonjour ! Samedi, je suis allé au marché avec mes amie. Nous avons acheté des fromages "
          "et des pommes. Et toi, qu'est-ce que tu fais le week-end ?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--interval", type=float, default=15.0, help="PENPAL_DELIVERY_INTERVAL_SECONDS")
    args = parser.parse_args()

    data_dir = REPO / ".data" / "bench-penpal"
    shutil.rmtree(data_dir, ignore_errors=True)
    stack = Stack(data_dir, extra_env={"PENPAL_REPLY_DELAY_SECONDS": "3600", "PENPAL_REPLY_JITTER_SECONDS": "0",
                                       "PENPAL_DELIVERY_INTERVAL_SECONDS": str(args.interval)})
    try:
        stack.start()
        database = stack.env["DATABASE_URL"].replace("+psycopg", "")
        learners = []
        for _ in range(args.learners):
            status, body = Client(stack.base_url).call("POST", "/api/v1/auth/register", {
                "email": f"bench-{uuid.uuid4().hex[:12]}@example.com", "password": "benchmark password",
                "display_name": "Bench"})
            assert status == 201, body
            learners.append(Client(stack.base_url, body["access_token"]))
        started = time.perf_counter()
        for index in range(args.letters):
            status, body = learners[index % len(learners)].call(
                "POST", "/api/v1/penpal/letters", {"character_id": "camille", "body": LETTER})
            assert status == 201, body
        print(f"sent {args.letters} letters in {time.perf_counter() - started:.1f} s", flush=True)

        with psycopg.connect(database, autocommit=True) as conn:
            while conn.execute("SELECT count(*) FROM penpal_letters "
                               "WHERE author = 'character' AND body IS NULL").fetchone()[0]:
                time.sleep(1)
            print(f"all replies written {time.perf_counter() - started:.1f} s after the first letter", flush=True)

            published: list[tuple[str, datetime]] = []
            listener = threading.Thread(target=listen, args=(stack.env["REDIS_URL"], args.letters, published),
                                        daemon=True)
            listener.start()
            time.sleep(0.5)  # subscribed
            due_at = datetime.now(timezone.utc) + timedelta(seconds=3)
            conn.execute("UPDATE penpal_letters SET deliver_at = %s WHERE author = 'character'", (due_at,))
            listener.join(timeout=args.interval + 120)
            time.sleep(args.interval + 2)  # anything published twice would arrive by now
            delivered, announced = conn.execute(
                "SELECT count(delivered_at), count(announced_at) FROM penpal_letters "
                "WHERE author = 'character'").fetchone()

        copies = Counter(letter_id for letter_id, _ in published)
        lateness = [(moment - due_at).total_seconds() for _, moment in published]
        moments = [moment for _, moment in published]
        result = {
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
                       f"{platform.python_version()}",
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": "bench/penpal.py " + " ".join(sys.argv[1:]),
            "letters": args.letters, "learners": args.learners, "delivery_interval_s": args.interval,
            "events": len(published), "replies_published_twice": sum(1 for n in copies.values() if n > 1),
            "delivered_rows": delivered, "announced_rows": announced,
            "lateness_s": {"p50": round(percentile(lateness, 0.5), 3), "p99": round(percentile(lateness, 0.99), 3),
                           "max": round(max(lateness), 3), "min": round(min(lateness), 3)},
            "first_to_last_event_s": round((max(moments) - min(moments)).total_seconds(), 3),
        }
        print(json.dumps(result, indent=2))
        out = REPO / "bench" / "results" / f"penpal-{datetime.now():%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        assert len(copies) == args.letters and result["replies_published_twice"] == 0, "not delivered exactly once"
        assert delivered == announced == args.letters
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def listen(redis_url: str, expected: int, published: list[tuple[str, datetime]]) -> None:
    """Collect (reply id, publish time) of penpal_reply events until `expected` came."""
    client = redis.Redis.from_url(redis_url)
    subscription = client.pubsub(ignore_subscribe_messages=True)
    subscription.psubscribe("parlons:events:*")
    deadline = time.monotonic() + 600
    while len(published) < expected and time.monotonic() < deadline:
        message = subscription.get_message(timeout=1.0)
        if message is None:
            continue
        _, _, body = message["data"].decode().split(" ", 2)
        event = json.loads(body)
        if event["type"] == "penpal_reply":
            published.append((event["data"]["letter"]["id"],
                              datetime.fromisoformat(event["ts"].replace("Z", "+00:00"))))


if __name__ == "__main__":
    main()
