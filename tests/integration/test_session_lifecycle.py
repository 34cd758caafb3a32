"""A session's lifecycle: renamed, paused, resumed, ended with a summary (returned,
stored, published as `session_summary`), refusing messages once ended, ended by the
idle job; the character's greeting that opens a story session; the session's summary
in `session_ready` and its overview in `turn_result`."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from domain import session_summary, turns
from domain.greetings import GREETING_INSTRUCTION
from domain.models import ChatSession, Message, Turn, utcnow
from tests.support.client import assert_error, turn_result_for
from tests.support.fake_llm import _kind_of
from tests.support.in_process import new_conversation
from tests.support.stack import llm_worker_stopped
from tests.support.waits import eventually

WITH_AN_ERROR = "Je suis allé au marché hier avec mes amie."
CLEAN = "J'habite à Lyon avec ma sœur."
CLEAN_SHORT = "Bonjour, je m'appelle Léa."


def _is_greeting(event: dict) -> bool:
    return event["type"] == "greeting" and event["data"]["turn"]["kind"] == "greeting"


def _talk(learner, socket, session_id: str, content: str) -> dict:
    turn = learner.send(session_id, content).json()["turn"]
    return socket.until(turn_result_for(turn["id"]))[-1]["data"]


def _messages(learner, session_id: str) -> list[dict]:
    return learner.get(f"/api/v1/sessions/{session_id}/messages").json()["items"]


def test_a_session_is_renamed_paused_and_resumed(learner):
    session = learner.new_session()
    assert session["status"] == "active" and session["ended_at"] is None

    renamed = learner.patch(f"/api/v1/sessions/{session['id']}", {"title": "  Au marché  "})
    paused = learner.patch(f"/api/v1/sessions/{session['id']}", {"status": "paused"})
    assert (renamed.status_code, renamed.json()["title"]) == (200, "Au marché")
    assert (paused.status_code, paused.json()["status"], paused.json()["title"]) == (200, "paused", "Au marché")
    assert learner.get(f"/api/v1/sessions/{session['id']}").json()["status"] == "paused"

    resumed = learner.patch(f"/api/v1/sessions/{session['id']}", {"status": "active"})
    assert (resumed.status_code, resumed.json()["status"]) == (200, "active")

    assert_error(learner.patch(f"/api/v1/sessions/{session['id']}", {"status": "ended"}), 422)
    assert_error(learner.patch(f"/api/v1/sessions/{session['id']}", {"title": "   "}), 422)
    assert learner.get(f"/api/v1/sessions/{session['id']}").json()["title"] == "Au marché", "refused: unchanged"


def test_a_message_resumes_a_paused_session(learner):
    session = learner.new_session()
    learner.patch(f"/api/v1/sessions/{session['id']}", {"status": "paused"})
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        result = _talk(learner, socket, session["id"], CLEAN)
    assert result["session"]["status"] == "active"
    assert learner.get(f"/api/v1/sessions/{session['id']}").json()["status"] == "active"


def test_ending_returns_stores_and_publishes_the_summary_with_the_right_counts(learner):
    session = learner.new_session(level="A2")
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        ready = socket.next_event()
        assert ready["type"] == "session_ready" and ready["data"]["summary"]["turns"] == 0
        wrong = _talk(learner, socket, session["id"], WITH_AN_ERROR)
        clean = _talk(learner, socket, session["id"], CLEAN)
        short = _talk(learner, socket, session["id"], CLEAN_SHORT)
        assert wrong["turn"]["grammar"]["errors"], "the first message has a mistake"
        assert not clean["turn"]["grammar"]["errors"] and not short["turn"]["grammar"]["errors"]

        # turn_result carries the session's overview, as the finish left it
        assert short["session"] == {"id": session["id"], "title": session["title"], "status": "active",
                                    "turn_count": 3, "xp": sum(t["turn"]["xp_awarded"] for t in (wrong, clean, short))}

        response = learner.post(f"/api/v1/sessions/{session['id']}/end")
        assert response.status_code == 200, response.text
        summary = response.json()
        event = socket.until(lambda e: e["type"] == "session_summary")[-1]

    assert summary["final"] is True and summary["status"] == "ended" and summary["ended_at"]
    assert summary["turns"] == 3, "the greeting is no learner turn"
    assert summary["xp"] == sum(t["turn"]["xp_awarded"] for t in (wrong, clean, short)) > 0
    assert summary["accuracy"] == round(2 / 3, 3)
    [pattern] = summary["error_patterns"]
    assert pattern["category"] == wrong["turn"]["grammar"]["errors"][0]["category"] and pattern["count"] == 1
    assert pattern["example"]["turn_id"] == wrong["turn"]["id"] and pattern["example"]["text"] == WITH_AN_ERROR
    assert "amie" in pattern["example"]["wrong"]
    assert [said["text"] for said in summary["well_said"]] == [CLEAN, CLEAN_SHORT], "longest first, no errors"
    assert set(summary["words_practised"]) == {"new", "reviewed", "used_correctly"}
    assert all("word_id" in word and "lemma" in word for word in summary["words_to_add"])
    assert event["data"] == {"session_id": session["id"], "summary": summary}

    again = learner.post(f"/api/v1/sessions/{session['id']}/end")
    assert (again.status_code, again.json()) == (200, summary), "ending twice returns the stored summary"
    stored = learner.get(f"/api/v1/sessions/{session['id']}/summary")
    assert (stored.status_code, stored.json()) == (200, summary)
    overview = learner.get(f"/api/v1/sessions/{session['id']}").json()
    assert overview["status"] == "ended" and overview["ended_at"]


def test_the_summary_so_far_is_read_only(learner):
    session = learner.new_session(mode="sandbox")  # no greeting arriving meanwhile
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        _talk(learner, socket, session["id"], WITH_AN_ERROR)
    # The turn's after-work (its reviews and notebook entry, one transaction) changes what
    # the summary so far counts: compare once it is done.
    eventually(lambda: learner.get("/api/v1/notebook").json()["items"], "the turn's mistake is in the notebook")
    before = learner.get(f"/api/v1/sessions/{session['id']}").json()

    first = learner.get(f"/api/v1/sessions/{session['id']}/summary")
    second = learner.get(f"/api/v1/sessions/{session['id']}/summary")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["final"] is False and first.json()["ended_at"] is None and first.json()["turns"] == 1
    assert first.json()["accuracy"] == 0 and first.json()["well_said"] == []
    assert learner.get(f"/api/v1/sessions/{session['id']}").json() == before, "a GET changes nothing"


def test_an_ended_session_refuses_messages_and_stores_nothing(learner):
    session = learner.new_session(mode="sandbox")  # no greeting: the session has no messages
    learner.send(session["id"], CLEAN)
    eventually(lambda: len(_messages(learner, session["id"])) == 2, "the turn finished")
    assert learner.post(f"/api/v1/sessions/{session['id']}/end").status_code == 200

    refused = learner.send(session["id"], "Encore une chose !")
    assert_error(refused, 409, "session_ended")
    resent = learner.send(session["id"], "Encore une chose !", client_message_id="after-end")
    assert_error(resent, 409, "session_ended")
    assert_error(learner.patch(f"/api/v1/sessions/{session['id']}", {"status": "active"}), 409, "session_ended")
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        ready = socket.next_event()
        assert ready["data"]["summary"]["final"] is True and ready["data"]["summary"]["turns"] == 1
        socket.send("user_message", {"content": "Et maintenant ?"})
        error = socket.until(lambda e: e["type"] == "error")[-1]
    assert error["data"]["code"] == "session_ended"
    assert len(_messages(learner, session["id"])) == 2, "nothing was stored"
    overview = learner.get(f"/api/v1/sessions/{session['id']}").json()
    assert (overview["status"], overview["turn_count"]) == ("ended", 1)


def test_another_learners_session_is_not_found(learner, other_learner):
    theirs = other_learner.new_session()
    assert_error(learner.patch(f"/api/v1/sessions/{theirs['id']}", {"title": "Mine"}), 404, "session_not_found")
    assert_error(learner.post(f"/api/v1/sessions/{theirs['id']}/end"), 404, "session_not_found")
    assert_error(learner.get(f"/api/v1/sessions/{theirs['id']}/summary"), 404, "session_not_found")
    still = other_learner.get(f"/api/v1/sessions/{theirs['id']}").json()
    assert (still["title"], still["status"]) == (theirs["title"], "active")


def test_a_story_session_opens_with_the_characters_greeting(learner):
    session = learner.new_session()
    assert len(_messages(learner, session["id"])) == 1, "without a model, written with the session"
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        result = _talk(learner, socket, session["id"], CLEAN)
    first, *rest = _messages(learner, session["id"])
    assert first["role"] == "assistant" and first["content"].rstrip().endswith("?"), first
    assert [m["role"] for m in rest] == ["user", "assistant"]
    assert result["session"]["turn_count"] == 1, "the greeting is no turn of the learner's"

    greeting = [t for t in learner.get(f"/api/v1/sessions/{session['id']}").json()["recent_turns"]
                if t["kind"] == "greeting"]
    assert len(greeting) == 1 and greeting[0]["user_message"] is None and greeting[0]["xp_awarded"] == 0
    assert greeting[0]["assistant_message"]["content"] == first["content"]


def test_the_greeting_arrives_as_a_greeting_event(learner):
    with learner.socket("/api/v1/ws") as socket:
        socket.next_event()
        session = learner.new_session()
        event = socket.until(_is_greeting)[-1]
    assert event["data"]["session_id"] == session["id"]
    turn = event["data"]["turn"]
    assert turn["status"] == "complete" and turn["reply_provider"] == "offline" and turn["user_message"] is None
    assert _messages(learner, session["id"])[0]["id"] == turn["assistant_message"]["id"]


def test_a_sandbox_session_has_no_greeting(learner):
    session = learner.new_session(mode="sandbox")
    learner.send(session["id"], CLEAN)
    eventually(lambda: len(_messages(learner, session["id"])) == 2, "the turn finished")
    assert [m["role"] for m in _messages(learner, session["id"])] == ["user", "assistant"]


def test_with_a_model_the_greeting_is_one_paid_call(stack, learner, fake):
    fake.openai.reply_text = "Bonjour ! Je suis Camille. Tu viens souvent à Paris ?"
    model = {**fake.env(), "PRIMARY_LLM_PROVIDER": "openai", "SECONDARY_LLM_PROVIDER": ""}
    with llm_worker_stopped(stack) as resume:
        stack.restart_web(**model)
        try:
            with learner.socket("/api/v1/ws") as socket:
                socket.next_event()
                session = learner.new_session()
                assert _messages(learner, session["id"]) == [], "with a model, the llm worker writes it"
                resume(**model)
                event = socket.until(_is_greeting)[-1]
        finally:
            stack.restart_web()
    assert event["data"]["session_id"] == session["id"]
    turn = event["data"]["turn"]
    assert (turn["reply_provider"], turn["degraded"]) == ("openai", False)
    assert turn["assistant_message"]["content"] == fake.openai.reply_text
    greetings = [call for call in fake.openai.requests
                 if _kind_of(call) == "reply" and call.body["messages"][-1]["content"] == GREETING_INSTRUCTION]
    assert len(greetings) == 1, "one call for the greeting"
    assert _messages(learner, session["id"])[0]["content"] == fake.openai.reply_text


# --- the idle job, on a database of its own (no worker or beat watches it) -------------------


@pytest.fixture
def idle_conversation(db_scope):
    """A story session with one finished turn that has a mistake, idle for two hours."""
    with db_scope() as db:
        user, session = new_conversation(db, display_name="Idle")
        submitted = turns.submit_turn(db, user_id=user.id, session_id=session.id, content=WITH_AN_ERROR,
                                      client_message_id=None, suggested_word_ids=[], deadline_seconds=60)
        error = {"start": 33, "end": 41, "category": "gender_agreement", "message": "…", "suggestions": ["mes amies"]}
        turns.record_grammar(db, submitted.turn_id, {"errors": [error], "corrected_text": "…"})
        turns.record_moderation(db, submitted.turn_id, {"flagged": False, "categories": []})
        attempt = turns.claim_model_work(db, submitted.turn_id, lease_seconds=30).attempt
        turns.record_reply(db, submitted.turn_id, attempt=attempt, reply="Ah, avec tes amies ?", provider="offline")
        assert turns.finalize_turn(db, submitted.turn_id) is not None
        db.execute(update(ChatSession).where(ChatSession.id == session.id)
                   .values(last_activity_at=utcnow() - timedelta(hours=2)))
        return session.id


def test_the_idle_job_ends_idle_sessions_with_their_summary(db_scope, idle_conversation):
    with db_scope() as db:
        assert session_summary.end_idle_sessions(db, idle_minutes=180) == [], "not idle that long"
    with db_scope() as db:
        ended = session_summary.end_idle_sessions(db, idle_minutes=60)
        assert [session.id for session in ended] == [idle_conversation]
    with db_scope() as db:
        assert session_summary.end_idle_sessions(db, idle_minutes=60) == [], "ended once"
        session = db.get(ChatSession, idle_conversation)
        recap = session.recap
        learner_turns = db.scalars(select(Turn).where(Turn.session_id == session.id)).all()
        assert db.scalar(select(Message.id).where(Message.session_id == session.id, Message.role == "user"))
    assert session.status == "ended" and session.ended_at is not None and session.announced_at is None
    assert (recap["final"], recap["turns"], recap["accuracy"], recap["well_said"]) == (True, 1, 0.0, [])
    assert recap["xp"] == sum(turn.xp_awarded for turn in learner_turns)
    [pattern] = recap["error_patterns"]
    assert pattern["key"] == "gender_agreement:mes amie→mes amies" and pattern["example"]["text"] == WITH_AN_ERROR
