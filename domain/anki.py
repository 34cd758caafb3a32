"""Anki: a learner's cards out as an Anki deck (.apkg) or CSV, and decks or CSV in.

Export: the learner's vocabulary cards (the word and its translation, with their review
history as Anki's revlog), their own imported words, and their error cards (the mistake
and its fix), as one .apkg of two decks ("Parlons" and "Parlons::Errors", built with
genanki; error cards tagged `parlons_error`, which an import skips) or as CSV
(`front,back,reviews,kind`).

Import: an .apkg is a zip holding a SQLite collection (`collection.anki21`, else
`collection.anki2`): each note's first two fields are its front and back, and the revlog
of its cards is its review history. A CSV has the header `front,back` and optionally
`reviews` (and `kind`, which the export writes: rows of kind `error` are skipped).
`reviews` is `;`-separated `TIME=RATING`, TIME in ISO 8601 with a zone and RATING
again|hard|good|easy (or Anki's 1-4): `2026-11-02T09:30:00Z=good;2026-11-05T08:00:00Z=again`.

A note's front is matched to the vocabulary by lemma (case-insensitive, and again
without a leading article: "le chat" is "chat"); a word the vocabulary lacks becomes one
of the learner's own words (`learner_words`). The history is replayed in time order
through the scheduler of live reviews (domain/srs/reviews.py; an own word's through the
same scheduler and the learner's parameters). A review dated before the card's last
review is skipped (so importing the same file again adds nothing), as is one dated in
the future or, for vocabulary cards, before the account was created (live reviews
refuse those too).

One import is one transaction, under a per-learner lock: a bad file changes nothing.
Small files are imported in the request; larger ones (ANKI_IMPORT_SYNC_MAX_ROWS,
ANKI_IMPORT_SYNC_MAX_BYTES) wait in `anki_imports.payload` for the `anki.import` task
(outbox kind `anki_import`), which publishes `import_progress` events as it goes.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import itertools
import os
import re
import sqlite3
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import fsrs
import genanki
from sqlalchemy import text
from sqlalchemy.orm import Session

from domain import outbox
from domain.config import Settings
from domain.errors import Invalid, NotFound
from domain.ids import parse_uuid
from domain.models import AnkiImport, utcnow
from domain.srs import reviews

FORMATS = ("apkg", "csv")
CSV_COLUMNS = ("front", "back", "reviews", "kind")
RATINGS = {"again": 0, "hard": 1, "good": 2, "easy": 3, "1": 0, "2": 1, "3": 2, "4": 3}
OUTBOX_KIND = outbox.ANKI_IMPORT
EVENT = "import_progress"
ERROR_TAG = "parlons_error"  # the exported error cards' tag: an import skips them
PROGRESS_EVERY = 50  # notes between two import_progress events
MAX_FRONT_CHARS = 255
_ARTICLE = re.compile(r"^(?:le|la|les|un|une|des|du|l')\s*", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SOUND = re.compile(r"\[sound:[^\]]*\]")
# Fixed ids: the same note type and decks every export, so Anki updates instead of duplicating.
_MODEL_ID = 1_733_468_801
_DECK_ID = 1_733_468_802
_ERROR_DECK_ID = 1_733_468_803
_MODEL = genanki.Model(
    _MODEL_ID, "Parlons word",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
)


@dataclass(frozen=True)
class Review:
    at: datetime  # UTC
    rating: int  # 0 again, 1 hard, 2 good, 3 easy


@dataclass
class Note:
    front: str
    back: str
    reviews: list[Review] = field(default_factory=list)


def _bad(message: str, code: str, **details: Any) -> Invalid:
    return Invalid(message, code=code, details=details)


# --- reading files ---------------------------------------------------------------------------

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(data: bytes, fmt: str, settings: Settings) -> list[Note]:
    """The notes of a file, merged by front (a deck's reversed cards are one word);
    a bad file raises Invalid naming its problem."""
    if len(data) > settings.anki_import_max_bytes:
        raise _bad(f"The file is {len(data)} bytes; at most {settings.anki_import_max_bytes} are accepted.",
                   "anki_file_too_large", size_bytes=len(data), max_bytes=settings.anki_import_max_bytes)
    if not data:
        raise _bad("The file is empty.", "anki_file_empty")
    notes = read_apkg(data, settings) if fmt == "apkg" else read_csv(data)
    merged: dict[str, Note] = {}
    for note in notes:
        key = front_key(note.front)
        if not key:
            continue
        if key in merged:
            merged[key].reviews.extend(note.reviews)
        else:
            # (PostgreSQL's text holds no NUL character.)
            merged[key] = Note(note.front.replace("\x00", "").strip()[:MAX_FRONT_CHARS],
                               note.back.replace("\x00", "").strip(), list(note.reviews))
    if len(merged) > settings.anki_import_max_rows:
        raise _bad(f"The file has {len(merged)} cards; at most {settings.anki_import_max_rows} are accepted.",
                   "anki_file_too_large", cards=len(merged), max_cards=settings.anki_import_max_rows)
    for note in merged.values():
        note.reviews.sort(key=lambda r: r.at)
    return list(merged.values())


def front_key(front: str) -> str:
    return " ".join(front.replace("\x00", "").split()).lower()[:MAX_FRONT_CHARS]


def plain(field_html: str) -> str:
    """An Anki field (HTML) as plain text."""
    without = _SOUND.sub("", _TAG.sub(" ", field_html.replace("<br>", " ")))
    return " ".join(html.unescape(without).split())


def read_apkg(data: bytes, settings: Settings) -> list[Note]:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _bad("The file is not an .apkg: it is not a zip archive.", "anki_not_a_zip")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        name = next((n for n in ("collection.anki21", "collection.anki2") if n in names), None)
        if name is None:
            hint = (" (collection.anki21b is Anki's newer compressed format: export with "
                    "\"Support older Anki versions\")" if "collection.anki21b" in names else "")
            raise _bad(f"The .apkg holds no collection.anki21 or collection.anki2{hint}.", "anki_no_collection",
                       files=sorted(names)[:20])
        if archive.getinfo(name).file_size > settings.anki_import_max_bytes * 10:
            raise _bad("The collection inside the .apkg is too large.", "anki_file_too_large")
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "collection.sqlite")
            with open(path, "wb") as handle:
                handle.write(archive.read(name))
            return _read_collection(path)
    except zipfile.BadZipFile as problem:
        raise _bad(f"The .apkg is a damaged zip archive: {problem}.", "anki_not_a_zip") from None


def _read_collection(path: str) -> list[Note]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT id, flds, tags FROM notes ORDER BY id").fetchall()
        note_of_card = dict(connection.execute("SELECT id, nid FROM cards").fetchall())
        revlog = connection.execute("SELECT id, cid, ease FROM revlog WHERE ease BETWEEN 1 AND 4 ORDER BY id")
        history: dict[int, list[Review]] = {}
        for review_id, card_id, ease in revlog:
            note_id = note_of_card.get(card_id)
            if note_id is not None:
                at = datetime.fromtimestamp(review_id / 1000, tz=timezone.utc)
                history.setdefault(note_id, []).append(Review(at=at, rating=ease - 1))
    except sqlite3.DatabaseError as problem:
        raise _bad(f"The collection in the .apkg is not a readable Anki collection: {problem}.",
                   "anki_collection_invalid") from None
    finally:
        connection.close()
    notes = []
    for note_id, fields, tags in rows:
        if ERROR_TAG in (tags or "").split():
            continue  # a Parlons error card: it comes back from the learner's own mistakes, not from a deck
        parts = (fields or "").split("\x1f")
        notes.append(Note(plain(parts[0]), plain(parts[1]) if len(parts) > 1 else "", history.get(note_id, [])))
    return notes


def read_csv(data: bytes) -> list[Note]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad("The CSV is not UTF-8 text.", "anki_csv_invalid") from None
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""))
        columns = [name.strip().lower() for name in (reader.fieldnames or [])]
        if "front" not in columns or "back" not in columns:
            raise _bad("The CSV's first line must be a header with the columns front and back "
                       "(and optionally reviews).", "anki_csv_invalid", columns=columns[:10])
        reader.fieldnames = columns
        notes = []
        for row in reader:
            if None in row:
                raise _bad(f"Line {reader.line_num}: more values than columns.", "anki_csv_invalid",
                           line=reader.line_num)
            if (row.get("kind") or "").strip() == "error":
                continue
            front = (row.get("front") or "").strip()
            if not front:
                raise _bad(f"Line {reader.line_num}: the front is empty.", "anki_csv_invalid", line=reader.line_num)
            notes.append(Note(front, (row.get("back") or "").strip(),
                              _csv_reviews(row.get("reviews") or "", line=reader.line_num)))
    except csv.Error as problem:
        raise _bad(f"The CSV cannot be read: {problem}.", "anki_csv_invalid") from None
    return notes


def _csv_reviews(value: str, *, line: int) -> list[Review]:
    found = []
    for item in filter(None, (part.strip() for part in value.split(";"))):
        moment, _, rating = item.rpartition("=")
        try:
            at = datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
        except ValueError:
            at = None
        if at is None or at.tzinfo is None or rating.strip().lower() not in RATINGS:
            raise _bad(f"Line {line}: the review {item!r} is not TIME=RATING (ISO 8601 with a zone, "
                       "again|hard|good|easy).", "anki_csv_invalid", line=line)
        found.append(Review(at=at.astimezone(timezone.utc), rating=RATINGS[rating.strip().lower()]))
    return found


def format_reviews(items: Iterable[Review]) -> str:
    return ";".join(f"{r.at.astimezone(timezone.utc).isoformat().replace('+00:00', 'Z')}="
                    f"{reviews.RATING_NAMES[r.rating]}" for r in items)


# --- importing -------------------------------------------------------------------------------

_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('anki_import:' || CAST(:user_id AS text)))")
_ACCOUNT = text("""
    SELECT u.created_at, u.desired_retention, p.parameters FROM users u
    LEFT JOIN learner_parameters p ON p.user_id = u.id AND p.adopted
    WHERE u.id = :user_id
""")
_MATCH = text("""
    SELECT DISTINCT ON (lower(lemma)) lower(lemma) AS key, id FROM vocabulary
    WHERE lower(lemma) = ANY(:keys) ORDER BY lower(lemma), frequency_rank, id
""")
_NEW_CARD = text("""
    INSERT INTO cards (user_id, word_id, state, step, due, reps, lapses, created_at)
    VALUES (:user_id, :word_id, 1, 0, :now, 0, 0, :now)
    ON CONFLICT (user_id, word_id) DO NOTHING RETURNING word_id
""")
_LAST_REVIEW = text("SELECT last_review FROM cards WHERE user_id = :user_id AND word_id = :word_id")
_NEW_OWN_WORD = text("""
    INSERT INTO learner_words (user_id, front, front_key, back, state, step, due, reps, lapses, created_at)
    VALUES (:user_id, :front, :key, :back, 1, 0, :now, 0, 0, :now)
    ON CONFLICT (user_id, front_key) DO NOTHING RETURNING id
""")
_OWN_WORD = text("""
    SELECT id, state, step, stability, difficulty, due, last_review, reps, lapses FROM learner_words
    WHERE user_id = :user_id AND front_key = :key FOR UPDATE
""")
_SAVE_OWN_WORD = text("""
    UPDATE learner_words SET state = :state, step = :step, stability = :stability, difficulty = :difficulty,
        due = :due, last_review = :last_review, reps = :reps, lapses = :lapses
    WHERE id = :id
""")


def import_notes(db: Session, settings: Settings, *, user_id: uuid.UUID, notes: list[Note],
                 progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Import the notes into the learner's cards, in the caller's transaction (the caller
    commits, or rolls back on error). `progress(done, total)` is called every
    PROGRESS_EVERY notes. Returns what was done."""
    db.execute(_LOCK, {"user_id": user_id})
    account = db.execute(_ACCOUNT, {"user_id": user_id}).first()
    if account is None:
        raise NotFound("No such learner.", code="user_not_found")
    now = utcnow()
    keys = {front_key(n.front): n for n in notes}
    matched = dict(db.execute(_MATCH, {"keys": list(keys)}).all())
    unmatched = [k for k in keys if k not in matched]
    by_article = {_ARTICLE.sub("", k, count=1).strip(): k for k in unmatched if _ARTICLE.match(k)}
    if by_article:
        for key, word_id in db.execute(_MATCH, {"keys": list(by_article)}).all():
            matched[by_article[key]] = word_id
    counts = {"notes": len(notes), "matched": 0, "cards_created": 0, "own_words_added": 0,
              "reviews_replayed": 0, "reviews_skipped": 0}
    own_scheduler = reviews.scheduler(settings, retention=account.desired_retention, parameters=account.parameters)
    for done, (key, note) in enumerate(keys.items(), start=1):
        if key in matched:
            counts["matched"] += 1
            _import_word(db, settings, user_id=user_id, word_id=matched[key], note=note, now=now,
                         account_created_at=account.created_at, counts=counts)
        else:
            _import_own_word(db, own_scheduler, user_id=user_id, key=key, note=note, now=now, counts=counts)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(keys)):
            progress(done, len(keys))
    return counts


