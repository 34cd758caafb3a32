"""Progress a learner can see: their history as series by day and week, in their time zone.

Every series is aggregated in PostgreSQL over one learner's rows: four grouped
statements, the review log's read from a covering index alone, the turns' from
`(user_id, created_at)`. Days are the learner's local days; weeks start on Monday.

- reviews per day: every review (flashcards and words used in conversation, counted apart).
- true retention per week: reviews of cards in the review state recalled (rated hard or
  better) / all such reviews (FSRS's "true retention"; new and (re)learning cards excluded).
- cards by state / words known over time: rebuilt from the review log, not from the
  cards: each review's result (the card as it left it) holds from its day until the
  card's next review. A day counts the state after the last review up to its end. Only
  the days a span starts or ends are summed (then a running sum), so the cost follows
  the number of reviews, not reviews x days. Known: stability >= WORDS_KNOWN_STABILITY_DAYS.
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
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from domain.config import Settings
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
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]

    def weeks(self) -> list[date]:
        first = monday(self.first_day)
        return [first + timedelta(weeks=n) for n in range((monday(self.last_day) - first).days // 7 + 1)]

    def params(self, user_id: uuid.UUID) -> dict[str, Any]:
        return {"user_id": user_id, "tz": self.zone.key, "start": self.start, "end": self.end,
                "first_day": self.first_day}


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


_LOCAL_DAY = "CAST(timezone(:tz, {}) AS date)"

# The same as a day number (days since 1970-01-01, local), for the many rows of the review
# log: the epoch plus the zone's UTC offset, the offset of the last few periods of the
# zone (between its DST changes) given as parameters; older instants take timezone().
# About a third of the cost of timezone() per row.
OFFSET_PERIODS = 6
_EPOCH = date(1970, 1, 1)
_LOCAL_DAY_NUMBER = (
    "coalesce(CAST(floor((date_part('epoch', {0}) + CASE "
    + " ".join(f"WHEN {{0}} >= :period_{n} THEN :offset_{n}" for n in range(OFFSET_PERIODS))
    + " END) / 86400) AS int), CAST(timezone(:tz, {0}) AS date) - DATE '1970-01-01')")


@functools.lru_cache(maxsize=512)
def offset_periods(zone: ZoneInfo, until: date) -> tuple[tuple[datetime, int], ...]:
    """The zone's last OFFSET_PERIODS periods of one UTC offset up to `until`: (start,
    offset in seconds), newest first, padded with the oldest; a period without a change
    goes back four years at most."""
    def offset_at(second: int) -> int:
        return int(datetime.fromtimestamp(second, timezone.utc).astimezone(zone).utcoffset().total_seconds())

    periods: list[tuple[datetime, int]] = []
    moment = int(datetime.combine(until + timedelta(days=1), time.min, timezone.utc).timestamp())
    offset, unchanged_days = offset_at(moment), 0
    while len(periods) < OFFSET_PERIODS and unchanged_days < 366 * 4:
        earlier = moment - 86400
        if offset_at(earlier) == offset:
            moment, unchanged_days = earlier, unchanged_days + 1
            continue
        low, high = earlier, moment  # the change is in (low, high]: halve to the second
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if offset_at(middle) != offset else (low, middle)
        periods.append((datetime.fromtimestamp(high, timezone.utc), offset))
        moment, offset, unchanged_days = low, offset_at(low), 0
    if len(periods) < OFFSET_PERIODS:  # unchanged for four years: older instants take timezone()
        periods.append((datetime.fromtimestamp(moment, timezone.utc), offset))
    return tuple(periods + [periods[-1]] * (OFFSET_PERIODS - len(periods)))


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
    the review log's part through `cache` (see review_history) if given."""
    now = now or utcnow()
    window = Window.ending_today(learner_zone(db, user_id), days, now)
    history = review_history(db, settings, user_id=user_id, window=window, cache=cache)
    cards = cards_over_time(history, window)
    return {
        "days": days, "timezone": window.zone.key,
        "from": window.first_day.isoformat(), "to": window.last_day.isoformat(),
        "words_known_stability_days": settings.words_known_stability_days,
        "reviews_per_day": reviews_per_day(history, window),
        "retention_per_week": retention_per_week(history, window),
        "cards_by_state": [{key: day[key] for key in ("date", "learning", "review", "relearning")} for day in cards],
        "words_known": [{"date": day["date"], "known": day["known"]} for day in cards],
        "practice_per_day": practice_per_day(db, user_id=user_id, window=window),
        "error_categories_per_week": error_categories_per_week(db, user_id=user_id, window=window),
        "streak": streak_history(history, window),
        "cefr_estimate": cefr_estimate(db, settings, user_id=user_id, now=now),
    }


