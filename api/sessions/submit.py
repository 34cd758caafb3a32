"""Accepting a learner's message, hint request, penpal letter or journey answer: the
learner's quota is counted, the work stored (with its outbox entry), then started, the
same way from REST and from the socket. Over a quota: RateLimited (429, or an `error`
frame on the socket), nothing stored and nothing enqueued."""
from __future__ import annotations

import functools
import logging
import uuid

import flask
import redis

from api.runtime import characters
from domain import audio, greetings, hints, journey, outbox, penpal, sandbox, session_summary, turns
from domain.config import get_settings
from domain.db import session_scope, statement_scope
from domain.models import ChatSession, User
from domain.quotas import get_quotas
from domain.redis_client import get_publisher, get_redis
from workers.dispatch import dispatch_best_effort, hint_after_speech

log = logging.getLogger(__name__)


def accept_message(*, user_id: uuid.UUID, session_id: str, content: str, client_message_id: str | None,
                   suggested_word_ids: list[int], after_response: bool = False) -> tuple[dict, bool]:
    """Persist the turn (with its outbox entry); then, best effort, announce
    the turn and start the pipeline — once the HTTP response is sent if `after_response`,
    so the client gets its 202 at once. Returns (turn view, created)."""
    get_quotas().spend(user_id, "turns")
    with statement_scope() as db:  # one atomic statement: no transaction around it
        submitted = turns.submit_turn(
            db, user_id=user_id, session_id=session_id, content=content.strip(),
            client_message_id=client_message_id, suggested_word_ids=suggested_word_ids,
            deadline_seconds=get_settings().turn_deadline_seconds,
        )
    if submitted.created:
        # The turn is safe in Postgres now. If what follows is lost (the process dies),
        # the outbox sweeper publishes the work.
        _soon(functools.partial(_start_pipeline, user_id, submitted, suggested_word_ids), after_response)
    return submitted.view, submitted.created


def accept_spoken_message(*, user_id: uuid.UUID, session_id: str, recording: turns.Recording,
                          client_message_id: str | None, suggested_word_ids: list[int],
                          after_response: bool = False) -> tuple[dict, bool]:
    """Persist a spoken turn: the turn (pending, no message yet), its recording and its
    `turn_audio` outbox entry; then, best effort, announce it and start its transcription
    (domain/audio_turns.py), which starts the pipeline. Counts the `turns` quota and, for
    the paid transcription, the `audio` one. Returns (turn view, created)."""
    get_quotas().spend(user_id, "turns")
    audio.spend(user_id)
    with statement_scope() as db:
        submitted = turns.submit_turn(
            db, user_id=user_id, session_id=session_id, content=None, audio=recording,
            client_message_id=client_message_id, suggested_word_ids=suggested_word_ids,
            deadline_seconds=get_settings().turn_deadline_seconds,
        )
    if submitted.created:
        _soon(functools.partial(_start_transcription, user_id, submitted), after_response)
    return submitted.view, submitted.created


def request_hints(*, user_id: uuid.UUID, session_id: str, after_response: bool = False) -> dict:
    """Store a hint request (with its outbox entry), then start producing it; the
    suggestions follow as a `hint` event. Returns the pending hint's view."""
    get_quotas().spend(user_id, "hints")
    with session_scope() as db:
        view = hints.present_hint(hints.request_hints(db, user_id=user_id, session_id=session_id))
    _soon(functools.partial(dispatch_best_effort, hints.OUTBOX_KIND, view["id"]), after_response)
    return view


def start_greeting(session: ChatSession, *, after_response: bool = False) -> None:
    """After a story session's commit: publish its greeting if it was written with it
    (the sweeper does, if this publish is lost), else start its writing (its outbox entry
    was committed with the session: the sweeper sends it if this publish is lost)."""
    if session.greeting is None:
        _soon(functools.partial(dispatch_best_effort, greetings.OUTBOX_KIND, session.id), after_response)
        return
    try:  # the session and its greeting are committed: a failed publish is the sweeper's to redo
        greetings.announce(get_publisher(), session.user_id, session.greeting)
    except Exception:
        log.warning("greeting of session %s left to the sweeper (Redis or the database unavailable)", session.id,
                    exc_info=True)


