"""Progress a learner can see: their history as series by day and week, in their time zone.

Every series is aggregated in PostgreSQL over one learner's rows: the review log's from
`review_days`, its rollup by local day kept in each review's transaction (a row a day;
see count_review), the turns' grouped from `(user_id, created_at)` (and kept in Redis
under the version of the window's finished turns: turn_series). Days are the learner's
local days; weeks start on Monday.

- reviews per day: every review (flashcards and words used in conversation, counted apart).
- true retention per week: reviews of cards in the review state recalled (rated hard or
  better) / all such reviews (FSRS's "true retention"; new and (re)learning cards excluded).
- cards by state / words known over time: rebuilt from the review log, not from the
  cards: each review's result (the card as it left it) holds from its day until the
  card's next review. A day counts the state after the last review up to its end. Each
  review adds its result and takes away the card's previous one on its day (then a
  running sum), so the cost follows the days, not reviews x days. Known: stability >=
  WORDS_KNOWN_STABILITY_DAYS.
- turns and minutes practised per day: finished turns. A session's turns form stretches:
  a turn more than PRACTICE_GAP after the previous one ended starts a new stretch; a
  stretch lasts from its first turn to its last turn's completion, at least a minute, and
  counts on the day it started.
- error categories per week: the categories of the grammar errors found in the turns.
- streak per day: consecutive days with a review ending that day (the rule of the stats'
  streak: domain/srs/reviews.streak).
- CEFR estimate: see `cefr_estimate`.
"""
from __future__ import annotations

import functools
import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from domain.config import Settings
from domain.db import session_scope
from domain.models import utcnow
from domain.srs.reviews import streak

LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
DEFAULT_DAYS = 30
MAX_DAYS = 366
PRACTICE_GAP = timedelta(minutes=10)  # a longer pause between turns starts a new stretch
STREAK_LOOKBACK_DAYS = 366  # review days read before the window, so its first days' streaks are right
# The CEFR estimate (see cefr_estimate)
BAND_COVERAGE = 0.6  # share of a band's words known for the band to count as reached
HIGH_ERROR_DENSITY = 8.0  # errors per 100 words over the last DENSITY_DAYS: one band lower
DENSITY_DAYS = 30
DENSITY_MIN_WORDS = 50  # fewer words written than this: the density is not used


