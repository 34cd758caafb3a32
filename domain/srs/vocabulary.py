"""The French vocabulary: loading it from CSV, browsing it, and finding the words a
learner's message involves (for word feedback and, from there, reviews)."""
from __future__ import annotations

import csv
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import case, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from domain import cefr
from domain.errors import Invalid, NotFound
from domain.models import Word

CSV_COLUMNS = ("lemma", "pos", "gender", "translation", "frequency_rank", "cefr_level", "example")
PARTS_OF_SPEECH = ("noun", "verb", "adjective", "adverb", "pronoun", "preposition", "conjunction", "determiner",
                   "interjection", "number")
_SEED_BATCH = 1000


@dataclass(frozen=True)
class SeedReport:
    rows: int
    inserted: int
    updated: int


def read_csv(path: Path) -> list[dict[str, Any]]:
    """The rows of a vocabulary CSV (header: CSV_COLUMNS), validated; a bad row raises
    Invalid naming its line, so nothing is loaded from a half-good file."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise Invalid(f"{path} lacks the columns {', '.join(sorted(missing))}.", code="vocabulary_csv_invalid")
        rows = [_validated(row, line=reader.line_num) for row in reader]
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=2):
        key = (row["lemma"], row["pos"])
        if key in seen:
            raise Invalid(f"Line {number}: {key[0]} ({key[1]}) is already on line {seen[key]}.",
                          code="vocabulary_csv_invalid")
        seen[key] = number
    return rows


def _validated(row: dict[str, str], *, line: int) -> dict[str, Any]:
    def fail(problem: str) -> Invalid:
        return Invalid(f"Line {line}: {problem}.", code="vocabulary_csv_invalid")

    lemma, pos, gender = row["lemma"].strip(), row["pos"].strip(), (row["gender"] or "").strip() or None
    if not lemma or len(lemma) > 64:
        raise fail("the lemma is empty or longer than 64 characters")
    if pos not in PARTS_OF_SPEECH:
        raise fail(f"unknown part of speech {pos!r}")
    if gender not in (None, "m", "f", "mf") or (gender is None) == (pos == "noun"):
        raise fail("a noun's gender is m, f or mf, and only nouns have one")
    try:
        rank = int(row["frequency_rank"])
    except (TypeError, ValueError):
        raise fail("the frequency rank is not a whole number") from None
    if rank < 1:
        raise fail("the frequency rank starts at 1")
    if row["cefr_level"] not in cefr.LEVELS:
        raise fail(f"unknown CEFR level {row['cefr_level']!r}")
    translation, example = row["translation"].strip(), row["example"].strip()
    if not translation or len(translation) > 255 or not example:
        raise fail("the translation and the example are required (translation: 255 characters at most)")
    return {"lemma": lemma, "pos": pos, "gender": gender, "translation": translation, "frequency_rank": rank,
            "cefr_level": row["cefr_level"], "example": example}


def write_csv(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows({column: row.get(column) or "" for column in CSV_COLUMNS} for row in rows)


def seed(db: Session, rows: list[dict[str, Any]]) -> SeedReport:
    """Insert new words and update known ones (same lemma and part of speech): running it
    twice changes nothing, and word ids stay stable, so learners' cards keep their words.
    Then the table's statistics are refreshed: until autovacuum gets to a freshly seeded
    table, the planner takes it for a small one and every turn's word lookup scans it
    whole (0.21 ms instead of 0.06 for 2,000 words, growing with the vocabulary)."""
    inserted = 0
    for start in range(0, len(rows), _SEED_BATCH):
        statement = insert(Word).values(rows[start:start + _SEED_BATCH])
        statement = statement.on_conflict_do_update(
            constraint="uq_vocabulary_lemma_pos",
            set_={column: statement.excluded[column] for column in CSV_COLUMNS if column not in ("lemma", "pos")},
        ).returning(text("xmax = 0"))  # true for a row this statement inserted
        inserted += sum(1 for (was_inserted,) in db.execute(statement) if was_inserted)
    db.execute(text("ANALYZE vocabulary"))  # sees this transaction's rows
    return SeedReport(rows=len(rows), inserted=inserted, updated=len(rows) - inserted)


def search(db: Session, *, q: str | None, level: str | None, page: int, per_page: int) -> tuple[list[Word], int]:
    """Words by frequency, most common first; `q` matches the start of the French word
    (accents optional) or of a word of the translation, French matches first; `level`
    keeps one CEFR level."""
    query, order = select(Word), [Word.frequency_rank, Word.id]
    if q:
        prefix = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        french = or_(func.lower(Word.lemma).like(f"{prefix}%"),
                     func.translate(func.lower(Word.lemma), _ACCENTED, _PLAIN).like(f"{_plain(prefix)}%"))
        english_word = Word.translation.op("~*")(r"\m" + re.escape(q.strip()))
        query = query.where(or_(french, english_word))
        order.insert(0, case((french, 0), else_=1))
    if level:
        query = query.where(Word.cefr_level == level)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    words = db.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page))
    return list(words), total


_ACCENTED, _PLAIN = "àâäéèêëîïôöùûüÿç", "aaaeeeeiioouuuyc"


def _plain(word: str) -> str:
    return word.translate(str.maketrans(_ACCENTED, _PLAIN))


def get_word(db: Session, word_id: int) -> Word:
    word = db.get(Word, word_id)
    if word is None:
        raise NotFound("No such word.", code="word_not_found")
    return word


def missing_ids(db: Session, word_ids: Iterable[int]) -> list[int]:
    """The ids among `word_ids` that are not in the vocabulary."""
    wanted = set(word_ids)
    if not wanted:
        return []
    found = set(db.scalars(select(Word.id).where(Word.id.in_(wanted))))
    return sorted(wanted - found)


@dataclass(frozen=True)
class InvolvedWord:
    """A vocabulary word a message may involve: one the client suggested, or one the
    learner knows (has a card for) or was offered as a target word whose lemma the
    message may contain."""

    id: int
    lemma: str
    suggested: bool
    known: bool


_INVOLVED = text("""
    SELECT v.id, v.lemma, v.id = ANY(:suggested) AS suggested, c.word_id IS NOT NULL AS known
    FROM vocabulary v LEFT JOIN cards c ON c.user_id = :user_id AND c.word_id = v.id
    WHERE v.id = ANY(:suggested) OR (v.id = ANY(:candidates) AND (c.word_id IS NOT NULL OR v.id = ANY(:targets)))
    ORDER BY v.id
