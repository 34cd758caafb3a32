"""A conversation's target words: the words the character is asked to use or elicit.

The learner's due cards, least likely to be recalled first, then a few new words at their
level (the most frequent ones they have no card for): the review queue's order
(`reviews.queue`). Only words a sentence can be built around count as new targets; "de"
or "le" cannot be elicited. They are chosen when the session starts, and again after
each turn's conversation reviews (off the turn's path), so a word the learner just used
correctly leaves and the next due one comes in.

Each turn records the targets offered when it was written (domain/turns.py), and its
analysis looks for them in the message like the words the client suggested: a correct
use becomes a `good` review, a wrong one `again`, through the conversation reviews.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from domain.config import Settings
from domain.models import ChatSession
from domain.srs import reviews

NEW_TARGET_PARTS_OF_SPEECH = frozenset({"noun", "verb", "adjective", "adverb"})
# New words read from the queue to find the few content words among (the most frequent
# words are mostly prepositions, pronouns and determiners).
_NEW_WORD_POOL = 40


def choose(db: Session, settings: Settings, *, user_id: uuid.UUID,
           leaving_out: Iterable[int] = ()) -> list[dict[str, Any]]:
    """The learner's target words now, [{word_id, lemma, translation}], without the
    words in `leaving_out`."""
    skip = set(leaving_out)
    due_words, new_words = settings.session_target_due_words, settings.session_target_new_words
    queue = reviews.queue(db, user_id=user_id, limit=due_words + len(skip),
                          new_limit=new_words + len(skip) + _NEW_WORD_POOL if new_words else 0)
    return pick(queue, due_words=due_words, new_words=new_words, leaving_out=skip)


def pick(queue: dict[str, list[dict[str, Any]]], *, due_words: int, new_words: int,
         leaving_out: Iterable[int] = ()) -> list[dict[str, Any]]:
    """The targets from a review queue (`reviews.queue`'s due and new items, in order):
    the first `due_words` due ones, then the first `new_words` new content words."""
    skip = set(leaving_out)
    due = [item["word"] for item in queue["due"] if item["word_id"] not in skip][:due_words]
    new = [item["word"] for item in queue["new"]
           if item["word_id"] not in skip and item["word"]["pos"] in NEW_TARGET_PARTS_OF_SPEECH][:new_words]
    return [{"word_id": word["id"], "lemma": word["lemma"], "translation": word["translation"]} for word in due + new]


def refresh_after_turn(db: Session, settings: Settings, *, user_id: uuid.UUID, session_id: uuid.UUID,
                       word_feedback: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Choose a session's targets again once a turn's reviews are applied (the turn's
    session and word feedback): the words it used correctly leave (they were just
    practised) and the next come in. Returns the new targets."""
    used_correctly = [entry["word_id"] for entry in word_feedback if entry.get("usage") == "used_correctly"]
    chosen = choose(db, settings, user_id=user_id, leaving_out=used_correctly)
    db.execute(_SET_TARGETS, {"session_id": session_id, "targets": chosen})
    return chosen


_sessions = ChatSession.__table__
_SET_TARGETS = update(_sessions).where(_sessions.c.id == bindparam("session_id")).values(
    target_words=bindparam("targets"))
