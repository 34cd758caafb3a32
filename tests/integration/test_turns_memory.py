"""Conversation memory on a real database: the window a reply sees, and folding older
messages into the running summary."""
from __future__ import annotations

import pytest

from domain import memory, turns
from tests.support.in_process import new_conversation


@pytest.fixture
def conversation(db_scope):
    """A story session (opened by the character's greeting) with 30 finished turns;
    returns (session id, id of a new pending turn)."""
    with db_scope() as db:
        user, session = new_conversation(db, display_name="Memory")
        for i in range(30):
            turn_id = turns.submit_turn(db, user_id=user.id, session_id=session.id,
                                        content=f"Message {i} : j'habite à Lyon depuis {i} ans.",
                                        client_message_id=None, suggested_word_ids=[], deadline_seconds=60).turn_id
            turns.record_grammar(db, turn_id, {"errors": [], "corrected_text": None})
            turns.record_moderation(db, turn_id, {"flagged": False, "categories": []})
            attempt = turns.claim_model_work(db, turn_id, lease_seconds=30).attempt
            turns.record_reply(db, turn_id, attempt=attempt, reply=f"Réponse {i} : c'est super !", provider="offline")
            assert turns.finalize_turn(db, turn_id) is not None
        pending = turns.submit_turn(db, user_id=user.id, session_id=session.id, content="Et toi ?",
                                    client_message_id=None, suggested_word_ids=[], deadline_seconds=60).turn_id
    return session.id, pending


def test_the_window_is_the_newest_messages_within_the_budget(db_scope, conversation):
    session_id, pending = conversation
    with db_scope() as db:
        everything = memory.load_window(db, session_id=session_id, before_turn=pending, budget_tokens=100_000)
        window = memory.load_window(db, session_id=session_id, before_turn=pending, budget_tokens=200)
    assert len(everything.messages) == 61 and not everything.needs_folding
    assert everything.messages[0][0] == "assistant", "the greeting"
    assert everything.messages[1] == ("user", "Message 0 : j'habite à Lyon depuis 0 ans.")
    assert "Et toi ?" not in [content for _, content in everything.messages], "the turn being answered is not history"
    assert 0 < len(window.messages) < 61 and window.needs_folding
    assert window.messages == everything.messages[-len(window.messages):]
    assert sum(memory.estimate_tokens(c) for _, c in window.messages) <= 200


def test_folding_summarizes_older_messages_and_keeps_half_the_budget_verbatim(db_scope, conversation):
    session_id, pending = conversation
    folded: list[tuple[str, str]] = []

    def summarize(previous, messages):
        folded.extend(messages)
        return f"{previous or ''}[{len(messages)} messages]"

    with db_scope() as db:
        fold = memory.older_messages(db, session_id=session_id, budget_tokens=200)
        assert memory.store_fold(db, fold, summarize(fold.previous, fold.messages))
    with db_scope() as db:
        window = memory.load_window(db, session_id=session_id, before_turn=pending, budget_tokens=200)
    assert folded[0][0] == "assistant" and folded[1] == ("user", "Message 0 : j'habite à Lyon depuis 0 ans.")
    assert window.summary == f"[{len(folded)} messages]"
    assert not window.needs_folding, "after a fold the rest fits"
    assert len(folded) + len(window.messages) == 61, "every message is either summarized or in the window"
    assert sum(memory.estimate_tokens(c) for _, c in window.messages) <= 100

    with db_scope() as db:  # nothing left to fold: no call, no write
        assert memory.older_messages(db, session_id=session_id, budget_tokens=200) is None


def test_a_fold_read_before_another_was_stored_is_not_stored(db_scope, conversation):
    session_id, _ = conversation
    with db_scope() as db:
        first = memory.older_messages(db, session_id=session_id, budget_tokens=200)
        second = memory.older_messages(db, session_id=session_id, budget_tokens=200)
        assert memory.store_fold(db, first, "first summary")
        assert not memory.store_fold(db, second, "second summary"), "the summary moved since it was read"
    with db_scope() as db:
        assert memory.older_messages(db, session_id=session_id, budget_tokens=200) is None
