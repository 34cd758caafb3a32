"""The Journey: a path of open questions per CEFR level, each answer scored by a tutor.

The curriculum is in `prompts/journey/<level>.yaml` (units of questions, each with what
a good answer covers and the French lemmas that show it) and is re-read when it changes.
An answer is stored with an outbox entry (so a 202 is never lost); the `nlp` worker
analyses it, then the `llm` worker scores it once: with a model, through a strict JSON
schema (asked again once if the answer is invalid); otherwise, or if the model fails
twice, by the offline scorer below. The result is stored and published as
`journey_scored`. A unit is passed when every one of its questions has a best score of
at least PASS_SCORE; answers can be retried.

Before scoring, the `llm` worker moderates the answer (domain/moderation.py, once, under
the answer's claim; the verdict is stored with it). A flagged answer is not scored and
no model is asked to: it is finished with status `flagged`, a NULL score and feedback
saying why, announced like a scored one, and left out of the best scores.
"""
from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from domain import announcements, cefr, outbox, prompt_files, tasks
from domain import moderation as moderation_check
from domain.cefr import normalize_level
from domain.db import session_scope, statement_scope, until_available
from domain.ids import parse_uuid
from domain.errors import NotFound
from domain.language import analyse_answer
from domain.llm.base import ChatRequest
from domain.models import JourneyAnswer, User, utcnow
from domain.runtime import SIDE_CALL_SECONDS, Runtime
from domain import achievements, xp  # progress: XP for a scored answer, then an achievements check

if TYPE_CHECKING:
    from domain.quotas import Quotas

log = logging.getLogger(__name__)

OUTBOX_KIND = outbox.JOURNEY
PASS_SCORE = 70
NOT_SCORED = "moderation"  # the `provider` of an answer moderation kept from scoring
ANSWER_MAX_CHARS = 5000
LEVELS = cefr.LEVELS[:-1]  # no C2 units: C2 learners take the C1 ones
# The offline score: how much of what was asked is there, how correct it is, and whether
# it is long enough for the level.
COVERAGE_WEIGHT, ACCURACY_WEIGHT, LENGTH_WEIGHT = 0.6, 0.25, 0.15
ERRORS_PER_TEN_WORDS_AT_ZERO = 4.0  # accuracy falls linearly to 0 at this error density

SCORE_SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "feedback": {"type": "string", "description": "Two or three sentences for the learner."},
        "corrections": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"wrong": {"type": "string"}, "correction": {"type": "string"},
                               "explanation": {"type": "string"}},
                "required": ["wrong", "correction", "explanation"],
                "additionalProperties": False,
            },
        },
        "covered_points": {"type": "array", "items": {"type": "string"},
                           "description": "The expected points the answer covers, copied exactly."},
    },
    "required": ["score", "feedback", "corrections", "covered_points"],
    "additionalProperties": False,
}


# --- the curriculum -------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    unit_id: str
    level: str
    prompt: str
    context: str
    min_words: int
    expected: tuple[tuple[str, frozenset[str]], ...]  # (point, lemmas that show it)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "unit_id": self.unit_id, "level": self.level, "prompt": self.prompt,
                "context": self.context, "min_words": self.min_words,
                "expected_points": [point for point, _ in self.expected]}


@dataclass(frozen=True)
class Unit:
    id: str
    level: str
    title: str
    summary: str
    questions: tuple[Question, ...]


def units() -> list[Unit]:
    """Every unit, A1 first, in the files' order."""
    found = []
    for level in LEVELS:
        data = prompt_files.yaml_data(prompt_files.prompts_dir() / "journey" / f"{level.lower()}.yaml")
        for unit in data["units"]:
            questions = tuple(Question(
                id=q["id"], unit_id=unit["id"], level=level, prompt=q["prompt"], context=q["context"],
                min_words=int(q["min_words"]),
                expected=tuple((p["point"], frozenset(w.lower() for w in p["words"])) for p in q["expected"]))
                for q in unit["questions"])
            found.append(Unit(id=unit["id"], level=level, title=unit["title"], summary=unit["summary"],
                              questions=questions))
    return found


def question(question_id: str) -> Question:
    for unit in units():
        for candidate in unit.questions:
            if candidate.id == question_id:
                return candidate
    raise NotFound("No such question.", code="question_not_found")


