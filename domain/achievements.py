"""Achievements: a small catalogue of milestones, each unlocked once per learner.

`check` evaluates the rules of the achievements a learner has not unlocked yet (those
measured in SQL all in one statement) and inserts the ones now met with ON CONFLICT DO
NOTHING (the primary key is (user_id, code)), so two checks at once unlock each
achievement once. `announce` then publishes `achievement_unlocked` for every unlocked
row not yet marked announced, each with a key that remembers it (publish_once): a check
that dies between its commit and its publish leaves the event to the next check, and
two checks leave one event.

A check runs as the `achievements.check` task (queue `default`), requested best effort
after a session's first finished turn, a batch of flashcard reviews, a scored journey
answer and a sent letter (`request_check`). The conversation-reviews task, which runs after
every turn that used a word, checks in place, in its own transaction, only what those
reviews can bring (`AFTER_CONVERSATION_REVIEWS`): a turn costs no extra task, and one
statement measures them.
"""
from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from domain import tasks
from domain.config import Settings
from domain.db import session_scope
from domain.events import EventPublisher
from domain.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Measure:
    """A rule measured in SQL (`sql`: a scalar expression of :user_id and :known_stability)
    and judged by `met(value, settings)`: the rules a check considers are measured in one
    statement."""
    sql: str
    met: Callable[[Any, Settings], bool]


# A rule that needs more than one expression: a function of the check's transaction.
Rule = Callable[[Session, Settings, uuid.UUID], bool]


def _exists(sql: str) -> Measure:
    return Measure(f"EXISTS ({sql})", lambda value, settings: bool(value))


def _at_least(count: int, sql: str) -> Measure:
    """At least `count` rows of `sql` (counted no further than that)."""
    return Measure(f"(SELECT count(*) FROM ({sql} LIMIT {int(count)}) found)",
                   lambda value, settings: value >= count)


def _streak_of(days: int) -> Measure:
    """A review streak (domain/srs/reviews.streak) of at least `days` days, as the stats
    count it: the learner's today, then the days with a review lately, in their zone."""
    def met(value: list[Any], settings: Settings) -> bool:
        from domain.srs.reviews import streak

        return bool(value) and streak(value[1:], today=value[0]) >= days  # no today: no learner
    return Measure(f"""ARRAY(SELECT CAST(timezone(timezone, now()) AS date) FROM users WHERE id = :user_id)
        || ARRAY(SELECT DISTINCT CAST(timezone(u.timezone, r.reviewed_at) AS date)
                 FROM review_logs r JOIN users u ON u.id = r.user_id
                 WHERE r.user_id = :user_id AND r.reviewed_at >= now() - interval '{int(days) + 2} days')""", met)


def _words_known(count: int) -> Measure:
    return Measure(f"(SELECT count(*) FROM (SELECT 1 FROM cards WHERE user_id = :user_id "
                   f"AND stability >= :known_stability LIMIT {int(count)}) found)",
                   lambda value, settings: value >= count)


def _journey_unit_passed(db: Session, settings: Settings, user_id: uuid.UUID) -> bool:
    from domain.journey import unit_progress  # every question of a unit at or above its pass mark

    return any(unit["passed"] for unit in unit_progress(db, user_id=user_id))


@dataclass(frozen=True)
class Achievement:
    code: str
    title: str
    description: str
    rule: Measure | Rule


CATALOGUE: tuple[Achievement, ...] = (
    Achievement("first_turn", "First words", "Finish your first conversation turn.",
                _exists("SELECT 1 FROM turns WHERE user_id = :user_id AND status = 'complete' AND kind = 'message'")),
    Achievement("streak_7", "A week in a row", "Review on seven days in a row.", _streak_of(7)),
    Achievement("words_known_100", "A hundred words", "Know 100 words (stability of 21 days or more).",
                _words_known(100)),
    Achievement("reviews_100", "A hundred reviews", "Review 100 flashcards.",
                _at_least(100, "SELECT 1 FROM review_logs WHERE user_id = :user_id AND source = 'review'")),
    Achievement("pattern_retired", "Mistake mastered", "Retire a recurring mistake from your error notebook.",
                _exists("SELECT 1 FROM error_patterns WHERE user_id = :user_id AND state = 'retired'")),
    Achievement("journey_unit_passed", "Unit passed", "Pass every question of a journey unit.",
                _journey_unit_passed),
    Achievement("first_letter", "Dear penpal", "Send your first letter to a penpal.",
                _exists("SELECT 1 FROM penpal_letters WHERE user_id = :user_id AND author = 'learner'")),
)
BY_CODE = {achievement.code: achievement for achievement in CATALOGUE}
# What a turn's conversation reviews can unlock: review days and moved cards
# (`reviews_100` counts flashcard reviews only).
AFTER_CONVERSATION_REVIEWS = ("streak_7", "words_known_100")

