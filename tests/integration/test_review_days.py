"""The analytics' rollup of the review log by local day (review_days): kept by each
review as a rebuild from the log would make it, rebuilt for another known threshold,
and following the learner's time zone when it changes."""
from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.support.client import register
from tests.support.waits import eventually

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def _rows(db, user_id: uuid.UUID) -> list[tuple]:
    from sqlalchemy import text

    return [tuple(row) for row in db.execute(text(
        "SELECT day, reviews, from_conversation, recall_attempts, recalled, learning, review, relearning, known"
        " FROM review_days WHERE user_id = :user_id ORDER BY day"), {"user_id": user_id})]


def _learner_with_words(db, *, zone: str, words: int) -> tuple[uuid.UUID, list[int]]:
    from sqlalchemy import text

    user_id = uuid.uuid4()
    db.execute(text("""
        INSERT INTO users (id, email, password_hash, display_name, target_language, level, timezone, role, xp,
                           created_at, updated_at)
        VALUES (:id, :email, 'x', 'Learner', 'fr', 'A1', :zone, 'learner', 0, now() - interval '90 days', now())
    """), {"id": user_id, "email": f"{user_id.hex}@example.com", "zone": zone})
    first = db.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM vocabulary"))
    for word_id in range(first, first + words):
        db.execute(text("""
            INSERT INTO vocabulary (id, lemma, pos, translation, frequency_rank, cefr_level, example)
            VALUES (:id, 'mot' || :id, 'noun', 'word', :id, 'A1', '')
        """), {"id": word_id})
    return user_id, list(range(first, first + words))


def test_the_rollup_kept_by_reviews_is_what_a_rebuild_from_the_log_gives(db_scope):
    from sqlalchemy import text

    from domain import analytics
    from domain.config import get_settings
    from domain.srs.reviews import ReviewInput, review

    settings = get_settings()
    today = datetime.now(PARIS).date()

    def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(hour, minute), PARIS)

    with db_scope() as db:
        learner, (a, b, c, d) = _learner_with_words(db, zone="Europe/Paris", words=4)
    # Flashcards and conversations, dated in the past and now, several a day, around local
    # midnight, lapses, and a card rescheduled in between (a refit changes cards, not logs).
    plan = [(a, 2, at(40, 9), "review"), (b, 3, at(40, 23, 50), "review"), (c, 2, at(39, 0, 10), "conversation"),
            (a, 3, at(30, 12), "review"), (a, 3, at(30, 18), "conversation"), (b, 0, at(20, 1), "review"),
            (c, 3, at(12, 12), "review"), (a, 3, at(5, 8), "conversation"), (d, 2, at(5, 8), "review"),
            (b, 2, at(2, 23, 59), "review"), (a, 0, at(1, 12), "review"), (c, 2, None, "conversation"),
            (d, 3, None, "review")]
    for index, (word_id, rating, reviewed_at, source) in enumerate(plan):
        with db_scope() as db:
            review(db, settings, user_id=learner, source=source,
                   given=ReviewInput(word_id, rating, reviewed_at=reviewed_at))
            if index == 6:
                db.execute(text("UPDATE cards SET state = 3, stability = 0.5 WHERE user_id = :u AND word_id = :w"),
                           {"u": learner, "w": b})
    with db_scope() as db:
        kept = _rows(db, learner)
        analytics.rebuild_review_days(db, settings, user_id=learner)
    with db_scope() as db:
        rebuilt = _rows(db, learner)
    assert kept == rebuilt
    assert sum(row[1] for row in kept) == len(plan) and sum(row[2] for row in kept) == 4
    # Every card is in one state today, and 'known' is the cards whose last result is known.
    totals = [sum(row[column] for row in kept) for column in (5, 6, 7, 8)]
    with db_scope() as db:
        known = db.scalar(text("""
            SELECT count(*) FROM (SELECT DISTINCT ON (word_id) stability_after FROM review_logs
                                  WHERE user_id = :u ORDER BY word_id, reviewed_at DESC, id DESC) last
            WHERE stability_after >= :k"""), {"u": learner, "k": settings.words_known_stability_days})
    assert sum(totals[:3]) == 4 and totals[3] == known

    # The series read from the rollup: the last 30 days start from the changes before them.
    with db_scope() as db:
        window = analytics.Window.ending_today(PARIS, 30, datetime.now(timezone.utc))
        history = analytics.review_history(db, settings, user_id=learner, window=window)
    cards = analytics.cards_over_time(history, window)
    assert [cards[-1][key] for key in ("learning", "review", "relearning", "known")] == totals
    per_day = {entry["date"]: entry["reviews"] for entry in analytics.reviews_per_day(history, window)}
    assert per_day[(today - timedelta(days=5)).isoformat()] == 2 and per_day[today.isoformat()] == 2
    assert sum(per_day.values()) == sum(1 for *_, when, _ in plan
                                        if when is None or when.date() >= window.first_day)


