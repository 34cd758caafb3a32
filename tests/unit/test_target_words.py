"""Target words without services: which words a queue yields, the reply prompt's note,
and the offline reply offering one."""
from __future__ import annotations

from pathlib import Path

import pytest

from domain import memory
from domain.characters import CharacterLibrary
from domain.llm.offline import OfflineProvider, ReplyRequest
from domain.srs.targets import pick

LIBRARY = CharacterLibrary(Path(__file__).resolve().parents[2] / "prompts" / "characters")


def item(word_id: int, lemma: str, pos: str = "noun") -> dict:
    return {"word_id": word_id, "word": {"id": word_id, "lemma": lemma, "pos": pos, "translation": f"<{lemma}>"}}


QUEUE = {
    "due": [item(1, "chat"), item(2, "ami"), item(3, "maison")],
    "new": [item(10, "de", "preposition"), item(11, "être", "verb"), item(12, "le", "determiner"),
            item(13, "avoir", "verb"), item(14, "grand", "adjective")],
}


def test_due_words_first_in_queue_order_then_new_content_words():
    chosen = pick(QUEUE, due_words=2, new_words=2)
    assert [w["word_id"] for w in chosen] == [1, 2, 11, 13]
    assert chosen[0] == {"word_id": 1, "lemma": "chat", "translation": "<chat>"}


def test_words_left_out_make_room_for_the_next_ones():
    assert [w["word_id"] for w in pick(QUEUE, due_words=2, new_words=1, leaving_out=[1, 11])] == [2, 3, 13]


def test_no_words_asked_for_none_given():
    assert pick(QUEUE, due_words=0, new_words=0) == []
    assert pick({"due": [], "new": []}, due_words=4, new_words=2) == []


def test_the_reply_prompt_lists_the_target_words_only_when_there_are_some():
    words = [{"word_id": 1, "lemma": "chat", "translation": "cat"},
             {"word_id": 2, "lemma": "ami", "translation": "friend"}]
    with_words = memory.reply_system_prompt(character_prompt="You are Camille.", corrections=[], original="Salut",
                                            summary=None, target_words=words)
    assert "- chat (cat)\n- ami (friend)" in with_words
    without = memory.reply_system_prompt(character_prompt="You are Camille.", corrections=[], original="Salut",
                                         summary=None)
    assert "practising" not in without


WORDS = [{"word_id": 1, "lemma": "chien", "translation": "dog"},
         {"word_id": 2, "lemma": "pain", "translation": "bread"}]


def request(message: str, target_words: list[dict], level: str = "A1",
            history: list[tuple[str, str]] | None = None) -> ReplyRequest:
    return ReplyRequest(character=LIBRARY.get("camille"), level=level, history=history or [], user_message=message,
                        corrections=[], corrected_text=None, target_words=target_words)


@pytest.mark.parametrize("level", ["A1", "B1", "C1"])
def test_the_offline_reply_offers_one_target_word_before_its_question(level):
    reply = OfflineProvider().reply(request("J'habite à Lyon.", WORDS, level))
    offered = [w["lemma"] for w in WORDS if f"« {w['lemma']} »" in reply]
    assert len(offered) == 1, reply
    assert reply.rstrip().endswith("?") and reply.count("?") == 1, reply


def test_the_offline_reply_prefers_a_word_the_learner_did_not_just_write():
    for message in ("J'ai un chien.", "Mon chien est petit.", "Le chien dort."):
        assert "« pain »" in OfflineProvider().reply(request(message, WORDS))


def test_without_target_words_the_offline_reply_is_unchanged():
    message = "J'habite à Lyon."
    assert OfflineProvider().reply(request(message, [])) == OfflineProvider().reply(
        ReplyRequest(character=LIBRARY.get("camille"), level="A1", history=[], user_message=message,
                     corrections=[], corrected_text=None))
    assert "«" not in OfflineProvider().reply(request(message, []))
