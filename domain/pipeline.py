"""The pipeline's stages, as the workers run them: turns, hints, penpal letters, journey
answers, and the sweeper.

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

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import (announcements, hints, journey, logs, memory, metrics, outbox, penpal, prompt_files, sandbox, turns,
                    vocabulary)
from domain.cefr import normalize_level
from domain.characters import Character, CharacterLibrary
from domain.config import Settings
from domain.db import session_scope, statement_scope
from domain.events import EventPublisher
from domain.language import analyse_answer, analyse_grammar, analyse_message, llm_pass, moderate, words
from domain.languages import language_name
from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.chain import ProviderChain
from domain.llm.offline import OfflineProvider, ReplyRequest, kind_redirect
from domain.models import ChatSession, utcnow
from domain.streaming import DeltaCoalescer

log = logging.getLogger(__name__)

T = TypeVar("T")

# Time kept, before a turn's deadline, for storing and announcing the reply: the
# providers must be done (or given up on) by then.
_FINISH_RESERVE_SECONDS = 2.0
_SIDE_CALL_SECONDS = 20.0  # hints, summaries and moderation have no turn deadline of their own
_ANSWER_TTL_SECONDS = 60  # an analysis nobody collects (the caller gave up) expires
_LETTER_SECONDS = 120.0  # a penpal reply is long, and nobody is waiting for it
_DELIVERY_BATCH = 500  # penpal replies delivered per transaction
# A delivered reply still unannounced after this long was left by a stopped job.
_ANNOUNCE_GRACE_SECONDS = 30


@dataclass
class Pipeline:
    settings: Settings
    redis: Redis
    publisher: EventPublisher
    characters: CharacterLibrary
    chain: ProviderChain  # the configured models, in order; empty when none is
    offline: OfflineProvider
    send_task: Any  # send_task(name, args, kwargs): hands work to another queue

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
                    outbox.remove(db, kind=turns.OUTBOX_KIND, ref_ids=[turn_id])
                return
            if stored.grammar is not None:  # analysed before: go on with what was stored
                self.send_task("turns.respond", [str(turn_id)], {"rules": stored.grammar})
                return
            given = turns.AnalysisInput(stored.user_id, stored.session_id, stored.text,
                                        language=self.characters.target_language(stored.character_id),
                                        level=stored.level, native_language=stored.native_language,
                                        suggested_word_ids=list(stored.suggested_word_ids or ()))
        rules = self._analyse(given)
        if not self._has_grammar_pass(given.language):
            self._store_stage(turn_id, given.user_id, given.session_id, "grammar", rules)
        self.send_task("turns.respond", [str(turn_id)], {"rules": rules})

    def _analyse(self, given: turns.AnalysisInput) -> dict[str, Any]:
        def find_words(lemmas: set[str]) -> list[vocabulary.InvolvedWord]:
            with statement_scope() as db:
                return vocabulary.involved_words(db, user_id=given.user_id, suggested_ids=given.suggested_word_ids,
                                                 lemmas=lemmas)

        return analyse_message(given.text, given.language, native_language=given.native_language,
                               find_words=find_words)

    def _has_grammar_pass(self, language: str) -> bool:
        return bool(self.chain.providers) and language == "fr"

    def respond(self, turn_id: uuid.UUID, rules: dict[str, Any]) -> None:
        """On `llm`: hold the turn's model-bound work and run what is not stored yet, in
        parallel — moderation, the model's grammar pass over `rules`, the reply — then
        finish the turn. A delivery that finds the work held or done does nothing."""
        lease_seconds = self.settings.stage_lease_seconds
        with statement_scope() as db:
            claim = turns.claim_model_work(db, turn_id, lease_seconds)
            if claim is not None and claim.reply_text is None:
                window = memory.load_window(db, session_id=claim.given.session_id, before_turn=turn_id,
                                            budget_tokens=self.settings.context_token_budget)
        if claim is None:
            return  # done, or another delivery holds it (and finishes the turn)
        given = claim.given
        logs.bind(user_id=given.user_id, session_id=given.session_id)
        character = self.characters.for_session(given.character_id)
        finished = False
        with outbox.Lease(turns.OUTBOX_KIND, turn_id, claim.attempt, lease_seconds):
            moderation = self._moderation_stage(turn_id, given)
            grammar: Future[dict[str, Any]] = _done(given.grammar or rules)
            if given.grammar is None and self._has_grammar_pass(character.target_language):
                grammar = _in_background(lambda: self._grammar_pass(turn_id, given, rules))
            if claim.reply_text is None:
                reply = self._reply(turn_id, claim.attempt, given, character, window, rules, moderation)
                finished = self._store_reply(turn_id, reply, grammar)
            else:
                moderation.result()
            grammar.result()
            with statement_scope() as db:
                finished = finished or self._finalize(db, turn_id)
            if not finished:  # a stage could not be stored (our claim was taken over?): the sweeper starts over
                with statement_scope() as db:
                    outbox.release(db, kind=turns.OUTBOX_KIND, ref_id=turn_id, claim=claim.attempt)
        if claim.reply_text is None and window.needs_folding:  # after the turn is out: nobody waits for this
            self.fold_memory(given.session_id, character)

    def _moderation_stage(self, turn_id: uuid.UUID, given: turns.StageInput) -> Future[dict[str, Any]]:
        """The moderation verdict, stored and announced: at once with the local check, in
        the background with OpenAI's endpoint."""
        if given.moderation is not None:
            return _done(given.moderation)

        def verdict() -> dict[str, Any]:
            result = self._moderate(given.text, deadline=_monotonic(given.deadline_at) - _FINISH_RESERVE_SECONDS)
            self._store_stage(turn_id, given.user_id, given.session_id, "moderation", result)
            return result

        return _in_background(verdict) if self.chain.openai is not None else _done(verdict())

    def _moderate(self, text: str, *, deadline: float) -> dict[str, Any]:
        """OpenAI's moderation endpoint when the chain has OpenAI, else (and when it fails)
        the local check. `source` says which spoke."""
        if self.chain.openai is not None:
            try:
                deadline = min(deadline, time.monotonic() + _SIDE_CALL_SECONDS)
                verdict = self.chain.openai.moderate(text, deadline=deadline)
                return {"flagged": verdict["flagged"], "categories": _local_category_names(verdict["categories"]),
                        "source": "openai"}
            except ProviderFailure as failure:
                log.warning("OpenAI moderation failed (%s); using the local check", failure.reason)
        return {**moderate(text).to_dict(), "source": "local"}

    def _grammar_pass(self, turn_id: uuid.UUID, given: turns.StageInput, rules: dict[str, Any]) -> dict[str, Any]:
        """Merge the model's corrections into the rules' and store the grammar stage. The
        model gets GRAMMAR_MODEL_SECONDS; without a valid answer, the rules stand alone."""
        found = llm_pass.llm_corrections(self.chain, given.text, given.level,
                                         deadline=time.monotonic() + self.settings.grammar_model_seconds,
                                         native_language=given.native_language, learner_id=given.user_id)
        result = rules
        if found:
            errors = llm_pass.merge(rules["errors"], found)
            result = {"errors": errors, "corrected_text": llm_pass.apply(given.text, errors),
                      "word_feedback": words.reassess(rules.get("word_feedback") or [], errors)}
        self._store_stage(turn_id, given.user_id, given.session_id, "grammar", result)
        return result

    def _reply(self, turn_id: uuid.UUID, attempt: int, given: turns.StageInput, character: Character,
               window: memory.Window, rules: dict[str, Any], moderation: Future[dict[str, Any]]) -> turns.Reply:
        """The reply, streamed as `reply_delta` events. With a model, its request starts at
        once and its text is held until moderation has spoken."""
        delta_event_ids: list[str] = []
        coalescer = self._coalescer(turn_id, given, attempt, delta_event_ids)
        held: list[str] = []

        def restart() -> None:  # a provider failed mid-reply: the next one starts over
            held.clear()
            coalescer.restart()

        if self.chain.providers and not (moderation.done() and moderation.result()["flagged"]):
            stream = self.chain.stream_reply(
                self._reply_request(character, given, window, rules),
                deadline=_monotonic(given.deadline_at) - _FINISH_RESERVE_SECONDS,
                offline=lambda: self.offline.stream_reply(self._offline_request(character, given, window, rules)),
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
            self._stream(coalescer, self.offline.stream_reply(self._offline_request(character, given, window, rules)))
            provider, degraded, reason = "offline", False, None
        else:
            self._stream(coalescer, held)
            provider, degraded, reason = stream.provider or "offline", stream.degraded, stream.degraded_reason
        return turns.Reply(attempt=attempt, text=coalescer.text, provider=provider, degraded=degraded,
                           degraded_reason=reason, learner_text=given.text, grammar=rules, moderation=verdict,
                           delta_event_ids=delta_event_ids)

    def _reply_request(self, character: Character, given: turns.StageInput, window: memory.Window,
                       grammar: dict[str, Any]) -> ChatRequest:
        """The model's view of the turn: the character at the learner's level, the tutor's
        note on this message's mistakes, the summary, the recent messages, the message."""
        system = memory.reply_system_prompt(
            character_prompt=self.characters.system_prompt(character.id, normalize_level(given.level)),
            corrections=grammar["errors"], original=given.text, summary=window.summary)
        messages = [{"role": role, "content": content} for role, content in window.messages]
        return ChatRequest(system=system, messages=messages + [{"role": "user", "content": given.text}],
                           learner_id=given.user_id)

    def _offline_request(self, character: Character, given: turns.StageInput, window: memory.Window,
                         grammar: dict[str, Any]) -> ReplyRequest:
        return ReplyRequest(character=character, level=given.level, history=window.messages, user_message=given.text,
                            corrections=grammar["errors"], corrected_text=grammar["corrected_text"])

    def fold_memory(self, session_id: uuid.UUID, character: Character) -> None:
        """Fold the session's older messages into its running summary (best effort: the
        next reply tries again)."""
        def summarize(previous: str | None, messages: list[tuple[str, str]]) -> str:
            offline = memory.offline_summary(previous, messages, character_name=character.name)
            if not self.chain.providers:
                return offline
            system = prompt_files.text("tutor/summary.txt").format(
                character_name=character.name, language_name=language_name(character.target_language))
            said = memory.as_transcript(messages, character.name)
            request = ChatRequest(system=system, temperature=0.2, max_tokens=300, messages=[
                {"role": "user", "content": f"Summary so far:\n{previous or '(none)'}\n\nMessages:\n{said}"}])
            stream = self.chain.stream_reply(request, deadline=time.monotonic() + _SIDE_CALL_SECONDS,
                                             offline=lambda: iter([offline]))
            return "".join(stream).strip() or offline

        try:
            with statement_scope() as db:
                memory.fold_older_messages(db, session_id=session_id, summarize=summarize,
                                           budget_tokens=self.settings.context_token_budget)
        except Exception:  # never fail the reply task over its memory
            log.warning("could not fold the memory of session %s", session_id, exc_info=True)

    def _store_reply(self, turn_id: uuid.UUID, reply: turns.Reply, grammar: Future[dict[str, Any]]) -> bool:
        """Store the reply; when the grammar stage is in too (the usual case), finish the
        turn in the same statement. True if this finished the turn."""
        if grammar.done():
            reply = turns.Reply(**{**reply.__dict__, "grammar": grammar.result()})
            with statement_scope() as db:
                finished = turns.finalize_turn(db, turn_id, reply=reply)
            if finished is not None:
                self._announce_result(*finished, replaces=reply.delta_event_ids)
                return True
        with statement_scope() as db:
            write = turns.record_reply(db, turn_id, attempt=reply.attempt, reply=reply.text, provider=reply.provider,
                                       degraded=reply.degraded, degraded_reason=reply.degraded_reason)
            return write.ready and self._finalize(db, turn_id, replaces=reply.delta_event_ids)

    def finalize(self, turn_id: uuid.UUID) -> None:
        """Finish the turn if every stage is stored and nobody finished it yet (else a no-op)."""
        with statement_scope() as db:
            self._finalize(db, turn_id)

    def _finalize(self, db: Session, turn_id: uuid.UUID, replaces: list[str] | None = None) -> bool:
        finished = turns.finalize_turn(db, turn_id)
        if finished is not None:
            self._announce_result(*finished, replaces=replaces)
        return finished is not None

    def _store_stage(self, turn_id: uuid.UUID, user_id: uuid.UUID, session_id: uuid.UUID, stage: str,
                     result: dict[str, Any]) -> None:
        """Store a stage's result once, announce it, and finish the turn if it was the last."""
        record = turns.record_grammar if stage == "grammar" else turns.record_moderation
        with statement_scope() as db:
            write = record(db, turn_id, result)
        if write.won:
            event = "grammar_feedback" if stage == "grammar" else "moderation_feedback"
            self.publisher.publish(user_id, event, {"session_id": str(session_id), "turn_id": str(turn_id), **result})
        if write.ready:
            self.finalize(turn_id)

    def run_hints(self, hint_id: uuid.UUID) -> None:
        """Produce a requested hint once and publish it as a `hint` event."""
        with statement_scope() as db:
            given = hints.pending_input(db, hint_id)
        if given is None:
            return  # produced already (a redelivery)
        with self._holding(hints.OUTBOX_KIND, hint_id) as claim:
            if claim is None:
                return  # another delivery is producing it
            suggestions, provider, degraded = self._suggest(given)
        with session_scope() as db:
            hint = hints.store_suggestions(db, hint_id, suggestions, provider=provider, degraded=degraded)
            data = hints.hint_event(hint) if hint is not None else None
        if data is not None:
            self._announce(announcements.HINT, given.user_id, hint_id, data)

    def _suggest(self, given: hints.HintInput) -> tuple[list[str], str, bool]:
        """(suggestions, who wrote them, degraded): the model with the character's hint
        prompt for the level when one is configured, else sentence starters."""
        offline = hints.offline_suggestions(given.level, hints.last_character_message(given.history),
                                            seed=str(given.hint_id))
        if not self.chain.providers:
            return offline, "offline", False
        character = self.characters.for_session(given.character_id)
        said = memory.as_transcript(given.history, character.name) or "(The conversation has not started yet.)"
        request = ChatRequest(
            system=self.characters.hint_prompt(character.id, normalize_level(given.level)), max_tokens=200,
            messages=[{"role": "user", "content": f"The conversation so far:\n{said}"}], learner_id=given.user_id)
        stream = self.chain.stream_reply(request, deadline=time.monotonic() + _SIDE_CALL_SECONDS,
                                         offline=lambda: iter(["\n".join(offline)]))
        text = "".join(stream)
        if stream.provider == "offline":
            return offline, "offline", stream.degraded
        try:
            return hints.parse_suggestions(text), stream.provider, False
        except ValueError:
            log.warning("%s answered a hint request without usable suggestions", stream.provider)
            return offline, "offline", True

    def hint_after_speech(self, session_id: uuid.UUID, segment_id: int) -> None:
        """Called a moment after the learner spoke in a voice session: if they have not
        spoken since, suggest what they could say next."""
        if not sandbox.is_latest_learner_speech(self.redis, session_id, segment_id):
            return  # they kept talking; the check for their latest segment will answer
        with session_scope() as db:
            owner = db.scalar(select(ChatSession.user_id).where(ChatSession.id == session_id))
            hint_id = hints.request_hints(db, user_id=owner, session_id=session_id, source="transcript").id
        self.run_hints(hint_id)

    def answer_analysis(self, text: str, language: str, reply_key: str, native_language: str | None = None) -> None:
        """Analyse a text for a caller waiting on `reply_key` (POST /language/check)."""
        with self.redis.pipeline() as pipe:
            pipe.rpush(reply_key, json.dumps(analyse_grammar(text, language, native_language)))
            pipe.expire(reply_key, _ANSWER_TTL_SECONDS).execute()

    # --- penpal letters -----------------------------------------------------------

    def analyse_penpal_letter(self, reply_id: uuid.UUID) -> None:
        """Analyse the letter a reply answers (on `nlp`), then have the reply written (on `llm`)."""
        with statement_scope() as db:
            given = penpal.pending_reply(db, reply_id)
        if given is None:
            return  # written already (a redelivery)
        if given.analysis is None:
            language = self.characters.target_language(given.character_id)
            analysis = analyse_grammar(given.body, language, given.native_language)
            with statement_scope() as db:
                penpal.store_analysis(db, given.letter_id, analysis)
        self.send_task("penpal.write", [str(reply_id)], {})

    def write_penpal_reply(self, reply_id: uuid.UUID) -> None:
        """Write the reply once. It waits for its due time, unless that has passed
        already (the writing was late): then it is delivered at once."""
        with statement_scope() as db:
            given = penpal.pending_reply(db, reply_id)
        now = utcnow()
        if given is None or (given.retry_at is not None and now < given.retry_at):
            return  # written already, or backing off after a failure
        with self._holding(penpal.OUTBOX_KIND, reply_id) as claim:
            written = self._letter(given, now) if claim is not None else None
        if written is None:
            return  # another delivery is writing it, or every provider failed (and it is tried again later)
        with session_scope() as db:
            due_at = penpal.store_reply(db, given, written[0], provider=written[1], degraded=written[2])
        if due_at is not None and due_at <= utcnow():
            self.deliver_penpal_replies(reply_id=reply_id)

    def _letter(self, given: penpal.LetterInput, now: datetime) -> tuple[str, str, bool] | None:
        """(letter, who wrote it, degraded); None when every provider failed and there is
        time to try again later."""
        character = self.characters.for_session(given.character_id)
        offline = penpal.offline_letter(character, given)
        if not self.chain.providers:
            return offline, "offline", False
        system = self.characters.system_prompt(character.id, normalize_level(given.level))
        stream = self.chain.stream_reply(penpal.reply_request(character, system, given),
                                         deadline=time.monotonic() + _LETTER_SECONDS, offline=lambda: iter([offline]))
        letter = "".join(stream).strip()
        if stream.provider != "offline" and letter:
            return letter, stream.provider, False
        if penpal.should_retry_later(given, now):
            with statement_scope() as db:
                retry_at = penpal.postpone(db, given, now)
            log.warning("no provider wrote penpal reply %s; trying again at %s", given.reply_id, retry_at)
            return None
        return offline, "offline", True

    def deliver_penpal_replies(self, reply_id: uuid.UUID | None = None) -> int:
        """Deliver every written reply that is due (or just `reply_id`, if due) and
        publish each as `penpal_reply`, once; then re-announce any delivered reply whose
        event a stopped job may not have published. Returns the number delivered."""
        delivered = 0
        while True:
            with session_scope() as db:
                batch = penpal.claim_due_replies(db, limit=_DELIVERY_BATCH, reply_id=reply_id)
            with statement_scope() as db:  # after the commit: a client told of a reply can read it
                self._announce_replies(db, batch)
            delivered += len(batch)
            if len(batch) < _DELIVERY_BATCH or reply_id is not None:
                break
        if reply_id is None:
            with session_scope() as db:
                stragglers = penpal.unannounced_replies(
                    db, delivered_before=utcnow() - timedelta(seconds=_ANNOUNCE_GRACE_SECONDS), limit=_DELIVERY_BATCH)
                self._announce_replies(db, stragglers)  # under the rows' locks: one job per straggler
        return delivered

    def _announce_replies(self, db: Session, delivered: list[tuple[uuid.UUID, dict[str, Any]]]) -> None:
        for user_id, view in delivered:
            self.publisher.publish_once(user_id, "penpal_reply", {"letter": view}, once_key=f"penpal:{view['id']}")
        if delivered:
            penpal.mark_announced(db, [view["id"] for _, view in delivered])

    # --- journey answers -----------------------------------------------------------

    def analyse_journey_answer(self, answer_id: uuid.UUID) -> None:
        """Analyse an answer (on `nlp`), then have it scored (on `llm`)."""
        with statement_scope() as db:
            given = journey.pending_answer(db, answer_id)
        if given is None:
            return  # scored already (a redelivery)
        if given.analysis is None:
            analysis = analyse_answer(given.answer, "fr", given.native_language)
            with statement_scope() as db:
                journey.store_analysis(db, answer_id, analysis)
        self.send_task("journey.score", [str(answer_id)], {})

    def score_journey_answer(self, answer_id: uuid.UUID) -> None:
        """Score an analysed answer once and publish it as `journey_scored`."""
        with statement_scope() as db:
            given = journey.pending_answer(db, answer_id)
        if given is None or given.analysis is None:
            return  # scored already, or not analysed yet (the outbox sweeper starts over)
        with self._holding(journey.OUTBOX_KIND, answer_id) as claim:
            if claim is None:
                return  # another delivery is scoring it
            score, result, provider, degraded = self._score(given)
        with session_scope() as db:
            answer = journey.store_score(db, answer_id, score, result, provider=provider, degraded=degraded)
            data = journey.scored_event(answer) if answer is not None else None
        if data is not None:
            self._announce(announcements.JOURNEY_SCORED, given.user_id, answer_id, data)

    def _score(self, given: journey.AnswerInput) -> tuple[int, dict[str, Any], str, bool]:
        """(score, result, who scored, degraded): the model, asked again once when its
        answer is invalid; else the offline scorer (degraded if a model was configured)."""
        if not self.chain.providers:
            return (*journey.offline_score(given), "offline", False)
        for _ in range(2):
            answered = self.chain.complete_json_by(journey.scoring_request(given), journey.SCORE_SCHEMA,
                                                   deadline=time.monotonic() + _SIDE_CALL_SECONDS)
            found = journey.model_result(given, answered[0]) if answered else None
            if found is not None:
                return (*found, answered[1], False)
        log.warning("no provider scored journey answer %s; scored offline", given.answer_id)
        return (*journey.offline_score(given), "offline", True)

    # --- recovery (beat) ----------------------------------------------------------

    def sweep(self, dispatch: Any) -> dict[str, int]:
        """Give up on work that keeps failing, re-publish lost work, finish stalled turns,
        fail overdue ones, and announce again final events a Redis blip lost. `dispatch(kind,
        ref_id)` sends an outbox entry's tasks to the broker (best effort: an entry it
        could not send is due again after the interval)."""
        with session_scope() as db:
            buried = outbox.bury_exhausted(db, max_attempts=self.settings.outbox_max_attempts)
            given_up = turns.fail_given_up_turns(db, [ref for kind, ref in buried if kind == turns.OUTBOX_KIND])
            failed = [(turn.user_id, turns.present_turn(turn)) for turn in given_up]
        with session_scope() as db:
            due = outbox.claim_due(db, older_than_seconds=self.settings.outbox_republish_after_seconds)
        for kind, ref_id in due:
            dispatch(kind, ref_id)
        with session_scope() as db:
            grace = timedelta(seconds=self.settings.stage_lease_seconds)
            stalled = turns.stalled_ready_turn_ids(db, older_than=utcnow() - grace)
        for turn_id in stalled:
            self.finalize(turn_id)
        with session_scope() as db:
            failed += [(turn.user_id, turns.present_turn(turn)) for turn in turns.fail_overdue_turns(db)]
        for user_id, view in failed:
            self._announce_result(user_id, view)
        return {"buried": len(buried), "republished": len(due), "finalized": len(stalled), "failed": len(failed),
                "announced_again": self._announce_again()}

    def _announce_again(self) -> int:
        """Publish the final events of things finished a while ago but never marked as
        announced (the publish was lost), each under its row's lock."""
        announced = 0
        finished_before = utcnow() - timedelta(seconds=_ANNOUNCE_GRACE_SECONDS)
        for kind in announcements.ALL:
            with session_scope() as db:
                for thing in announcements.unannounced(db, kind, finished_before=finished_before):
                    self._announce(kind, thing.user_id, thing.id, kind.event_data(thing), db=db)
                    announced += 1
        if announced:
            log.warning("announced %d final event(s) again whose publish was lost", announced)
        return announced

    # --- helpers ------------------------------------------------------------------

    @contextmanager
    def _holding(self, kind: str, ref_id: uuid.UUID) -> Iterator[int | None]:
        """Hold an outbox entry's work while the block calls a model: the claim's number,
        or None when another delivery holds it or it is done (then do nothing). Work left
        unfinished is let go afterwards, for the sweeper to send again."""
        seconds = self.settings.stage_lease_seconds
        with statement_scope() as db:
            claim = outbox.claim(db, kind=kind, ref_id=ref_id, lease_seconds=seconds)
        if claim is None:
            yield None
            return
        with outbox.Lease(kind, ref_id, claim, seconds):
            yield claim
        with statement_scope() as db:  # a no-op when the work was stored (its entry is gone)
            outbox.release(db, kind=kind, ref_id=ref_id, claim=claim)

    def _announce_result(self, user_id: uuid.UUID, view: dict[str, Any], replaces: list[str] | None = None) -> None:
        """Publish `turn_result` and mark it published (else the sweeper publishes it
        again); the turn's `reply_delta`s (`replaces`) then leave the replay window: the
        result carries the whole reply."""
        self._announce(announcements.TURN_RESULT, user_id, view["id"], {"session_id": view["session_id"], "turn": view})
        self.publisher.forget(user_id, replaces or [])
        metrics.TURNS.labels(view["status"], str(bool(view["degraded"])).lower()).inc()
        if view["status"] == "complete" and view["completed_at"]:
            took = datetime.fromisoformat(view["completed_at"]) - datetime.fromisoformat(view["created_at"])
            metrics.TURN_STAGE_SECONDS.labels("complete").observe(took.total_seconds())
        used_words = [entry for entry in view["word_feedback"] if entry.get("usage") != words.NOT_USED]
        if view["status"] == "complete" and used_words:
            try:  # best effort: the finish wrote an outbox entry, which the sweeper re-sends
                self.send_task("progress.conversation_reviews", [view["id"]], {})
            except Exception:
                log.warning("conversation reviews of turn %s left to the outbox sweeper", view["id"], exc_info=True)

    def _announce(self, kind: announcements.Announced, user_id: uuid.UUID, thing_id: uuid.UUID | str,
                  data: dict[str, Any], db: Session | None = None) -> None:
        """Publish a final event once per thing (a key beside the learner's stream
        remembers it), then mark the row announced: a worker and the sweeper that both
        publish it leave one event."""
        self.publisher.publish_once(user_id, kind.event, data, once_key=f"{kind.event}:{thing_id}")
        if db is not None:
            announcements.mark(db, kind, thing_id)
            return
        with statement_scope() as scoped:
            announcements.mark(scoped, kind, thing_id)

    def _coalescer(self, turn_id: uuid.UUID, given: turns.StageInput, attempt: int,
                   event_ids: list[str]) -> DeltaCoalescer:
        """Coalesces the reply into `reply_delta` events for this attempt; their ids are
        added to `event_ids`."""
        user_id, session_id = given.user_id, str(given.session_id)
        accepted_at = given.deadline_at - timedelta(seconds=self.settings.turn_deadline_seconds)

        def emit(delta: str, index: int, reset: bool) -> None:
            if index == 0 and not reset:
                metrics.TURN_STAGE_SECONDS.labels("reply_started").observe((utcnow() - accepted_at).total_seconds())
            data = {"session_id": session_id, "turn_id": str(turn_id), "delta": delta, "index": index,
                    "attempt": attempt}
            if reset:
                data["reset"] = True
            event_ids.append(self.publisher.publish(user_id, "reply_delta", data))

        return DeltaCoalescer(emit, min_interval=self.settings.reply_delta_min_interval_ms / 1000)

    def _stream(self, coalescer: DeltaCoalescer, pieces: Any) -> None:
        """Publish `pieces` through `coalescer` (the offline provider may be slowed down to
        look like a model: OFFLINE_REPLY_CHUNK_DELAY_MS)."""
        delay = self.settings.offline_reply_chunk_delay_ms / 1000
        for piece in pieces:
            if delay:
                time.sleep(delay)
            coalescer.add(piece)
        coalescer.flush()


def _local_category_names(openai_categories: list[str]) -> list[str]:
    """OpenAI's categories in the local check's vocabulary, so clients see one set:
    "self-harm/intent" -> "self_harm", "harassment/threatening" -> "harassment"."""
    names = (category.split("/")[0].replace("-", "_") for category in openai_categories)
    return list(dict.fromkeys(names))


def _monotonic(moment: datetime) -> float:
    """A wall-clock moment as a time.monotonic() value (deadlines are compared with it)."""
    return time.monotonic() + (moment - utcnow()).total_seconds()


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