def _import_word(db: Session, settings: Settings, *, user_id: uuid.UUID, word_id: int, note: Note, now: datetime,
                 account_created_at: datetime, counts: dict[str, int]) -> None:
    if db.execute(_NEW_CARD, {"user_id": user_id, "word_id": word_id, "now": now}).first() is not None:
        counts["cards_created"] += 1
    last = db.scalar(_LAST_REVIEW, {"user_id": user_id, "word_id": word_id})
    for review in note.reviews:
        if review.at > now or review.at < account_created_at or (last is not None and review.at <= last):
            counts["reviews_skipped"] += 1
            continue
        given = reviews.ReviewInput(word_id=word_id, rating=review.rating, reviewed_at=review.at,
                                    client_review_id=f"anki:{word_id}:{int(review.at.timestamp() * 1000)}")
        reviews.review(db, settings, user_id=user_id, given=given)
        last = review.at
        counts["reviews_replayed"] += 1


def _import_own_word(db: Session, chosen: fsrs.Scheduler, *, user_id: uuid.UUID, key: str, note: Note, now: datetime,
                     counts: dict[str, int]) -> None:
    params = {"user_id": user_id, "front": note.front, "key": key, "back": note.back, "now": now}
    if db.execute(_NEW_OWN_WORD, params).first() is not None:
        counts["own_words_added"] += 1
    row = db.execute(_OWN_WORD, {"user_id": user_id, "key": key}).one()
    if row.last_review is None:
        card = fsrs.Card(card_id=0, due=_utc(row.due))
    else:
        card = fsrs.Card(card_id=0, state=fsrs.State(row.state), step=row.step, stability=row.stability,
                         difficulty=row.difficulty, due=_utc(row.due), last_review=_utc(row.last_review))
    reps, lapses, replayed = row.reps, row.lapses, 0
    for review in note.reviews:
        if review.at > now or (card.last_review is not None and review.at <= card.last_review):
            counts["reviews_skipped"] += 1
            continue
        was_review = card.last_review is not None and card.state == fsrs.State.Review
        card, _ = chosen.review_card(card, fsrs.Rating(review.rating + 1), review_datetime=review.at)
        reps, lapses, replayed = reps + 1, lapses + (was_review and review.rating == 0), replayed + 1
    if replayed:
        db.execute(_SAVE_OWN_WORD, {"id": row.id, "state": card.state.value, "step": card.step,
                                    "stability": card.stability, "difficulty": card.difficulty, "due": card.due,
                                    "last_review": card.last_review, "reps": reps, "lapses": lapses})
        counts["reviews_replayed"] += replayed


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(timezone.utc) if moment is not None else None