def test_another_known_threshold_rebuilds_the_rollup_on_its_first_read(db_scope):
    from domain import analytics
    from domain.config import get_settings
    from domain.srs.reviews import ReviewInput, review

    settings = get_settings()
    with db_scope() as db:
        learner, (word,) = _learner_with_words(db, zone="UTC", words=1)
    with db_scope() as db:
        result = review(db, settings, user_id=learner, given=ReviewInput(word, 3))  # easy: a few days' stability
    window = analytics.Window.ending_today(ZoneInfo("UTC"), 7, datetime.now(timezone.utc))

    def known_today(chosen) -> int:
        with db_scope() as db:
            history = analytics.review_history(db, chosen, user_id=learner, window=window)
        return analytics.cards_over_time(history, window)[-1]["known"]

    assert result["stability"] < settings.words_known_stability_days
    assert known_today(settings) == 0
    lower = dataclasses.replace(settings, words_known_stability_days=result["stability"] / 2)
    assert known_today(lower) == 1  # rebuilt with the lower threshold
    assert known_today(settings) == 0  # and back


def test_after_a_time_zone_change_the_series_follow_the_new_zone(stack):
    learner = register(stack.base_url, stack.ws_url, timezone="Europe/Paris")
    with stack.database() as conn:
        conn.execute("UPDATE users SET created_at = created_at - interval '30 days' WHERE id = %s",
                     (learner.user["id"],))
    words = [w["id"] for w in learner.get("/api/v1/vocabulary", params={"per_page": 2}).json()["items"]]
    # 00:30 in Paris is still the evening before in New York.
    paris_day = datetime.now(PARIS).date() - timedelta(days=3)
    at = datetime.combine(paris_day, time(0, 30), PARIS)
    response = learner.post("/api/v1/progress/review", {"word_id": words[0], "rating": 2,
                                                        "reviewed_at": at.isoformat()})
    assert response.status_code == 200, response.text

    def reviews_by_day() -> tuple[str, dict[str, int]]:
        response = learner.get("/api/v1/progress/analytics", params={"days": 7})
        assert response.status_code == 200, response.text
        found = response.json()
        return found["timezone"], {e["date"]: e["reviews"] for e in found["reviews_per_day"] if e["reviews"]}

    assert reviews_by_day() == ("Europe/Paris", {paris_day.isoformat(): 1})
    response = learner.patch("/api/v1/auth/me", {"timezone": "America/New_York"})
    assert response.status_code == 200, response.text
    new_york_day = at.astimezone(NEW_YORK).date()
    assert new_york_day == paris_day - timedelta(days=1)
    assert reviews_by_day() == ("America/New_York", {new_york_day.isoformat(): 1})

    # A review after the change counts on its New York day too.
    response = learner.post("/api/v1/progress/review", {"word_id": words[1], "rating": 2})
    assert response.status_code == 200, response.text
    today: date = datetime.now(NEW_YORK).date()
    assert reviews_by_day()[1] == {new_york_day.isoformat(): 1, today.isoformat(): 1}


@pytest.mark.parametrize("first", ["review", "time zone change"])
def test_a_review_and_a_time_zone_change_at_once_are_both_counted(db_scope, first):
    """Whichever takes the learner's row first, the other waits, and the rollup is the
    rebuild's, the review on its New York day (a conversation review: it earns no XP)."""
    from sqlalchemy import text

    from domain import accounts, analytics
    from domain.config import get_settings
    from domain.models import User
    from domain.srs.reviews import ReviewInput, review

    settings = get_settings()
    with db_scope() as db:
        learner, (earlier, word) = _learner_with_words(db, zone="Europe/Paris", words=2)
        review(db, settings, user_id=learner, given=ReviewInput(earlier, 2))
    at = datetime.combine(datetime.now(PARIS).date() - timedelta(days=2), time(0, 30), PARIS)
    holding, release = threading.Event(), threading.Event()

    def reviewing() -> None:
        with db_scope() as db:
            review(db, settings, user_id=learner, source="conversation", given=ReviewInput(word, 2, reviewed_at=at))
            if first == "review":
                holding.set()
                release.wait(timeout=30)

    def changing_zone() -> None:
        with db_scope() as db:
            accounts.update_profile(db.get(User, learner), {"timezone": "America/New_York"})
            if first == "time zone change":
                holding.set()
                release.wait(timeout=30)

    def lock_waits() -> int:
        with db_scope() as db:
            return db.scalar(text("SELECT count(*) FROM pg_stat_activity"
                                  " WHERE datname = current_database() AND wait_event_type = 'Lock'"))

    one, other = (reviewing, changing_zone) if first == "review" else (changing_zone, reviewing)
    threads = [threading.Thread(target=one), threading.Thread(target=other)]
    threads[0].start()
    assert holding.wait(timeout=30)
    threads[1].start()
    eventually(lock_waits, f"the {'time zone change' if first == 'review' else 'review'} waiting")
    release.set()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()

    with db_scope() as db:
        kept = _rows(db, learner)
        analytics.rebuild_review_days(db, settings, user_id=learner)
    with db_scope() as db:
        assert _rows(db, learner) == kept
    days = {row[0]: row[1] for row in kept}
    new_york_day = analytics.day_number(at.astimezone(NEW_YORK).date())
    assert days[new_york_day] == 1 and sum(days.values()) == 2
