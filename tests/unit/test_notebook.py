"""The error notebook's pure rules: when a pattern becomes a card, when a card retires,
how a drill answer is judged, and which sentence a card shows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain import memory
from domain.language.error_patterns import ErrorPattern
from domain.notebook import drill_check, retires, sentence_around, state_after_occurrence

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)


def test_a_pattern_becomes_a_card_once_made_often_enough_and_a_retired_one_comes_back():
    assert state_after_occurrence("watching", 1, card_after=2) == "watching"
    assert state_after_occurrence("watching", 2, card_after=2) == "card"
    assert state_after_occurrence("watching", 1, card_after=1) == "card"
    assert state_after_occurrence("card", 5, card_after=2) == "card"
    assert state_after_occurrence("retired", 6, card_after=2) == "card"


def test_a_card_retires_when_reviewed_well_long_after_the_mistake_with_enough_stability():
    long_ago = NOW - timedelta(days=30)
    assert retires(rating=2, last_seen_at=long_ago, stability=25.0, reviewed_at=NOW, after_days=21)
    assert retires(rating=3, last_seen_at=NOW - timedelta(days=21), stability=21.0, reviewed_at=NOW, after_days=21)


def test_a_card_does_not_retire_after_a_poor_review_a_recent_mistake_or_a_short_stability():
    long_ago = NOW - timedelta(days=30)
    assert not retires(rating=1, last_seen_at=long_ago, stability=40.0, reviewed_at=NOW, after_days=21)
    assert not retires(rating=0, last_seen_at=long_ago, stability=40.0, reviewed_at=NOW, after_days=21)
    assert not retires(rating=3, last_seen_at=NOW - timedelta(days=20), stability=40.0, reviewed_at=NOW,
                       after_days=21)
    assert not retires(rating=3, last_seen_at=long_ago, stability=20.9, reviewed_at=NOW, after_days=21)
    assert not retires(rating=3, last_seen_at=long_ago, stability=None, reviewed_at=NOW, after_days=21)


def _error(category: str, start: int, end: int) -> dict:
    return {"start": start, "end": end, "category": category, "message": "...", "suggestions": []}


def test_a_drill_answer_is_right_with_the_fix_and_no_mistake_of_the_patterns_kind():
    check = drill_check(category="contraction_elision", fix="j'ai", answer="J\u2019ai un chat.",
                        analysis={"errors": []})
    assert check == {"correct": True, "errors": []}


def test_a_drill_answer_with_the_same_kind_of_mistake_is_wrong():
    found = [_error("contraction_elision", 0, 5)]
    check = drill_check(category="contraction_elision", fix="j'ai", answer="Je ai un chat. J'ai faim.",
                        analysis={"errors": found})
    assert check == {"correct": False, "errors": found}


def test_a_drill_answer_without_the_fix_is_wrong_and_other_kinds_of_mistakes_do_not_count():
    assert not drill_check(category="gender_agreement", fix="un", answer="Le chat.", analysis={"errors": []})["correct"]
    # "un" inside "une" is not the fix.
    assert not drill_check(category="gender_agreement", fix="un", answer="une chat", analysis={"errors": []})["correct"]
    other = [_error("spelling", 7, 12)]
    check = drill_check(category="gender_agreement", fix="un", answer="Un chat nwoir.", analysis={"errors": other})
    assert check == {"correct": True, "errors": other}


def test_a_pattern_without_a_fix_is_judged_on_its_kind_alone():
    assert drill_check(category="word_order", fix="", answer="Je le vois.", analysis={"errors": []})["correct"]


def test_the_example_is_the_sentence_holding_the_mistake():
    text = "Bonjour ! Hier, je ai mangé une pomme. Et toi ?"
    start = text.index("je ai")
    assert sentence_around(text, start, start + 5) == "Hier, je ai mangé une pomme."
    assert sentence_around("Je ai faim", 0, 5) == "Je ai faim"
    assert sentence_around("Salut. Je ai faim", 7, 12) == "Je ai faim"


def test_the_reply_prompt_names_the_mistakes_the_learner_keeps_making():
    repeated = [ErrorPattern("contraction_elision", "contraction_elision:je ai→j'ai", "je ai", "j'ai")]
    prompt = memory.reply_system_prompt(character_prompt="You are Camille.", corrections=[], original="je ai faim",
                                        summary=None, repeated=repeated)
    assert "they keep writing \"je ai\" instead of \"j'ai\"" in prompt
    assert "keep" not in memory.reply_system_prompt(character_prompt="You are Camille.", corrections=[],
                                                    original="je ai faim", summary=None)
