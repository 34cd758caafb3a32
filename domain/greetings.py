"""The character speaks first: a story session opens with the character's greeting.

Without a model, the greeting (a greeting, a remark and a question from the character's
offline phrasebook) is written with the session, in its transaction: it costs nothing,
and no event can then cross the learner's first steps. With a model, creating the
session stores an outbox entry (kind `greeting`, ref_id the session's id) instead, and
the llm worker writes the greeting once: one call, made by the holder of the entry's
lease (domain/outbox.py), with the character's prompt for the level, charged to the
learner's token budget; the phrasebook stands in if the call fails.

A greeting is stored as a turn of kind `greeting` (at most one per session: a unique
index) that has only an assistant message, complete at once and worth no XP; it does
not count in the session's turns or its recap. Its message is dated with the session's
start, so GET /sessions/{id}/messages lists it first even when the learner wrote before
it arrived. It is published as a `greeting` event, {session_id, turn} (the turn as GET
/turns/{id} returns it: `kind: "greeting"`, no `user_message`), not as a `turn_result`,
which answers a learner's message; the sweeper re-publishes it if that publish was lost
(domain/announcements.py).
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from domain import announcements, outbox, turns
from domain.cefr import BANDS, normalize_level
from domain.characters import Character
from domain.db import session_scope, statement_scope, until_available
from domain.events import EventPublisher
from domain.llm.base import ChatRequest
from domain.models import ChatSession, Message, Turn, utcnow
from domain.runtime import SIDE_CALL_SECONDS, Runtime

OUTBOX_KIND = outbox.GREETING
GREETING_INSTRUCTION = ("(The learner has just joined you. Speak first, in character and in the target language "
                        "at their level: greet them, set the scene in a sentence, and ask them one question.)")


@dataclass(frozen=True)
class GreetingInput:
    session_id: uuid.UUID
    user_id: uuid.UUID
    character_id: str
    level: str


def open_story(db: Session, session: ChatSession, character: Character, *, with_model: bool
               ) -> dict[str, Any] | None:
    """With a new story session (caller's transaction): without a model, write the
    greeting and return its turn's view (announce it after the commit); with one,
    store its outbox entry (start it after the commit) and return None."""
    if with_model:
        outbox.add(db, OUTBOX_KIND, session.id, session.created_at)
        return None
    given = GreetingInput(session.id, session.user_id, session.character_id, session.level)
    return store_greeting(db, given, offline_greeting(character, session.level, str(session.id)),
                          provider="offline", degraded=False)


def announce(publisher: EventPublisher, user_id: uuid.UUID, view: dict[str, Any]) -> None:
    """Publish a greeting written with its session (after the commit)."""
    announcements.announce(publisher, ANNOUNCED, user_id, view["id"], greeting_data(view))


def pending_input(db: Session, session_id: uuid.UUID) -> GreetingInput | None:
    """What writing the session's greeting needs; None once it is written (or the session is gone)."""
    row = db.execute(
        select(ChatSession.user_id, ChatSession.character_id, ChatSession.level)
        .where(ChatSession.id == session_id,
               ~select(Turn.id).where(Turn.session_id == session_id, Turn.kind == "greeting").exists())
    ).first()
    return GreetingInput(session_id, *row) if row is not None else None


def offline_greeting(character: Character, level: str, seed: str) -> str:
    """A greeting, a remark about the character's world and a question, from the
    character's phrasebook for the level's band."""
    phrases = (character.offline or {}).get(BANDS[normalize_level(level)]) or {}
    parts = [_pick(phrases.get(key) or [], seed, key) for key in ("greetings", "remarks", "follow_ups")]
    said = " ".join(part.strip() for part in parts if part and part.strip())
    return said or f"Bonjour ! Je suis {character.name}. Comment tu t'appelles ?"


def store_greeting(db: Session, given: GreetingInput, greeting: str, *, provider: str, degraded: bool,
                   degraded_reason: str | None = None) -> dict[str, Any] | None:
    """Write the greeting once and end its outbox entry (caller's transaction). Returns
    the greeting turn's view if this call wrote it, None if another delivery did."""
    now = utcnow()
    started = db.scalar(select(ChatSession.created_at).where(ChatSession.id == given.session_id))
    turn_id = db.scalar(
        insert(Turn).values(
            id=uuid.uuid4(), session_id=given.session_id, user_id=given.user_id, kind="greeting", status="complete",
            suggested_word_ids=[], word_feedback=[], xp_awarded=0, degraded=degraded, degraded_reason=degraded_reason,
            reply_text=greeting, reply_provider=provider, created_at=started, deadline_at=now, completed_at=now)
        .on_conflict_do_nothing(index_elements=["session_id"], index_where=text("kind = 'greeting'"))
        .returning(Turn.id)
    )
    outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[given.session_id])
    if turn_id is None:
        return None
    db.add(Message(id=uuid.uuid4(), session_id=given.session_id, turn_id=turn_id, role="assistant",
                   content=greeting, created_at=started))
    db.flush()
    return turns.present_turn(db.get(Turn, turn_id))


def greet(runtime: Runtime, session_id: uuid.UUID) -> None:
    """Write the session's greeting once and publish it (the llm worker's task)."""
    with statement_scope() as db:
        given = pending_input(db, session_id)
    if given is None:
        with statement_scope() as db:  # written already (a redelivery), or the session is gone
            outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[session_id])
        return
    with outbox.holding(OUTBOX_KIND, session_id, runtime.settings.stage_lease_seconds) as claim:
        if claim is None:
            return  # another delivery is writing it
        character = runtime.characters.for_session(given.character_id)
        level = normalize_level(given.level)
        request = ChatRequest(system=runtime.characters.system_prompt(character.id, level), max_tokens=200,
                              messages=[{"role": "user", "content": GREETING_INSTRUCTION}], learner_id=given.user_id)
        done = runtime.chain.complete(request, seconds=SIDE_CALL_SECONDS,
                                      offline=lambda: offline_greeting(character, level, str(session_id)))

        def store() -> dict[str, Any] | None:
            with session_scope() as db:
                return store_greeting(db, given, done.value.strip(), provider=done.provider,
                                      degraded=done.degraded, degraded_reason=done.degraded_reason)

        view = until_available(store)
    if view is not None:
        announcements.announce(runtime.publisher, ANNOUNCED, given.user_id, view["id"], greeting_data(view))


def greeting_data(view: dict[str, Any]) -> dict[str, Any]:
    """The `greeting` event's data: the greeting turn's view and its session."""
    return {"session_id": view["session_id"], "turn": view}


ANNOUNCED = announcements.Announced("greeting", Turn, Turn.completed_at, Turn.kind == "greeting",
                                    lambda turn: greeting_data(turns.present_turn(turn)))


def _pick(options: list[Any], seed: str, slot: str) -> str | None:
    if not options:
        return None
    index = int.from_bytes(hashlib.sha256(f"{seed}:{slot}".encode()).digest()[:8], "big") % len(options)
    return str(options[index])