# --- imports: in the request, or by the task -------------------------------------------------

def is_large(data: bytes, notes: list[Note], settings: Settings) -> bool:
    rows = len(notes) + sum(len(n.reviews) for n in notes)
    return rows > settings.anki_import_sync_max_rows or len(data) > settings.anki_import_sync_max_bytes


def start_import(db: Session, settings: Settings, *, user_id: uuid.UUID, data: bytes, fmt: str,
                 filename: str) -> tuple[AnkiImport, bool]:
    """Read the file (Invalid if bad: nothing is stored) and import it now, or store it
    for the task when it is large. Returns the import and whether it waits for the task
    (then the caller commits and dispatches the outbox entry). The caller commits."""
    if fmt not in FORMATS:
        raise _bad(f"Unknown format {fmt!r}: apkg or csv.", "anki_format_unknown")
    notes = read(data, fmt, settings)
    now = utcnow()
    name = filename.replace("\x00", "") or "upload"
    record = AnkiImport(id=uuid.uuid4(), user_id=user_id, format=fmt, filename=name[:255],
                        size_bytes=len(data), sha256=sha256(data), status="queued", created_at=now)
    if is_large(data, notes, settings):
        record.payload = data
        record.result = {"notes": len(notes), "done": 0}
        db.add(record)
        outbox.add(db, OUTBOX_KIND, record.id, now)
        return record, True
    record.result = import_notes(db, settings, user_id=user_id, notes=notes)
    record.status, record.finished_at = "done", utcnow()
    db.add(record)
    return record, False


