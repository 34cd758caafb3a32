"""Spaced repetition through the HTTP API, on the real stack (fuzzing off)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import fsrs
import pytest

from tests.support.client import Learner, register

RATINGS = {"again": 0, "hard": 1, "good": 2, "easy": 3}


@pytest.fixture
def learner(stack) -> Learner:
    """A learner whose account is old enough for the reviews these tests replay years back
    (a review may not be dated before its account was created)."""
    learner = register(stack.base_url, stack.ws_url)
    with stack.database() as conn:
        conn.execute("UPDATE users SET created_at = created_at - interval '2000 days' WHERE id = %s",
                     (learner.user["id"],))
    return learner


def word_ids(learner: Learner, count: int, **query) -> list[int]:
    response = learner.get("/api/v1/vocabulary", params={"per_page": count, **query})
    assert response.status_code == 200, response.text
    return [word["id"] for word in response.json()["items"]]


def review(learner: Learner, word_id: int, rating: str, at: datetime | None = None, **fields) -> dict:
    payload = {"word_id": word_id, "rating": RATINGS[rating], **fields}
    if at is not None:
        payload["reviewed_at"] = at.isoformat()
    response = learner.post("/api/v1/progress/review", payload)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_review_sequence_at_the_due_times_matches_the_fsrs_reference(learner: Learner):
    [word_id] = word_ids(learner, 1)
    sequence = ["good", "good", "good", "good", "again", "good", "hard", "easy", "good"]
    reference = fsrs.Scheduler(enable_fuzzing=False)
    card = fsrs.Card()
    at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1500)
    for rating in sequence:
        card, _ = reference.review_card(card, fsrs.Rating(RATINGS[rating] + 1), review_datetime=at)
        state = review(learner, word_id, rating, at)
        assert state["state"] == card.state.name.lower()
        assert round(state["stability"], 4) == round(card.stability, 4)
        assert round(state["difficulty"], 4) == round(card.difficulty, 4)
        assert datetime.fromisoformat(state["due"]).replace(microsecond=0) == card.due.replace(microsecond=0)
        at = card.due
    assert at < datetime.now(timezone.utc), "the sequence must stay in the past to be replayed"
    history = learner.get(f"/api/v1/progress/{word_id}").json()
    assert [r["rating_name"] for r in history["reviews"]] == sequence
    assert history["reps"] == len(sequence) and history["lapses"] == 1


def test_a_retried_review_is_a_no_op_returning_the_same_result(learner: Learner):
    [word_id] = word_ids(learner, 1)
    first = review(learner, word_id, "good", client_review_id="phone-1")
    again = review(learner, word_id, "easy", client_review_id="phone-1")
    assert again == first
    assert len(learner.get(f"/api/v1/progress/{word_id}").json()["reviews"]) == 1


def test_reviews_in_the_future_or_before_the_last_review_are_refused_and_change_nothing(learner: Learner):
    [word_id] = word_ids(learner, 1)
    now = datetime.now(timezone.utc)
    future = learner.post("/api/v1/progress/review",
                          {"word_id": word_id, "rating": 2, "reviewed_at": (now + timedelta(hours=1)).isoformat()})
    assert future.status_code == 422 and future.json()["error"]["code"] == "review_time_invalid"
    assert learner.get(f"/api/v1/progress/{word_id}").json()["state"] == "new"
    review(learner, word_id, "good", now - timedelta(hours=1))
    stale = learner.post("/api/v1/progress/review",
                         {"word_id": word_id, "rating": 2, "reviewed_at": (now - timedelta(hours=2)).isoformat()})
    assert stale.status_code == 422 and stale.json()["error"]["code"] == "review_time_invalid"
    assert len(learner.get(f"/api/v1/progress/{word_id}").json()["reviews"]) == 1


@pytest.mark.parametrize("payload, field", [
    ({"word_id": 1, "rating": 4}, "rating"),
    ({"word_id": 1}, "rating"),
    ({"word_id": 1, "rating": 2, "reviewed_at": "2026-01-01T10:00:00"}, "reviewed_at"),
])
def test_a_malformed_review_is_a_422_naming_the_field(learner: Learner, payload: dict, field: str):
    response = learner.post("/api/v1/progress/review", payload)
    assert response.status_code == 422
    assert field in str(response.json()["error"]["details"])


def test_an_unknown_word_is_a_404(learner: Learner):
    response = learner.post("/api/v1/progress/review", {"word_id": 999_999_999, "rating": 2})
    assert response.status_code == 404 and response.json()["error"]["code"] == "word_not_found"


def test_a_batch_is_applied_in_order_and_a_bad_item_rejects_the_whole_batch(learner: Learner):
    first, second = word_ids(learner, 2)
    start = datetime.now(timezone.utc) - timedelta(days=3)
    batch = [{"word_id": first, "rating": 2, "reviewed_at": start.isoformat(), "client_review_id": "a"},
             {"word_id": first, "rating": 2, "reviewed_at": (start + timedelta(minutes=10)).isoformat()},
             {"word_id": second, "rating": 0, "reviewed_at": (start + timedelta(minutes=11)).isoformat()}]
    bad = batch + [{"word_id": second, "rating": 2, "reviewed_at": start.isoformat()}]  # before its last review
    rejected = learner.post("/api/v1/progress/reviews", {"reviews": bad})
    assert rejected.status_code == 422 and rejected.json()["error"]["details"]["index"] == 3
    assert learner.get(f"/api/v1/progress/{first}").json()["state"] == "new"

    response = learner.post("/api/v1/progress/reviews", {"reviews": batch})
    assert response.status_code == 200, response.text
    assert [r["state"] for r in response.json()["results"]] == ["learning", "review", "learning"]
    resent = learner.post("/api/v1/progress/reviews", {"reviews": batch[:1]})
    assert resent.json()["results"][0] == response.json()["results"][0]
    assert len(learner.get(f"/api/v1/progress/{first}").json()["reviews"]) == 2


def test_the_queue_puts_due_cards_first_least_recallable_first_then_new_words_by_frequency(learner: Learner):
    words = word_ids(learner, 3)
    now = datetime.now(timezone.utc)
    # A card reviewed long ago (low retrievability) and one reviewed a few days ago, both due now.
    for word_id, days in ((words[0], 5), (words[1], 60)):
        review(learner, word_id, "good", now - timedelta(days=days, minutes=10))
        review(learner, word_id, "good", now - timedelta(days=days))
    review(learner, words[2], "easy", now - timedelta(minutes=1))  # not due for days

    queue = learner.get("/api/v1/progress/queue", params={"limit": 10, "new_limit": 5}).json()
    assert [item["word_id"] for item in queue["due"]] == [words[1], words[0]]
    assert queue["due"][0]["retrievability"] < queue["due"][1]["retrievability"]
    new_ids = [item["word_id"] for item in queue["new"]]
    assert len(new_ids) == 5 and not set(new_ids) & set(words)
    ranks = [item["word"]["frequency_rank"] for item in queue["new"]]
    assert ranks == sorted(ranks)
    assert {item["word"]["cefr_level"] for item in queue["new"]} <= {"A1"}  # the learner's level


def test_stats_count_cards_reviews_retention_and_streak(stack, learner: Learner):
    first, second = word_ids(learner, 2)
    # Noon of each day, so that two reviews minutes apart share a day even when the test
    # runs just after midnight (the streak counts days).
    noon = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    review(learner, first, "good", noon - timedelta(days=2, minutes=10))
    review(learner, first, "good", noon - timedelta(days=2))
    review(learner, first, "again", noon - timedelta(days=1))  # a lapse: recall failed on a review card
    review(learner, second, "good")
    stats = learner.get("/api/v1/progress/stats").json()
    assert stats["cards"] == {"learning": 1, "review": 0, "relearning": 1}
    assert stats["reviews_today"] == 1
    assert stats["true_retention_30d"] == 0.0
    assert stats["streak_days"] == 3
    assert stats["fsrs"]["source"] == "default" and len(stats["fsrs"]["parameters"]) == 21


def test_desired_retention_is_the_learners_setting(learner: Learner):
    changed = learner.patch("/api/v1/auth/me", {"desired_retention": 0.95})
    assert changed.status_code == 200 and changed.json()["desired_retention"] == 0.95
    assert learner.patch("/api/v1/auth/me", {"desired_retention": 1.5}).status_code == 422
    assert learner.get("/api/v1/progress/stats").json()["desired_retention"] == 0.95


def test_another_learners_progress_is_invisible(stack, learner: Learner):
    [word_id] = word_ids(learner, 1)
    review(learner, word_id, "good")
    stranger = register(stack.base_url, stack.ws_url)
    assert stranger.get(f"/api/v1/progress/{word_id}").json()["state"] == "new"
    assert stranger.get("/api/v1/progress/stats").json()["cards"] == {"learning": 0, "review": 0, "relearning": 0}


def test_vocabulary_search_levels_and_pages(learner: Learner):
    page = learner.get("/api/v1/vocabulary", params={"per_page": 5}).json()
    assert page["meta"]["total"] >= 2000
    assert [w["frequency_rank"] for w in page["items"]] == sorted(w["frequency_rank"] for w in page["items"])
    found = learner.get("/api/v1/vocabulary", params={"q": "maison"}).json()["items"]
    assert found and found[0]["lemma"] == "maison" and "house" in found[0]["translation"]
    assert learner.get("/api/v1/vocabulary", params={"q": "tres"}).json()["items"][0]["lemma"] == "très"
    b1 = learner.get("/api/v1/vocabulary", params={"level": "B1"}).json()["items"]
    assert b1 and {w["cefr_level"] for w in b1} == {"B1"}
    assert learner.get(f"/api/v1/vocabulary/{found[0]['id']}").json() == found[0]
    missing = learner.get("/api/v1/vocabulary/999999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "word_not_found"
    assert learner.get("/api/v1/vocabulary", params={"level": "Z9"}).status_code == 422


def test_unused_review_ids_do_not_collide_between_learners(stack, learner: Learner):
    [word_id] = word_ids(learner, 1)
    other = register(stack.base_url, stack.ws_url)
    shared_id = f"device-{uuid.uuid4().hex[:6]}"
    review(learner, word_id, "good", client_review_id=shared_id)
    assert review(other, word_id, "again", client_review_id=shared_id)["state"] == "learning"
    assert other.get(f"/api/v1/progress/{word_id}").json()["reviews"][0]["rating_name"] == "again"


def test_vocabulary_search_by_english_matches_words_not_fragments(learner: Learner):
    items = learner.get("/api/v1/vocabulary", params={"q": "hous", "per_page": 50}).json()["items"]
    found = [w["lemma"] for w in items]
    assert "maison" in found
    odd = learner.get("/api/v1/vocabulary", params={"q": "c++ (", "per_page": 5})
    assert odd.status_code == 200
