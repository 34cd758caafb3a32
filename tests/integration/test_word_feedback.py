"""Word feedback in a turn, and the reviews it becomes, on the real stack."""
from __future__ import annotations

from tests.support.client import Learner, register
from tests.support.waits import eventually


def word_id(learner: Learner, lemma: str) -> int:
    items = learner.get("/api/v1/vocabulary", params={"q": lemma, "per_page": 50}).json()["items"]
    return next(item["id"] for item in items if item["lemma"] == lemma)


def finished_turn(learner: Learner, session_id: str, content: str, **fields) -> dict:
    response = learner.send(session_id, content, **fields)
    assert response.status_code == 202, response.text
    turn = learner.get(f"/api/v1/turns/{response.json()['turn']['id']}", params={"wait": 20}).json()
    assert turn["status"] == "complete", turn
    return turn


def reviews_of(learner: Learner, word: int, count: int, timeout: float = 15) -> list[dict]:
    """The word's reviews, once there are `count` of them (conversation reviews are a task away)."""
    def reviews() -> list[dict] | None:
        found = learner.get(f"/api/v1/progress/{word}").json()["reviews"]
        return found if len(found) >= count else None

    return eventually(reviews, f"{count} reviews of word {word}", timeout, interval=0.2)


def test_suggested_words_are_reported_as_used_correctly_with_an_error_or_not_at_all(learner: Learner):
    ami, chien, tres, marche = (word_id(learner, lemma) for lemma in ("ami", "chien", "très", "marché"))
    session = learner.new_session()
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as events:
        turn = finished_turn(learner, session["id"], "Je vais au marché avec mes amie. Il est tres gentil.",
                             suggested_word_ids=[ami, chien, tres, marche])
        grammar_event = next(e for e in events.until(lambda e: e["type"] == "turn_result")
                             if e["type"] == "grammar_feedback")
    by_word = {entry["word_id"]: entry for entry in turn["word_feedback"]}
    assert by_word[marche]["usage"] == "used_correctly"
    assert by_word[ami]["usage"] == "used_with_error"
    assert [e["category"] for e in by_word[ami]["errors"]] == ["number_agreement"]
    assert by_word[tres]["usage"] == "used_with_error" and by_word[tres]["errors"][0]["suggestions"][0] == "très"
    assert by_word[chien]["usage"] == "not_used" and by_word[chien]["spans"] == []
    assert grammar_event["data"]["word_feedback"] == turn["word_feedback"]

    # The words used become reviews: with an error "again", correctly "good"; unused ones none.
    [ami_review] = reviews_of(learner, ami, 1)
    assert (ami_review["source"], ami_review["rating_name"], ami_review["turn_id"]) == (
        "conversation", "again", turn["id"])
    assert reviews_of(learner, marche, 1)[0]["rating_name"] == "good"
    assert learner.get(f"/api/v1/progress/{chien}").json()["state"] == "new"


def test_a_known_word_the_learner_uses_is_found_without_being_suggested(learner: Learner):
    maison = word_id(learner, "maison")
    assert learner.post("/api/v1/progress/review", {"word_id": maison, "rating": 2}).status_code == 200
    session = learner.new_session()
    turn = finished_turn(learner, session["id"], "Nos maisons sont grandes.")
    [entry] = [e for e in turn["word_feedback"] if e["word_id"] == maison]
    assert (entry["known"], entry["suggested"], entry["usage"]) == (True, False, "used_correctly")
    reviews = reviews_of(learner, maison, 2)
    assert [(r["source"], r["rating_name"]) for r in reviews] == [("review", "good"), ("conversation", "good")]


def test_conversation_reviews_follow_the_order_of_the_turns(learner: Learner):
    ami = word_id(learner, "ami")
    session = learner.new_session()
    first = finished_turn(learner, session["id"], "J'ai vu mes amie.", suggested_word_ids=[ami])
    second = finished_turn(learner, session["id"], "Mon ami est là.", suggested_word_ids=[ami])
    reviews = reviews_of(learner, ami, 2)
    assert [(r["turn_id"], r["rating_name"]) for r in reviews] == [(first["id"], "again"), (second["id"], "good")]


def test_an_unknown_suggested_word_is_refused_and_nothing_is_stored(learner: Learner):
    session = learner.new_session()
    response = learner.send(session["id"], "Bonjour !", suggested_word_ids=[999_999_999])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_words"
    assert response.json()["error"]["details"] == {"suggested_word_ids": [999_999_999]}
    items = learner.get(f"/api/v1/sessions/{session['id']}/messages").json()["items"]
    assert [m["role"] for m in items] == ["assistant"], "only the character's greeting"


def test_the_socket_frame_takes_suggested_words_too(learner: Learner):
    chat = word_id(learner, "chat")
    session = learner.new_session()
    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as events:
        events.until(lambda e: e["type"] == "session_ready")
        events.send("user_message", {"content": "J'ai un chat.", "suggested_words": [chat]})
        result = events.until(lambda e: e["type"] == "turn_result")[-1]
    suggested = [(e["word_id"], e["usage"]) for e in result["data"]["turn"]["word_feedback"] if e["suggested"]]
    assert suggested == [(chat, "used_correctly")]


def test_another_learners_words_are_not_known_to_me(stack, learner: Learner):
    maison = word_id(learner, "maison")
    learner.post("/api/v1/progress/review", {"word_id": maison, "rating": 2})
    stranger = register(stack.base_url, stack.ws_url)
    session = stranger.new_session()
    # (The session's target words, new to the stranger, may be found: none is known.)
    assert [e for e in finished_turn(stranger, session["id"], "Ma maison est grande.")["word_feedback"]
            if e["known"] or e["word_id"] == maison] == []