def find_unit(unit_id: str) -> Unit | None:
    return next((unit for unit in units() if unit.id == unit_id), None)


def _curriculum_level(level: str) -> str:
    """The learner's level on the journey (C2 learners take the C1 units)."""
    upper = normalize_level(level).upper()
    return upper if upper in LEVELS else LEVELS[-1]


# --- the learner's side (web) -------------------------------------------------------------


def submit_answer(db: Session, *, user_id: uuid.UUID, question_id: str, answer: str) -> JourneyAnswer:
    """Store an answer and its outbox entry (in the caller's transaction)."""
    asked = question(question_id)
    stored = JourneyAnswer(id=uuid.uuid4(), user_id=user_id, question_id=asked.id, unit_id=asked.unit_id,
                           level=asked.level, answer=answer.strip(), degraded=False, created_at=utcnow())
    db.add(stored)
    outbox.add(db, OUTBOX_KIND, stored.id, stored.created_at)
    db.flush()
    return stored


def accept_answer(*, user_id: uuid.UUID, question_id: str, answer: str, quotas: Quotas) -> dict[str, Any]:
    """A learner's answer: counted against their quota (RateLimited over it: nothing is
    stored), then stored with its outbox entry. Returns its view; the caller starts the
    scoring (of `view["id"]`) once this has committed."""
    quotas.spend(user_id, "journey_answers")
    with session_scope() as db:
        return present_answer(submit_answer(db, user_id=user_id, question_id=question_id, answer=answer))


def _status(answer: JourneyAnswer) -> str:
    if answer.scored_at is None:
        return "pending"
    return "flagged" if answer.score is None else "scored"


def present_answer(answer: JourneyAnswer) -> dict[str, Any]:
    result = answer.result or {}
    return {
        "id": str(answer.id),
        "question_id": answer.question_id,
        "unit_id": answer.unit_id,
        "level": answer.level,
        "answer": answer.answer,
        "status": _status(answer),
        "score": answer.score,
        "passed": None if answer.score is None else answer.score >= PASS_SCORE,
        "feedback": result.get("feedback"),
        "corrections": result.get("corrections", []),
        "covered_points": result.get("covered_points", []),
        "missing_points": result.get("missing_points", []),
        "provider": answer.provider,
        "degraded": answer.degraded,
        "created_at": answer.created_at.isoformat(),
        "scored_at": answer.scored_at.isoformat() if answer.scored_at else None,
        "moderation": answer.moderation,
    }


def get_answer(db: Session, *, user_id: uuid.UUID, answer_id: str | uuid.UUID) -> dict[str, Any]:
    answer = db.get(JourneyAnswer, parse_uuid(answer_id, "answer"))
    if answer is None or answer.user_id != user_id:
        raise NotFound("No such answer.", code="answer_not_found")
    return present_answer(answer)


def _best_scores(db: Session, user_id: uuid.UUID) -> dict[str, int | None]:
    """question id -> best score (None: answered, not scored yet). Answers finished
    without a score (flagged by moderation) do not count as answered."""
    counted = or_(JourneyAnswer.score.is_not(None), JourneyAnswer.scored_at.is_(None))
    rows = db.execute(select(JourneyAnswer.question_id, func.max(JourneyAnswer.score))
                      .where(JourneyAnswer.user_id == user_id, counted).group_by(JourneyAnswer.question_id)).all()
    return dict(rows)