@dataclass(frozen=True)
class Window:
    """Local days first_day..last_day (inclusive) in the learner's time zone."""
    zone: ZoneInfo
    first_day: date
    last_day: date

    @classmethod
    def ending_today(cls, zone: ZoneInfo, days: int, now: datetime) -> "Window":
        today = now.astimezone(zone).date()
        return cls(zone, today - timedelta(days=days - 1), today)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, self.zone)

    def days(self) -> list[date]:
        return self._days

    def dates(self) -> list[str]:
        """days() in ISO format (the answer's keys)."""
        return self._dates

    @functools.cached_property
    def _days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]

    @functools.cached_property
    def _dates(self) -> list[str]:
        return [day.isoformat() for day in self._days]

    def weeks(self) -> list[date]:
        first = monday(self.first_day)
        return [first + timedelta(weeks=n) for n in range((monday(self.last_day) - first).days // 7 + 1)]

    def params(self, user_id: uuid.UUID) -> dict[str, Any]:
        return {"user_id": user_id, "tz": self.zone.key, "start": self.start, "end": self.end,
                "first_day": self.first_day}


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


_LOCAL_DAY = "CAST(timezone(:tz, {}) AS date)"

_EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    return (day - _EPOCH).days


def from_day_number(number: int) -> date:
    return _EPOCH + timedelta(days=number)


_TIMEZONE = text("SELECT timezone FROM users WHERE id = :user_id")


def learner_zone(db: Session, user_id: uuid.UUID) -> ZoneInfo:
    try:
        return ZoneInfo(db.scalar(_TIMEZONE, {"user_id": user_id}) or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def analytics(db: Session, settings: Settings, *, user_id: uuid.UUID, days: int = DEFAULT_DAYS,
              now: datetime | None = None, cache: redis.Redis | None = None) -> dict[str, Any]:
    """Every series over the last `days` local days (today included), and the CEFR estimate;
    the turns' series through `cache` if given (see turn_series)."""
    now = now or utcnow()
    window = Window.ending_today(learner_zone(db, user_id), days, now)
    history = review_history(db, settings, user_id=user_id, window=window)
    cards = cards_over_time(history, window)
    practice, error_categories = turn_series(db, user_id=user_id, window=window, cache=cache)
    return {
        "days": days, "timezone": window.zone.key,
        "from": window.first_day.isoformat(), "to": window.last_day.isoformat(),
        "words_known_stability_days": settings.words_known_stability_days,
        "reviews_per_day": reviews_per_day(history, window),
        "retention_per_week": retention_per_week(history, window),
        "cards_by_state": [{key: day[key] for key in ("date", "learning", "review", "relearning")} for day in cards],
        "words_known": [{"date": day["date"], "known": day["known"]} for day in cards],
        "practice_per_day": practice,
        "error_categories_per_week": error_categories,
        "streak": streak_history(history, window),
        "cefr_estimate": cefr_estimate(db, settings, user_id=user_id, now=now),
    }


# --- the review log: per day, retention per week, streaks, cards by state, words known ----------

# The review log grouped by the learner's local day, kept in `review_days` as reviews are
# made (one upsert per review, in its transaction: count_review), so a read takes about
# one row per day with reviews instead of the whole log. Per day: its reviews, those from
# conversations, the recall attempts and recalls of true retention, and the changes of
# cards by state and of words known: a review's result (the card as it left it) holds
# until the card's next review, so a review adds 1 to its result's state (and to known)
# and takes 1 from the card's previous result, on the review's day. The running sum of
# the changes up to a day gives its cards. The previous result comes from the log, not
# from the card (a refit reschedules the cards, not their logs): the rollup is always
# what a rebuild from the log gives.
#
# The same expressions serve the rebuild and the per-review upsert: each log with its
# local day (in the learner's zone) and the previous log of its card.
_LOGS = """
    SELECT CAST(timezone({zone}, reviewed_at) AS date) - DATE '1970-01-01' AS day,
           reviewed_at, id, source, previous_state, rating, state_after,
           stability_after >= :known_stability AS known_after,
           lag(state_after) OVER card AS state_before,
           lag(stability_after) OVER card >= :known_stability AS known_before
    FROM review_logs WHERE user_id = :user_id {only_card}
    WINDOW card AS (PARTITION BY word_id ORDER BY reviewed_at, id)
"""
_DAY_TOTALS = """
    SELECT CAST(:user_id AS uuid) AS user_id, day, count(*) AS reviews,
           count(*) FILTER (WHERE source = 'conversation') AS from_conversation,
           count(*) FILTER (WHERE previous_state = 2) AS recall_attempts,
           count(*) FILTER (WHERE previous_state = 2 AND rating > 1) AS recalled,
           count(*) FILTER (WHERE state_after = 1) - count(*) FILTER (WHERE state_before = 1) AS learning,
           count(*) FILTER (WHERE state_after = 2) - count(*) FILTER (WHERE state_before = 2) AS review,
           count(*) FILTER (WHERE state_after = 3) - count(*) FILTER (WHERE state_before = 3) AS relearning,
           count(*) FILTER (WHERE known_after) - count(*) FILTER (WHERE known_before) AS known
    FROM ({logs}) logs GROUP BY day
"""
_COLUMNS = ("reviews", "from_conversation", "recall_attempts", "recalled", "learning", "review", "relearning",
            "known")
_SERIES = ("learning", "review", "relearning", "known")

# After review() saved a log: the card's latest log added to its day. The learner's row is
# locked for the zone, so a time zone change (which rebuilds under that lock) either
# commits first, and this statement reads the new zone (a lock that waited returns the
# row as updated), or waits for this transaction and rebuilds with its review.
_COUNT_REVIEW = text(f"""
    WITH learner AS (SELECT timezone FROM users WHERE id = :user_id FOR NO KEY UPDATE)
    INSERT INTO review_days AS d (user_id, day, {", ".join(_COLUMNS)})
    {_DAY_TOTALS.format(logs=_LOGS.format(zone="(SELECT timezone FROM learner)", only_card="AND word_id = :word_id")
                        + " ORDER BY reviewed_at DESC, id DESC LIMIT 1")}
    ON CONFLICT (user_id, day) DO UPDATE SET {", ".join(f"{c} = d.{c} + EXCLUDED.{c}" for c in _COLUMNS)}
""")


def count_review(db: Session, settings: Settings, *, user_id: uuid.UUID, word_id: int) -> None:
    """Add the card's review just logged to the learner's review_days (review()'s transaction)."""
    db.execute(_COUNT_REVIEW, {"user_id": user_id, "word_id": word_id,
                               "known_stability": settings.words_known_stability_days})


# The whole rollup from the log, in one statement, and what it was built with. The
# learner's row is locked first (count_review locks it too), so no review commits
# between the log's read and the rows' write.
_LOCK_LEARNER = text("SELECT 1 FROM users WHERE id = :user_id FOR NO KEY UPDATE")
_REBUILD = text(f"""
    WITH totals AS ({_DAY_TOTALS.format(logs=_LOGS.format(zone="(SELECT timezone FROM users WHERE id = :user_id)",
                                                          only_card=""))}),
    cleared AS (
        DELETE FROM review_days d WHERE d.user_id = :user_id AND d.day NOT IN (SELECT day FROM totals)
    ), saved AS (
        INSERT INTO review_days AS d (user_id, day, {", ".join(_COLUMNS)}) SELECT * FROM totals
        ON CONFLICT (user_id, day) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS)}
    )
    INSERT INTO review_days_built AS b (user_id, timezone, known_stability_days, built_at)
    SELECT id, timezone, :known_stability, :now FROM users WHERE id = :user_id
    ON CONFLICT (user_id) DO UPDATE SET timezone = EXCLUDED.timezone,
        known_stability_days = EXCLUDED.known_stability_days, built_at = EXCLUDED.built_at
""")


def rebuild_review_days(db: Session, settings: Settings, *, user_id: uuid.UUID) -> None:
    """Rebuild the learner's review_days from their review log, in their current time zone
    and with the current known threshold (in the caller's transaction)."""
    db.execute(_LOCK_LEARNER, {"user_id": user_id})
    db.execute(_REBUILD, {"user_id": user_id, "known_stability": settings.words_known_stability_days,
                          "now": utcnow()})


# The window's days, the STREAK_LOOKBACK_DAYS before it (their reviews, for streaks), and
# one row (day NULL) with the sum of the changes before the window and whether the rows
# were built with the learner's zone and the current threshold (else: rebuilt, read again).
_REVIEW_DAYS = text(f"""
    SELECT day, {", ".join(_COLUMNS)}, true AS built FROM review_days
    WHERE user_id = :user_id AND day >= :since_day AND day <= :last_day
    UNION ALL
    SELECT NULL, 0, 0, 0, 0, {", ".join(f"coalesce(sum({c}), 0)" for c in _SERIES)},
           coalesce((SELECT b.timezone = u.timezone AND b.known_stability_days = :known_stability
                     FROM users u JOIN review_days_built b ON b.user_id = u.id WHERE u.id = :user_id), false)
    FROM review_days WHERE user_id = :user_id AND day < :first_day
""")


@dataclass(frozen=True)
class DayReviews:
    reviews: int = 0
    from_conversation: int = 0
    recall_attempts: int = 0
    recalled: int = 0


@dataclass(frozen=True)
class ReviewHistory:
    days: dict[date, DayReviews]  # local day -> its reviews (the window's days with any, and the year before)
    changes: dict[date, tuple[int, ...]]  # local day -> change of each _SERIES (cards by state, known words)


def review_history(db: Session, settings: Settings, *, user_id: uuid.UUID, window: Window) -> ReviewHistory:
    """The learner's review log by day, for the series below: read from review_days (built
    again first if the learner's zone or the known threshold changed since)."""
    params = {"user_id": user_id, "known_stability": settings.words_known_stability_days,
              "first_day": day_number(window.first_day), "last_day": day_number(window.last_day),
              "since_day": day_number(window.first_day - timedelta(days=STREAK_LOOKBACK_DAYS))}
    rows = db.execute(_REVIEW_DAYS, params).all()
    if not all(row.built for row in rows):
        with session_scope() as rebuilding:  # its own transaction: committed before the read
            rebuild_review_days(rebuilding, settings, user_id=user_id)
        rows = db.execute(_REVIEW_DAYS, params).all()
    days: dict[date, DayReviews] = {}
    changes: dict[date, tuple[int, ...]] = {}
    before: tuple[int, ...] = (0,) * len(_SERIES)
    for number, reviews, from_conversation, recall_attempts, recalled, *series, _ in rows:
        if number is None:  # the changes before the window: its first day starts from their sum
            before = tuple(series)
            continue
        day = from_day_number(number)
        days[day] = DayReviews(reviews, from_conversation, recall_attempts, recalled)
        if day >= window.first_day:
            changes[day] = tuple(series)
    changes[window.first_day] = tuple(map(sum, zip(before, changes.get(window.first_day, (0,) * len(_SERIES)))))
    return ReviewHistory(days, changes)


def reviews_per_day(history: ReviewHistory, window: Window) -> list[dict[str, Any]]:
    nothing = DayReviews()
    return [{"date": name, "reviews": row.reviews, "from_conversation": row.from_conversation}
            for name, row in zip(window.dates(), (history.days.get(day, nothing) for day in window.days()))]


def retention_per_week(history: ReviewHistory, window: Window) -> list[dict[str, Any]]:
    """Recalled / attempts of review-state cards, per local week (weeks cut by the window
    count only the window's days)."""
    weeks = window.weeks()
    recalled, attempts = [0] * len(weeks), [0] * len(weeks)
    for index, day in enumerate(window.days(), start=window.first_day.weekday()):  # index // 7: the day's week
        row = history.days.get(day)
        if row is not None and row.recall_attempts:
            recalled[index // 7] += row.recalled
            attempts[index // 7] += row.recall_attempts
    return [{"week_start": week.isoformat(), "recalled": recalled[n], "attempts": attempts[n],
             "retention": round(recalled[n] / attempts[n], 4) if attempts[n] else None}
            for n, week in enumerate(weeks)]


def streak_history(history: ReviewHistory, window: Window) -> list[dict[str, Any]]:
    """The streak at the end of each day: consecutive review days ending that day (0 on a
    day without reviews). The last entry is today's, which the stats' streak counts from
    yesterday while today has no review yet."""
    reviewed = set(history.days)
    eve = window.first_day - timedelta(days=1)
    running = streak(reviewed, today=eve) if eve in reviewed else 0
    series = []
    for day, name in zip(window.days(), window.dates()):
        running = running + 1 if day in reviewed else 0
        series.append({"date": name, "streak": running})
    return series


def cards_over_time(history: ReviewHistory, window: Window) -> list[dict[str, Any]]:
    """Per local day: cards learning, in review, relearning, and words known, at the day's end."""
    learning = review = relearning = known = 0
    series = []
    for day, name in zip(window.days(), window.dates()):
        change = history.changes.get(day)
        if change is not None:
            learning, review, relearning, known = (
                learning + change[0], review + change[1], relearning + change[2], known + change[3])
        series.append({"date": name, "learning": learning, "review": review, "relearning": relearning,
                       "known": known})
    return series


# --- practice: turns and minutes per day, error categories per week ----------------------------

# The turns' series are kept in Redis under the version of the window's finished turns:
# their number and latest completion. A turn is only ever added, and finished once (its
# grammar is written before it completes, and nothing changes it after), so a turn
# finishing changes the key and a cached answer is never stale. A read after new reviews,
# or read again, then costs one count over the window's turns instead of their grouping
# (two thirds of a year's read).
_TURNS_VERSION = text("""
    SELECT count(*) AS turns, max(completed_at) AS latest FROM turns
    WHERE user_id = :user_id AND status = 'complete' AND created_at >= :start AND created_at < :end
""")
TURNS_CACHE_SECONDS = 24 * 3600


def turn_series(db: Session, *, user_id: uuid.UUID, window: Window,
                cache: redis.Redis | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """practice_per_day and error_categories_per_week, through `cache` if given."""
    key = None
    if cache is not None:
        version = db.execute(_TURNS_VERSION, window.params(user_id)).one()
        key = (f"parlons:analytics:turns:v1:{user_id}:{window.zone.key}:{window.first_day}:{window.last_day}:"
               f"{version.turns}:{version.latest and version.latest.isoformat()}")
        found = _cached(cache, key)
        if found is not None:
            return found["practice"], found["errors"]
    practice = practice_per_day(db, user_id=user_id, window=window)
    errors = error_categories_per_week(db, user_id=user_id, window=window)
    if cache is not None:
        _store(cache, key, {"practice": practice, "errors": errors})
    return practice, errors


def _cached(cache: redis.Redis, key: str) -> Any:
    try:
        found = cache.get(key)
    except redis.RedisError:  # the database answers alone
        return None
    return json.loads(found) if found is not None else None


def _store(cache: redis.Redis, key: str, value: Any) -> None:
    try:
        cache.set(key, json.dumps(value), ex=TURNS_CACHE_SECONDS)
    except redis.RedisError:
        pass


_PRACTICE = text(f"""
    WITH mine AS (
        SELECT session_id, created_at, coalesce(completed_at, created_at) AS ended_at,
               coalesce(created_at - lag(coalesce(completed_at, created_at))
                        OVER (PARTITION BY session_id ORDER BY created_at) > :gap, true) AS starts_stretch
        FROM turns WHERE user_id = :user_id AND status = 'complete' AND kind = 'message'
          AND created_at >= :start AND created_at < :end
    ), numbered AS (
        SELECT *, count(*) FILTER (WHERE starts_stretch)
                  OVER (PARTITION BY session_id ORDER BY created_at) AS stretch FROM mine
    ), stretches AS (
        SELECT min(created_at) AS started_at, max(ended_at) AS ended_at, count(*) AS turns
        FROM numbered GROUP BY session_id, stretch
    )
    SELECT {_LOCAL_DAY.format("started_at")} AS day, sum(turns) AS turns,
           sum(greatest(date_part('epoch', ended_at - started_at) / 60, 1)) AS minutes
    FROM stretches GROUP BY day
""")


def practice_per_day(db: Session, *, user_id: uuid.UUID, window: Window) -> list[dict[str, Any]]:
    """Finished turns and minutes practised per local day (see the module's doc)."""
    found = {row.day: row for row in db.execute(_PRACTICE, {**window.params(user_id), "gap": PRACTICE_GAP})}
    return [{"date": name, "turns": int(found[day].turns) if day in found else 0,
             "minutes": round(float(found[day].minutes), 1) if day in found else 0.0}
            for day, name in zip(window.days(), window.dates())]


_ERROR_CATEGORIES = text("""
    SELECT CAST(date_trunc('week', timezone(:tz, t.created_at)) AS date) AS week,
           found.item ->> 'category' AS category, count(*) AS errors
    FROM turns t CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(t.grammar -> 'errors') = 'array' THEN t.grammar -> 'errors' ELSE '[]' END
    ) AS found(item)
    WHERE t.user_id = :user_id AND t.status = 'complete' AND t.created_at >= :start AND t.created_at < :end
    GROUP BY week, category
""")


def error_categories_per_week(db: Session, *, user_id: uuid.UUID, window: Window) -> list[dict[str, Any]]:
    """Per local week: grammar errors found in the learner's turns, by category (most first)."""
    weeks: dict[date, dict[str, int]] = defaultdict(dict)
    for row in db.execute(_ERROR_CATEGORIES, window.params(user_id)):
        weeks[row.week][row.category or "other"] = row.errors
    return [{"week_start": week.isoformat(),
             "categories": dict(sorted(weeks[week].items(), key=lambda item: (-item[1], item[0])))}
            for week in window.weeks()]


# --- the CEFR estimate ---------------------------------------------------------------------------

_BAND_COVERAGE = text("""
    SELECT v.cefr_level AS band, count(*) AS words, count(c.word_id) AS known
    FROM vocabulary v
    LEFT JOIN cards c ON c.user_id = :user_id AND c.word_id = v.id AND c.stability >= :known_stability
    GROUP BY v.cefr_level
""")
_ERROR_DENSITY = text("""
    SELECT coalesce(sum(CASE WHEN jsonb_typeof(t.grammar -> 'errors') = 'array'
                             THEN jsonb_array_length(t.grammar -> 'errors') ELSE 0 END), 0) AS errors,
           coalesce(sum(array_length(regexp_split_to_array(btrim(m.content), '\\s+'), 1)), 0) AS words
    FROM turns t JOIN messages m ON m.turn_id = t.id AND m.role = 'user'
    WHERE t.user_id = :user_id AND t.status = 'complete' AND t.created_at >= :since
""")

CEFR_METHOD = (
    "For each CEFR band (A1..C2, from the vocabulary's levels), the share of the band's words the learner "
    "knows (a card with stability >= words_known_stability_days). The estimate is the highest band whose "
    f"coverage is at least band_coverage ({BAND_COVERAGE:.0%}); it is lowered one band when the error density "
    f"of the last {DENSITY_DAYS} days of conversation (grammar errors per 100 words written) is at least "
    f"high_error_density ({HIGH_ERROR_DENSITY:g}), counted only from {DENSITY_MIN_WORDS} words written. "
    "null: no band reached yet (or A1 lowered).")


def cefr_estimate(db: Session, settings: Settings, *, user_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """The estimate with its method and every input it used."""
    coverage = {row.band: (row.known, row.words) for row in db.execute(
        _BAND_COVERAGE, {"user_id": user_id, "known_stability": settings.words_known_stability_days})}
    density = db.execute(_ERROR_DENSITY, {"user_id": user_id, "since": now - timedelta(days=DENSITY_DAYS)}).one()
    return estimate_level(coverage, errors=int(density.errors), words=int(density.words),
                          known_stability=settings.words_known_stability_days)


def estimate_level(coverage: dict[str, tuple[int, int]], *, errors: int, words: int,
                   known_stability: float) -> dict[str, Any]:
    """coverage: band -> (words known, words in the band). The rule of CEFR_METHOD."""
    bands = [{"band": band, "known": coverage.get(band, (0, 0))[0], "words": coverage.get(band, (0, 0))[1],
              "coverage": round(coverage[band][0] / coverage[band][1], 4) if coverage.get(band, (0, 0))[1] else None}
             for band in LEVELS]
    reached = [entry["band"] for entry in bands if entry["coverage"] is not None and entry["coverage"] >= BAND_COVERAGE]
    level = reached[-1] if reached else None
    density = round(errors * 100 / words, 2) if words >= DENSITY_MIN_WORDS else None
    lowered = level is not None and density is not None and density >= HIGH_ERROR_DENSITY
    if lowered:
        level = _band_below(level)
    return {"level": level, "lowered_for_errors": lowered, "method": CEFR_METHOD,
            "inputs": {"bands": bands, "errors": errors, "words_written": words, "error_density": density,
                       "thresholds": {"band_coverage": BAND_COVERAGE, "high_error_density": HIGH_ERROR_DENSITY,
                                      "density_days": DENSITY_DAYS, "density_min_words": DENSITY_MIN_WORDS,
                                      "words_known_stability_days": known_stability}}}


def _band_below(band: str) -> str | None:
    index = LEVELS.index(band)
    return LEVELS[index - 1] if index > 0 else None


def top_categories(weeks: Iterable[dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    """The most frequent error categories over some weeks of `error_categories_per_week`."""
    total: Counter[str] = Counter()
    for week in weeks:
        total.update(week["categories"])
    return [{"category": category, "errors": count}
            for category, count in sorted(total.items(), key=lambda item: (-item[1], item[0]))[:limit]]