_CLAIM_IMPORT = text("""
    SELECT id, user_id, format, payload FROM anki_imports WHERE id = :id AND status = 'queued'
    FOR UPDATE SKIP LOCKED
""")


def run_import(db: Session, settings: Settings, publish: Callable[[uuid.UUID, str, dict[str, Any]], Any],
               import_id: uuid.UUID) -> str | None:
    """The task's work: import a stored file in one transaction, publishing progress.
    A redelivery finds it done (or held by the running delivery) and does nothing.
    Returns the status it left, or None when there was nothing to do."""
    row = db.execute(_CLAIM_IMPORT, {"id": import_id}).first()
    if row is None:
        return None
    record = db.get(AnkiImport, import_id)

    def progress(done: int, total: int) -> None:
        publish(row.user_id, EVENT, {"import_id": str(import_id), "status": "running", "done": done, "total": total})

    try:
        notes = read(row.payload, row.format, settings)
        result = import_notes(db, settings, user_id=row.user_id, notes=notes, progress=progress)
    except Invalid as problem:
        db.rollback()
        record = db.get(AnkiImport, import_id)
        record.status, record.error = "failed", {"code": problem.code, "message": problem.message}
        result = None
    else:
        record.status, record.result = "done", result
    record.payload, record.finished_at = None, utcnow()
    outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[import_id])
    db.commit()
    publish(row.user_id, EVENT, {"import_id": str(import_id), "status": record.status, "result": result,
                                 "error": record.error})
    return record.status


