"""Voice practice: sandbox sessions, their transcripts, and the hints that follow a pause."""
from __future__ import annotations

from tests.support.signals import tasks_finished
from tests.support.waits import eventually


def hints_of(learner, session_id: str) -> list[dict]:
    return learner.get(f"/api/v1/sessions/{session_id}/hints").json()["items"]


def test_without_an_openai_key_a_voice_session_is_503_and_nothing_is_created(learner):
    response = learner.post("/api/v1/sandbox/sessions", {"character_id": "camille"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "realtime_unavailable"
    assert learner.get("/api/v1/sessions").json()["items"] == []


def test_unknown_character_is_422_before_any_secret_is_asked_for(learner):
    response = learner.post("/api/v1/sandbox/sessions", {"character_id": "nobody"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_character"


def test_learner_speech_gets_one_hint_after_they_pause(stack, learner):
    checks_before = tasks_finished(stack, "hints.after_speech")
    session = learner.new_session(mode="sandbox", level="A2")
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    socket.next_event()
    assert learner.post(f"/api/v1/sessions/{session['id']}/transcripts",
                        {"role": "assistant", "text": "Salut ! Tu habites où ?"}).status_code == 202
    first = learner.post(f"/api/v1/sessions/{session['id']}/transcripts", {"role": "user", "text": "J'habite"})
    second = learner.post(f"/api/v1/sessions/{session['id']}/transcripts",
                          {"role": "user", "text": "à Lyon, et toi ?"})
    assert first.status_code == second.status_code == 202
    assert second.json()["role"] == "user" and second.json()["text"] == "à Lyon, et toi ?"

    hint = socket.until(lambda e: e["type"] == "hint", timeout=10)[-1]
    assert 2 <= len(hint["data"]["hints"]) <= 3
    # Each of the learner's segments is checked for a hint after the pause: both checks done.
    eventually(lambda: tasks_finished(stack, "hints.after_speech") >= checks_before + 2,
               "both segments' hint checks finished", timeout=15)
    stored = hints_of(learner, session["id"])
    assert [(h["source"], h["id"]) for h in stored] == [("transcript", hint["data"]["hint_id"])], \
        "speech in quick succession gets one hint, after the last segment"
    assert any(s.startswith(("J'habite", "Je vais", "C'est près")) for s in stored[0]["hints"]), \
        "the hint answers the character's last question (where?)"
    socket.close()


def test_the_characters_speech_alone_asks_for_no_hint(learner):
    session = learner.new_session(mode="sandbox")
    assert learner.post(f"/api/v1/sessions/{session['id']}/transcripts",
                        {"role": "assistant", "text": "Bonjour !"}).status_code == 202
    # The learner speaks in another voice session after it: their hint is checked for
    # after the same pause, so once it is there, a check the character's speech might
    # have started would have answered too.
    other = learner.new_session(mode="sandbox")
    assert learner.post(f"/api/v1/sessions/{other['id']}/transcripts",
                        {"role": "user", "text": "Bonjour ! Je m'appelle Léa."}).status_code == 202
    eventually(lambda: [h for h in hints_of(learner, other["id"]) if h["status"] == "ready"],
               "the learner's hint in the other session", timeout=15)
    assert hints_of(learner, session["id"]) == []


def test_transcripts_are_for_voice_sessions_of_ones_own(learner, other_learner):
    story = learner.new_session()
    response = learner.post(f"/api/v1/sessions/{story['id']}/transcripts", {"role": "user", "text": "Bonjour"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_a_voice_session"
    theirs = other_learner.new_session(mode="sandbox")
    assert learner.post(f"/api/v1/sessions/{theirs['id']}/transcripts",
                        {"role": "user", "text": "Bonjour"}).status_code == 404
    invalid = learner.post(f"/api/v1/sessions/{story['id']}/transcripts", {"role": "narrator", "text": " "})
    assert invalid.status_code == 422 and set(invalid.json()["error"]["details"]["json"]) == {"role", "text"}