""")
_ALL_LEMMAS = text("SELECT lower(lemma), id FROM vocabulary")
# Every turn's analysis looks its words up here first, so the query only touches the
# cards of words that exist. The vocabulary changes when someone seeds it: a word seeded
# a few minutes ago may not count as known yet.
_LEMMA_INDEX_SECONDS = 300
_lemma_index: tuple[float, dict[str, list[int]]] = (0.0, {})


def _word_ids_by_lemma(db: Session) -> dict[str, list[int]]:
    global _lemma_index
    loaded_at, index = _lemma_index
    if time.monotonic() - loaded_at > _LEMMA_INDEX_SECONDS:
        index = {}
        for lemma, word_id in db.execute(_ALL_LEMMAS):
            index.setdefault(lemma, []).append(word_id)
        _lemma_index = (time.monotonic(), index)
    return index


def involved_words(db: Session, *, user_id: uuid.UUID, suggested_ids: Iterable[int],
                   lemmas: Iterable[str], target_ids: Iterable[int] = ()) -> list[InvolvedWord]:
    """The suggested words, and the learner's known words and target words (`target_ids`,
    offered by the session) among `lemmas`, in one query, one row per word (none when no
    lemma is a vocabulary word and nothing was suggested). A target word is reported only
    when the message may contain it: offered is not used."""
    index, suggested = _word_ids_by_lemma(db), list(suggested_ids)
    candidates = sorted({word_id for lemma in lemmas for word_id in index.get(lemma, ())})
    if not candidates and not suggested:
        return []
    rows = db.execute(_INVOLVED, {"user_id": user_id, "suggested": suggested, "candidates": candidates,
                                  "targets": list(target_ids)})
    return [InvolvedWord(*row) for row in rows]


def present_word(word: Word) -> dict[str, Any]:
    return {"id": word.id, "lemma": word.lemma, "pos": word.pos, "gender": word.gender,
            "translation": word.translation, "frequency_rank": word.frequency_rank, "cefr_level": word.cefr_level,
            "example": word.example}
