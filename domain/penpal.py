"""Penpal letters: a learner writes to a character, who answers hours later.

A letter is stored with its reply's row (body still empty, `deliver_at` set to arrival
+ PENPAL_REPLY_DELAY_SECONDS + a random jitter) and an outbox entry, in one transaction.
The reply is written soon after, not at the due time, so a failing provider is retried
long before anyone waits for it: the `nlp` worker analyses the letter, then the `llm`
worker writes the reply in the character's voice with a few corrections from that
analysis. A beat job delivers written replies once they are due: it claims them with
FOR UPDATE SKIP LOCKED, marks them delivered, and publishes `penpal_reply` once (see
`events.EventPublisher.publish_once`). A reply written after its due time is delivered
as soon as it is written. Nothing here uses a Celery countdown: a task held for hours
would wait in one worker's memory, lost if that worker is.

Before writing, the `llm` worker moderates the letter (domain/moderation.py, once, under
the reply's claim; the verdict is stored on the learner's letter). A flagged letter gets
no in-character reply and no model call: a short, kind out-of-character note in the
target language at the learner's level (prompts/penpal/redirect.yaml) takes its place.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from domain import announcements, outbox, prompt_files, tasks
from domain import moderation as moderation_check
from domain.cefr import BANDS, normalize_level
from domain.characters import Character, CharacterLibrary
from domain.config import Settings
from domain.db import session_scope, statement_scope, until_available
from domain.errors import Invalid, NotFound
from domain.ids import parse_uuid
from domain.language import analyse_grammar
from domain.llm.base import ChatRequest
from domain.llm.offline import OfflineProvider, ReplyRequest
from domain.models import PenpalLetter, User, utcnow
from domain.runtime import Runtime
from domain import achievements, xp  # progress: XP for a letter, then an achievements check

if TYPE_CHECKING:
    from domain.quotas import Quotas

log = logging.getLogger(__name__)

OUTBOX_KIND = outbox.PENPAL
LETTER_MIN_CHARS, LETTER_MAX_CHARS, SUBJECT_MAX_CHARS = 20, 5000, 120
MAX_CORRECTIONS = 5  # a letter comes back with a few corrections, not a red pen everywhere
THREAD_MEMORY = 6  # earlier letters of the thread the reply's writer reads
# When every provider fails, writing is tried again after 1, 2, 4... minutes (at most
# 30), until RETRY_CUTOFF before the due time; then the offline letter is sent.
RETRY_BASE_SECONDS, RETRY_MAX_SECONDS = 60, 1800
RETRY_CUTOFF = timedelta(minutes=30)
LETTERS_PER_THREAD = 20  # in the thread list by default (up to MAX_LETTERS_PER_THREAD on request)
MAX_LETTERS_PER_THREAD = 500
# Words in a reply, by level: short and simple for beginners.
REPLY_WORDS = {"a1": "40 to 70", "a2": "60 to 100", "b1": "100 to 150", "b2": "150 to 220",
               "c1": "200 to 300", "c2": "200 to 300"}
REDIRECTED = "moderation"  # the `provider` of the note that answers a flagged letter


def reply_due_at(arrived_at: datetime, settings: Settings, rng: random.Random | None = None) -> datetime:
    jitter = (rng or random).uniform(0, settings.penpal_reply_jitter_seconds) \
        if settings.penpal_reply_jitter_seconds > 0 else 0.0
    return arrived_at + timedelta(seconds=settings.penpal_reply_delay_seconds + jitter)


# --- the learner's side (web) -------------------------------------------------------------


def send_letter(db: Session, *, user_id: uuid.UUID, level: str, characters: CharacterLibrary, settings: Settings,
                character_id: str, body: str, subject: str | None = None) -> tuple[PenpalLetter, PenpalLetter]:
    """Store a letter, its reply-to-be and the outbox entry that gets the reply written
    (in the caller's transaction). Returns (letter, reply)."""
    character = characters.get(character_id)
    if character is None:
        raise Invalid(f"Unknown character {character_id!r}.", code="unknown_character",
                      details={"character_id": [f"Choose one of: {', '.join(c.id for c in characters.all())}."]})
    now = utcnow()
    letter = PenpalLetter(id=uuid.uuid4(), user_id=user_id, character_id=character.id, author="learner",
                          subject=(subject or "").strip() or None, body=body.strip(), level=level,
                          degraded=False, created_at=now, delivered_at=now, read_at=now)
    reply = PenpalLetter(id=uuid.uuid4(), user_id=user_id, character_id=character.id, author="character",
                         in_reply_to=letter.id, level=level, degraded=False, created_at=now,
                         deliver_at=reply_due_at(now, settings))
    db.add(letter)
    xp.award(db, user_id, xp.for_letter(letter.body))
    db.flush()  # the reply refers to the letter
    db.add(reply)
    outbox.add(db, OUTBOX_KIND, reply.id, now)
    db.flush()
    return letter, reply


def accept_letter(*, user: User, characters: CharacterLibrary, settings: Settings, quotas: Quotas,
                  character_id: str, body: str, subject: str | None) -> tuple[dict[str, Any], uuid.UUID]:
    """A learner's letter: counted against their quota (RateLimited over it: nothing is
    stored), then stored with its reply-to-be and the outbox entry that gets the reply
    written. Returns {letter, reply_expected_at} and the reply's id, whose work the
    caller starts once this has committed."""
    quotas.spend(user.id, "letters")
    with session_scope() as db:
        letter, reply = send_letter(db, user_id=user.id, level=user.level, characters=characters, settings=settings,
                                    character_id=character_id, body=body, subject=subject)
        view = {"letter": present_letter(letter, reply), "reply_expected_at": reply.deliver_at.isoformat()}
    return view, reply.id


def present_letter(letter: PenpalLetter, reply: PenpalLetter | None = None) -> dict[str, Any]:
    """A letter as the API shows it. A learner's letter says when its reply is expected
    (`reply_expected_at`) until the reply is delivered, then which letter it is (`reply_id`)."""
    view = {
        "id": str(letter.id),
        "character_id": letter.character_id,
        "author": letter.author,
        "subject": letter.subject,
        "body": letter.body,
        "in_reply_to": str(letter.in_reply_to) if letter.in_reply_to else None,
        "level": letter.level,
        "sent_at": _iso(letter.delivered_at),
        "read_at": _iso(letter.read_at),
    }
    if letter.author == "character":
        view["corrections"] = letter.corrections or []
        view["out_of_character"] = letter.provider == REDIRECTED
    else:
        view["moderation"] = letter.moderation
        delivered = reply is not None and reply.delivered_at is not None
        view["reply_id"] = str(reply.id) if delivered else None
        view["reply_expected_at"] = _iso(reply.deliver_at) if reply is not None and not delivered else None
    return view


# Replies delivered by one job share a delivery time: then the later letter is newer.
_NEWEST_FIRST = (PenpalLetter.delivered_at.desc(), PenpalLetter.created_at.desc(), PenpalLetter.author.desc())


def list_threads(db: Session, *, user_id: uuid.UUID, characters: CharacterLibrary,
                 per_thread: int = LETTERS_PER_THREAD, character_id: str | None = None) -> list[dict[str, Any]]:
    """The learner's correspondence, one thread per character (or only `character_id`'s),
    the most recent first; each with its unread count and its latest letters, newest first."""
    rank = func.row_number().over(partition_by=PenpalLetter.character_id,
                                  order_by=_NEWEST_FIRST)
    mine = [PenpalLetter.user_id == user_id, PenpalLetter.delivered_at.is_not(None)]
    if character_id is not None:
        mine.append(PenpalLetter.character_id == character_id)
    ranked = select(PenpalLetter.id, rank.label("rank")).where(*mine).subquery()
    visible = db.scalars(select(PenpalLetter).join(ranked, ranked.c.id == PenpalLetter.id)
                         .where(ranked.c.rank <= per_thread)
                         .order_by(*_NEWEST_FIRST)).all()
    counts = db.execute(text("""
        SELECT character_id, count(*) AS letters,
               count(*) FILTER (WHERE author = 'character' AND read_at IS NULL) AS unread
        FROM penpal_letters WHERE user_id = :user_id AND delivered_at IS NOT NULL
          AND (CAST(:character_id AS text) IS NULL OR character_id = :character_id)
        GROUP BY character_id
    """), {"user_id": user_id, "character_id": character_id}).all()
    replies = _replies_to(db, [letter.id for letter in visible if letter.author == "learner"])
    threads: dict[str, dict[str, Any]] = {}
    for letter in visible:
        thread = threads.setdefault(letter.character_id, {
            "character_id": letter.character_id, "character_name": _character_name(characters, letter.character_id),
            "latest_at": _iso(letter.delivered_at), "letters": []})
        thread["letters"].append(present_letter(letter, replies.get(letter.id)))
    for character_id, letters, unread in counts:
        threads[character_id].update(letter_count=letters, unread_count=unread)
    return list(threads.values())


def get_letter(db: Session, *, user_id: uuid.UUID, letter_id: str | uuid.UUID) -> dict[str, Any]:
    """One of the learner's letters, or a reply they have received (a reply not yet
    delivered does not exist for them)."""
    letter = _visible_letter(db, user_id, letter_id)
    return present_letter(letter, _replies_to(db, [letter.id]).get(letter.id))


def mark_read(db: Session, *, user_id: uuid.UUID, letter_id: str | uuid.UUID) -> dict[str, Any]:
    """Mark a received reply read (again: no change). A learner's own letters are read."""
    letter = _visible_letter(db, user_id, letter_id)
    if letter.read_at is None:
        letter.read_at = utcnow()
        db.flush()
    return present_letter(letter, _replies_to(db, [letter.id]).get(letter.id))


def _visible_letter(db: Session, user_id: uuid.UUID, letter_id: str | uuid.UUID) -> PenpalLetter:
    letter = db.get(PenpalLetter, parse_uuid(letter_id, "letter"))
    if letter is None or letter.user_id != user_id or letter.delivered_at is None:
        raise NotFound("No such letter.", code="letter_not_found")
    return letter


def _replies_to(db: Session, letter_ids: list[uuid.UUID]) -> dict[uuid.UUID, PenpalLetter]:
    if not letter_ids:
        return {}
    replies = db.scalars(select(PenpalLetter).where(PenpalLetter.in_reply_to.in_(letter_ids)))
    return {reply.in_reply_to: reply for reply in replies}


# --- writing the reply (workers) -------------------------------------------------------------


@dataclass(frozen=True)
class LetterInput:
    """What writing a pending reply needs."""

    reply_id: uuid.UUID
    letter_id: uuid.UUID
    user_id: uuid.UUID
    character_id: str
    level: str
    learner_name: str
    native_language: str | None
    subject: str | None
    body: str
    analysis: dict[str, Any] | None
    history: list[tuple[str, str]]  # earlier letters of the thread as (role, text), oldest first
    deliver_at: datetime
    write_attempts: int
    retry_at: datetime | None
    moderation: dict[str, Any] | None = None  # the letter's verdict, once checked


# What the character remembers of the thread: not the flagged letters, nor the notes that answered them.
_IN_THE_THREAD = (PenpalLetter.moderation["flagged"].as_boolean().is_not(True),
                  or_(PenpalLetter.provider.is_(None), PenpalLetter.provider != REDIRECTED))


def pending_reply(db: Session, reply_id: uuid.UUID) -> LetterInput | None:
    """The inputs of a reply still to write; None once it is written (or gone)."""
    reply = aliased(PenpalLetter)
    row = db.execute(
        select(PenpalLetter, User.display_name, User.native_language, reply.deliver_at, reply.write_attempts,
               reply.retry_at)
        .join(reply, reply.in_reply_to == PenpalLetter.id)
        .join(User, User.id == PenpalLetter.user_id)
        .where(reply.id == reply_id, reply.body.is_(None))
    ).first()
    if row is None:
        return None
    letter, learner_name, native_language, deliver_at, write_attempts, retry_at = row
    earlier = db.scalars(
        select(PenpalLetter)
        .where(PenpalLetter.user_id == letter.user_id, PenpalLetter.character_id == letter.character_id,
               PenpalLetter.created_at < letter.created_at, PenpalLetter.body.is_not(None), *_IN_THE_THREAD)
        # A reply shares its letter's created_at: newest first puts it before its letter.
        .order_by(PenpalLetter.created_at.desc(), PenpalLetter.author).limit(THREAD_MEMORY)).all()
    history = [("user" if e.author == "learner" else "assistant", _letter_text(e.subject, e.body))
               for e in reversed(earlier)]
    return LetterInput(reply_id=reply_id, letter_id=letter.id, user_id=letter.user_id,
                       character_id=letter.character_id, level=letter.level, learner_name=learner_name,
                       native_language=native_language, subject=letter.subject, body=letter.body,
                       analysis=letter.analysis, moderation=letter.moderation, history=history, deliver_at=deliver_at,
                       write_attempts=write_attempts, retry_at=retry_at)


def store_analysis(db: Session, letter_id: uuid.UUID, analysis: dict[str, Any]) -> None:
    db.execute(update(PenpalLetter).where(PenpalLetter.id == letter_id, PenpalLetter.analysis.is_(None))
               .values(analysis=analysis))


def store_moderation(db: Session, letter_id: uuid.UUID, verdict: dict[str, Any]) -> None:
    db.execute(update(PenpalLetter).where(PenpalLetter.id == letter_id, PenpalLetter.moderation.is_(None))
               .values(moderation=verdict))


def is_flagged(given: LetterInput) -> bool:
    return bool(given.moderation and given.moderation["flagged"])


def corrections_from(body: str, analysis: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The first few confident corrections of the letter, as the reply lists them."""
    found = []
    for error in (analysis or {}).get("errors", []):
        if error.get("suggestions"):
            found.append({"start": error["start"], "end": error["end"], "original": body[error["start"]:error["end"]],
                          "correction": error["suggestions"][0], "category": error["category"],
                          "message": error["message"]})
        if len(found) == MAX_CORRECTIONS:
            break
    return found


def store_reply(db: Session, given: LetterInput, body: str, *, provider: str, degraded: bool) -> datetime | None:
    """Write the reply once and end its outbox entry (in the caller's transaction).
    Returns its due time if this call wrote it, None if another delivery did."""
    written = db.execute(
        update(PenpalLetter).where(PenpalLetter.id == given.reply_id, PenpalLetter.body.is_(None))
        .values(body=body, corrections=[] if is_flagged(given) else corrections_from(given.body, given.analysis),
                provider=provider,
                degraded=degraded, written_at=utcnow())
        .returning(PenpalLetter.deliver_at)
    ).scalar()
    if written is not None:
        outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[given.reply_id])
    return written


def should_retry_later(given: LetterInput, now: datetime) -> bool:
    """After every provider failed: try again later while there is time, rather than
    send the offline letter; in the last RETRY_CUTOFF before the due time, do not wait."""
    return now + RETRY_CUTOFF < given.deliver_at


def postpone(db: Session, given: LetterInput, now: datetime) -> datetime:
    """Note a failed attempt; the next is due after an exponential backoff (the outbox
    sweeper sends the task again, which waits until then)."""
    backoff = min(RETRY_BASE_SECONDS * 2 ** given.write_attempts, RETRY_MAX_SECONDS)
    retry_at = now + timedelta(seconds=backoff)
    db.execute(update(PenpalLetter).where(PenpalLetter.id == given.reply_id, PenpalLetter.body.is_(None))
               .values(write_attempts=PenpalLetter.write_attempts + 1, retry_at=retry_at))
    return retry_at


def reply_request(character: Character, system_prompt: str, given: LetterInput) -> ChatRequest:
    """The model's instructions: the character's own prompt for the level, then how to
    answer a letter (prompts/penpal/reply.txt); the thread so far, then the letter."""
    level = normalize_level(given.level)
    instructions = prompt_files.text("penpal/reply.txt").format(
        name=character.name, learner_name=given.learner_name, level=level.upper(), words=REPLY_WORDS[level])
    messages: list[dict[str, str]] = []
    for role, content in [*given.history, ("user", _letter_text(given.subject, given.body))]:
        if messages and messages[-1]["role"] == role:  # two letters in a row: one turn
            messages[-1]["content"] += "\n\n" + content
        elif messages or role == "user":
            messages.append({"role": role, "content": content})
    return ChatRequest(system=f"{system_prompt}\n\n{instructions}", messages=messages, max_tokens=900,
                       learner_id=given.user_id)


def offline_letter(character: Character, given: LetterInput) -> str:
    """A reply without a model: a salutation, thanks, the offline provider's reaction to
    the letter (recasting its mistakes, in the character's voice, ending on a question),
    a closing and the character's name. Deterministic for a given letter."""
    level = normalize_level(given.level)
    phrases = prompt_files.yaml_data(prompt_files.prompts_dir() / "penpal" / "offline.yaml")[BANDS[level]]

    def pick(key: str) -> str:
        options = phrases[key]
        return options[int.from_bytes(hashlib.sha256(f"{given.reply_id}:{key}".encode()).digest()[:8], "big")
                       % len(options)]

    errors = (given.analysis or {}).get("errors", [])
    core = OfflineProvider().reply(ReplyRequest(
        character=character, level=level.upper(), history=given.history, user_message=given.body,
        corrections=errors, corrected_text=(given.analysis or {}).get("corrected_text")))
    opening = pick("thanks") + (" " + pick("memory") if given.history else "")
    return "\n\n".join([pick("salutations").format(name=given.learner_name), opening, core,
                        f"{pick('closings')}\n{character.name}"])


def redirect_letter(character: Character, given: LetterInput) -> str:
    """The kind out-of-character note that answers a flagged letter (no model): in the
    target language at the learner's level, never lecturing, inviting another letter.
    Deterministic for a given reply."""
    level = normalize_level(given.level)
    data = prompt_files.yaml_data(prompt_files.prompts_dir() / "penpal" / "redirect.yaml")
    by_language = data.get(character.target_language) or data["fr"]
    variants = by_language.get(level) or by_language[BANDS[level]]
    digest = hashlib.sha256(f"{given.reply_id}:redirect".encode()).digest()[:8]
    return variants[int.from_bytes(digest, "big") % len(variants)].strip().format(
        name=given.learner_name, character=character.name)


def _letter_text(subject: str | None, body: str | None) -> str:
    return f"Objet : {subject}\n\n{body}" if subject else (body or "")


# --- delivery (beat) ----------------------------------------------------------------------


def claim_due_replies(db: Session, *, limit: int, reply_id: uuid.UUID | None = None) -> list[tuple[uuid.UUID, dict]]:
    """Written replies whose time has come, marked delivered (in the caller's
    transaction): [(learner id, reply view)]. SKIP LOCKED lets several delivery jobs run
    at once; each reply goes to exactly one of them."""
    due = (select(PenpalLetter.id)
           .where(PenpalLetter.delivered_at.is_(None), PenpalLetter.deliver_at <= utcnow(),
                  PenpalLetter.body.is_not(None))
           .order_by(PenpalLetter.deliver_at).limit(limit).with_for_update(skip_locked=True))
    if reply_id is not None:
        due = due.where(PenpalLetter.id == reply_id)
    delivered = db.scalars(update(PenpalLetter).where(PenpalLetter.id.in_(due.scalar_subquery()))
                           .values(delivered_at=utcnow()).returning(PenpalLetter)).all()
    return [(reply.user_id, present_letter(reply)) for reply in delivered]


def unannounced_replies(db: Session, *, delivered_before: datetime, limit: int) -> list[tuple[uuid.UUID, dict]]:
    """Delivered replies whose event may not have been published (the job stopped in
    between), locked until the caller's transaction ends."""
    stragglers = db.scalars(
        select(PenpalLetter).where(PenpalLetter.author == "character", PenpalLetter.delivered_at.is_not(None),
                                   PenpalLetter.announced_at.is_(None), PenpalLetter.delivered_at < delivered_before)
        .order_by(PenpalLetter.delivered_at).limit(limit).with_for_update(skip_locked=True)).all()
    return [(reply.user_id, present_letter(reply)) for reply in stragglers]


def mark_announced(db: Session, reply_ids: list[str]) -> None:
    db.execute(update(PenpalLetter).where(PenpalLetter.id.in_([uuid.UUID(i) for i in reply_ids]))
               .values(announced_at=utcnow()))


def _character_name(characters: CharacterLibrary, character_id: str) -> str:
    character = characters.get(character_id)
    return character.name if character else character_id


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --- the workers' side: analysing (`nlp`), writing (`llm`), delivering (`default`) ------

_LETTER_SECONDS = 120.0  # a penpal reply is long, and nobody is waiting for it
_DELIVERY_BATCH = 500  # penpal replies delivered per transaction


def analyse_letter(runtime: Runtime, reply_id: uuid.UUID) -> None:
    """Analyse the letter a reply answers (on `nlp`), then have the reply written (on `llm`)."""
    with statement_scope() as db:
        given = pending_reply(db, reply_id)
    if given is None:
        return  # written already (a redelivery)
    if given.analysis is None:
        language = runtime.characters.target_language(given.character_id)
        analysis = analyse_grammar(given.body, language, given.native_language)
        with statement_scope() as db:
            store_analysis(db, given.letter_id, analysis)
        achievements.request_check(runtime.send_task, given.user_id)  # the letter is sent: once, as analysed once
    runtime.send_task(tasks.PENPAL_WRITE, [str(reply_id)], {})


def write_reply(runtime: Runtime, reply_id: uuid.UUID) -> None:
    """Write the reply once. It waits for its due time, unless that has passed
    already (the writing was late): then it is delivered at once."""
    with statement_scope() as db:
        given = pending_reply(db, reply_id)
    now = utcnow()
    if given is None or (given.retry_at is not None and now < given.retry_at):
        return  # written already, or backing off after a failure
    with outbox.holding(OUTBOX_KIND, reply_id, runtime.settings.stage_lease_seconds) as claim:
        if claim is None:
            return  # another delivery is writing it
        given = _moderated(runtime, given)
        written = _letter(runtime, given, now)
        if written is None:
            return  # every provider failed (and it is tried again later)

        def store() -> datetime | None:
            with session_scope() as db:
                return store_reply(db, given, written[0], provider=written[1], degraded=written[2])

        due_at = until_available(store)
    if due_at is not None and due_at <= utcnow():
        deliver_replies(runtime, reply_id=reply_id)


def _moderated(runtime: Runtime, given: LetterInput) -> LetterInput:
    """The letter with its moderation verdict: the stored one, or checked now (by the
    claim's holder: one paid call) and stored before anything else is done with it."""
    if given.moderation is not None:
        return given
    verdict = moderation_check.verdict(runtime.chain, _letter_text(given.subject, given.body),
                                       deadline=time.monotonic() + _LETTER_SECONDS)

    def store() -> None:
        with statement_scope() as db:
            store_moderation(db, given.letter_id, verdict)

    until_available(store)
    return dataclasses.replace(given, moderation=verdict)


def _letter(runtime: Runtime, given: LetterInput, now: datetime) -> tuple[str, str, bool] | None:
    """(letter, who wrote it, degraded); None when every provider failed and there is
    time to try again later. A flagged letter gets the out-of-character note."""
    character = runtime.characters.for_session(given.character_id)
    if is_flagged(given):
        return redirect_letter(character, given), REDIRECTED, False
    system = runtime.characters.system_prompt(character.id, normalize_level(given.level))
    done = runtime.chain.complete(reply_request(character, system, given), seconds=_LETTER_SECONDS,
                                  offline=lambda: offline_letter(character, given))
    if done.degraded and should_retry_later(given, now):
        with statement_scope() as db:
            retry_at = postpone(db, given, now)
        log.warning("no provider wrote penpal reply %s; trying again at %s", given.reply_id, retry_at)
        return None
    return done.value, done.provider, done.degraded


def deliver_replies(runtime: Runtime, reply_id: uuid.UUID | None = None) -> int:
    """Deliver every written reply that is due (or just `reply_id`, if due) and
    publish each as `penpal_reply`, once; then re-announce any delivered reply whose
    event a stopped job may not have published. Returns the number delivered."""
    delivered = 0
    while True:
        with session_scope() as db:
            batch = claim_due_replies(db, limit=_DELIVERY_BATCH, reply_id=reply_id)
        with statement_scope() as db:  # after the commit: a client told of a reply can read it
            _announce_replies(runtime, db, batch)
        delivered += len(batch)
        if len(batch) < _DELIVERY_BATCH or reply_id is not None:
            break
    if reply_id is None:
        with session_scope() as db:
            stragglers = unannounced_replies(
                db, delivered_before=utcnow() - timedelta(seconds=announcements.ANNOUNCE_GRACE_SECONDS),
                limit=_DELIVERY_BATCH)
            _announce_replies(runtime, db, stragglers)  # under the rows' locks: one job per straggler
    return delivered


def _announce_replies(runtime: Runtime, db: Session, delivered: list[tuple[uuid.UUID, dict[str, Any]]]) -> None:
    for user_id, view in delivered:
        runtime.publisher.publish_once(user_id, "penpal_reply", {"letter": view}, once_key=f"penpal:{view['id']}")
    if delivered:
        mark_announced(db, [view["id"] for _, view in delivered])
