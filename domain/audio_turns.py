"""Spoken turns: a recording sent as a turn (POST /sessions/{id}/messages, multipart field
`audio`), transcribed on the `llm` queue before the turn's pipeline.

Accepting (the web process, api/sessions/submit.py): the upload is checked as for
/audio/transcriptions (domain/audio.py), the learner's `turns` and `audio` quotas are
counted, and one statement (domain/turns.py submit_turn) stores the turn (`pending`, no
user message yet), its recording (turn_audio) and an outbox entry of kind `turn_audio`.
The 202 follows; the recording is in PostgreSQL, so nothing acknowledged is lost.

Transcribing (`turns.transcribe`, here): the task holds the entry's lease while it calls
the provider, so a redelivered or re-sent task finds the work held or gone: one paid call
per turn (a worker killed mid-call costs at most one repeat, as for every stage). Then one
statement, fenced by the claim, makes the transcript the turn's user message (dated when
the turn was accepted), drops the recording and the `turn_audio` entry, and writes the
turn's own entry (kind `turn`); the analysis is sent with it, and from there the turn
runs the pipeline of a typed one.

Failing: a recording the provider refuses (a 4xx), an empty or over-long transcript, or
a worker without speech to text fails the turn at once, with a clear error and its
`turn_result`. A transient failure (5xx, timeout, lost connection, 429) lets the entry
go: the sweeper sends it again after its backoff and buries it after OUTBOX_MAX_ATTEMPTS
(the turn then fails as `processing_failed`). The turn's deadline (TURN_DEADLINE_SECONDS
from its acceptance) covers the transcription too.
"""
from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import delete, text

from domain import audio, outbox, tasks, turns
from domain.db import session_scope, statement_scope
from domain.errors import UpstreamFailed
from domain.models import OutboxEntry, TurnAudio, utcnow

if TYPE_CHECKING:
    from domain.turn_pipeline import TurnPipeline

log = logging.getLogger(__name__)

OUTBOX_KIND = outbox.TURN_AUDIO

STT_UNAVAILABLE = {"code": "stt_unavailable",
                   "message": "Speech to text is not available on this server; type the message instead."}
REFUSED = {"code": "transcription_failed",
           "message": "The recording could not be transcribed (the provider could not read it); record it again."}
EMPTY = {"code": "transcription_empty", "message": "No speech was heard in the recording; record it again."}

# The recording to transcribe and what the analysis will need, while the turn is pending.
_RECORDING = text("""
    SELECT t.user_id, t.session_id, s.character_id, s.level, u.native_language, t.suggested_word_ids,
           t.target_words, a.content, a.mime
    FROM turn_audio a
    JOIN turns t ON t.id = a.turn_id
    JOIN chat_sessions s ON s.id = t.session_id
    JOIN users u ON u.id = t.user_id
    WHERE a.turn_id = :turn_id AND t.status = 'pending'
""")
# The transcript stored, in one statement: only by the current claim's holder (its DELETE
# of the entry is the fence), and only into a turn still pending and without a message.
_TRANSCRIBED = text("""
    WITH held AS (
        DELETE FROM outbox WHERE kind = :audio_kind AND ref_id = :turn_id AND claims = :claim
        RETURNING ref_id
    ), pending AS (
        SELECT t.id, t.session_id, t.created_at FROM turns t JOIN held ON held.ref_id = t.id
        WHERE t.status = 'pending'
        FOR UPDATE OF t
    ), message AS (
        INSERT INTO messages (id, session_id, turn_id, role, content, created_at)
        SELECT :message_id, session_id, id, 'user', :content, created_at FROM pending
        ON CONFLICT ON CONSTRAINT uq_messages_turn_role DO NOTHING
        RETURNING turn_id
    ), recording AS (
        DELETE FROM turn_audio WHERE turn_id IN (SELECT ref_id FROM held)
    ), next_stage AS (
        -- Stamped as published: the analysis is sent after this commits (or by the sweeper).
        INSERT INTO outbox (kind, ref_id, created_at, last_published_at, publish_attempts, claims)
        SELECT :turn_kind, turn_id, :now, :now, 1, 0 FROM message
        ON CONFLICT ON CONSTRAINT uq_outbox_kind_ref DO NOTHING
    )
    SELECT EXISTS (SELECT 1 FROM message)
""")