# --- the review log: per day, retention per week, streaks, cards by state, words known ----------

# One pass over the learner's review log, grouped by local day (at most two rows a day):
# - the day's reviews, those from conversations, and the recall attempts and recalls of
#   true retention (`days`), and the reviews of each day of the year before the window
#   (for streaks);
# - the changes of cards by state and of words known (`changes`): each review's result
#   (the card as it left it) holds from its day to the day of the card's next review
#   (excluded), so it adds 1 to its state (and to known) on its first day in the window
#   and takes it away on the day of the next review. A running sum gives each day's counts.
# Everything is read from the card index alone (ix_review_logs_card covers the columns,
# among them the result's state and stability, which PostgreSQL keeps as generated
# columns): no table row and no JSON is read. The local day is computed once per review
# and the next review's day is read with lead() in the index's order: no sort.
_REVIEW_LOG = text(f"""
    WITH logs AS (
        SELECT day, lead(day) OVER (PARTITION BY word_id ORDER BY reviewed_at) AS next_day,
               state_after AS state, stability_after >= :known_stability AS known, source, rating, previous_state
        FROM (SELECT word_id, reviewed_at, {_LOCAL_DAY_NUMBER.format("reviewed_at")} AS day, state_after,
                     stability_after,
                     source, rating, previous_state
              FROM review_logs WHERE user_id = :user_id AND reviewed_at < :end) reviews
    )
    SELECT greatest(day, :first_day) AS day,
           count(*) FILTER (WHERE day >= :first_day) AS reviews,
           count(*) FILTER (WHERE day >= :first_day AND source = 'conversation') AS from_conversation,
           count(*) FILTER (WHERE day >= :first_day AND previous_state = 2) AS recall_attempts,
           count(*) FILTER (WHERE day >= :first_day AND previous_state = 2 AND rating > 1) AS recalled,
           count(*) FILTER (WHERE holds AND state = 1) AS learning,
           count(*) FILTER (WHERE holds AND state = 2) AS review,
           count(*) FILTER (WHERE holds AND state = 3) AS relearning,
           count(*) FILTER (WHERE holds AND known) AS known
    FROM (SELECT *, next_day IS NULL OR (next_day > day AND next_day > :first_day) AS holds FROM logs) spans
    GROUP BY 1
    UNION ALL
    SELECT next_day, 0, 0, 0, 0, -count(*) FILTER (WHERE state = 1), -count(*) FILTER (WHERE state = 2),
           -count(*) FILTER (WHERE state = 3), -count(*) FILTER (WHERE known)
    FROM logs WHERE next_day > day AND next_day > :first_day
    GROUP BY next_day
    UNION ALL
    SELECT day, count(*), 0, 0, 0, 0, 0, 0, 0 FROM logs WHERE day < :first_day AND day >= :since_day GROUP BY day
""")
_SERIES = ("learning", "review", "relearning", "known")


@dataclass(frozen=True)
class DayReviews:
    reviews: int = 0
    from_conversation: int = 0
    recall_attempts: int = 0
    recalled: int = 0


@dataclass(frozen=True)
class ReviewHistory:
    days: dict[date, DayReviews]  # local day -> its reviews (the window's days with any, and the year before)
    changes: dict[date, Counter[str]]  # local day -> change of each state's cards and of known words


# The grouped rows are kept in Redis under the log's version: its number of reviews and
# the latest review time up to the window's end. Logs are only ever added (or deleted with
# their card), so a new review, even one dated in the past, changes the key, and a cached
# answer is never stale. A dashboard opened again, or switched between 30 and 365 days,
# then costs one index-only count instead of the whole log.
_LOG_VERSION = text("""
    SELECT count(*) AS reviews, max(reviewed_at) AS latest FROM review_logs
    WHERE user_id = :user_id AND reviewed_at < :end
""")
HISTORY_CACHE_SECONDS = 24 * 3600


