"""The turn pipeline's stages, as the workers run them.

Grammar, moderation and the reply start together on their own queues. The reply holds
its text back until moderation has spoken (a flagged message gets a kind redirect, never
an in-character reply); the offline provider also waits for the grammar result, because
it recasts the learner's mistakes from it. Whichever stage stores the last result
finalizes the turn in the same task, saving a queue hop.

Stages tell each other they are done through a Redis list per turn and stage (a
doorbell); the database stays the source of truth, so a lost doorbell only costs a
short wait.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis

from domain import conversations, outbox, turns
from domain.characters import CharacterLibrary
from domain.config import Settings
from domain.db import session_scope
from domain.events import EventPublisher
from domain.language import check_grammar, moderate
from domain.llm.offline import OfflineProvider, ReplyRequest, kind_redirect
from domain.models import ChatSession, Turn, utcnow
from domain.streaming import DeltaCoalescer

log = logging.getLogger(__name__)

_DOORBELL_TTL_SECONDS = 600


@dataclass
class Pipeline:
    settings: Settings
    redis: redis.Redis
    publisher: EventPublisher
    characters: CharacterLibrary
    provider: OfflineProvider

    # --- stages -----------------------------------------------------------------

    def run_grammar(self, turn_id: uuid.UUID) -> None:
        self._run_analysis(turn_id, "grammar", lambda text: check_grammar(text).to_dict(),
                           turns.record_grammar, "grammar_feedback")

    def run_moderation(self, turn_id: uuid.UUID) -> None:
        self._run_analysis(turn_id, "moderation", lambda text: moderate(text).to_dict(),
                           turns.record_moderation, "moderation_feedback")

    def run_reply(self, turn_id: uuid.UUID) -> None:
        lease = self.settings.stage_lease_seconds
        with session_scope() as db:
            attempt = turns.claim_reply(db, turn_id, lease)
            if attempt is None:
                ready = turns.is_ready(db, turn_id)
            else:
                context = self._reply_context(db, turn_id)
        if attempt is None:
            if ready:
                self.finalize(turn_id)
            return

        stages = self._wait_for(turn_id, ("moderation", "grammar"))
        moderation = stages.get("moderation") or moderate(context["user_text"]).to_dict()
        grammar = stages.get("grammar") or {"errors": [], "corrected_text": None}
        request = ReplyRequest(
            character=context["character"],
            level=context["level"],
            history=context["history"],
            user_message=context["user_text"],
            corrections=grammar["errors"],
            corrected_text=grammar["corrected_text"],
        )
        if moderation["flagged"]:
            pieces = iter([kind_redirect(context["character"].target_language, context["level"], str(turn_id))])
        else:
            pieces = self.provider.stream_reply(request)

        reply = self._stream(turn_id, context, attempt, pieces)
        if reply is None:
            return  # our lease ran out and another attempt owns the reply now
        with session_scope() as db:
            write = turns.record_reply(db, turn_id, attempt=attempt, reply=reply, provider=self.provider.name)
        if write.ready:
            self.finalize(turn_id)

    def finalize(self, turn_id: uuid.UUID) -> None:
        with session_scope() as db:
            turn = turns.finalize_turn(db, turn_id)
            view = turns.present_turn(turn) if turn is not None else None
        if turn is not None:
            self.publisher.publish(turn.user_id, "turn_result", {"session_id": view["session_id"], "turn": view})

    # --- recovery (beat) ----------------------------------------------------------

    def sweep(self, dispatch: Any) -> dict[str, int]:
        """Re-publish lost work, finish stalled turns, fail overdue ones. `dispatch(kind,
        ref_id)` sends an outbox entry's tasks to the broker."""
        with session_scope() as db:
            due = outbox.claim_due(db, older_than_seconds=self.settings.outbox_republish_after_seconds)
        for kind, ref_id in due:
            dispatch(kind, ref_id)
        with session_scope() as db:
            stalled = turns.stalled_ready_turn_ids(db, older_than=utcnow() - timedelta(seconds=self.settings.stage_lease_seconds))
        for turn_id in stalled:
            self.finalize(turn_id)
        with session_scope() as db:
            failed = [turns.present_turn(t) for t in turns.fail_overdue_turns(db)]
            owners = {t["id"]: db.get(Turn, uuid.UUID(t["id"])).user_id for t in failed}
        for view in failed:
            self.publisher.publish(owners[view["id"]], "turn_result", {"session_id": view["session_id"], "turn": view})
        return {"republished": len(due), "finalized": len(stalled), "failed": len(failed)}

    # --- helpers ------------------------------------------------------------------

    def _run_analysis(self, turn_id: uuid.UUID, stage: str, analyze: Any, record: Any, event_type: str) -> None:
        """Analyse the learner's text, store the result once, announce it, ring the doorbell."""
        text = self._pending_user_text(turn_id, stage_column=stage)
        if text is None:
            return
        result = analyze(text)
        with session_scope() as db:
            write = record(db, turn_id, result)
            turn = db.get(Turn, turn_id)
            user_id, session_id = turn.user_id, turn.session_id
        if write.won:
            self.publisher.publish(user_id, event_type, {"session_id": str(session_id), "turn_id": str(turn_id), **result})
            self._ring(turn_id, stage)
        if write.ready:
            self.finalize(turn_id)

    def _pending_user_text(self, turn_id: uuid.UUID, *, stage_column: str) -> str | None:
        """The learner's text, or None when the turn is gone, finished, or this stage is
        already stored (a redelivery): then only make sure the turn gets finalized."""
        with session_scope() as db:
            turn = turns.load_turn(db, turn_id)
            if turn is None or turn.status != "pending":
                return None
            if getattr(turn, stage_column) is not None:
                ready = turns.is_ready(db, turn_id)
                message = None
            else:
                ready = False
                message = turn.message("user")
        if ready:
            self.finalize(turn_id)
        return message.content if message is not None else None

    def _reply_context(self, db: Any, turn_id: uuid.UUID) -> dict[str, Any]:
        turn = db.get(Turn, turn_id)
        session = db.get(ChatSession, turn.session_id)
        character = self.characters.get(session.character_id)
        if character is None:  # a character folder was removed after the session started
            character = self.characters.all()[0]
        return {
            "user_id": turn.user_id,
            "session_id": turn.session_id,
            "character": character,
            "level": session.level,
            "user_text": turn.message("user").content,
            "history": conversations.recent_history(db, session_id=session.id, before_turn=turn.id),
        }

    def _stream(self, turn_id: uuid.UUID, context: dict[str, Any], attempt: int, pieces: Any) -> str | None:
        """Publish the reply as coalesced `reply_delta` events, keeping our lease alive."""
        user_id, session_id = context["user_id"], str(context["session_id"])
        lease = self.settings.stage_lease_seconds

        def emit(delta: str, index: int) -> None:
            self.publisher.publish(user_id, "reply_delta", {"session_id": session_id, "turn_id": str(turn_id),
                                                            "delta": delta, "index": index, "attempt": attempt})

        coalescer = DeltaCoalescer(emit, min_interval=self.settings.reply_delta_min_interval_ms / 1000)
        renew_at = time.monotonic() + lease / 3
        delay = self.settings.offline_reply_chunk_delay_ms / 1000
        for piece in pieces:
            if delay:
                time.sleep(delay)
            coalescer.add(piece)
            if time.monotonic() >= renew_at:
                with session_scope() as db:
                    if not turns.renew_reply_lease(db, turn_id, attempt, lease):
                        return None
                renew_at = time.monotonic() + lease / 3
        coalescer.flush()
        return coalescer.text

    def _ring(self, turn_id: uuid.UUID, stage: str) -> None:
        key = _doorbell(turn_id, stage)
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, "1").expire(key, _DOORBELL_TTL_SECONDS).execute()

    def _wait_for(self, turn_id: uuid.UUID, stages: tuple[str, ...]) -> dict[str, Any]:
        """Stored results of `stages`, waiting up to STAGE_WAIT_SECONDS for missing ones."""
        deadline = time.monotonic() + self.settings.stage_wait_seconds
        while True:
            with session_scope() as db:
                turn = db.get(Turn, turn_id)
                found = {name: getattr(turn, name) for name in stages}
            missing = [name for name, value in found.items() if value is None]
            remaining = deadline - time.monotonic()
            if not missing or remaining <= 0:
                return found
            # Wake when a missing stage rings, re-checking the database at least each second.
            self.redis.blpop([_doorbell(turn_id, name) for name in missing], timeout=min(remaining, 1.0))


def _doorbell(turn_id: uuid.UUID, stage: str) -> str:
    return f"parlons:turn:{turn_id}:{stage}"
