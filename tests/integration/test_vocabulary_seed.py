"""Seeding the vocabulary (`flask vocab seed`), on a real PostgreSQL database of its own."""
from __future__ import annotations

from sqlalchemy import text

from domain.srs import vocabulary


def _rows(count, translation="word"):
    return [{"lemma": f"mot{index}", "pos": "noun", "gender": "m", "translation": translation,
             "frequency_rank": index + 1, "cefr_level": "A1", "example": ""} for index in range(count)]


def test_seeding_twice_keeps_the_ids_and_updates_the_words(db_scope):
    with db_scope() as db:
        first = vocabulary.seed(db, _rows(1500))
        ids = dict(db.execute(text("SELECT lemma, id FROM vocabulary")).all())
    with db_scope() as db:
        again = vocabulary.seed(db, _rows(1500, translation="a word"))
        after = dict(db.execute(text("SELECT lemma, id FROM vocabulary")).all())
        translations = set(db.scalars(text("SELECT DISTINCT translation FROM vocabulary")))
    assert (first.inserted, first.updated) == (1500, 0)
    assert (again.inserted, again.updated) == (0, 1500)
    assert after == ids and translations == {"a word"}


def test_a_seeded_vocabulary_is_looked_up_by_its_key_at_once(db_scope):
    """The planner knows the table's size right after the seed (not only once autovacuum
    has passed), so a turn's word lookup probes the key instead of scanning every word."""
    with db_scope() as db:
        vocabulary.seed(db, _rows(2000))
    with db_scope() as db:
        known_rows = db.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'vocabulary'"))
        plan = "\n".join(db.scalars(text(
            "EXPLAIN SELECT id, lemma FROM vocabulary WHERE id = ANY(CAST(:ids AS int[]))"), {"ids": [3, 30, 300]}))
    assert known_rows >= 2000
    assert "Seq Scan" not in plan, plan