def get_import(db: Session, *, user_id: uuid.UUID, import_id: str | uuid.UUID) -> AnkiImport:
    record = db.get(AnkiImport, parse_uuid(import_id, "import"))
    if record is None or record.user_id != user_id:
        raise NotFound("No such import.", code="import_not_found")
    return record


def present_import(record: AnkiImport) -> dict[str, Any]:
    return {"id": str(record.id), "format": record.format, "filename": record.filename,
            "size_bytes": record.size_bytes, "status": record.status, "result": record.result,
            "error": record.error, "created_at": record.created_at.isoformat(),
            "finished_at": record.finished_at.isoformat() if record.finished_at else None}


# --- exporting -------------------------------------------------------------------------------

_WORDS = text("""
    SELECT c.word_id, v.lemma, v.translation FROM cards c JOIN vocabulary v ON v.id = c.word_id
    WHERE c.user_id = :user_id ORDER BY v.frequency_rank, v.id
""")
_HISTORY = text("""
    SELECT word_id, reviewed_at, rating FROM review_logs WHERE user_id = :user_id ORDER BY reviewed_at, id
""")
_OWN_WORDS = text("SELECT front, back FROM learner_words WHERE user_id = :user_id ORDER BY id")
_ERROR_CARDS = text("""
    SELECT wrong, fix, explanation FROM error_patterns
    WHERE user_id = :user_id AND state IN ('card', 'retired') ORDER BY first_seen_at, id
""")