def unit_progress(db: Session, *, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every unit with the learner's progress in it."""
    best = _best_scores(db, user_id)
    return [_unit_view(unit, best) for unit in units()]


def passed_units(db: Session, *, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """The units each of these learners has passed, as `unit_progress` counts them (every
    question of the unit with a best score of at least PASS_SCORE), in one query."""
    passed_questions: dict[uuid.UUID, set[str]] = {user_id: set() for user_id in user_ids}
    if passed_questions:
        rows = db.execute(select(JourneyAnswer.user_id, JourneyAnswer.question_id).distinct()
                          .where(JourneyAnswer.user_id.in_(list(passed_questions)),
                                 JourneyAnswer.score >= PASS_SCORE))
        for user_id, question_id in rows:
            passed_questions[user_id].add(question_id)
    every = units()
    return {user_id: {unit.id for unit in every if all(q.id in questions for q in unit.questions)}
            for user_id, questions in passed_questions.items()}


def _average(scores: list[int | None]) -> float | None:
    scored = [s for s in scores if s is not None]
    return round(sum(scored) / len(scored), 1) if scored else None


def _unit_view(unit: Unit, best: dict[str, int | None]) -> dict[str, Any]:
    scores = [best.get(q.id) for q in unit.questions]
    passed = [s for s in scores if s is not None and s >= PASS_SCORE]
    return {"id": unit.id, "level": unit.level, "title": unit.title, "summary": unit.summary,
            "question_count": len(unit.questions),
            "answered_count": sum(1 for q in unit.questions if q.id in best),
            "passed_count": len(passed), "passed": len(passed) == len(unit.questions),
            "average_best_score": _average(scores)}


def next_question(db: Session, *, user: User) -> dict[str, Any]:
    """The first question at the learner's level not yet answered, or answered without
    passing (and not waiting for its score); null when every one is passed."""
    level = _curriculum_level(user.level)
    best = _best_scores(db, user.id)
    for unit in units():
        if unit.level != level:
            continue
        for candidate in unit.questions:
            if candidate.id not in best or (best[candidate.id] is not None and best[candidate.id] < PASS_SCORE):
                return {"level": level, "unit": _unit_view(unit, best), "question": candidate.to_dict(),
                        "best_score": best.get(candidate.id)}
    return {"level": level, "unit": None, "question": None, "best_score": None}


def progress(db: Session, *, user: User) -> dict[str, Any]:
    """The learner's journey in figures, overall and per level."""
    best = _best_scores(db, user.id)
    views = [_unit_view(unit, best) for unit in units()]
    by_level = {}
    for level in LEVELS:
        mine = [v for v in views if v["level"] == level]
        by_level[level] = {"units": len(mine), "units_passed": sum(v["passed"] for v in mine),
                           "questions": sum(v["question_count"] for v in mine),
                           "questions_passed": sum(v["passed_count"] for v in mine)}
    answers = db.scalar(select(func.count()).where(JourneyAnswer.user_id == user.id))
    return {"level": _curriculum_level(user.level), "answers": answers,
            "questions_answered": sum(v["answered_count"] for v in views),
            "questions_passed": sum(v["passed_count"] for v in views),
            "units_passed": sum(v["passed"] for v in views), "units": len(views),
            "average_best_score": _average(list(best.values())), "by_level": by_level}


# --- scoring (workers) ------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    answer_id: uuid.UUID
    user_id: uuid.UUID
    question: Question
    answer: str
    native_language: str | None
    analysis: dict[str, Any] | None
    moderation: dict[str, Any] | None = None  # the answer's verdict, once checked


def pending_answer(db: Session, answer_id: uuid.UUID) -> AnswerInput | None:
    """An answer still to score; None once scored, or finished unscored (or gone)."""
    row = db.execute(select(JourneyAnswer, User.native_language).join(User, User.id == JourneyAnswer.user_id)
                     .where(JourneyAnswer.id == answer_id, JourneyAnswer.scored_at.is_(None))).first()
    if row is None:
        return None
    stored, native_language = row
    return AnswerInput(answer_id=answer_id, user_id=stored.user_id, question=question(stored.question_id),
                       answer=stored.answer, native_language=native_language, analysis=stored.analysis,
                       moderation=stored.moderation)


def store_analysis(db: Session, answer_id: uuid.UUID, analysis: dict[str, Any]) -> None:
    db.execute(update(JourneyAnswer).where(JourneyAnswer.id == answer_id, JourneyAnswer.analysis.is_(None))
               .values(analysis=analysis))


def store_score(db: Session, answer_id: uuid.UUID, score: int, result: dict[str, Any], *, provider: str,
                degraded: bool) -> JourneyAnswer | None:
    """Write the score once and end the outbox entry (in the caller's transaction);
    the answer if this call scored it, None if another delivery did."""
    written = db.execute(update(JourneyAnswer).where(JourneyAnswer.id == answer_id, JourneyAnswer.scored_at.is_(None))
                         .values(score=score, result=result, provider=provider, degraded=degraded,
                                 scored_at=utcnow()).returning(JourneyAnswer.id)).first()
    if written is None:
        return None
    outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[answer_id])
    xp.award_journey_answer(db, answer_id, score)
    return db.get(JourneyAnswer, answer_id, populate_existing=True)


def store_moderation(db: Session, answer_id: uuid.UUID, verdict: dict[str, Any]) -> None:
    db.execute(update(JourneyAnswer).where(JourneyAnswer.id == answer_id, JourneyAnswer.moderation.is_(None))
               .values(moderation=verdict))


def store_not_scored(db: Session, given: AnswerInput) -> JourneyAnswer | None:
    """Finish a flagged answer without a score, once, and end the outbox entry (in the
    caller's transaction); the answer if this call finished it, None if another did."""
    categories = ", ".join(given.moderation["categories"]) or "unsafe content"
    result = {"feedback": f"This answer was not scored: moderation flagged it ({categories}). "
                          "Answer the question again, keeping to its topic.",
              "corrections": [], "covered_points": [], "missing_points": []}
    written = db.execute(update(JourneyAnswer)
                         .where(JourneyAnswer.id == given.answer_id, JourneyAnswer.scored_at.is_(None))
                         .values(result=result, provider=NOT_SCORED, degraded=False, scored_at=utcnow())
                         .returning(JourneyAnswer.id)).first()
    if written is None:
        return None
    outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[given.answer_id])
    return db.get(JourneyAnswer, given.answer_id, populate_existing=True)