def review_history(db: Session, settings: Settings, *, user_id: uuid.UUID, window: Window,
                   cache: redis.Redis | None = None) -> ReviewHistory:
    """The learner's review log, read once for the series below (through `cache` if given)."""
    key, rows = None, None
    if cache is not None:
        version = db.execute(_LOG_VERSION, {"user_id": user_id, "end": window.end}).one()
        key = (f"parlons:analytics:v1:{user_id}:{window.zone.key}:{window.first_day}:{window.last_day}:"
               f"{settings.words_known_stability_days}:{version.reviews}:{version.latest}")
        rows = _cached(cache, key)
    if rows is None:
        periods = offset_periods(window.zone, window.last_day)
        rows = [tuple(row) for row in db.execute(_REVIEW_LOG, {
            **window.params(user_id), "known_stability": settings.words_known_stability_days,
            "first_day": day_number(window.first_day),
            "since_day": day_number(window.first_day - timedelta(days=STREAK_LOOKBACK_DAYS)),
            **{f"period_{n}": start for n, (start, _) in enumerate(periods)},
            **{f"offset_{n}": offset for n, (_, offset) in enumerate(periods)}})]
        if cache is not None:
            _store(cache, key, rows)
    days: dict[date, DayReviews] = {}
    changes: dict[date, Counter[str]] = defaultdict(Counter)
    for number, reviews, from_conversation, recall_attempts, recalled, *series in rows:
        day = from_day_number(number)
        if reviews:  # before the window: only the reviews' count (for streaks)
            days[day] = DayReviews(reviews, from_conversation, recall_attempts, recalled)
        changes[day].update(dict(zip(_SERIES, series)))
    return ReviewHistory(days, changes)


def _cached(cache: redis.Redis, key: str) -> list[Any] | None:
    try:
        found = cache.get(key)
    except redis.RedisError:  # the database answers alone
        return None
    return json.loads(found) if found is not None else None


def _store(cache: redis.Redis, key: str, rows: list[Any]) -> None:
    try:
        cache.set(key, json.dumps(rows), ex=HISTORY_CACHE_SECONDS)
    except redis.RedisError:
        pass


def reviews_per_day(history: ReviewHistory, window: Window) -> list[dict[str, Any]]:
    return [{"date": day.isoformat(), "reviews": row.reviews if row else 0,
             "from_conversation": row.from_conversation if row else 0}
            for day, row in ((day, history.days.get(day)) for day in window.days())]


def retention_per_week(history: ReviewHistory, window: Window) -> list[dict[str, Any]]:
    """Recalled / attempts of review-state cards, per local week (weeks cut by the window
    count only the window's days)."""
    recalled: Counter[date] = Counter()
    attempts: Counter[date] = Counter()
    for day in window.days():
        row = history.days.get(day)
        if row is not None:
            recalled[monday(day)] += row.recalled
            attempts[monday(day)] += row.recall_attempts
    return [{"week_start": week.isoformat(), "recalled": recalled[week], "attempts": attempts[week],
             "retention": round(recalled[week] / attempts[week], 4) if attempts[week] else None}
            for week in window.weeks()]


def streak_history(history: ReviewHistory, window: Window) -> list[dict[str, Any]]:
    """The streak at the end of each day: consecutive review days ending that day (0 on a
    day without reviews). The last entry is today's, which the stats' streak counts from
    yesterday while today has no review yet."""
    reviewed = set(history.days)
    eve = window.first_day - timedelta(days=1)
    running = streak(reviewed, today=eve) if eve in reviewed else 0
    series = []
    for day in window.days():
        running = running + 1 if day in reviewed else 0
        series.append({"date": day.isoformat(), "streak": running})
    return series


def cards_over_time(history: ReviewHistory, window: Window) -> list[dict[str, Any]]:
    """Per local day: cards learning, in review, relearning, and words known, at the day's end."""
    running: Counter[str] = Counter()
    series = []
    for day in window.days():
        running.update(history.changes.get(day, {}))
        series.append({"date": day.isoformat(), **{key: running[key] for key in _SERIES}})
    return series


# --- practice: turns and minutes per day, error categories per week ----------------------------

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
    return [{"date": day.isoformat(), "turns": int(found[day].turns) if day in found else 0,
             "minutes": round(float(found[day].minutes), 1) if day in found else 0.0} for day in window.days()]


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
