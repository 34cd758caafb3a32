"""The claims that make retried tasks harmless, on a real PostgreSQL database of their
own (no worker or sweeper watches it, so each race is exactly the one the test makes)."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain import outbox, turns
from domain.errors import NotFound
from domain.models import Message, OutboxEntry, Turn, utcnow
from tests.support.in_process import new_conversation


@pytest.fixture
def pending_turn(db_scope):
    with db_scope() as db:
        user, session = new_conversation(db, display_name="Claims")
        submitted = turns.submit_turn(db, user_id=user.id, session_id=session.id, content="Je vont au marché.",
                                      client_message_id=None, suggested_word_ids=[], deadline_seconds=60)
    assert submitted.created and submitted.character_id == "camille"
    return submitted.turn_id


def _all_stages_stored(db_scope, turn_id):
    with db_scope() as db:
        turns.record_grammar(db, turn_id, {"errors": [], "corrected_text": "Je vais au marché."})
        turns.record_moderation(db, turn_id, {"flagged": False, "categories": []})
        attempt = turns.claim_model_work(db, turn_id, lease_seconds=30).attempt
        return turns.record_reply(db, turn_id, attempt=attempt, reply="Ah, tu vas au marché ?", provider="offline")


def test_a_stage_is_stored_once_and_a_second_delivery_loses(db_scope, pending_turn):
    with db_scope() as db:
        first = turns.record_grammar(db, pending_turn, {"errors": [], "corrected_text": "first"})
        second = turns.record_grammar(db, pending_turn, {"errors": [], "corrected_text": "second"})
        stored = db.scalar(select(Turn.grammar).where(Turn.id == pending_turn))
    assert (first.won, second.won) == (True, False)
    assert stored["corrected_text"] == "first"


def test_only_the_last_stage_sees_the_turn_ready(db_scope, pending_turn):
    with db_scope() as db:
        grammar = turns.record_grammar(db, pending_turn, {"errors": [], "corrected_text": "x"})
        moderation = turns.record_moderation(db, pending_turn, {"flagged": False, "categories": []})
    last = _all_stages_stored(db_scope, pending_turn)
    assert (grammar.ready, moderation.ready, last.ready) == (False, False, True)


def test_the_last_stage_gets_what_the_finish_needs_from_its_write(db_scope, pending_turn):
    grammar = {"errors": [], "corrected_text": "Je vais au marché."}
    moderation = {"flagged": False, "categories": []}
    with db_scope() as db:
        attempt = turns.claim_model_work(db, pending_turn, lease_seconds=30).attempt
        reply = turns.record_reply(db, pending_turn, attempt=attempt, reply="Ah, tu vas au marché ?",
                                   provider="offline")
        first = turns.record_moderation(db, pending_turn, moderation)
        last = turns.record_grammar(db, pending_turn, {**grammar, "word_feedback": []})
        read_back = db.execute(turns._FINISH_INPUTS, {"turn_id": pending_turn}).first()
    assert (reply.finish_inputs, first.finish_inputs) == (None, None)
    assert last.finish_inputs == turns.FinishInputs("Je vont au marché.", grammar, moderation)
    assert last.finish_inputs == turns.FinishInputs(*read_back), "what finalize_turn would have read"
    with db_scope() as db:
        _, view = turns.finalize_turn(db, pending_turn, inputs=last.finish_inputs)
    assert view["status"] == "complete" and view["assistant_message"]["content"] == "Ah, tu vas au marché ?"


def test_concurrent_finalizes_complete_the_turn_exactly_once(db_scope, pending_turn):
    assert _all_stages_stored(db_scope, pending_turn).ready
    results, barrier = [], threading.Barrier(8)

    def finalize():
        barrier.wait()
        with db_scope() as db:
            results.append(turns.finalize_turn(db, pending_turn))

    threads = [threading.Thread(target=finalize) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8, "every attempt returned normally (none hit a constraint)"
    finished = [view for _, view in filter(None, results)]
    assert len(finished) == 1
    assert finished[0]["status"] == "complete"
    assert finished[0]["assistant_message"]["content"] == "Ah, tu vas au marché ?"
    assert finished[0]["user_message"]["content"] == "Je vont au marché."
    with db_scope() as db:
        assistant_messages = db.scalar(select(func.count()).select_from(Message)
                                       .where(Message.turn_id == pending_turn, Message.role == "assistant"))
        outbox_left = db.scalar(select(func.count()).select_from(OutboxEntry)
                                .where(OutboxEntry.ref_id == pending_turn))
    assert assistant_messages == 1
    assert outbox_left == 0, "a finished turn has nothing left to publish"


def _expire_lease(db, turn_id):
    """The holder's worker died: its lease runs out."""
    db.execute(OutboxEntry.__table__.update().where(OutboxEntry.ref_id == turn_id)
               .values(lease_until=utcnow() - timedelta(seconds=1)))