def scoring_request(given: AnswerInput) -> ChatRequest:
    asked = given.question
    system = prompt_files.text("journey/scoring.txt").format(
        level=asked.level, prompt=asked.prompt, context=asked.context, min_words=asked.min_words,
        points="\n".join(f"- {point}" for point, _ in asked.expected))
    return ChatRequest(system=system, messages=[{"role": "user", "content": given.answer}], max_tokens=700,
                       temperature=0, learner_id=given.user_id)


def model_result(given: AnswerInput, answer: dict[str, Any] | None) -> tuple[int, dict[str, Any]] | None:
    """A model's answer (already valid against SCORE_SCHEMA) as (score, result); None
    when it names points the question does not have."""
    if answer is None:
        return None
    expected = [point for point, _ in given.question.expected]
    covered = list(dict.fromkeys(answer["covered_points"]))
    if any(point not in expected for point in covered):
        return None
    corrections = [{"original": c["wrong"], "correction": c["correction"], "message": c["explanation"]}
                   for c in answer["corrections"] if c["wrong"].strip() and c["wrong"] != c["correction"]]
    return answer["score"], {"feedback": answer["feedback"].strip(), "corrections": corrections,
                             "covered_points": covered,
                             "missing_points": [point for point in expected if point not in covered]}


def offline_score(given: AnswerInput) -> tuple[int, dict[str, Any]]:
    """The score from the language analysis: the expected points whose lemmas the
    answer contains, its grammar error density, and its length against the question's
    minimum; with feedback written from those findings."""
    analysis = given.analysis or {"errors": [], "lemmas": [], "word_count": len(given.answer.split())}
    asked = given.question
    lemmas = set(analysis["lemmas"])
    covered = [point for point, words in asked.expected if words & lemmas]
    missing = [point for point, _ in asked.expected if point not in covered]
    words_written = max(analysis["word_count"], 1)
    errors = analysis["errors"]
    coverage = len(covered) / len(asked.expected)
    density = 10 * len(errors) / words_written
    accuracy = max(0.0, 1 - density / ERRORS_PER_TEN_WORDS_AT_ZERO)
    length = min(1.0, analysis["word_count"] / asked.min_words)
    score = round(100 * (COVERAGE_WEIGHT * coverage + ACCURACY_WEIGHT * accuracy + LENGTH_WEIGHT * length))
    corrections = [{"original": given.answer[e["start"]:e["end"]], "correction": e["suggestions"][0],
                    "message": e["message"]} for e in errors if e.get("suggestions")]
    return score, {"feedback": _feedback(covered, missing, len(errors), analysis["word_count"], asked),
                   "corrections": corrections, "covered_points": covered, "missing_points": missing}