@dataclass(frozen=True)
class ExportCard:
    kind: str  # word | own | error
    front: str
    back: str
    reviews: tuple[Review, ...] = ()


def cards_to_export(db: Session, *, user_id: uuid.UUID) -> list[ExportCard]:
    history: dict[int, list[Review]] = {}
    for word_id, at, rating in db.execute(_HISTORY, {"user_id": user_id}):
        history.setdefault(word_id, []).append(Review(at=at.astimezone(timezone.utc), rating=rating - 1))
    cards = [ExportCard("word", lemma, translation, tuple(history.get(word_id, ())))
             for word_id, lemma, translation in db.execute(_WORDS, {"user_id": user_id})]
    cards += [ExportCard("own", front, back) for front, back in db.execute(_OWN_WORDS, {"user_id": user_id})]
    for wrong, fix, explanation in db.execute(_ERROR_CARDS, {"user_id": user_id}):
        back = " — ".join(part for part in (fix, explanation) if part)
        cards.append(ExportCard("error", wrong, back))
    return cards


def to_csv(cards: Iterable[ExportCard]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for card in cards:
        writer.writerow((card.front, card.back, format_reviews(card.reviews), card.kind))
    return out.getvalue().encode("utf-8")


def to_apkg(cards: Iterable[ExportCard], *, now: datetime | None = None) -> bytes:
    """An .apkg of the cards: words in the deck "Parlons", error cards in "Parlons::Errors",
    each word's review history as the revlog of its card."""
    moment = (now or utcnow()).timestamp()
    words, errors = genanki.Deck(_DECK_ID, "Parlons"), genanki.Deck(_ERROR_DECK_ID, "Parlons::Errors")
    history: dict[str, tuple[Review, ...]] = {}
    for card in cards:
        guid = genanki.guid_for("parlons", card.kind, front_key(card.front))
        note = genanki.Note(model=_MODEL, fields=[html.escape(card.front), html.escape(card.back)], guid=guid,
                            tags=[ERROR_TAG] if card.kind == "error" else [])
        (errors if card.kind == "error" else words).add_note(note)
        if card.reviews:
            history[guid] = card.reviews
    package = genanki.Package([words, errors])
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "collection.anki2")
        connection = sqlite3.connect(path)
        try:
            cursor = connection.cursor()
            package.write_to_db(cursor, moment, itertools.count(int(moment * 1000)))
            _write_revlog(cursor, history)
            connection.commit()
        finally:
            connection.close()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, "collection.anki2")
            archive.writestr("media", "{}")
        return out.getvalue()


def _write_revlog(cursor: sqlite3.Cursor, history: dict[str, tuple[Review, ...]]) -> None:
    used: set[int] = set()
    for guid, items in history.items():
        card_id = cursor.execute("SELECT c.id FROM cards c JOIN notes n ON n.id = c.nid WHERE n.guid = ? "
                                 "ORDER BY c.ord LIMIT 1", (guid,)).fetchone()[0]
        for review in items:
            review_id = int(review.at.timestamp() * 1000)
            while review_id in used:  # revlog ids are unique: two reviews in one millisecond
                review_id += 1
            used.add(review_id)
            cursor.execute("INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
                           "VALUES (?, ?, -1, ?, 0, 0, 0, 0, 1)", (review_id, card_id, review.rating + 1))