def test_a_turns_lease_blocks_other_attempts_until_it_expires(db_scope, pending_turn):
    with db_scope() as db:
        claim = turns.claim_model_work(db, pending_turn, lease_seconds=30)
        blocked = turns.claim_model_work(db, pending_turn, lease_seconds=30)
        _expire_lease(db, pending_turn)
        second = turns.claim_model_work(db, pending_turn, lease_seconds=30).attempt
        first = claim.attempt
        late = turns.record_reply(db, pending_turn, attempt=first, reply="late", provider="offline")
        renewed = outbox.renew(db, kind="turn", ref_id=pending_turn, claim=first, lease_seconds=30)
        current = turns.record_reply(db, pending_turn, attempt=second, reply="current", provider="offline")
    assert (first, blocked, second) == (1, None, 2)
    assert claim.given.text == "Je vont au marché." and claim.given.character_id == "camille"
    assert claim.reply_text is None
    assert late.won is False and renewed is False, "the dead attempt cannot write over the new one"
    assert current.won is True


def test_resubmitting_a_client_message_id_returns_the_first_turn(db_scope, pending_turn):
    with db_scope() as db:
        turn = db.get(Turn, pending_turn)
        owner = {"user_id": turn.user_id, "session_id": turn.session_id}
        first = turns.submit_turn(db, **owner, content="Bonjour", client_message_id="c-1",
                                  suggested_word_ids=[], deadline_seconds=60)
        again = turns.submit_turn(db, **owner, content="Bonjour", client_message_id="c-1",
                                  suggested_word_ids=[], deadline_seconds=60)
        with pytest.raises(NotFound):
            turns.submit_turn(db, user_id=uuid.uuid4(), session_id=turn.session_id, content="Bonjour",
                              client_message_id=None, suggested_word_ids=[], deadline_seconds=60)
    assert first.turn_id == again.turn_id and (first.created, again.created) == (True, False)
    assert again.view["id"] == str(first.turn_id)


def test_overdue_turns_fail_and_leave_the_outbox(db_scope, pending_turn):
    with db_scope() as db:
        db.execute(Turn.__table__.update().where(Turn.id == pending_turn)
                   .values(deadline_at=utcnow() - timedelta(seconds=1)))
    with db_scope() as db:
        failed = turns.fail_overdue_turns(db)
        assert [t.id for t in failed] == [pending_turn]
        assert failed[0].status == "failed" and failed[0].error["code"] == "deadline_exceeded"
        assert turns.fail_overdue_turns(db) == []
        assert db.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.ref_id == pending_turn)) == 0


def _outbox_entry(db, turn_id):
    return db.execute(select(OutboxEntry).where(OutboxEntry.ref_id == turn_id)).scalar_one()


def _published_ago(db, turn_id, seconds):
    db.execute(OutboxEntry.__table__.update().where(OutboxEntry.ref_id == turn_id)
               .values(last_published_at=utcnow() - timedelta(seconds=seconds)))


def test_a_new_entry_is_stamped_as_published_and_not_sent_again_at_once(db_scope, pending_turn):
    with db_scope() as db:
        entry = _outbox_entry(db, pending_turn)
        due = outbox.claim_due(db, older_than_seconds=10)
    assert entry.last_published_at is not None and entry.publish_attempts == 1
    assert ("turn", pending_turn) not in due


def test_an_entry_whose_publish_failed_is_sent_at_the_next_sweep(db_scope, pending_turn):
    with db_scope() as db:
        outbox.unstamp(db, kind="turn", ref_id=pending_turn)
        due = outbox.claim_due(db, older_than_seconds=10)
        again = outbox.claim_due(db, older_than_seconds=10)
    assert ("turn", pending_turn) in due
    assert ("turn", pending_turn) not in again, "just published: not due again until the interval passes"