def _feedback(covered: list[str], missing: list[str], errors: int, word_count: int, asked: Question) -> str:
    sentences = []
    if covered:
        sentences.append(f"You covered: {'; '.join(covered)}.")
    if missing:
        sentences.append(f"Still missing: {'; '.join(missing)}.")
    if errors == 0:
        sentences.append("No grammar or spelling mistakes found.")
    else:
        sentences.append(f"{errors} mistake{'s' if errors > 1 else ''} to correct: see the corrections.")
    if word_count < asked.min_words:
        sentences.append(f"Write a little more: at least {asked.min_words} words for this question "
                         f"(you wrote {word_count}).")
    return " ".join(sentences)


def scored_event(answer: JourneyAnswer) -> dict[str, Any]:
    """The `journey_scored` event's data (DESIGN §5)."""
    return {"answer": present_answer(answer)}


ANNOUNCED = announcements.Announced("journey_scored", JourneyAnswer, JourneyAnswer.scored_at,
                                    JourneyAnswer.scored_at.is_not(None), scored_event)


# --- the workers' side: analysing (`nlp`), scoring (`llm`) ------------------------------

def analyse(runtime: Runtime, answer_id: uuid.UUID) -> None:
    """Analyse an answer (on `nlp`), then have it scored (on `llm`)."""
    with statement_scope() as db:
        given = pending_answer(db, answer_id)
    if given is None:
        return  # scored already (a redelivery)
    if given.analysis is None:
        analysis = analyse_answer(given.answer, "fr", given.native_language)
        with statement_scope() as db:
            store_analysis(db, answer_id, analysis)
    runtime.send_task(tasks.JOURNEY_SCORE, [str(answer_id)], {})


def score(runtime: Runtime, answer_id: uuid.UUID) -> None:
    """Moderate an analysed answer, then score it (unless flagged) once and publish it
    as `journey_scored`."""
    with statement_scope() as db:
        given = pending_answer(db, answer_id)
    if given is None or given.analysis is None:
        return  # scored already, or not analysed yet (the outbox sweeper starts over)
    with outbox.holding(OUTBOX_KIND, answer_id, runtime.settings.stage_lease_seconds) as claim:
        if claim is None:
            return  # another delivery is scoring it
        given = _moderated(runtime, given)
        scored = None if given.moderation["flagged"] else _score(runtime, given)

        def store() -> dict[str, Any] | None:
            with session_scope() as db:
                if scored is None:  # flagged: finished without a score
                    answer = store_not_scored(db, given)
                else:
                    points, result, provider, degraded = scored
                    answer = store_score(db, answer_id, points, result, provider=provider, degraded=degraded)
                return scored_event(answer) if answer is not None else None

        data = until_available(store)
    if data is not None:
        announcements.announce(runtime.publisher, ANNOUNCED, given.user_id, answer_id, data)
        achievements.request_check(runtime.send_task, given.user_id)


def _moderated(runtime: Runtime, given: AnswerInput) -> AnswerInput:
    """The answer with its moderation verdict: the stored one, or checked now (by the
    claim's holder: one paid call) and stored before it is scored."""
    if given.moderation is not None:
        return given
    verdict = moderation_check.verdict(runtime.chain, given.answer, deadline=time.monotonic() + SIDE_CALL_SECONDS)

    def store() -> None:
        with statement_scope() as db:
            store_moderation(db, given.answer_id, verdict)

    until_available(store)
    return dataclasses.replace(given, moderation=verdict)


def _score(runtime: Runtime, given: AnswerInput) -> tuple[int, dict[str, Any], str, bool]:
    """(score, result, who scored, degraded): the model, asked again once when its
    answer is invalid; else the offline scorer (degraded if a model was configured)."""
    def valid(answer: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        found = model_result(given, answer)
        if found is None:
            raise ValueError("not a usable score")
        return found

    done = runtime.chain.complete(scoring_request(given), schema=SCORE_SCHEMA, parse=valid, attempts=2,
                                  seconds=SIDE_CALL_SECONDS, offline=lambda: offline_score(given))
    if done.degraded:
        log.warning("no provider scored journey answer %s; scored offline", given.answer_id)
    return (*done.value, done.provider, done.degraded)