def transcribe(pipeline: TurnPipeline, turn_id: uuid.UUID) -> None:
    """The `turns.transcribe` task's work: transcribe the spoken turn's recording once,
    then start its pipeline (or fail it, for good reasons only)."""
    settings = pipeline.runtime.settings
    with outbox.holding(OUTBOX_KIND, turn_id, settings.stage_lease_seconds) as claim:
        if claim is None:
            return  # transcribed already, or another delivery is transcribing it
        with statement_scope() as db:
            row = db.execute(_RECORDING, {"turn_id": turn_id}).first()
        if row is None:  # the turn is no longer pending (its deadline passed): nothing left to do
            with session_scope() as db:
                outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[turn_id])
                db.execute(delete(TurnAudio).where(TurnAudio.turn_id == turn_id))
            return
        if not audio.openai_enabled(settings):
            _fail(pipeline, turn_id, claim, STT_UNAVAILABLE)
            return
        try:
            transcript = audio.transcribe_recording(settings, row.content, row.mime).replace("\x00", "")
        except audio.TranscriptionRefused:
            _fail(pipeline, turn_id, claim, REFUSED)
            return
        except UpstreamFailed:  # worth asking again: the entry is let go, the sweeper re-sends it
            log.warning("transcription of turn %s failed; the sweeper will try again", turn_id)
            return
        if not transcript:
            _fail(pipeline, turn_id, claim, EMPTY)
            return
        if len(transcript) > settings.max_message_chars:
            _fail(pipeline, turn_id, claim, {
                "code": "transcript_too_long",
                "message": f"The recording says more than a message may hold ({settings.max_message_chars} "
                           "characters); record a shorter one."})
            return
        with statement_scope() as db:
            stored = db.execute(_TRANSCRIBED, {
                "audio_kind": OUTBOX_KIND, "turn_kind": turns.OUTBOX_KIND, "turn_id": turn_id, "claim": claim,
                "message_id": uuid.uuid4(), "content": transcript, "now": utcnow()}).scalar()
    if not stored:
        return  # our claim was taken over (the lease ran out), or the turn failed meanwhile
    given = turns.AnalysisInput.of_turn(
        pipeline.runtime.characters, row.character_id, user_id=row.user_id, session_id=row.session_id,
        text=transcript, level=row.level, native_language=row.native_language,
        suggested_word_ids=list(row.suggested_word_ids or ()), target_word_ids=turns.target_word_ids(row.target_words))
    try:
        pipeline.runtime.send_task(tasks.TURN_ANALYSE, [str(turn_id)], {"known": given.to_dict()})
    except Exception:  # the broker is away: the turn's entry, unstamped, is the sweeper's to send
        log.warning("analysis of spoken turn %s left to the outbox sweeper", turn_id, exc_info=True)
        with statement_scope() as db:
            outbox.unstamp(db, kind=turns.OUTBOX_KIND, ref_id=turn_id)


def _fail(pipeline: TurnPipeline, turn_id: uuid.UUID, claim: int, error: dict[str, str]) -> None:
    """Fail the turn for good (if our claim still holds it) and announce its turn_result."""
    with session_scope() as db:
        held = db.execute(delete(OutboxEntry).where(OutboxEntry.kind == OUTBOX_KIND, OutboxEntry.ref_id == turn_id,
                                                    OutboxEntry.claims == claim)).rowcount
        if not held:
            return
        db.execute(delete(TurnAudio).where(TurnAudio.turn_id == turn_id))
        turn = turns.fail_turn(db, turn_id, error)
        if turn is None:
            return
        user_id, view = turn.user_id, turns.present_turn(turn)
    log.info("spoken turn %s failed: %s", turn_id, error["code"])
    pipeline.announce_result(user_id, view)