def test_an_entry_nobody_took_is_sent_again_with_a_growing_wait(db_scope, pending_turn):
    with db_scope() as db:
        _published_ago(db, pending_turn, 11)
        first = outbox.claim_due(db, older_than_seconds=10)
        _published_ago(db, pending_turn, 11)
        too_soon = outbox.claim_due(db, older_than_seconds=10)  # the second re-send waits 20 s
        _published_ago(db, pending_turn, 21)
        second = outbox.claim_due(db, older_than_seconds=10)
    assert ("turn", pending_turn) in first and ("turn", pending_turn) in second
    assert ("turn", pending_turn) not in too_soon


def test_held_work_is_not_sent_again_until_its_lease_runs_out(db_scope, pending_turn):
    with db_scope() as db:
        _published_ago(db, pending_turn, 3600)
        claim = turns.claim_model_work(db, pending_turn, lease_seconds=30)
        while_held = outbox.claim_due(db, older_than_seconds=10)
        _expire_lease(db, pending_turn)
        after_expiry = outbox.claim_due(db, older_than_seconds=10)
        right_after = outbox.claim_due(db, older_than_seconds=10)
        retaken = turns.claim_model_work(db, pending_turn, lease_seconds=30)
    assert claim.attempt == 1 and retaken.attempt == 2
    assert ("turn", pending_turn) not in while_held, "in progress: a re-send would only pay twice"
    assert ("turn", pending_turn) in after_expiry, "its worker died: send it again"
    assert ("turn", pending_turn) not in right_after, "sent once per expiry"


def test_released_work_is_sent_again(db_scope, pending_turn):
    with db_scope() as db:
        attempt = turns.claim_model_work(db, pending_turn, lease_seconds=30).attempt
        outbox.release(db, kind="turn", ref_id=pending_turn, claim=attempt)
        _published_ago(db, pending_turn, 11)
        due = outbox.claim_due(db, older_than_seconds=10)
    assert ("turn", pending_turn) in due


def _reply(attempt: int, text: str = "Ah, tu vas au marché ?") -> turns.Reply:
    return turns.Reply(attempt=attempt, text=text, provider="offline", degraded=False,
                       learner_text="Je vont au marché.", grammar={"errors": [{"start": 3, "end": 7}]},
                       moderation={"flagged": False})


def test_the_reply_stage_stores_its_reply_and_finishes_in_one_statement(db_scope, pending_turn):
    with db_scope() as db:
        turns.record_grammar(db, pending_turn, {"errors": [], "corrected_text": None})
        turns.record_moderation(db, pending_turn, {"flagged": False, "categories": []})
        attempt = turns.claim_model_work(db, pending_turn, lease_seconds=30).attempt
        user_id, view = turns.finalize_turn(db, pending_turn, reply=_reply(attempt))
        stored = db.get(Turn, pending_turn)
        assistant = db.scalar(select(func.count()).select_from(Message)
                              .where(Message.turn_id == pending_turn, Message.role == "assistant"))
    assert view["status"] == "complete" and view["assistant_message"]["content"] == "Ah, tu vas au marché ?"
    assert (stored.reply_text, stored.reply_provider) == ("Ah, tu vas au marché ?", "offline")
    assert stored.xp_awarded == view["xp_awarded"] == 5 + 1, "XP from the inputs the reply stage passed (one error)"
    assert assistant == 1 and user_id == stored.user_id


def test_a_reply_whose_lease_was_taken_over_neither_stores_nor_finishes(db_scope, pending_turn):
    with db_scope() as db:
        turns.record_grammar(db, pending_turn, {"errors": [], "corrected_text": None})
        turns.record_moderation(db, pending_turn, {"flagged": False, "categories": []})
        stale = turns.claim_model_work(db, pending_turn, lease_seconds=30).attempt
        _expire_lease(db, pending_turn)
        current = turns.claim_model_work(db, pending_turn, lease_seconds=30).attempt
        assert turns.finalize_turn(db, pending_turn, reply=_reply(stale, "late")) is None
        assert db.get(Turn, pending_turn, populate_existing=True).reply_text is None
        _, view = turns.finalize_turn(db, pending_turn, reply=_reply(current, "current"))
    assert view["assistant_message"]["content"] == "current"


def test_a_reply_before_the_other_stages_does_not_finish(db_scope, pending_turn):
    with db_scope() as db:
        turns.record_moderation(db, pending_turn, {"flagged": False, "categories": []})
        attempt = turns.claim_model_work(db, pending_turn, lease_seconds=30).attempt
        assert turns.finalize_turn(db, pending_turn, reply=_reply(attempt)) is None
        turn = db.get(Turn, pending_turn, populate_existing=True)
    assert (turn.status, turn.reply_text) == ("pending", None), "the pipeline then stores it with record_reply"