def announce_ended(ended: session_summary.Ended) -> None:
    """Publish a just-ended session's `session_summary` (after its commit); if Redis is
    away, the sweeper publishes it from the stored summary."""
    try:  # the summary is committed: a failed publish is the sweeper's to redo
        ended.announce(get_publisher())
    except Exception:
        log.warning("session_summary for %s left to the sweeper (Redis or the database unavailable)",
                    ended.session_id, exc_info=True)


def accept_letter(*, user: User, character_id: str, body: str, subject: str | None,
                  after_response: bool = False) -> dict:
    """Store a penpal letter with its reply-to-be, then start the reply's writing (the
    outbox sweeper does, if this publish is lost). Returns {letter, reply_expected_at}."""
    view, reply_id = penpal.accept_letter(user=user, characters=characters(), settings=get_settings(),
                                          quotas=get_quotas(), character_id=character_id, body=body, subject=subject)
    _soon(functools.partial(dispatch_best_effort, penpal.OUTBOX_KIND, reply_id), after_response)
    return view


def accept_answer(*, user_id: uuid.UUID, question_id: str, answer: str, after_response: bool = False) -> dict:
    """Store a journey answer, then start its scoring; the score follows as a
    `journey_scored` event and in GET /journey/answers/{id}."""
    view = journey.accept_answer(user_id=user_id, question_id=question_id, answer=answer, quotas=get_quotas())
    _soon(functools.partial(dispatch_best_effort, journey.OUTBOX_KIND, view["id"]), after_response)
    return view


def accept_transcript(*, user_id: uuid.UUID, session_id: str, role: str, text: str,
                      after_response: bool = False) -> dict:
    """Store a transcript segment; after the learner's, start the debounced hint."""
    get_quotas().spend(user_id, "transcripts")
    with session_scope() as db:
        segment = sandbox.add_segment(db, user_id=user_id, session_id=session_id, role=role, text=text)
        view = sandbox.present_segment(segment)
    if role == "user":
        _soon(functools.partial(_hint_when_quiet, segment.session_id, segment.id), after_response)
    return view


def _hint_when_quiet(session_id: uuid.UUID, segment_id: int) -> None:
    try:  # a hint is a courtesy: without Redis or the broker the transcript is still stored
        sandbox.note_learner_speech(get_redis(), session_id, segment_id)
        hint_after_speech(session_id, segment_id, delay=get_settings().transcript_hint_delay_seconds)
    except Exception:
        log.warning("no hint for transcript segment %s (Redis or broker unavailable)", segment_id, exc_info=True)


def _soon(start, after_response: bool) -> None:
    """Run `start` now, or once the HTTP response is sent, so the client gets its 202 at once."""
    if not after_response:
        start()
        return

    @flask.after_this_request
    def _start_when_sent(response: flask.Response) -> flask.Response:
        response.call_on_close(start)
        return response


def _start_transcription(user_id: uuid.UUID, submitted: turns.Submission) -> None:
    view = submitted.view
    try:
        get_publisher().publish(user_id, "turn_accepted", {"session_id": view["session_id"], "turn": view})
    except redis.RedisError:
        log.warning("turn_accepted for %s not published (Redis unavailable)", submitted.turn_id)
    dispatch_best_effort(outbox.TURN_AUDIO, submitted.turn_id)  # domain/audio_turns.py


def _start_pipeline(user_id: uuid.UUID, submitted: turns.Submission, suggested_word_ids: list[int]) -> None:
    view = submitted.view
    try:  # first, so turn_accepted reaches sockets before any stage's event
        get_publisher().publish(user_id, "turn_accepted", {"session_id": view["session_id"], "turn": view})
    except redis.RedisError:
        log.warning("turn_accepted for %s not published (Redis unavailable)", submitted.turn_id)
    known = submitted.analysis_input(characters(), user_id=user_id, suggested_word_ids=suggested_word_ids)
    dispatch_best_effort(turns.OUTBOX_KIND, submitted.turn_id, known.to_dict())