_UNLOCKED = text("SELECT code, unlocked_at, announced_at FROM user_achievements WHERE user_id = :user_id")


@functools.cache
def _measuring(codes: tuple[str, ...]) -> Any:
    """One statement: the learner's unlocked codes, and the measure of each of `codes` not
    among them (a CASE branch's subquery runs only when taken)."""
    columns = "".join(f",\n CASE WHEN '{code}' = ANY(codes) THEN NULL ELSE ({BY_CODE[code].rule.sql}) END"
                      f" AS {code}" for code in codes)
    return text(f"""
        WITH unlocked AS (SELECT coalesce(array_agg(code), '{{}}') AS codes FROM user_achievements
                          WHERE user_id = :user_id)
        SELECT codes{columns} FROM unlocked""")


_UNLOCK = text("""
    INSERT INTO user_achievements (user_id, code, unlocked_at) VALUES (:user_id, :code, :now)
    ON CONFLICT (user_id, code) DO NOTHING RETURNING code
""")
_UNANNOUNCED = text("""
    SELECT code, unlocked_at FROM user_achievements
    WHERE user_id = :user_id AND announced_at IS NULL ORDER BY unlocked_at
""")
_MARK = text("UPDATE user_achievements SET announced_at = now() WHERE user_id = :user_id AND code = :code")


def check(db: Session, settings: Settings, *, user_id: uuid.UUID, codes: Iterable[str] | None = None) -> list[str]:
    """Unlock the achievements (among `codes`; all by default) whose rule is met now, in
    the caller's transaction; the codes this call unlocked."""
    considered = [a for a in CATALOGUE if codes is None or a.code in codes]
    measured = tuple(a.code for a in considered if isinstance(a.rule, Measure))
    row = db.execute(_measuring(measured), {"user_id": user_id,
                                            "known_stability": settings.words_known_stability_days}).one()
    now = utcnow()
    new = []
    for achievement in considered:
        if achievement.code in row.codes:
            continue
        rule = achievement.rule
        met = (rule.met(getattr(row, achievement.code), settings) if isinstance(rule, Measure)
               else rule(db, settings, user_id))
        if met and db.scalar(_UNLOCK, {"user_id": user_id, "code": achievement.code, "now": now}) is not None:
            new.append(achievement.code)
    return new


def check_and_announce(settings: Settings, publisher: EventPublisher, *, user_id: uuid.UUID,
                       codes: Iterable[str] | None = None) -> list[str]:
    """`check` (committed), then `announce`. A full check (`codes` None) always announces,
    so what an earlier check unlocked but died before announcing goes out; a narrow one
    announces only when it unlocked something."""
    with session_scope() as db:
        unlocked = check(db, settings, user_id=user_id, codes=codes)
    if unlocked or codes is None:
        with session_scope() as db:
            announce(db, publisher, user_id=user_id)
    return unlocked


def announce(db: Session, publisher: EventPublisher, *, user_id: uuid.UUID) -> int:
    """Publish `achievement_unlocked` for each unlocked, unannounced achievement (once per
    achievement), then mark it; the number published."""
    published = 0
    for row in db.execute(_UNANNOUNCED, {"user_id": user_id}).all():
        if publisher.publish_once(user_id, "achievement_unlocked", {"achievement": present(row.code, row.unlocked_at)},
                                  once_key=f"achievement_unlocked:{user_id}:{row.code}") is not None:
            published += 1
        db.execute(_MARK, {"user_id": user_id, "code": row.code})
    return published


def present(code: str, unlocked_at: Any) -> dict[str, Any]:
    achievement = BY_CODE[code]
    return {"code": code, "title": achievement.title, "description": achievement.description,
            "unlocked_at": unlocked_at.isoformat() if unlocked_at else None}


def listing(db: Session, *, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The catalogue, each with when the learner unlocked it (null: not yet)."""
    unlocked = {row.code: row.unlocked_at for row in db.execute(_UNLOCKED, {"user_id": user_id})}
    return [present(achievement.code, unlocked.get(achievement.code)) for achievement in CATALOGUE]


def request_check(send_task: Callable[[str, list, dict], None], user_id: uuid.UUID | str) -> None:
    """Ask for a check of the learner's achievements, best effort: a lost request is made
    good by the next one (the rules read the learner's whole history)."""
    try:
        send_task(tasks.ACHIEVEMENTS_CHECK, [str(user_id)], {})
    except Exception:
        log.warning("achievements check for %s not requested (broker unavailable)", user_id, exc_info=True)
