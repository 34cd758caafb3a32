"""Progress a learner can see: analytics over a seeded history, weekly reports,
achievements (once), and XP for reviews, on the real stack."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.support.client import Learner, assert_error, register, turn_result_for
from tests.support.waits import eventually

PARIS = ZoneInfo("Europe/Paris")


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@pytest.fixture
def old_learner(stack) -> Learner:
    """A learner in Paris whose account is old enough for reviews dated weeks back."""
    learner = register(stack.base_url, stack.ws_url, timezone="Europe/Paris")
    with stack.database() as conn:
        conn.execute("UPDATE users SET created_at = created_at - interval '60 days' WHERE id = %s",
                     (learner.user["id"],))
    return learner


def word_ids(learner: Learner, count: int) -> list[int]:
    response = learner.get("/api/v1/vocabulary", params={"per_page": count})
    assert response.status_code == 200, response.text
    return [word["id"] for word in response.json()["items"]]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), PARIS)


def seed_turns(stack, learner: Learner, session_id: str, turns: list[tuple[datetime, str, list[str], str]]) -> None:
    """Finished (or failed) turns with their learner message: (created_at, text, error categories, status)."""
    with stack.database() as conn:
        for created_at, content, categories, status in turns:
            turn_id = uuid.uuid4()
            grammar = {"errors": [{"start": 0, "end": 1, "category": c, "message": "m", "suggestions": []}
                                  for c in categories], "corrected_text": content}
            conn.execute(
                "INSERT INTO turns (id, session_id, user_id, status, suggested_word_ids, grammar, word_feedback,"
                " xp_awarded, degraded, created_at, deadline_at, completed_at, announced_at)"
                " VALUES (%s, %s, %s, %s, '[]', %s, '[]', 5, false, %s, %s, %s, %s)",
                (turn_id, session_id, learner.user["id"], status, json.dumps(grammar), created_at,
                 created_at + timedelta(seconds=60), created_at + timedelta(seconds=5),
                 created_at + timedelta(seconds=5)))
            conn.execute("INSERT INTO messages (id, session_id, turn_id, role, content, created_at)"
                         " VALUES (%s, %s, %s, 'user', %s, %s)",
                         (uuid.uuid4(), session_id, turn_id, content, created_at))


def test_analytics_over_a_seeded_history_returns_the_expected_series(stack, old_learner, other_learner):
    learner = old_learner
    today = datetime.now(PARIS).date()

    def day(n: int) -> date:
        return today - timedelta(days=n)

    a, b, c = word_ids(learner, 3)
    # In order of time: c is known (stability >= 21) from before the window; a goes learning,
    # review, known, then lapses; b's review at 00:30 in Paris is the day before in UTC.
    plan = [(c, 3, local(day(30), 12)), (c, 3, local(day(20), 12)),
            (a, 2, local(day(10), 12)), (a, 2, local(day(9), 12)), (b, 3, local(day(8), 0, 30)),
            (c, 3, local(day(5), 12)), (a, 2, local(day(3), 12)), (a, 0, local(day(1), 12))]
    response = learner.post("/api/v1/progress/reviews", {"reviews": [
        {"word_id": word, "rating": rating, "reviewed_at": at.isoformat()} for word, rating, at in plan]})
    assert response.status_code == 200, response.text
    states = [(r["state"], r["stability"] >= 21) for r in response.json()["results"]]
    assert states == [("review", False), ("review", True), ("learning", False), ("review", False),
                      ("review", False), ("review", True), ("review", True), ("relearning", False)]
    assert local(day(8), 0, 30).astimezone(timezone.utc).date() == day(9)  # counted on Paris's day

    session = learner.new_session()
    words = " ".join(["mot"] * 20)
    seed_turns(stack, learner, session["id"], [
        (local(day(2), 10), words, ["agreement", "spelling"], "complete"),
        (local(day(2), 10, 4), words, ["agreement"], "complete"),  # same stretch: 10:00 to 10:04:05
        (local(day(2), 10, 30), words, [], "complete"),  # 26 minutes later: a stretch of its own (1 minute)
        (local(day(2), 11), words, ["tense"], "failed"),  # not practice
    ])

    response = learner.get("/api/v1/progress/analytics", params={"days": 14})
    assert response.status_code == 200, response.text
    found = response.json()
    days = [day(n) for n in range(13, -1, -1)]
    assert (found["days"], found["timezone"], found["from"], found["to"]) == \
        (14, "Europe/Paris", days[0].isoformat(), today.isoformat())

    def by_day(series: list[dict], key: str) -> dict[int, object]:
        assert [entry["date"] for entry in series] == [d.isoformat() for d in days]
        return {(today - date.fromisoformat(entry["date"])).days: entry[key] for entry in series}

    reviews = {10: 1, 9: 1, 8: 1, 5: 1, 3: 1, 1: 1}
    assert by_day(found["reviews_per_day"], "reviews") == {n: reviews.get(n, 0) for n in range(14)}
    assert set(by_day(found["reviews_per_day"], "from_conversation").values()) == {0}

    learning = {10: 1}
    review = {n: 1 for n in range(11, 14)} | {10: 1, 9: 2} | {n: 3 for n in range(2, 9)} | {1: 2, 0: 2}
    relearning = {1: 1, 0: 1}
    assert by_day(found["cards_by_state"], "learning") == {n: learning.get(n, 0) for n in range(14)}
    assert by_day(found["cards_by_state"], "review") == review
    assert by_day(found["cards_by_state"], "relearning") == {n: relearning.get(n, 0) for n in range(14)}
    assert by_day(found["words_known"], "known") == {n: 2 if n in (3, 2) else 1 for n in range(14)}

    streaks = {10: 1, 9: 2, 8: 3, 5: 1, 3: 1, 1: 1}
    assert by_day(found["streak"], "streak") == {n: streaks.get(n, 0) for n in range(14)}

    # True retention: reviews of cards in the review state (c on day 5 and a on day 3 recalled, a on day 1 not).
    weeks: dict[str, list[int]] = {}
    for n, recalled in ((5, 1), (3, 1), (1, 0)):
        tally = weeks.setdefault(monday(day(n)).isoformat(), [0, 0])
        tally[0] += recalled
        tally[1] += 1
    expected_weeks = sorted({monday(d) for d in days})
    assert [w["week_start"] for w in found["retention_per_week"]] == [w.isoformat() for w in expected_weeks]
    for week in found["retention_per_week"]:
        recalled, attempts = weeks.get(week["week_start"], [0, 0])
        assert (week["recalled"], week["attempts"]) == (recalled, attempts)
        assert week["retention"] == (round(recalled / attempts, 4) if attempts else None)

    practice = {entry["date"]: (entry["turns"], entry["minutes"]) for entry in found["practice_per_day"]}
    assert practice.pop(day(2).isoformat()) == (3, 5.1)  # 4.1 minutes, then 1
    assert set(practice.values()) == {(0, 0.0)}

    errors = {week["week_start"]: week["categories"] for week in found["error_categories_per_week"]}
    assert errors.pop(monday(day(2)).isoformat()) == {"agreement": 2, "spelling": 1}
    assert set(map(len, errors.values())) == {0}

    estimate = found["cefr_estimate"]
    inputs = estimate["inputs"]
    assert (inputs["errors"], inputs["words_written"], inputs["error_density"]) == (3, 60, 5.0)
    with stack.database() as conn:
        sizes = dict(conn.execute("SELECT cefr_level, count(*) FROM vocabulary GROUP BY cefr_level").fetchall())
        known_band = conn.execute("SELECT cefr_level FROM vocabulary WHERE id = %s", (c,)).fetchone()[0]
    for band in inputs["bands"]:
        known = 1 if band["band"] == known_band else 0
        assert (band["known"], band["words"]) == (known, sizes.get(band["band"], 0))
    assert estimate["level"] is None and "highest band" in estimate["method"]
    assert inputs["thresholds"]["words_known_stability_days"] == found["words_known_stability_days"] == 21.0

    # Another learner's history is not theirs to see.
    theirs = other_learner.get("/api/v1/progress/analytics").json()
    assert len(theirs["reviews_per_day"]) == 30
    assert {entry["reviews"] for entry in theirs["reviews_per_day"]} == {0}
    assert {entry["turns"] for entry in theirs["practice_per_day"]} == {0}


@pytest.mark.parametrize("days", ["0", "367", "-1", "ten", "1.5"])
def test_bad_days_are_a_422_naming_the_field(learner, days):
    error = assert_error(learner.get("/api/v1/progress/analytics", params={"days": days}), 422)
    assert "days" in json.dumps(error["details"])


def xp_of(learner: Learner) -> int:
    return learner.get("/api/v1/progress/stats").json()["xp"]


def test_a_flashcard_review_earns_xp_once_even_when_resent(learner):
    [word] = word_ids(learner, 1)
    before = xp_of(learner)
    for _ in range(2):  # the second is a retry: same client_review_id
        response = learner.post("/api/v1/progress/review", {"word_id": word, "rating": 2, "client_review_id": "r-1"})
        assert response.status_code == 200, response.text
    assert xp_of(learner) == before + 1


def test_achievements_are_unlocked_once_and_pushed(stack, learner):
    listed = learner.get("/api/v1/achievements").json()["achievements"]
    assert {a["code"] for a in listed} >= {"first_turn", "streak_7", "words_known_100", "pattern_retired",
                                           "journey_unit_passed", "first_letter", "reviews_100"}
    assert {a["unlocked_at"] for a in listed} == {None}
    events: list[dict] = []
    with learner.socket("/api/v1/ws") as socket:
        session = learner.new_session()
        for content in ("Bonjour, je m'appelle Marie.", "J'habite à Paris."):
            turn = learner.send(session["id"], content).json()["turn"]
            events += socket.until(turn_result_for(turn["id"]))
        # The letter's check comes after both turns' checks (one default worker, in order).
        response = learner.post("/api/v1/penpal/letters",
                                {"character_id": "camille", "body": "Chère Camille, bonjour de Paris !"})
        assert response.status_code == 201, response.text
        events += socket.until(lambda e: e["type"] == "achievement_unlocked"
                               and e["data"]["achievement"]["code"] == "first_letter")
    unlocked = [e["data"]["achievement"] for e in events if e["type"] == "achievement_unlocked"]
    assert [a["code"] for a in unlocked] == ["first_turn", "first_letter"]
    assert set(unlocked[0]) == {"code", "title", "description", "unlocked_at"}
    listed = {a["code"]: a["unlocked_at"] for a in learner.get("/api/v1/achievements").json()["achievements"]}
    assert listed["first_turn"] == unlocked[0]["unlocked_at"] and listed["first_letter"]
    assert listed["reviews_100"] is None


# --- the domain's jobs on a scratch database (no worker touches it) ----------------------------

def _user(db, *, zone: str) -> uuid.UUID:
    from sqlalchemy import text

    user_id = uuid.uuid4()
    db.execute(text("""
        INSERT INTO users (id, email, password_hash, display_name, target_language, level, timezone, role, xp,
                           created_at, updated_at)
        VALUES (:id, :email, 'x', 'Learner', 'fr', 'A1', :zone, 'learner', 0, now() - interval '90 days', now())
    """), {"id": user_id, "email": f"{user_id.hex}@example.com", "zone": zone})
    return user_id


def _review(db, user_id: uuid.UUID, word_id: int, at: datetime, *, rating: int, previous_state: int,
            stability: float) -> None:
    from sqlalchemy import text

    db.execute(text("""
        INSERT INTO vocabulary (id, lemma, pos, translation, frequency_rank, cefr_level, example)
        VALUES (:word_id, 'mot' || :word_id, 'noun', 'word', :word_id, 'A1', '') ON CONFLICT DO NOTHING
    """), {"word_id": word_id})
    db.execute(text("""
        INSERT INTO cards (user_id, word_id, state, step, stability, difficulty, due, last_review, reps, lapses,
                           created_at)
        VALUES (:user_id, :word_id, 2, NULL, :stability, 5, :at, :at, 1, 0, :at)
        ON CONFLICT (user_id, word_id) DO UPDATE SET stability = :stability, last_review = :at
    """), {"user_id": user_id, "word_id": word_id, "stability": stability, "at": at})
    db.execute(text("""
        INSERT INTO review_logs (user_id, word_id, rating, reviewed_at, source, previous_state, result)
        VALUES (:user_id, :word_id, :rating, :at, 'review', :previous_state, CAST(:result AS jsonb))
    """), {"user_id": user_id, "word_id": word_id, "rating": rating, "at": at, "previous_state": previous_state,
           "result": json.dumps({"state": "review", "stability": stability})})


def _turn(db, user_id: uuid.UUID, at: datetime, categories: list[str], xp: int = 12) -> None:
    from sqlalchemy import text

    session_id = uuid.uuid4()
    db.execute(text("""
        INSERT INTO chat_sessions (id, user_id, mode, character_id, level, title, xp, turn_count, created_at,
                                   last_activity_at)
        VALUES (:id, :user_id, 'story', 'camille', 'A1', 't', 0, 0, :at, :at)
    """), {"id": session_id, "user_id": user_id, "at": at})
    db.execute(text("""
        INSERT INTO turns (id, session_id, user_id, status, suggested_word_ids, grammar, word_feedback, xp_awarded,
                           degraded, created_at, deadline_at, completed_at)
        VALUES (:id, :session_id, :user_id, 'complete', '[]', CAST(:grammar AS jsonb), '[]', :xp, false, :at,
                :at, :at)
    """), {"id": uuid.uuid4(), "session_id": session_id, "user_id": user_id, "at": at, "xp": xp,
           "grammar": json.dumps({"errors": [{"category": c} for c in categories]})})


def _events(user_id: uuid.UUID, event_type: str) -> list[dict]:
    from domain.redis_client import get_publisher

    return [e.data for e in get_publisher().replay(user_id, "0") if e.type == event_type]


def test_the_weekly_report_is_stored_and_published_once_when_the_local_week_ends(db_scope):
    from sqlalchemy import text

    from domain import weekly_report
    from domain.config import get_settings
    from domain.redis_client import get_publisher

    tokyo = ZoneInfo("Asia/Tokyo")
    week_start = date(2026, 11, 23)  # a Monday

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(week_start + timedelta(days=day), time(hour, minute), tokyo)

    with db_scope() as db:
        learner = _user(db, zone="Asia/Tokyo")
        idle = _user(db, zone="Asia/Tokyo")  # nothing practised: no report
        not_monday_yet = _user(db, zone="UTC")  # still Sunday there
        _review(db, learner, 1, at(-3, 10), rating=4, previous_state=0, stability=25)  # known before the week
        _review(db, learner, 2, at(5, 10), rating=4, previous_state=0, stability=30)  # known in it
        _review(db, learner, 3, at(6, 23, 50), rating=3, previous_state=2, stability=10)  # Sunday night
        _turn(db, learner, at(4, 18), ["gender", "gender", "agreement"])
        _review(db, not_monday_yet, 1, at(5, 10), rating=3, previous_state=0, stability=3)
    monday_night = datetime.combine(week_start + timedelta(days=7), time(0, 30), tokyo)

    assert weekly_report.run(get_settings(), get_publisher(), now=monday_night) == 1
    assert weekly_report.run(get_settings(), get_publisher(), now=monday_night + timedelta(minutes=20)) == 0

    with db_scope() as db:
        rows = db.execute(text("SELECT user_id, announced_at FROM weekly_reports")).all()
        [report] = weekly_report.reports(db, user_id=learner)
    assert [row.user_id for row in rows] == [learner] and rows[0].announced_at is not None
    assert {key: report[key] for key in report if key not in ("id", "created_at")} == {
        "week_start": "2026-11-23", "week_end": "2026-11-29", "reviews": 2, "retention": 1.0,
        "recall_attempts": 1, "turns": 1, "minutes": 1.0, "xp": 12 + 2, "words_known": 2,
        "words_known_delta": 1, "streak_days": 2,
        "top_error_categories": [{"category": "gender", "errors": 2}, {"category": "agreement", "errors": 1}]}
    assert _events(learner, "weekly_report") == [{"report": report}]
    assert _events(idle, "weekly_report") == [] and _events(not_monday_yet, "weekly_report") == []


def test_concurrent_checks_unlock_an_achievement_once_with_one_event(db_scope):
    from domain import achievements
    from domain.config import get_settings
    from domain.redis_client import get_publisher

    with db_scope() as db:
        learner = _user(db, zone="UTC")
        _turn(db, learner, datetime.now(timezone.utc), [])
    start = threading.Barrier(2)
    unlocked: list[list[str]] = []

    def check() -> None:
        start.wait()
        with db_scope() as db:
            unlocked.append(achievements.check(db, get_settings(), user_id=learner))
        with db_scope() as db:
            achievements.announce(db, get_publisher(), user_id=learner)

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(unlocked) == [[], ["first_turn"]]
    with db_scope() as db:
        listed = {a["code"]: a["unlocked_at"] for a in achievements.listing(db, user_id=learner)}
        assert achievements.check(db, get_settings(), user_id=learner) == []  # a later check: nothing new
    assert [code for code, when in listed.items() if when] == ["first_turn"]
    events = eventually(lambda: _events(learner, "achievement_unlocked"), "the achievement's event")
    assert [e["achievement"]["code"] for e in events] == ["first_turn"]


def test_each_measured_achievement_unlocks_at_its_threshold_and_not_before(db_scope):
    from domain import achievements
    from domain.config import get_settings

    settings, now = get_settings(), datetime.now(timezone.utc)
    known = settings.words_known_stability_days
    with db_scope() as db:
        week, six_days, hundred, ninety_nine = (_user(db, zone="UTC") for _ in range(4))
        for learner, days in ((week, 7), (six_days, 6)):
            for day in range(days):
                _review(db, learner, 900_001 + day, now - timedelta(days=day), rating=3, previous_state=2,
                        stability=1.0)
        for learner, words in ((hundred, 100), (ninety_nine, 99)):
            for index in range(words):
                _review(db, learner, 900_100 + index, now - timedelta(minutes=index), rating=3, previous_state=2,
                        stability=known)
    with db_scope() as db:
        unlocked = {learner: achievements.check(db, settings, user_id=learner)
                    for learner in (week, six_days, hundred, ninety_nine)}
        again = {learner: achievements.check(db, settings, user_id=learner) for learner in unlocked}
    assert unlocked == {week: ["streak_7"], six_days: [], hundred: ["words_known_100", "reviews_100"],
                        ninety_nine: []}
    assert again == {learner: [] for learner in unlocked}


def test_a_new_review_shows_at_once_after_the_analytics_were_read(learner):
    """The review log's part is kept by each review (review_days): a new review counts at once."""
    first, second = word_ids(learner, 2)

    def reviews_today() -> int:
        response = learner.get("/api/v1/progress/analytics", params={"days": 7})
        assert response.status_code == 200, response.text
        return response.json()["reviews_per_day"][-1]["reviews"]

    assert learner.post("/api/v1/progress/review", {"word_id": first, "rating": 2}).status_code == 200
    assert reviews_today() == reviews_today() == 1
    assert learner.post("/api/v1/progress/review", {"word_id": second, "rating": 2}).status_code == 200
    assert reviews_today() == 2


def test_a_new_finished_turn_shows_at_once_after_the_analytics_were_read(stack, learner):
    """The turns' series are cached under the version of the window's finished turns."""
    session = learner.new_session()
    started = datetime.combine(datetime.now(timezone.utc).date(), time.min, timezone.utc)  # the learner's today (UTC)

    def today() -> tuple[int, dict[str, int]]:
        response = learner.get("/api/v1/progress/analytics", params={"days": 7})
        assert response.status_code == 200, response.text
        found = response.json()
        return found["practice_per_day"][-1]["turns"], found["error_categories_per_week"][-1]["categories"]

    words = " ".join(["mot"] * 10)
    seed_turns(stack, learner, session["id"], [(started, words, ["gender"], "complete")])
    assert today() == today() == (1, {"gender": 1})  # the second read is the cached one
    seed_turns(stack, learner, session["id"], [(started + timedelta(minutes=2), words, ["gender", "tense"],
                                                "complete")])
    assert today() == (2, {"gender": 2, "tense": 1})
