"""The nightly fit on the real stack: the beat's job, run by the real worker, fits a
synthetic learner's parameters, keeps them because they predict better, and
reschedules the learner's cards."""
from __future__ import annotations

import json
import subprocess
import uuid

import fsrs

from tests.support.client import Learner
from tests.support.stack import BIN, REPO
from tests.support.synthetic_learner import simulate
from tests.support.waits import eventually


def give_history(stack, user_id: str) -> dict[int, str]:
    """Cards and review logs of a simulated learner; returns word id -> due (before the fit)."""
    reviews = simulate(cards=300)
    with stack.database() as conn:
        word_ids = [row[0] for row in conn.execute("SELECT id FROM vocabulary ORDER BY id LIMIT 300")]
        last = {}
        for review in reviews:
            last[review.card] = review
        conn.cursor().executemany(
            "INSERT INTO cards (user_id, word_id, state, step, stability, difficulty, due, last_review, reps, lapses,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 0, 0, now())",
            [(user_id, word_ids[card], r.after.state.value, r.after.step, r.after.stability, r.after.difficulty,
              r.after.due, r.after.last_review) for card, r in last.items()])
        conn.cursor().executemany(
            "INSERT INTO review_logs (user_id, word_id, rating, reviewed_at, source, previous_state, result)"
            " VALUES (%s, %s, %s, %s, 'review', %s, %s)",
            [(user_id, word_ids[r.card], r.rating, r.at, r.previous_state, json.dumps({"state": "review"}))
             for r in reviews])
        return {word_ids[card]: r.after.due for card, r in last.items()}


def test_the_nightly_fit_adopts_better_parameters_and_reschedules_the_cards(stack, learner: Learner):
    user_id = learner.user["id"]
    due_before = give_history(stack, user_id)
    subprocess.run([BIN / "celery", "-A", "workers.celery_app", "call", "progress.fit_all"], env=stack.env,
                   cwd=REPO, check=True, capture_output=True)

    def fitted() -> dict | None:
        stats = learner.get("/api/v1/progress/stats").json()
        return stats if stats["fsrs"]["source"] == "fitted" else None

    stats = eventually(fitted, "the learner's parameters fitted", timeout=60, interval=0.5)
    metrics = stats["fsrs"]["last_fit"]["metrics"]
    assert metrics["log_loss_fitted"] < metrics["log_loss_current"]
    assert stats["fsrs"]["parameters"][0] < fsrs.scheduler.DEFAULT_PARAMETERS[0] / 2

    # Rescheduling runs after the fit, in chunks. The learner forgets faster than the
    # defaults assumed: most reviews come sooner.
    with stack.database() as conn:
        def sooner() -> int:
            due_after = dict(conn.execute("SELECT word_id, due FROM cards WHERE user_id = %s",
                                          (uuid.UUID(user_id),)).fetchall())
            return sum(due_after[w] < due_before[w] for w in due_before)

        eventually(lambda: sooner() > len(due_before) // 2,
                   lambda: f"most cards rescheduled sooner ({sooner()} of {len(due_before)})", timeout=60, interval=0.5)
