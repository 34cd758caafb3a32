"""A turn's stages, as the workers run them (the other features' background work lives in
their own modules: domain/hints.py, domain/penpal.py, domain/journey.py...).

A turn takes two hops. On `nlp` (prefork: CPU) the rules analyse the learner's message
in milliseconds; then on `llm` (gevent: waiting is cheap) one task holds the turn's
model-bound work through its outbox lease and runs it in parallel: moderation, the
model's grammar pass (when a model is configured) and the reply. The reply's request
starts while moderation is still out, and its text is held back until moderation has
spoken: a flagged message gets a kind redirect, never an in-character reply. Each stage
publishes its event the moment it is stored; whoever stores the last one finishes the
turn in the same task.

Every model call is made by the holder of the stage's lease (`domain/outbox.py`), so a
redelivered or re-sent task finds the work taken: one paid call per stage per turn.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from domain import announcements, logs, memory, metrics, notebook, outbox, prompt_files, tasks, turns
from domain.cefr import normalize_level
from domain.characters import Character
from domain.db import statement_scope, until_available
from domain.languages import language_name
from domain.language import analyse_message, llm_pass, words
from domain.language.error_patterns import ErrorPattern
from domain.llm.base import ChatRequest
from domain.llm.offline import ReplyRequest, kind_redirect
from domain.models import utcnow
from domain.moderation import verdict as moderation_verdict
from domain.runtime import SIDE_CALL_SECONDS, Runtime
from domain.srs import vocabulary
from domain.streaming import DeltaCoalescer
from domain import achievements

log = logging.getLogger(__name__)

T = TypeVar("T")

# Time kept, before a turn's deadline, for storing and announcing the reply: the
# providers must be done (or given up on) by then.
_FINISH_RESERVE_SECONDS = 2.0


@dataclass
class TurnPipeline:
    runtime: Runtime

    # --- a turn ---------------------------------------------------------------------

    def analyse_turn(self, turn_id: uuid.UUID, given: turns.AnalysisInput | None = None) -> None:
        """On `nlp`: the rules' analysis with the word feedback, then the turn's
        model-bound work on `llm`, handed that result. Without a model (or in a language
        the model's pass does not cover) the rules' result is the grammar stage's, stored
        here. `given` comes from the web process; the sweeper's re-sends read it back."""
        with statement_scope() as db:
            stored = turns.stage_input(db, turn_id) if given is None else None
        if given is None:
            if stored is None:  # finished (or failed) already: a re-sent entry has nothing left to do
                with statement_scope() as db:
                    outbox.finish(db, kind=turns.OUTBOX_KIND, ref_ids=[turn_id])
                return
            if stored.grammar is not None:  # analysed before: go on with what was stored
                self.runtime.send_task(tasks.TURN_RESPOND, [str(turn_id)], {"rules": stored.grammar})
                return
            given = stored.analysis_input(self.runtime.characters)
        rules = self._analyse(given)
        if not self._has_grammar_pass(given.language):
            self._store_stage(turn_id, given, "grammar", rules)
        self.runtime.send_task(tasks.TURN_RESPOND, [str(turn_id)], {"rules": rules})

    def _analyse(self, given: turns.AnalysisInput) -> dict[str, Any]:
        def find_words(lemmas: set[str]) -> list[vocabulary.InvolvedWord]:
            with statement_scope() as db:
                return vocabulary.involved_words(db, user_id=given.user_id, suggested_ids=given.suggested_word_ids,
                                                 lemmas=lemmas, target_ids=given.target_word_ids)

        return analyse_message(given.text, given.language, native_language=given.native_language,
                               find_words=find_words)

    def _has_grammar_pass(self, language: str) -> bool:
        return bool(self.runtime.chain.providers) and language == "fr"

    def respond(self, turn_id: uuid.UUID, rules: dict[str, Any]) -> None:
        """On `llm`: hold the turn's model-bound work and run what is not stored yet, in
        parallel — moderation, the model's grammar pass over `rules`, the reply — then
        finish the turn. A delivery that finds the work held or done does nothing."""
        lease_seconds = self.runtime.settings.stage_lease_seconds
        with statement_scope() as db:
            claim = turns.claim_model_work(db, turn_id, lease_seconds)
            if claim is not None and claim.reply_text is None:
                window = memory.load_window(db, session_id=claim.given.session_id, before_turn=turn_id,
                                            budget_tokens=self.runtime.settings.context_token_budget)
                repeated = notebook.repeated_patterns(db, user_id=claim.given.user_id, errors=rules["errors"],
                                                      text=claim.given.text)
        if claim is None:
            return  # done, or another delivery holds it (and finishes the turn)
        given = claim.given
        logs.bind(user_id=given.user_id, session_id=given.session_id)
        character = self.runtime.characters.for_session(given.character_id)
        finished = threading.Event()  # set by whichever of this task's stages finishes the turn
        with outbox.Lease(turns.OUTBOX_KIND, turn_id, claim.attempt, lease_seconds):
            moderation = self._moderation_stage(turn_id, given, finished)
            grammar: Future[dict[str, Any]] = _done(given.grammar or rules)
            if given.grammar is None and self._has_grammar_pass(character.target_language):
                grammar = _in_background(lambda: self._grammar_pass(turn_id, given, rules, finished))
            if claim.reply_text is None:
                reply = self._reply(turn_id, claim.attempt, given, character, window, rules, moderation, repeated)
                if self._store_reply(turn_id, reply, grammar, paid_until=_monotonic(given.deadline_at)):
                    finished.set()
            else:
                moderation.result()
            grammar.result()
            if not finished.is_set():
                with statement_scope() as db:
                    if not self._finalize(db, turn_id):
                        # A stage could not be stored (our claim was taken over?): the sweeper starts over.
                        outbox.release(db, kind=turns.OUTBOX_KIND, ref_id=turn_id, claim=claim.attempt)
        if claim.reply_text is None and window.needs_folding:  # after the turn is out: nobody waits for this
            self.fold_memory(given.session_id, character)

    def _moderation_stage(self, turn_id: uuid.UUID, given: turns.StageInput,
                          finished: threading.Event) -> Future[dict[str, Any]]:
        """The moderation verdict, stored and announced: at once with the local check, in
        the background with OpenAI's endpoint."""
        if given.moderation is not None:
            return _done(given.moderation)

        def verdict() -> dict[str, Any]:
            result = self._moderate(given.text, deadline=_monotonic(given.deadline_at) - _FINISH_RESERVE_SECONDS)
            self._store_stage(turn_id, given, "moderation", result, finished,
                              paid_until=_monotonic(given.deadline_at))
            return result

        return _in_background(verdict) if self.runtime.chain.openai is not None else _done(verdict())

    def _moderate(self, text: str, *, deadline: float) -> dict[str, Any]:
        """The one moderation verdict (domain/moderation.py): OpenAI's endpoint when the
        chain has OpenAI, else (and when it fails) the local check."""
        return moderation_verdict(self.runtime.chain, text, deadline=deadline)

    def _grammar_pass(self, turn_id: uuid.UUID, given: turns.StageInput, rules: dict[str, Any],
                      finished: threading.Event) -> dict[str, Any]:
        """Merge the model's corrections into the rules' and store the grammar stage. The
        model gets GRAMMAR_MODEL_SECONDS; without a valid answer, the rules stand alone."""
        found = llm_pass.llm_corrections(self.runtime.chain, given.text, given.level,
                                         deadline=time.monotonic() + self.runtime.settings.grammar_model_seconds,
                                         native_language=given.native_language, learner_id=given.user_id)
        result = rules
        if found:
            errors = llm_pass.merge(rules["errors"], found)
            result = {"errors": errors, "corrected_text": llm_pass.apply(given.text, errors),
                      "word_feedback": words.reassess(rules.get("word_feedback") or [], errors)}
        self._store_stage(turn_id, given, "grammar", result, finished, paid_until=_monotonic(given.deadline_at))
        return result

    def _reply(self, turn_id: uuid.UUID, attempt: int, given: turns.StageInput, character: Character,
               window: memory.Window, rules: dict[str, Any], moderation: Future[dict[str, Any]],
               repeated: list[ErrorPattern]) -> turns.Reply:
        """The reply, streamed as `reply_delta` events. With a model, its request starts at
        once and its text is held until moderation has spoken. `repeated`: the message's
        mistakes the learner keeps making (the error notebook), for the model's tutor note."""
        delta_event_ids: list[str] = []
        coalescer = self._coalescer(turn_id, given, attempt, delta_event_ids)
        held: list[str] = []

        def restart() -> None:  # a provider failed mid-reply: the next one starts over
            held.clear()
            coalescer.restart()

        if self.runtime.chain.providers and not (moderation.done() and moderation.result()["flagged"]):
            stream = self.runtime.chain.stream_reply(
                self._reply_request(character, given, window, rules, repeated),
                deadline=_monotonic(given.deadline_at) - _FINISH_RESERVE_SECONDS,
                offline=lambda: self.runtime.offline.stream_reply(
                    self._offline_request(character, given, window, rules)),
                on_restart=restart)
        else:
            stream = None
        if stream is not None:
            for piece in stream:
                if not moderation.done():
                    held.append(piece)
                    continue
                if moderation.result()["flagged"]:
                    break
                for earlier in held:
                    coalescer.add(earlier)
                held.clear()
                coalescer.add(piece)
            stream.close()
        verdict = moderation.result()
        if verdict["flagged"]:
            coalescer.restart()
            self._stream(coalescer, [kind_redirect(character.target_language, given.level, str(turn_id))])
            provider, degraded, reason = "offline", False, None
        elif stream is None:
            offline_reply = self.runtime.offline.stream_reply(self._offline_request(character, given, window, rules))
            self._stream(coalescer, offline_reply)
            provider, degraded, reason = "offline", False, None
        else:
            self._stream(coalescer, held)
            provider, degraded, reason = stream.provider or "offline", stream.degraded, stream.degraded_reason
        return turns.Reply(attempt=attempt, text=coalescer.text, provider=provider, degraded=degraded,
                           degraded_reason=reason, learner_text=given.text, grammar=rules, moderation=verdict,
                           delta_event_ids=delta_event_ids)

    def _reply_request(self, character: Character, given: turns.StageInput, window: memory.Window,
                       grammar: dict[str, Any], repeated: list[ErrorPattern]) -> ChatRequest:
        """The model's view of the turn: the character at the learner's level, the tutor's
        note on this message's mistakes, the words to use, the summary, the recent
        messages, the message."""
        system = memory.reply_system_prompt(
            character_prompt=self.runtime.characters.system_prompt(character.id, normalize_level(given.level)),
            corrections=grammar["errors"], original=given.text, summary=window.summary,
            target_words=given.target_words, repeated=repeated)
        messages = [{"role": role, "content": content} for role, content in window.messages]
        return ChatRequest(system=system, messages=messages + [{"role": "user", "content": given.text}],
                           learner_id=given.user_id)

    def _offline_request(self, character: Character, given: turns.StageInput, window: memory.Window,
                         grammar: dict[str, Any]) -> ReplyRequest:
        return ReplyRequest(character=character, level=given.level, history=window.messages, user_message=given.text,
                            corrections=grammar["errors"], corrected_text=grammar["corrected_text"],
                            target_words=given.target_words)

    def fold_memory(self, session_id: uuid.UUID, character: Character) -> None:
        """Fold the session's older messages into its running summary (best effort: the
        next reply tries again)."""
        def summarize(previous: str | None, messages: list[tuple[str, str]]) -> str:
            system = prompt_files.text("tutor/summary.txt").format(
                character_name=character.name, language_name=language_name(character.target_language))
            said = memory.as_transcript(messages, character.name)
            request = ChatRequest(system=system, temperature=0.2, max_tokens=300, messages=[
                {"role": "user", "content": f"Summary so far:\n{previous or '(none)'}\n\nMessages:\n{said}"}])
            return self.runtime.chain.complete(request, seconds=SIDE_CALL_SECONDS, offline=lambda: (
                memory.offline_summary(previous, messages, character_name=character.name))).value

        # One fold of a session at a time: two of its turns in flight would otherwise pay
        # for the same summary twice (the slower one's store then loses anyway).
        claim = f"parlons:folding:{session_id}"
        try:
            if not self.runtime.redis.set(claim, "1", nx=True, ex=int(SIDE_CALL_SECONDS) + 10):
                return
            try:
                with statement_scope() as db:
                    fold = memory.older_messages(db, session_id=session_id,
                                                 budget_tokens=self.runtime.settings.context_token_budget)
                if fold is not None:
                    summary = summarize(fold.previous, fold.messages)
                    with statement_scope() as db:
                        memory.store_fold(db, fold, summary)
            finally:
                self.runtime.redis.delete(claim)
        except Exception:  # never fail the reply task over its memory
            log.warning("could not fold the memory of session %s", session_id, exc_info=True)

    def _store_reply(self, turn_id: uuid.UUID, reply: turns.Reply, grammar: Future[dict[str, Any]], *,
                     paid_until: float) -> bool:
        """Store the reply; when the grammar stage is in too (the usual case), finish the
        turn in the same statement. True if this finished the turn. The reply was paid
        for: its writes are tried again while the database is unavailable, until
        `paid_until` (time.monotonic())."""
        if grammar.done() and grammar.exception() is None:
            reply = turns.Reply(**{**reply.__dict__, "grammar": grammar.result()})

            def finish() -> tuple[uuid.UUID, dict[str, Any]] | None:
                with statement_scope() as db:
                    return turns.finalize_turn(db, turn_id, reply=reply)

            finished = _kept(finish, paid_until)
            if finished is not None:
                self.announce_result(*finished, replaces=reply.delta_event_ids)
                return True

        def store() -> turns.StageWrite:
            with statement_scope() as db:
                return turns.record_reply(db, turn_id, attempt=reply.attempt, reply=reply.text,
                                          provider=reply.provider, degraded=reply.degraded,
                                          degraded_reason=reply.degraded_reason)

        def finish_after(write: turns.StageWrite) -> bool:
            with statement_scope() as db:
                return self._finalize(db, turn_id, replaces=reply.delta_event_ids, inputs=write.finish_inputs)

        write = _kept(store, paid_until)
        return write.ready and _kept(lambda: finish_after(write), paid_until)

    def finalize(self, turn_id: uuid.UUID) -> None:
        """Finish the turn if every stage is stored and nobody finished it yet (else a no-op)."""
        with statement_scope() as db:
            self._finalize(db, turn_id)

    def _finalize(self, db: Session, turn_id: uuid.UUID, replaces: list[str] | None = None,
                  inputs: turns.FinishInputs | None = None) -> bool:
        finished = turns.finalize_turn(db, turn_id, inputs=inputs)
        if finished is not None:
            self.announce_result(*finished, replaces=replaces)
        return finished is not None

    def _store_stage(self, turn_id: uuid.UUID, given: turns.StageInput | turns.AnalysisInput, stage: str,
                     result: dict[str, Any], finished: threading.Event | None = None, *,
                     paid_until: float | None = None) -> None:
        """Store a stage's result once, announce it, and finish the turn if it was the last
        (then `finished` is set). `paid_until`: the result came from a model, so its writes
        are tried again while the database is unavailable, until then (time.monotonic())."""
        record = turns.record_grammar if stage == "grammar" else turns.record_moderation

        def store() -> turns.StageWrite:
            with statement_scope() as db:
                return record(db, turn_id, result)

        write = _kept(store, paid_until)
        if write.won:
            event = "grammar_feedback" if stage == "grammar" else "moderation_feedback"
            data = {"session_id": str(given.session_id), "turn_id": str(turn_id), **result}
            self.runtime.publisher.publish(given.user_id, event, data)
        if write.ready:
            def finish() -> bool:
                with statement_scope() as db:
                    return self._finalize(db, turn_id, inputs=write.finish_inputs)

            if _kept(finish, paid_until) and finished is not None:
                finished.set()

    # --- helpers ------------------------------------------------------------------

    def announce_result(self, user_id: uuid.UUID, view: dict[str, Any], replaces: list[str] | None = None) -> None:
        """Publish `turn_result` and mark it published (else the sweeper publishes it
        again); the turn's `reply_delta`s (`replaces`) then leave the replay window: the
        result carries the whole reply."""
        announcements.announce(self.runtime.publisher, turns.ANNOUNCED, user_id, view["id"], turns.result_data(view))
        self.runtime.publisher.forget(user_id, replaces or [])
        metrics.TURNS.labels(view["status"], str(bool(view["degraded"])).lower()).inc()
        if view["status"] == "complete" and view["completed_at"]:
            took = datetime.fromisoformat(view["completed_at"]) - datetime.fromisoformat(view["created_at"])
            metrics.TURN_STAGE_SECONDS.labels("complete").observe(took.total_seconds())
        if (view.get("session") or {}).get("turn_count") == 1:  # a session's first turn may be the first ever
            achievements.request_check(self.runtime.send_task, user_id)  # best effort: any later check catches up
        used_words = [entry for entry in view["word_feedback"] if entry.get("usage") != words.NOT_USED]
        mistakes = (view["grammar"] or {}).get("errors")  # for the error notebook (domain/notebook.py)
        if view["status"] == "complete" and (used_words or mistakes):
            try:  # best effort: the finish wrote an outbox entry, which the sweeper re-sends
                self.runtime.send_task(tasks.SRS_CONVERSATION_REVIEWS, [view["id"]], {})
            except Exception:
                log.warning("conversation reviews of turn %s left to the outbox sweeper", view["id"], exc_info=True)

    def _coalescer(self, turn_id: uuid.UUID, given: turns.StageInput, attempt: int,
                   event_ids: list[str]) -> DeltaCoalescer:
        """Coalesces the reply into `reply_delta` events for this attempt; their ids are
        added to `event_ids`."""
        user_id, session_id = given.user_id, str(given.session_id)
        accepted_at = given.deadline_at - timedelta(seconds=self.runtime.settings.turn_deadline_seconds)

        def emit(delta: str, index: int, reset: bool) -> None:
            if index == 0 and not reset:
                metrics.TURN_STAGE_SECONDS.labels("reply_started").observe((utcnow() - accepted_at).total_seconds())
            data = {"session_id": session_id, "turn_id": str(turn_id), "delta": delta, "index": index,
                    "attempt": attempt}
            if reset:
                data["reset"] = True
            event_ids.append(self.runtime.publisher.publish(user_id, "reply_delta", data))

        return DeltaCoalescer(emit, min_interval=self.runtime.settings.reply_delta_min_interval_ms / 1000)

    def _stream(self, coalescer: DeltaCoalescer, pieces: Any) -> None:
        """Publish `pieces` through `coalescer` (the offline provider may be slowed down to
        look like a model: OFFLINE_REPLY_CHUNK_DELAY_MS)."""
        delay = self.runtime.settings.offline_reply_chunk_delay_ms / 1000
        for piece in pieces:
            if delay:
                time.sleep(delay)
            coalescer.add(piece)
        coalescer.flush()


def _monotonic(moment: datetime) -> float:
    """A wall-clock moment as a time.monotonic() value (deadlines are compared with it)."""
    return time.monotonic() + (moment - utcnow()).total_seconds()


def _kept(write: Callable[[], T], paid_until: float | None) -> T:
    """`write`, tried again while the database is unavailable when what it stores was paid for."""
    return write() if paid_until is None else until_available(write, deadline=paid_until)


def _in_background(work: Callable[[], T]) -> Future[T]:
    """Run `work` in a thread of its own (a greenlet in the gevent pool) and return its future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as error:  # handed to whoever waits on the future
            future.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return future


def _done(value: T) -> Future[T]:
    future: Future[T] = Future()
    future.set_result(value)
    return future
